"""Normalisation and tokenisation of Arabic and English text, with offsets into the original.

``normalise`` folds the spelling variation of Arabic (hamza/alef forms, ى/ي, ة/ه, diacritics,
tatweel, Persian letters, Eastern digits) and of Unicode (NFKC, case, invisible marks).
``tokenise`` cuts a text into word tokens; every token keeps its ``start``/``end`` in the
*original* text so a match can always be shown where it was found.

Speed matters (the classifier runs it on every post), so the hot path never loops over
characters in Python: a text is split on whitespace into *chunks* (C speed), each distinct
chunk is analysed once (cached: its normalised words, their spans inside the chunk, sentence
ends) and a document is the concatenation of its chunks' analyses. Token objects are only
built when someone asks for ``Document.tokens``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import accumulate, compress
from operator import not_, sub
from typing import ClassVar

__all__ = [
    "DROP",
    "LINE",
    "MARKS",
    "SENTENCE",
    "TABLE",
    "Document",
    "Token",
    "fold_letters",
    "normalise",
    "tokenise",
]

#: Pseudo-words in a document's normalised stream: the end of a sentence (``. ! ? ؟ ;``) and
#: a line break (two in a row: a paragraph break). Both are whitespace to ``str.split``, so
#: no chunk of text can contain them.
SENTENCE = "\x1e"
LINE = "\x1f"
MARKS = frozenset((SENTENCE, LINE))
#: What a line break becomes before splitting (a private-use character; texts that contain
#: it take the slower line-by-line path).
_NEWLINE = "\ue000"

# Arabic diacritics (harakat, tanwin, shadda, sukun, superscript alef, Quranic marks), tatweel.
_ARABIC_MARKS = (
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
    "\u08d3-\u08e1\u08e3-\u08ff"
)
# Zero-width and bidi controls, soft hyphen, BOM, variation selectors, combining grapheme joiner.
_INVISIBLE = "\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufe00-\ufe0f\ufeff"
# Other combining marks that may sit inside a word before normalisation composes them.
_COMBINING = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)

_DROP = re.compile(f"[{_ARABIC_MARKS}{_INVISIBLE}\u0640]")


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for alef in "\u0623\u0625\u0622\u0671\u0672\u0673\u0675":  # أ إ آ ٱ ٲ ٳ ٵ
        table[ord(alef)] = "\u0627"  # ا
    table[0x0649] = "\u064a"  # ى -> ي
    table[0x0629] = "\u0647"  # ة -> ه
    persian = {
        "\u06a9": "\u0643",  # ک -> ك
        "\u06aa": "\u0643",  # ڪ -> ك
        "\u06af": "\u0643",  # گ -> ك (gaf is written for k/g in Iraqi/Persian names)
        "\u06cc": "\u064a",  # ی -> ي
        "\u06d0": "\u064a",  # ې -> ي
        "\u067e": "\u0628",  # پ -> ب
        "\u0686": "\u062c",  # چ -> ج
        "\u0698": "\u0632",  # ژ -> ز
        "\u06a4": "\u0641",  # ڤ -> ف
        "\u06a8": "\u0642",  # ڨ -> ق
        "\u06be": "\u0647",  # ھ -> ه
        "\u06c1": "\u0647",  # ہ -> ه
        "\u06c0": "\u0647",  # ۀ -> ه
        "\u06d5": "\u0647",  # ە -> ه
        "\u06c3": "\u0647",  # ۃ -> ه
    }
    for src, dst in persian.items():
        table[ord(src)] = dst
    for digit in range(10):
        table[0x0660 + digit] = str(digit)  # Arabic-Indic ٠..٩
        table[0x06F0 + digit] = str(digit)  # Eastern Arabic-Indic (Persian/Urdu) ۰..۹
    return table


_TABLE = _build_table()
#: The letter folding table and the pattern of what normalisation drops (for the prefilter).
TABLE: dict[int, str | None] = _TABLE
DROP = _DROP


def _step(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DROP.sub("", text)
    return unicodedata.normalize("NFKC", text.translate(_TABLE))


def fold_letters(text: str) -> str:
    """Only the Arabic letter folding of ``normalise`` (no case folding, no NFKC): for regex terms."""
    return _DROP.sub("", text).translate(_TABLE)


def normalise(text: str) -> str:
    """Fold a text to the form rules and posts are compared in (idempotent).

    NFKC, case folding, zero-width/bidi marks removed, Arabic diacritics and tatweel
    stripped, alef forms to ا, ى to ي, ة to ه, Persian letters to Arabic, Arabic-Indic and
    Eastern digits to ASCII.
    """
    current = text
    for _ in range(4):  # one step is a fixed point for every text seen so far; bounded anyway
        folded = _step(current)
        if folded == current:
            break
        current = folded
    return current


@dataclass(frozen=True, slots=True)
class Token:
    """One word: its normalised surface form and where it is in the original text."""

    index: int
    norm: str
    start: int
    end: int
    sentence: int
    paragraph: int
    script: str  # "ar" | "latin" | "digit" | "other"


# A word in the original text: a letter or digit (not tatweel) followed by letters, digits,
# tatweel, diacritics and invisible marks (which normalisation removes). Underscore, hyphen,
# apostrophe, quotes and other punctuation separate words.
_ORIGINAL_WORD = re.compile(f"[^\\W_\u0640](?:[^\\W_]|[{_ARABIC_MARKS}{_INVISIBLE}{_COMBINING}])*")
_NORMAL_WORD = re.compile(f"[^\\W_](?:[^\\W_]|[{_COMBINING}])*")
_SENTENCE_PUNCT = frozenset("!?؟;؛…")


@dataclass(frozen=True, slots=True)
class _Chunk:
    """The analysis of one whitespace-free piece of text (cached by its exact string)."""

    stream: str  # normalised words and sentence marks joined by " " ("" if none)
    norms: tuple[str, ...]  # the normalised words (no marks)
    spans: tuple[tuple[int, int], ...]  # each word's (start, end) inside the chunk


def _is_boundary(gap: str, tail: bool, previous: str | None) -> bool:
    if any(char in _SENTENCE_PUNCT for char in gap):
        return True
    if tail and "." in gap:
        # "U.S." and initials are not sentence ends; "22.01." inside a chunk never reaches here.
        return not (previous is not None and len(previous) == 1 and previous.isalpha())
    return False


_ASCII_WORD = re.compile("[A-Za-z0-9]+")


def _analyse_chunk(chunk: str) -> _Chunk:
    if chunk.isascii():
        if chunk.isalnum():  # a plain word or number: the most common new chunk by far
            lowered = chunk.lower()
            return _Chunk(lowered, (lowered,), ((0, len(chunk)),))
        return _analyse(chunk, _ASCII_WORD, str.lower)
    return _analyse(chunk, _ORIGINAL_WORD, normalise)


def _analyse(chunk: str, finder: re.Pattern[str], fold: Callable[[str], str]) -> _Chunk:
    """Words of a chunk (``finder`` finds them in the original, ``fold`` normalises each)."""
    pieces: list[str] = []
    norms: list[str] = []
    spans: list[tuple[int, int]] = []
    position = 0
    previous: str | None = None
    for match in finder.finditer(chunk):
        gap = chunk[position : match.start()]
        if previous is not None and _is_boundary(gap, tail=False, previous=previous):
            pieces.append(SENTENCE)
        words = _NORMAL_WORD.findall(fold(match.group()))
        for word in words:
            pieces.append(word)
            norms.append(word)
            spans.append(match.span())
        if words:
            previous = words[-1]
        position = match.end()
    if _is_boundary(chunk[position:], tail=True, previous=previous):
        pieces.append(SENTENCE)
    return _Chunk(" ".join(pieces), tuple(norms), tuple(spans))


class _ChunkCache(dict[str, _Chunk]):
    """Chunk analyses by chunk; bounded so a long-running process does not grow forever."""

    limit: ClassVar[int] = 50_000  # a class constant (mypyc: ClassVar)

    def __missing__(self, chunk: str) -> _Chunk:
        if len(self) >= self.limit:
            self.clear()
            _STREAMS.reset()
            _COUNTS.reset()
            _WIDTHS.reset()
        if chunk == _NEWLINE:
            return _LINE_CHUNK
        analysis = self[chunk] = _analyse_chunk(chunk)
        return analysis


_LINE_CHUNK = _Chunk(LINE, (), ())


class _Streams(dict[str, str]):
    """``chunk -> its normalised stream`` (so ``map(streams.__getitem__, parts)`` runs at C speed)."""

    def reset(self) -> None:
        self.clear()
        self[_NEWLINE] = LINE

    def __missing__(self, chunk: str) -> str:
        value = self[chunk] = _CHUNKS[chunk].stream
        return value


class _Counts(dict[str, int]):
    """``chunk -> how many words it holds``."""

    def reset(self) -> None:
        self.clear()
        self[_NEWLINE] = 0

    def __missing__(self, chunk: str) -> int:
        value = self[chunk] = len(_CHUNKS[chunk].norms)
        return value


class _Widths(dict[str, int]):
    """``piece -> how far the next piece starts after it in the original text``.

    A piece is a chunk, a line-break mark or the empty string between two spaces; one
    space follows it (``len + 1``), except a line-break mark: it stands for the newline
    that is itself the separator, and the spaces around it are not in the original (0).
    """

    limit: ClassVar[int] = 60_000  # a class constant (mypyc: ClassVar)

    def reset(self) -> None:
        self.clear()
        self[_NEWLINE] = 0

    def __missing__(self, piece: str) -> int:
        if len(self) >= self.limit:
            self.reset()
        value = self[piece] = len(piece) + 1
        return value


_CHUNKS = _ChunkCache()
_STREAMS = _Streams()
_COUNTS = _Counts()
_WIDTHS = _Widths()
_STREAMS.reset()
_COUNTS.reset()
_WIDTHS.reset()


def chunk_stream(chunk: str) -> str:
    """The normalised stream of one chunk of a document (``Document.parts`` element)."""
    return _STREAMS[chunk]


@dataclass(frozen=True, slots=True)
class Document:
    """A tokenised text: the original ``text`` and its ``tokens`` (all built on first use).

    ``parts`` are the whitespace-separated chunks of the text with a line-break mark
    between lines; each chunk holds zero or more words. ``stream`` is the normalised
    words separated by single spaces, with ``SENTENCE``/``LINE`` marks as pseudo-words.
    """

    text: str
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def parts(self) -> tuple[str, ...]:
        """The whitespace-separated chunks, with a line-break mark between lines (cut on first use)."""
        cached = self._cache.get("parts")
        if cached is None:
            cached = self._cache["parts"] = _parts(self.text)
        return cached  # type: ignore[return-value]

    @property
    def memo(self) -> dict[str, object]:
        """Per-document memo for derived values (the matcher keeps its canonical stream here)."""
        return self._cache

    @property
    def stream(self) -> str:
        """Normalised words and marks separated by single spaces."""
        cached = self._cache.get("stream")
        if cached is None:
            cached = self._cache["stream"] = " ".join(filter(None, map(_STREAMS.__getitem__, self.parts)))
        return cached  # type: ignore[return-value]

    @property
    def words(self) -> list[str]:
        """The stream split into normalised words and marks."""
        cached = self._cache.get("words")
        if cached is None:
            stream = self.stream
            cached = self._cache["words"] = stream.split(" ") if stream else []
        return cached  # type: ignore[return-value]

    @property
    def tokens(self) -> tuple[Token, ...]:
        """Every token with its normalised form, original span, sentence, paragraph, script."""
        cached = self._cache.get("tokens")
        if cached is None:
            cached = self._cache["tokens"] = self._build_tokens()
        return cached  # type: ignore[return-value]

    def __len__(self) -> int:
        """The number of tokens."""
        counts = self._token_counts()
        return counts[-1] if counts else 0

    def span(self, index: int) -> tuple[int, int]:
        """The original-text ``(start, end)`` of token ``index``."""
        return self.spans((index,))[index]

    def spans(self, indexes: Iterable[int]) -> dict[int, tuple[int, int]]:
        """``span`` of many tokens at once (one call: the matcher needs dozens per post).

        Token ``index`` is word ``index - before[part]`` of the first part whose running
        count exceeds ``index`` (parts without words never do), at that part's offset.
        """
        counts = self._token_counts()
        before = self._words_before()
        starts = self._part_starts()
        parts = self.parts
        chunks = _CHUNKS
        found: dict[int, tuple[int, int]] = {}
        for index in indexes:
            part = bisect_right(counts, index)
            base = starts[part]
            start, end = chunks[parts[part]].spans[index - before[part]]
            found[index] = (base + start, base + end)
        return found

    def layout(self, words: list[str] | None = None) -> tuple[list[int], list[int]]:
        """``slot -> token index`` over ``words`` (marks included) and ``token -> sentence key``.

        A sentence key is the same for every token of a sentence and differs between
        sentences (it counts the marks before the token; not dense, see ``sentence_of``).
        ``words`` may be any word list with this document's marks (the matcher's canonical
        words), to save building ``self.words``.
        """
        cached = self._cache.get("layout")
        if cached is None:
            words = self.words if words is None else words
            marks = list(map(MARKS.__contains__, words))
            before = list(accumulate(marks, initial=0))[1:]  # marks up to and including each slot
            token_of_slot = list(map(sub, range(len(words)), before))
            slots = compress(range(len(words)), map(not_, marks))
            cached = self._cache["layout"] = (token_of_slot, list(map(before.__getitem__, slots)))
        return cached  # type: ignore[return-value]

    @property
    def sentence_keys(self) -> dict[int, int]:
        """Sentence keys already known for some tokens (the matcher notes them as it scans)."""
        cached = self._cache.get("keys")
        if cached is None:
            cached = self._cache["keys"] = {}
        return cached  # type: ignore[return-value]

    def sentence_key(self, index: int) -> int:
        """A key equal for tokens of the same sentence (cheaper than ``sentence_of``)."""
        known = self.sentence_keys.get(index)
        return known if known is not None else self.layout()[1][index]

    def sentence_of(self, index: int) -> int:
        """The sentence number (0-based, dense) of token ``index``."""
        return bisect_right(self._breaks()[0], index)

    def paragraph_of(self, index: int) -> int:
        """The paragraph number (0-based, dense) of token ``index``."""
        return bisect_right(self._breaks()[1], index)

    # -- lazily computed structure ------------------------------------------------------

    def _token_counts(self) -> list[int]:
        """How many words the parts hold, up to and including each part (a running count)."""
        cached = self._cache.get("counts")
        if cached is None:
            cached = self._cache["counts"] = list(accumulate(map(_COUNTS.__getitem__, self.parts)))
        return cached  # type: ignore[return-value]

    def _words_before(self) -> list[int]:
        """How many words the parts before each part hold (``_token_counts`` shifted by one)."""
        cached = self._cache.get("before")
        if cached is None:
            counts = self._token_counts()
            cached = self._cache["before"] = [0, *counts[:-1]] if counts else []
        return cached  # type: ignore[return-value]

    def _part_starts(self) -> list[int]:
        """Every part's offset in the original text."""
        cached = self._cache.get("starts")
        if cached is None:
            cached = self._cache["starts"] = _part_starts(self.text, self.parts)
        return cached  # type: ignore[return-value]

    def _breaks(self) -> tuple[list[int], list[int]]:
        """Token indexes where a new sentence / a new paragraph begins (dense, never 0)."""
        cached = self._cache.get("breaks")
        if cached is None:
            sentences: list[int] = []
            paragraphs: list[int] = []
            stream = self.stream
            marks = spaces = previous = 0
            for run in _MARK_RUN.finditer(stream):
                text = run.group()
                spaces += stream.count(" ", previous, run.start())  # a running count: linear
                previous = run.start()
                index = spaces - marks  # words before the run
                marks += (len(text) + 1) // 2
                if not index or index == len(self):
                    continue
                sentences.append(index)
                if text.count(LINE) >= 2:
                    paragraphs.append(index)
            cached = self._cache["breaks"] = (sentences, paragraphs)
        return cached  # type: ignore[return-value]

    def _build_tokens(self) -> tuple[Token, ...]:
        sentences, paragraphs = self._breaks()
        tokens: list[Token] = []
        for part, base in zip(self.parts, self._part_starts(), strict=True):
            analysis = _CHUNKS[part]
            for norm, (start, end) in zip(analysis.norms, analysis.spans, strict=True):
                index = len(tokens)
                tokens.append(
                    Token(
                        index=index,
                        norm=norm,
                        start=base + start,
                        end=base + end,
                        sentence=bisect_right(sentences, index),
                        paragraph=bisect_right(paragraphs, index),
                        script=_script(norm),
                    )
                )
        return tuple(tokens)


