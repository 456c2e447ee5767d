"""Queries over many text spans in logarithmic time, so a long post costs linear time (pure).

The extractor asks the same questions of every place, date and group name it finds
("does it overlap a group name?", "is it inside a longer name?", "which tokens lie between
these offsets?"). Asked by scanning every other span, a post with thousands of names costs
quadratic time; these helpers answer from sorted offsets instead, with the same results.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import accumulate


class Overlaps:
    """A fixed set of ``(start, end)`` spans: does a span overlap any of them?

    Exactly ``any(start < b and a < end for a, b in spans)``, for spans of any length.
    """

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._reach = list(accumulate((end for _, end in ordered), max))

    def __bool__(self) -> bool:
        return bool(self._starts)

    def hit(self, start: int, end: int) -> bool:
        """Whether some span starts before ``end`` and ends after ``start``."""
        count = bisect_left(self._starts, end)
        return count > 0 and self._reach[count - 1] > start


def strictly_inside(spans: Sequence[tuple[int, int]]) -> list[bool]:
    """For each span, whether another of the spans contains it and is longer.

    Exactly ``any(a <= start and end <= b and b - a > end - start for a, b in spans)``
    for each ``(start, end)``: a longer span containing it starts earlier, or starts at the
    same offset and ends later.
    """
    ordered = sorted(set(spans))
    starts = [start for start, _ in ordered]
    reach = list(accumulate((end for _, end in ordered), max))
    furthest: dict[int, int] = {}
    for start, end in ordered:
        furthest[start] = max(furthest.get(start, end), end)
    out = []
    for start, end in spans:
        earlier = bisect_left(starts, start)
        out.append((earlier > 0 and reach[earlier - 1] >= end) or furthest[start] > end)
    return out


def between(starts: Sequence[int], low: int, high: int) -> range:
    """The indexes ``i`` with ``low <= starts[i] < high`` (``starts`` sorted ascending)."""
    return range(bisect_left(starts, low), bisect_left(starts, high))


class Coverage:
    """Spans taken so far (added one by one): does a new span overlap one of them?

    Exactly ``any(start < b and a < end for a, b in taken)``; an empty span (which no
    matcher here yields) is checked against the list itself.
    """

    def __init__(self, length: int) -> None:
        self._taken = bytearray(length + 1)
        self._empty: list[tuple[int, int]] = []
        self._spans: list[tuple[int, int]] = []

    def overlaps(self, start: int, end: int) -> bool:
        if end <= start:
            return any(start < b and a < end for a, b in self._spans)
        if any(start < b and a < end for a, b in self._empty):
            return True
        return self._taken.find(1, max(0, start), max(0, end)) != -1

    def add(self, start: int, end: int) -> None:
        self._spans.append((start, end))
        if end <= start:
            self._empty.append((start, end))
        else:
            low, high = max(0, start), max(0, end)
            self._taken[low:high] = b"\x01" * (high - low)


def search_before(pattern: re.Pattern[str], text: str, end: int, letters: int) -> re.Match[str] | None:
    """``pattern.search(text[:end])`` for a pattern anchored with ``$`` whose matches hold at
    most ``letters`` characters that are not whitespace: only the tail is read.

    A match of the prefix ends at ``end`` (or before a final newline), so it lies within the
    last ``letters`` non-whitespace characters and the whitespace around them.
    """
    position = end
    seen = 0
    while position > 0:
        if not text[position - 1].isspace():
            seen += 1
            if seen > letters:
                break
        position -= 1
    return pattern.search(text, position, end)


def whitespace_offsets(text: str) -> list[int]:
    """Offsets of the whitespace characters of a text, ascending."""
    return [match.start() for match in re.finditer(r"\s", text)]


def word_start(spaces: Sequence[int], offset: int) -> int:
    """Where the run of non-whitespace characters that reaches ``offset`` begins.

    Exactly: walk back from ``offset`` while the character before is not whitespace.
    """
    before = bisect_left(spaces, offset)
    return spaces[before - 1] + 1 if before else 0


def line_start(newlines: Sequence[int], offset: int) -> int:
    """``text.rfind("\\n", 0, offset) + 1`` from the sorted newline offsets of the text."""
    before = bisect_left(newlines, offset)
    return newlines[before - 1] + 1 if before else 0


def line_end(newlines: Sequence[int], offset: int, length: int) -> int:
    """``text.find("\\n", offset)`` (the text's length when there is none)."""
    after = bisect_left(newlines, offset)
    return newlines[after] if after < len(newlines) else length


def next_at(offsets: Sequence[int], low: int, high: int) -> int:
    """``text.find(char, low, high)`` from the sorted offsets of ``char`` in the text."""
    found = bisect_left(offsets, low)
    return offsets[found] if found < len(offsets) and offsets[found] + 1 <= high else -1


__all__ = [
    "Coverage",
    "Overlaps",
    "between",
    "line_end",
    "line_start",
    "next_at",
    "search_before",
    "strictly_inside",
    "whitespace_offsets",
    "word_start",
]
