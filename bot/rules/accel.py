"""Optional Hyperscan acceleration: which regex terms may match a stream, in one pass.

Hyperscan ships as wheels for x86-64 Linux; elsewhere ``hyperscan`` is None and callers
fall back to pure Python (the same answers, slower).

``RegexGate`` compiles the regex terms in Hyperscan's *prefilter mode*, where a pattern
matches a superset of its real matches (lookarounds, for one, are approximated), and
reports which terms matched somewhere: a term it does not report cannot match, so the
term's own Python search is skipped. For that to hold, Hyperscan must read each pattern as
Python's ``re`` does, or more loosely; ``gate_pattern`` translates only what it knows to
be safe and leaves every other term to be searched in Python.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any


def _optional(name: str) -> ModuleType | None:
    """An optional module, or None where it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - depends on the platform
        return None


#: Hyperscan, where its wheel exists (x86-64 Linux), else None
hyperscan: ModuleType | None = _optional("hyperscan")

__all__ = ["RegexGate", "Scanner", "gate_pattern", "hyperscan"]

#: Class escapes that never match a space: read as "any character but a space" (a superset)
_NOT_SPACE = frozenset("dwS")
#: Class escapes that may match a space: read as any character (DOTALL), a superset
_ANY = frozenset("sDW")
#: Zero-width escapes: dropped (a pattern without an assertion matches a superset)
_ASSERTIONS = frozenset("bB")


def gate_pattern(pattern: str) -> str | None:
    """``pattern`` for Hyperscan (UTF-8, DOTALL, prefilter mode) matching at least every
    match Python's ``re`` finds in a stream of words separated by single spaces, or None
    when the pattern uses anything whose reading might differ.

    Literals, ``.``, groups, alternation, lookarounds, quantifiers (``{m,n}`` but not
    Python's ``{,n}``) and classes of literal characters read the same in both. Unicode
    class escapes (``\\d \\w \\s``: Python's are Unicode, Hyperscan's ASCII) are widened:
    ``\\d \\w \\S`` to ``[^ ]``, ``\\s \\D \\W`` and any class holding an escape to ``.``;
    ``\\b \\B`` are dropped. Anything else (other letter escapes, inline flags, POSIX-like
    ``[`` inside a class, conditionals) is refused.
    """
    out: list[str] = []
    index = 0
    size = len(pattern)
    while index < size:
        char = pattern[index]
        if char == "\\":
            if index + 1 >= size:
                return None
            escaped = pattern[index + 1]
            if escaped in _NOT_SPACE:
                out.append("[^ ]")
            elif escaped in _ANY:
                out.append(".")
            elif escaped in _ASSERTIONS:
                pass
            elif escaped.isascii() and escaped.isalnum():
                return None  # \n \x.. \u.... \1 \A \Z ...: not translated
            else:
                out.append(pattern[index : index + 2])  # an escaped symbol: a literal in both
            index += 2
            continue
        if char == "[":
            end = _class_end(pattern, index)
            if end is None:
                return None
            body = pattern[index + 1 : end]
            if "\\" in body:
                out.append(".")  # a class with escapes: widened to any character
            elif "[" in body:
                return None  # [[:alpha:]] is a POSIX class to Hyperscan, literals to Python
            else:
                out.append(pattern[index : end + 1])
            index = end + 1
            continue
        if (
            char == "("
            and pattern.startswith("(?", index)
            and not pattern.startswith(("(?:", "(?=", "(?!", "(?<=", "(?<!"), index)
        ):
            return None  # inline flags, named groups, conditionals, comments
        if char == "{" and pattern.startswith("{,", index):
            return None  # Python's {,n} is {0,n}; to Hyperscan it is a literal
        out.append(char)
        index += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int | None:
    """The index of the ``]`` closing the class opened at ``start`` (None: unclosed)."""
    index = start + 1
    if pattern.startswith("^", index):
        index += 1
    if pattern.startswith("]", index):
        index += 1  # a leading ] is a literal in both
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "]":
            return index
        index += 1
    return None


def _report(ident: int, _start: int, _end: int, _flags: int, found: object) -> None:
    assert isinstance(found, list)
    found.append(ident)


class Scanner:
    """A compiled Hyperscan block-mode database, with a scratch space per thread (Hyperscan's
    rule): ``ids(data)`` lists the ids of the patterns that matched, as they were reported."""

    def __init__(self, database: Any) -> None:
        self.database = database
        self._local = threading.local()

    def ids(self, data: bytes) -> list[int]:
        """The ids reported while scanning ``data`` (once each for single-match patterns)."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            assert hyperscan is not None
            scratch = self._local.scratch = hyperscan.Scratch(self.database)
        found: list[int] = []
        self.database.scan(data, match_event_handler=_report, context=found, scratch=scratch)
        return found


class RegexGate:
    """Which of several Python regexes may match a text: one Hyperscan scan.

    ``candidates(text)`` is a superset of the indexes of the patterns with a match in the
    text (``re.search``), in ascending order. Patterns Hyperscan cannot take are always
    candidates. Requires ``hyperscan``.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        assert hyperscan is not None
        flags = (
            hyperscan.HS_FLAG_UTF8
            | hyperscan.HS_FLAG_DOTALL
            | hyperscan.HS_FLAG_PREFILTER
            | hyperscan.HS_FLAG_SINGLEMATCH
            | hyperscan.HS_FLAG_ALLOWEMPTY
        )
        translated: dict[int, bytes] = {}
        for number, pattern in enumerate(patterns):
            gated = gate_pattern(pattern)
            if gated is not None and not _has_surrogates(gated):
                translated[number] = gated.encode("utf-8")
        database = _compile(translated, flags)
        if database is None:  # some pattern refused: keep the ones Hyperscan takes alone
            translated = {
                number: pattern
                for number, pattern in translated.items()
                if _compile({number: pattern}, flags) is not None
            }
            database = _compile(translated, flags)
        self.always = tuple(number for number in range(len(patterns)) if number not in translated)
        self.count = len(patterns)
        self._scanner = Scanner(database) if database is not None else None

    def candidates(self, text: str) -> list[int]:
        """Indexes of the patterns that may match somewhere in ``text``, ascending."""
        if self._scanner is None:
            return list(self.always)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: no scan, every pattern may match
            return list(range(self.count))
        found = self._scanner.ids(data)
        found += self.always
        found.sort()  # reported by match end, each pattern once
        return found


def _compile(patterns: dict[int, bytes], flags: int) -> Any:
    """A Hyperscan block-mode database of ``{id: pattern}``, or None if Hyperscan refuses one."""
    assert hyperscan is not None
    if not patterns:
        return None
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(
            expressions=list(patterns.values()),
            ids=list(patterns),
            elements=len(patterns),
            flags=[flags] * len(patterns),
        )
    except hyperscan.error:
        return None
    return database


def _has_surrogates(text: str) -> bool:
    """Whether the text holds lone surrogates (which UTF-8 cannot encode)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
