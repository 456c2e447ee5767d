"""The Hyperscan regex gate: which regex terms may match, never missing one that does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.accel import RegexGate, gate_pattern, hyperscan
from bot.rules.engine import load_ruleset
from bot.rules.matcher import compile_regex
from bot.rules.text import fold_letters

pytestmark = pytest.mark.skipif(hyperscan is None, reason="hyperscan is not installed on this platform")

_SHIPPED = [
    fold_letters(entry.term)
    for entry in load_ruleset(Path(__file__).resolve().parents[2] / "config" / "rules").entries
    if entry.regex
]
_OWN = [
    "(?<!not )hit",
    "(?<=the )convoy",
    "(a|an) (ied|bomb)",
    r"[0-9]+ killed",
    r"\d+ (dead|killed)",
    r"\bied\b",
    r"convoy\s\S+",
    r"[\d.]+ km",
    r"(?!x)\w+ed",
    "(و|ف)?(عثر|وجد)( \\S+){0,2} (علي )?عبوه",
    "(x)?",
    "x{0,65536}",  # Hyperscan refuses so large a bound: always a candidate
    "a$b",  # Hyperscan refuses it: always a candidate
    r"\x41bc",  # not translated: always a candidate
]
_PATTERNS = [*_SHIPPED, *_OWN]
_GATE = RegexGate(_PATTERNS)
_WORDS = st.sampled_from(
    [
        *(
            "if",
            "would",
            "could",
            "not",
            "expect",
            "to",
            "reach",
            "2019",
            "2021",
            "in",
            "since",
            "hit",
            "the",
        ),
        *("struck", "a", "an", "base", "us", "ied", "bomb", "convoy", "12", "3.5", "km", "attacks", "killed"),
        *("dead", "xed", "Abc", "x", "", "cement", "trucks", "no", "coalition", "cargo", "is", "unknown"),
        *("هدنه", "بالهدنه", "منذ", "اذا", "ما", "عثر", "علي", "عبوه", "استهداف", "قاعده", "رتلهم", "لا"),
        *(
            "يوجد",
            "اثر",
            "لهجوم",
            "تصاعد",
            "دخان",
            "بالطيران",
            "المسير",
            "٣",
            "\u0661\u0662",
            "\u00a0",
            "\x1f",
        ),
    ]
)


@pytest.mark.parametrize(
    ("pattern", "translated"),
    [
        ("(?<!clear )if", "(?<!clear )if"),
        (r"whose( \S+){0,6} unknown", "whose( [^ ]+){0,6} unknown"),
        (r"\d+\s\w+", "[^ ]+.[^ ]+"),
        (r"\D\W", ".."),
        (r"\bied\b", "ied"),
        (r"[\d.]+ km", ".+ km"),
        (r"[^ ]+ \. \(x\)", r"[^ ]+ \. \(x\)"),
        ("[]a]b", "[]a]b"),
        ("(?:a|b)(?=c)(?!d)(?<=e)", "(?:a|b)(?=c)(?!d)(?<=e)"),
        ("x{2,3}", "x{2,3}"),
    ],
)
def test_gate_pattern_translates_what_reads_the_same_or_wider(pattern: str, translated: str) -> None:
    """Literals, groups and lookarounds stay; Unicode class escapes widen; \\b is dropped."""
    assert gate_pattern(pattern) == translated


@pytest.mark.parametrize(
    "pattern",
    [
        *(r"(a)\1", r"\x41", r"\u0627", r"\n", r"\Aa", "(?i)ied", "(?P<n>a)", "(?(1)a|b)", "(?#c)a"),
        *("a{,3}", "[[:alpha:]]", "[abc", "a\\"),
    ],
)
def test_gate_pattern_refuses_what_might_read_differently(pattern: str) -> None:
    """Escapes, inline flags, named groups, {,n}, POSIX-like classes: left to Python."""
    assert gate_pattern(pattern) is None


def test_refused_patterns_are_always_candidates() -> None:
    """A pattern Hyperscan cannot take is a candidate for any text; the others are still gated."""
    always = {_PATTERNS.index(pattern) for pattern in ("x{0,65536}", "a$b", r"\x41bc")}
    assert set(_GATE.always) == always
    assert set(_GATE.candidates(" nothing here ")) == always | {_PATTERNS.index("(x)?")}


def test_candidates_are_ascending_and_lone_surrogates_make_every_pattern_one() -> None:
    """Indexes come sorted; text that is not valid UTF-8 is not scanned: every pattern may match."""
    found = _GATE.candidates(" if 12 killed since 2019 the convoy would hit ")
    assert found == sorted(found)
    assert _GATE.candidates(" convoy \ud800 ") == list(range(len(_PATTERNS)))


@given(st.lists(_WORDS, max_size=20).map(" ".join) | st.text(max_size=40))
@settings(max_examples=400)
def test_every_pattern_that_matches_is_a_candidate(words: str) -> None:
    """candidates(stream) holds every pattern with a whole-word match (what the matcher searches)."""
    stream = f" {words} "
    candidates = set(_GATE.candidates(stream))
    for number, pattern in enumerate(_PATTERNS):
        if compile_regex(pattern).search(stream) is not None or re.search(pattern, stream) is not None:
            assert number in candidates, (pattern, stream)


def test_shipped_regex_terms_are_all_gated() -> None:
    """Every regex term in config/rules is taken by Hyperscan (none left to search every post)."""
    assert not [pattern for pattern in _SHIPPED if _PATTERNS.index(pattern) in _GATE.always]