_one_more = (1).__add__
_MARK_RUN = re.compile(f"[{SENTENCE}{LINE}](?: [{SENTENCE}{LINE}])*")


def _part_starts(text: str, parts: tuple[str, ...]) -> list[int]:
    """Where every part starts in the original text.

    In the usual cases the text, with each newline spelled " <mark> ", is its parts and
    pieces in between, one space apart: an offset is then the sum of the ``_WIDTHS`` of
    the parts (or of the pieces of ``split(" ")``) before it, at C speed. (A line-break
    part holds no word: its offset is never read.)
    """
    if _NEWLINE not in text:
        body = text.strip(" ")  # spaces around the text (a cut post, a pasted line) shift it
        if len(body) + 2 * body.count("\n") == sum(map(len, parts)) + len(parts) - 1:
            # one character between parts and none around them: sums over the parts
            lead = len(text) - len(text.lstrip(" "))
            return list(accumulate(map(_WIDTHS.__getitem__, parts[:-1]), initial=lead))
        if not _OTHER_SPACE.search(text):
            # runs of spaces (blank lines): the parts are the pieces of split(" ") but empty ones
            pieces = text.replace("\n", f" {_NEWLINE} ").split(" ")
            return list(compress(accumulate(map(_WIDTHS.__getitem__, pieces), initial=0), pieces))
    return _part_starts_by_line(text)


