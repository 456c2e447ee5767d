"""Extraction costs linear time in the length of a post, with the results it always gave.

Cost is counted, not timed: the lines of bot/extract executed for a post (``sys.settrace``)
grow in proportion to the post, where the quadratic loops they replaced (a scan of every
token per sentence, of every span per span) grew with its square. The bisection helpers
of ``bot.extract.spans`` are checked against the scans they replace.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bot.extract
from bot.analysis import Analyser
from bot.extract.actors import _collapse, _join_collapsed
from bot.extract.events import load_extractor
from bot.extract.folding import fold, fold_char
from bot.extract.spans import (
    Coverage,
    Overlaps,
    between,
    line_end,
    line_start,
    next_at,
    search_before,
    strictly_inside,
    whitespace_offsets,
    word_start,
)
from bot.extract.split import _EN_NOT_LIST, _NOT_LIST, NOT_LIST_LETTERS
from bot.model import Post
from bot.rules.engine import load_ruleset
from bot.rules.text import tokenise
from tests.conftest import CONFIG, SHARED

WHEN = dt.datetime(2024, 2, 3, 5, 0, tzinfo=dt.UTC)
EXTRACT = str(Path(bot.extract.__file__).parent)
PLACES = ("Diwaniyah", "Samawah", "Nasiriyah", "Hillah", "Kut", "Basra", "Najaf", "Karbala")


@pytest.fixture(scope="module")
def analyser() -> Analyser:
    """The real rules, gazetteer and groups from config/."""
    return Analyser.build(
        load_ruleset(CONFIG / "rules"), load_extractor(CONFIG / "gazetteer", CONFIG / "groups.yaml")
    )


def extract_lines(call: Callable[[], object]) -> int:
    """How many lines of bot/extract run during ``call()`` (comprehension steps included)."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(EXTRACT) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


def _seed(copies: int) -> str:
    text = (SHARED / "seeds" / "001_98311ac7f0708149.txt").read_text(encoding="utf-8")
    return "\n\n".join([text] * copies)


def _roundup(lines: int) -> str:
    items = (
        f"• An IED hit a coalition supply convoy near {PLACES[n % len(PLACES)]}, claimed by Ashab "
        "al-Kahf; two drivers wounded."
        for n in range(lines)
    )
    return "Convoy attacks reported today:\n" + "\n".join(items)


def _report_ar(copies: int) -> str:
    return " ".join(
        ["استهداف رتل دعم لوجستي تابع للتحالف الدولي بعبوة ناسفة قرب الديوانية صباح اليوم"] * copies
    )


def _many_places(copies: int) -> str:
    return " ".join(f"An IED struck a US convoy near {place}." for place in PLACES * copies)


@pytest.mark.parametrize(
    ("make", "small"),
    [(_seed, 2), (_roundup, 20), (_report_ar, 40), (_many_places, 5)],
    ids=["seed-article", "round-up-list", "arabic-report", "many-places"],
)
def test_extraction_work_grows_linearly(analyser: Analyser, make: Callable[[int], str], small: int) -> None:
    """A post eight times longer runs at most ten times the extractor's lines (the old code: 15-31)."""
    short = extract_lines(lambda: analyser.analyse(Post("c", 1, WHEN, make(small))))
    long = extract_lines(lambda: analyser.analyse(Post("c", 1, WHEN, make(8 * small))))
    assert short > 1000  # the extractor ran
    assert long < 10 * short


def test_a_long_round_up_keeps_every_line_as_an_event(analyser: Analyser) -> None:
    """A 160-line round-up gives 160 events, each with its own place, claim and casualties."""
    analysis = analyser.analyse(Post("c", 1, WHEN, _roundup(160)))
    assert [event.place for event in analysis.events] == [PLACES[n % len(PLACES)] for n in range(160)]
    assert {(event.claimed_by, event.injured) for event in analysis.events} == {("Ashab al-Kahf", 2)}


# -- the helpers against the scans they replace ------------------------------------------

spans = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 12)).map(lambda p: (p[0], p[0] + p[1])), max_size=30
)


@given(spans, st.integers(0, 50), st.integers(0, 12))
def test_overlaps_is_the_scan(taken: list[tuple[int, int]], start: int, length: int) -> None:
    """``Overlaps.hit`` answers what a scan of every span answers."""
    end = start + length
    assert Overlaps(taken).hit(start, end) == any(start < b and a < end for a, b in taken)


