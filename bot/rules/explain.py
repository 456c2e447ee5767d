"""Why a text was (not) flagged: a pure formatter that returns lines.

The caller decides how matches are marked: plain brackets by default, ANSI colours when
the CLI writes to a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.model import Classification
from bot.rules.engine import RELEVANT, RuleSet
from bot.rules.matcher import Hit
from bot.rules.text import tokenise

__all__ = ["ANSI_MARK", "PLAIN_MARK", "explain", "mark_text"]

PLAIN_MARK = ("[", "]")
ANSI_MARK = ("\x1b[1;33m", "\x1b[0m")


def mark_text(text: str, spans: Sequence[tuple[int, int]], mark: tuple[str, str] = PLAIN_MARK) -> str:
    """The text with every (merged) span wrapped in ``mark``."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[str] = []
    position = 0
    for start, end in merged:
        pieces += [text[position:start], mark[0], text[start:end], mark[1]]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _quote(text: str) -> str:
    return "«" + " ".join(text.split()) + "»"


def explain(ruleset: RuleSet, text: str, mark: tuple[str, str] = PLAIN_MARK) -> list[str]:
    """Lines that explain the classification of ``text``: verdict, rules fired, matches, marked text."""
    doc = tokenise(text)
    hits: list[Hit] = ruleset.matcher.scan(doc)
    result: Classification = ruleset.evaluate(doc, hits)
    relevance = ruleset.categories[RELEVANT]
    lines = [
        f"relevant: {'yes' if result.relevant else 'no'}"
        f" (score {result.score:g}, threshold {relevance.threshold:g})",
    ]
    if result.labels:
        lines.append("labels: " + "  ".join(f"{name}={value}" for name, value in result.labels.items()))
    lines.append("rules fired:" if result.hits else "rules fired: none")
    for hit in result.hits:
        value = f"={hit.value}" if hit.value is not None else ""
        origin = ruleset.origin(hit.rule)
        lines.append(
            f"  {hit.rule}  [{hit.category}{value} {hit.weight:+g}]" + (f"  ({origin})" if origin else "")
        )
        for match in hit.matches:
            lines.append(
                f"      {match.concept}: {match.term!r} {_quote(match.text)} at {match.start}-{match.end}"
            )
    lines.append("matches:" if hits else "matches: none")
    for found in hits:
        lines.append(
            f"  {found.concept}: {found.term!r} {_quote(text[found.start : found.end])}"
            f" at {found.start}-{found.end} (tokens {found.first}-{found.last})"
        )
    lines.append("text:")
    marked = mark_text(text, [(found.start, found.end) for found in hits], mark)
    lines.extend("  " + line for line in marked.split("\n"))
    return lines
