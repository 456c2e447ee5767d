"""Built-in evaluation: precision, recall and F1 of a rule set on a labelled corpus.

Records follow GUIDELINES.md (``id``, ``text``, ``label: {relevant, events}``). Relevance is
scored per post; ``attack_type`` and ``target`` are scored on the posts that are relevant
by the labels: the gold values are those of the post's events, the predicted value is the
post's label (none when the post was not flagged).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.rules.engine import RELEVANT, RuleSet

__all__ = ["Error", "Report", "Scores", "evaluate_records", "format_report"]


@dataclass(frozen=True, slots=True)
class Scores:
    """Counts for one category and the measures derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Error:
    """One post the rules got wrong for a category."""

    id: str
    category: str
    expected: str
    got: str
    text: str
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Report:
    """Scores per category and every error, in corpus order."""

    posts: int
    scores: Mapping[str, Scores]
    errors: tuple[Error, ...]
    skipped: tuple[str, ...] = ()

    def of(self, category: str) -> tuple[Error, ...]:
        """The errors of one category."""
        return tuple(error for error in self.errors if error.category == category)


def _add(counts: dict[str, list[int]], category: str, tp: int = 0, fp: int = 0, fn: int = 0) -> None:
    row = counts.setdefault(category, [0, 0, 0])
    row[0] += tp
    row[1] += fp
    row[2] += fn


def evaluate_records(ruleset: RuleSet, records: Iterable[Mapping[str, Any]]) -> Report:
    """Classify every labelled record and score relevance and each label category."""
    label_names = [category.name for category in ruleset.labels]
    counts: dict[str, list[int]] = {RELEVANT: [0, 0, 0]}
    for name in label_names:
        counts[name] = [0, 0, 0]
    errors: list[Error] = []
    skipped: list[str] = []
    posts = 0
    for record in records:
        ident = str(record.get("id", "?"))
        label = record.get("label")
        text = record.get("text")
        if not isinstance(label, Mapping) or not isinstance(text, str) or "relevant" not in label:
            skipped.append(ident)
            continue
        posts += 1
        result = ruleset.classify(text)
        expected = bool(label["relevant"])
        rules = result.rule_names
        if expected and result.relevant:
            _add(counts, RELEVANT, tp=1)
        elif result.relevant:
            _add(counts, RELEVANT, fp=1)
            errors.append(Error(ident, RELEVANT, "no", "yes", text, rules))
        elif expected:
            _add(counts, RELEVANT, fn=1)
            errors.append(Error(ident, RELEVANT, "yes", "no", text, rules))
        if not expected:
            continue
        events = label.get("events") or []
        for name in label_names:
            gold = {
                str(event.get(name)) for event in events if isinstance(event, Mapping) and event.get(name)
            }
            predicted = {result.labels[name]} if result.relevant and name in result.labels else set()
            _add(counts, name, tp=len(gold & predicted), fp=len(predicted - gold), fn=len(gold - predicted))
            if gold and predicted and not gold & predicted:
                errors.append(
                    Error(ident, name, "/".join(sorted(gold)), "/".join(sorted(predicted)), text, rules)
                )
    scores = {name: Scores(*row) for name, row in counts.items()}
    return Report(posts, scores, tuple(errors), tuple(skipped))


def _short(text: str, width: int = 110) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def format_report(report: Report) -> list[str]:
    """Lines: a score table, then the misses, false alarms and wrong labels with the rules that fired."""
    lines = [
        f"posts: {report.posts}"
        + (f"  (skipped without labels: {len(report.skipped)})" if report.skipped else "")
    ]
    lines.append(f"{'category':<12} {'P':>6} {'R':>6} {'F1':>6}   TP   FP   FN")
    for name, scores in report.scores.items():
        lines.append(
            f"{name:<12} {scores.precision:6.3f} {scores.recall:6.3f} {scores.f1:6.3f}"
            f" {scores.tp:4d} {scores.fp:4d} {scores.fn:4d}"
        )
    sections = (
        ("misses (relevant, not flagged)", [e for e in report.of(RELEVANT) if e.expected == "yes"]),
        ("false alarms (flagged, not relevant)", [e for e in report.of(RELEVANT) if e.expected == "no"]),
        ("wrong labels", [e for e in report.errors if e.category != RELEVANT]),
    )
    for title, errors in sections:
        lines.append(f"{title}: {len(errors)}")
        for error in errors:
            detail = (
                ""
                if error.category == RELEVANT
                else f" {error.category}: expected {error.expected}, got {error.got};"
            )
            fired = ", ".join(error.rules) if error.rules else "no rule fired"
            lines.append(f"  {error.id}:{detail} rules: {fired}")
            lines.append(f"      {_short(error.text)}")
    return lines