@given(spans)
def test_strictly_inside_is_the_scan(taken: list[tuple[int, int]]) -> None:
    """``strictly_inside`` answers, for each span, what a scan of every other span answers."""
    expected = [any(a <= s and e <= b and b - a > e - s for a, b in taken) for s, e in taken]
    assert strictly_inside(taken) == expected


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 40), st.integers(0, 8)), max_size=40))
def test_coverage_is_the_scan(steps: list[tuple[bool, int, int]]) -> None:
    """Spans added one by one: ``Coverage.overlaps`` answers what a scan of the list answers."""
    coverage = Coverage(48)
    taken: list[tuple[int, int]] = []
    for add, start, length in steps:
        end = start + length
        assert coverage.overlaps(start, end) == any(start < b and a < end for a, b in taken)
        if add:
            coverage.add(start, end)
            taken.append((start, end))


texts = st.text(
    st.sampled_from(["a", "t", "h", "e", "f", "o", "r", " ", "\n", ":", "#", "ا", "ل", "1"]), max_size=60
)
words = st.lists(
    st.sampled_from(
        ["for", "the", "at", "in", "very", "x", "الطريق", "العشرين", "كانون", "ال", "  ", "\n", "\t"]
    ),
    max_size=12,
).map(" ".join)


@given(words | texts, st.data())
def test_search_before_is_the_prefix_search(text: str, data: st.DataObject) -> None:
    """``search_before`` finds what searching the whole prefix finds, for the list cue patterns."""
    end = data.draw(st.integers(0, len(text)))
    for pattern in (_EN_NOT_LIST, _NOT_LIST):
        found = search_before(pattern, text, end, NOT_LIST_LETTERS)
        expected = pattern.search(text[:end])
        assert (found and found.span()) == (expected and expected.span())


@given(texts, st.data())
def test_offset_lookups_are_the_string_methods(text: str, data: st.DataObject) -> None:
    """Word, line and character lookups by bisection equal rfind/find and the walk back."""
    offset = data.draw(st.integers(0, len(text)))
    high = data.draw(st.integers(0, len(text)))
    walk = offset
    while walk > 0 and not text[walk - 1].isspace():
        walk -= 1
    newlines = [m.start() for m in re.finditer("\n", text)]
    colons = [m.start() for m in re.finditer(":", text)]
    assert word_start(whitespace_offsets(text), offset) == walk
    assert line_start(newlines, offset) == text.rfind("\n", 0, offset) + 1
    found = text.find("\n", offset)
    assert line_end(newlines, offset, len(text)) == (len(text) if found < 0 else found)
    assert next_at(colons, offset, high) == text.find(":", offset, high)
    starts = sorted({m.start() for m in re.finditer(r"\w+", text)})
    assert list(between(starts, offset, high)) == [i for i, s in enumerate(starts) if offset <= s < high]


@given(st.text(max_size=80))
def test_fold_keeps_every_offset(text: str) -> None:
    """The folded text and each folded character's original offset, as folding char by char gives."""
    chars = [(piece, index) for index, char in enumerate(text) for piece in fold_char(char)]
    folded = fold(text)
    assert folded.text == "".join(piece for piece, _ in chars)
    assert list(folded.offsets) == [index for _, index in chars]
    for offset in range(len(text) + 1):
        assert folded.position(offset) == next(
            (i for i, (_, o) in enumerate(chars) if o >= offset), len(chars)
        )


@given(st.lists(st.text("abkkq", max_size=5), max_size=6))
def test_skeletons_extend_word_by_word(parts: list[str]) -> None:
    """Joining collapsed skeletons word by word equals collapsing the joined words."""
    skeleton = ""
    for part in parts:
        skeleton = _join_collapsed(skeleton, _collapse(part))
    assert skeleton == _collapse("".join(parts))


@given(st.text(max_size=300) | words)
def test_tokens_are_in_text_order_with_sentences_never_decreasing(text: str) -> None:
    """What the extractor's bisections rely on: token starts and sentence numbers never fall."""
    tokens = tokenise(text).tokens
    # "¼" is two tokens at one offset: starts never fall, which is all bisection needs
    assert all(a.start <= b.start and a.sentence <= b.sentence for a, b in pairwise(tokens))
    assert [token.index for token in tokens] == list(range(len(tokens)))