#: Whitespace other than a space or a newline (``str.split`` and ``\s`` agree on whitespace).
_OTHER_SPACE = re.compile(r"[^\S \n]")


def _part_starts_by_line(text: str) -> list[int]:
    starts: list[int] = []
    line_start = 0
    marked = _NEWLINE in text
    for number, line in enumerate(text.split("\n")):
        if number:
            starts.append(-1)
        chunks = [chunk for chunk in line.split() if chunk != _NEWLINE] if marked else line.split()
        if chunks:
            if " ".join(chunks) == line:  # evenly spaced: plain arithmetic
                starts.extend(accumulate(map(_one_more, map(len, chunks[:-1])), initial=line_start))
            else:
                position = line_start
                for chunk in chunks:
                    position = text.index(chunk, position)
                    starts.append(position)
                    position += len(chunk)
        line_start += len(line) + 1
    return starts


def _script(norm: str) -> str:
    if norm.isdigit():
        return "digit"
    first = norm[0]
    if "\u0600" <= first <= "\u06ff" or "\u0750" <= first <= "\u077f" or "\u08a0" <= first <= "\u08ff":
        return "ar"
    if first.isascii() or "\u00c0" <= first <= "\u024f":
        return "latin"
    return "other"


def _parts(text: str) -> tuple[str, ...]:
    if _NEWLINE not in text:
        return tuple(text.replace("\n", f" {_NEWLINE} ").split())
    parts: list[str] = []  # the private-use mark occurs in the text itself: go line by line
    for number, line in enumerate(text.split("\n")):
        if number:
            parts.append(_NEWLINE)
        parts.extend(chunk for chunk in line.split() if chunk != _NEWLINE)
    return tuple(parts)


def tokenise(text: str) -> Document:
    """Cut a text into tokens (word boundaries in both scripts) with sentence/paragraph marks.

    Hyphens, apostrophes, quotes and punctuation separate tokens; ``. ! ? ؟ ;`` and line
    breaks end a sentence, a blank line ends a paragraph.
    """
    return Document(text)
