"""Fold text for pattern matching while keeping every character's offset in the original.

Dates, numbers and cue words are found with regular expressions over a folded copy of
the text (with the shared ``normalise`` of bot.rules.text, character by character, plus
typographic quotes and dashes made plain). ``Folded.span`` maps a match back to the
original text, so what is found can be placed against the matcher's hits.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, repeat

from bot.rules.text import normalise

_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "٠": "0",
        "١": "1",
        "٢": "2",
        "٣": "3",
        "٤": "4",
        "٥": "5",
        "٦": "6",
        "٧": "7",
        "٨": "8",
        "٩": "9",
        "۰": "0",
        "۱": "1",
        "۲": "2",
        "۳": "3",
        "۴": "4",
        "۵": "5",
        "۶": "6",
        "۷": "7",
        "۸": "8",
        "۹": "9",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "−": "-",
        "،": ",",
        "؛": ";",
        "\u00a0": " ",
    }
)
_DROP = re.compile(r"[\u064b-\u065f\u0670\u0640\u06d6-\u06ed\u200c-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class Folded:
    """A folded copy of a text and, for each folded character, its offset in the original."""

    text: str
    #: ``range(len(text))`` when every character folds to one (the usual case)
    offsets: Sequence[int]
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text span of the folded span ``start..end``."""
        if start >= len(self.offsets):
            return self.original_length, self.original_length
        first = self.offsets[start]
        last = self.offsets[end - 1] + 1 if end > start else first
        return first, last

    def position(self, original: int) -> int:
        """The folded index of the first character at or after an original offset."""
        return bisect_left(self.offsets, original)


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """One original character folded; may be empty (diacritics) or longer (ligatures)."""
    if _DROP.match(char):
        return ""
    return normalise(unicodedata.normalize("NFKC", char).translate(_LETTERS)).translate(_LETTERS)


def fold(text: str) -> Folded:
    """Fold a text character by character, remembering where each folded character came from."""
    pieces = list(map(fold_char, text))
    lengths = list(map(len, pieces))
    offsets: Sequence[int]
    if lengths.count(1) == len(lengths):
        offsets = range(len(text))
    else:
        offsets = tuple(chain.from_iterable(map(repeat, range(len(text)), lengths)))
    return Folded("".join(pieces), offsets, len(text))
