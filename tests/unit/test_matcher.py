"""One-pass term matching: tolerant forms, word boundaries, the matching-caveats table."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.accel import hyperscan
from bot.rules.engine import load_ruleset
from bot.rules.matcher import (
    Hit,
    Matcher,
    TermEntry,
    _first_literals,
    _inner_literals,
    _RegexTerm,
    _required_literal,
    _strip_lookbehinds,
    may_hold,
)
from bot.rules.text import LINE, fold_letters, tokenise

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_ruleset(ROOT / "config" / "rules")

#: Every row of shared/reference/matching-caveats.md: keyword, text, does our matcher match,
#: and why. ``limit`` rows are real ambiguity the matcher cannot settle on its own (the word
#: *is* the keyword); rules and gazetteer cues handle them, the matcher deliberately matches.
CAVEATS = [
    ("رتل", "والرتل يتحرك نحو المدينة", True, "conjunction + article stripped"),
    ("رتل", "شوهد رتلٌ عسكري", True, "tanwin removed by normalisation"),
    ("رتل", "رتـــل عسكري", True, "tatweel removed by normalisation"),
    ("رتل", "أرتال عسكرية", False, "broken plural: rules list أرتال themselves"),
    ("رتل", "رتلين", True, "dual ending stripped (the stem is a term word)"),
    ("عبوة ناسفة", "انفجار العبوة الناسفة", True, "article on both words of the phrase"),
    ("عبوة ناسفة", "انفجار بعبوة ناسفة", True, "preposition ب attached"),
    ("عبوة ناسفة", "انفجار عبوه ناسفه", True, "ة written as ه"),
    ("إمداد", "قطع خطوط الامداد", True, "hamza dropped + article"),
    ("الموصل", "وصل الرتل للموصل", True, "ل + ال contracted to لل"),
    ("الموصل", "سلك موصل للكهرباء", False, "a term written with the article requires it"),
    ("لغم", "يعاني من بلغم في صدره", False, "بلغم is protected (an exact term), so not ب + لغم"),
    ("القاعدة", "قاعدة عسكرية أمريكية", False, "a term written with the article requires it"),
    ("صور", "نشر صور من موقع الحادث", True, "limit: Tyre = 'pictures', the same word"),
    ("حماة", "زار حماه في بيته", True, "limit: ة/ه folding makes Hama == 'his father-in-law'"),
    ("حديثة", "أسلحة حديثة", True, "limit: Haditha = 'modern', the same word"),
    ("الباب", "أغلق الباب", True, "limit: al-Bab = 'the door', the same word"),
    ("IED", "they tried to flee", False, "word boundary: not inside 'tried'"),
    ("IED", "two IEDs exploded", True, "English plural"),
    ("IED", "Mosul's IED cell", True, "apostrophe is a boundary"),
    ("car bomb", "a car-bomb exploded", True, "hyphen separates words like a space"),
    ("car bomb", "a car\n\nbomb", False, "deliberate: a line break ends a sentence; phrases do not cross it"),
    ("Deir ez-Zor", "in Deir ez Zor province", True, "keyword hyphen vs space"),
]

PROTECTED = TermEntry("protected", "بلغم", exact=True)


@pytest.mark.parametrize(("keyword", "text", "expected", "why"), CAVEATS)
def test_matching_caveats(keyword: str, text: str, expected: bool, why: str) -> None:
    """Each caveat row matches or not as decided, and a match spans the keyword's text."""
    matcher = Matcher([TermEntry("concept", keyword), PROTECTED])
    hits = [hit for hit in matcher.scan(tokenise(text)) if hit.concept == "concept"]
    assert bool(hits) is expected, why
    for hit in hits:
        assert text[hit.start : hit.end].strip()


def _found(terms: list[TermEntry], text: str) -> list[tuple[str, str]]:
    return [(hit.concept, text[hit.start : hit.end]) for hit in Matcher(terms).scan(tokenise(text))]


TOLERANT = [
    ("رتل", "استهداف برتل", "برتل"),
    ("رتل", "فالرتل", "فالرتل"),
    ("رتل", "للرتل", "للرتل"),
    ("تحالف", "للتحالف الدولي", "للتحالف"),
    ("التحالف", "وبالتحالف", "وبالتحالف"),
    ("convoy", "two convoys", "convoys"),
    ("attack", "attacked a convoy", "attacked"),
    ("target", "targeting trucks", "targeting"),
    ("hit", "hitting trucks", "hitting"),
    ("supply", "supplies arrived", "supplies"),
    ("ambush", "ambushes", "ambushes"),
    ("rab'allah", "Rab'Allah claims", "Rab'Allah"),
]


@pytest.mark.parametrize(("term", "text", "surface"), TOLERANT)
def test_tolerant_forms(term: str, text: str, surface: str) -> None:
    """Proclitics, the article, لل and English inflections match the bare term."""
    assert _found([TermEntry("c", term)], text) == [("c", surface)]


def test_exact_terms_do_not_use_tolerant_forms() -> None:
    """An exact term matches only its own normalised word."""
    terms = [TermEntry("exact", "IED", exact=True), TermEntry("loose", "IED")]
    assert _found(terms, "two IEDs") == [("loose", "IEDs")]
    assert _found(terms, "an IED") == [("exact", "IED"), ("loose", "IED")]


def test_token_that_is_itself_a_term_word_is_not_stripped() -> None:
    """بابل (a term word) is not read as ب + ابل."""
    terms = [TermEntry("place", "بابل"), TermEntry("animal", "ابل")]
    assert _found(terms, "في بابل") == [("place", "بابل")]
    assert _found(terms, "وبابل") == [("place", "وبابل")]


def test_bare_term_still_matches_article_form_that_is_another_term() -> None:
    """قاعدة (base) matches القاعدة even when القاعدة (al-Qaeda) is a term too: real ambiguity."""
    terms = [TermEntry("base", "قاعدة"), TermEntry("group", "القاعدة")]
    assert sorted(_found(terms, "استهداف القاعدة")) == [("base", "القاعدة"), ("group", "القاعدة")]
    assert _found(terms, "قاعدة عسكرية") == [("base", "قاعدة")]


def test_longest_stem_wins_for_prefixed_article_forms() -> None:
    """بالموصل is read as ب + الموصل when الموصل is a term, and still matches bare موصل."""
    terms = [TermEntry("city", "الموصل"), TermEntry("wire", "موصل")]
    assert sorted(_found(terms, "بالموصل")) == [("city", "بالموصل"), ("wire", "بالموصل")]


def test_short_arabic_words_get_no_proclitics() -> None:
    """A two-letter term (آب, August) does not match باب (door)."""
    assert _found([TermEntry("month", "آب")], "فتح باب") == []
    assert _found([TermEntry("month", "آب")], "١٢ آب ٢٠٢٠") == [("month", "آب")]


def test_gaf_is_read_as_qaf_where_only_that_makes_a_term_word() -> None:
    """Iraqi گ for ق (حرگ "burned", بالگنبلة "with the bomb"); a ك word stays ك; exact terms see ك."""
    matcher = Matcher(
        [
            TermEntry("burn", "حرق"),
            TermEntry("bomb", "قنبلة"),
            TermEntry("blocks", "كتل"),
            TermEntry("kill", "قتل"),
            TermEntry("exact", "قذيفة", exact=True),
        ]
    )

    def concepts(text: str) -> set[str]:
        return {hit.concept for hit in matcher.scan(tokenise(text))}

    assert concepts("حرگ الشاحنات") == {"burn"}
    assert concepts("انفجرت بالگنبلة") == {"bomb"}
    assert concepts("گتل") == {"blocks"}  # گتل reads as كتل, a term word: never قتل
    assert concepts("گذيفة") == set()  # an exact term: only its normalised word
    assert concepts("گرميان حرك") == set()  # no term word either way
    hit = matcher.scan(tokenise("وقد حرگ الرتل"))[0]
    assert (hit.term, "وقد حرگ الرتل"[hit.start : hit.end]) == ("حرق", "حرگ")
    stems = Matcher([TermEntry("burn", "حرق*"), TermEntry("move", "حركات*")])
    assert {hit.concept for hit in stems.scan(tokenise("حرگوا الشاحنات"))} == {"burn"}  # حرقوا
    assert {hit.concept for hit in stems.scan(tokenise("حرگات الرتل"))} == {"move"}  # ك reads: stays


def test_phrases_do_not_cross_sentences() -> None:
    """A multi-word term does not match across sentence punctuation."""
    assert _found([TermEntry("c", "car bomb")], "a car. Bomb squads came") == []


def test_hits_are_sorted_and_carry_token_indexes() -> None:
    """Hits come sorted by (first, last, concept) with inclusive token indexes."""
    matcher = Matcher([TermEntry("ied", "عبوة ناسفة"), TermEntry("ied", "عبوة"), TermEntry("convoy", "رتل")])
    doc = tokenise("استهداف رتل بعبوة ناسفة")
    assert matcher.scan(doc) == [
        Hit("convoy", "رتل", 1, 1, 8, 11),
        Hit("ied", "عبوة", 2, 2, 12, 17),
        Hit("ied", "عبوة ناسفة", 2, 3, 12, 23),
    ]


def test_same_term_in_two_concepts_hits_both() -> None:
    """One term listed under two concepts yields one hit per concept."""
    terms = [TermEntry("a", "convoy"), TermEntry("b", "convoy"), TermEntry("a", "convoy")]
    assert _found(terms, "convoy") == [("a", "convoy"), ("b", "convoy")]


def test_empty_matcher_and_empty_text() -> None:
    """No terms or no text: no hits."""
    assert Matcher([]).scan(tokenise("convoy")) == []
    assert Matcher([TermEntry("c", "convoy")]).scan(tokenise("")) == []
    assert Matcher([TermEntry("c", "...")]).scan(tokenise("...")) == []


@given(st.text(max_size=80))
@settings(max_examples=300)
def test_hit_spans_are_inside_the_text(text: str) -> None:
    """Whatever the text, every hit's span is a non-empty piece of it."""
    terms = [TermEntry("c", word) for word in ("a", "رتل", "عبوة ناسفة", "ied", "al", "s", "استهدف*")]
    matcher = Matcher([*terms, TermEntry("r", r"\S+ \S+", regex=True)])
    doc = tokenise(text)
    hits = matcher.scan(doc)
    assert hits == sorted(hits, key=lambda hit: (hit.first, hit.last, hit.concept, hit.term))
    for hit in hits:
        assert 0 <= hit.start < hit.end <= len(text)
        assert 0 <= hit.first <= hit.last < len(doc)


_PRESENCE_TERMS = [
    TermEntry("convoy", "convoy"),
    TermEntry("convoy", "رتل"),
    TermEntry("ied", "عبوة ناسفة"),
    TermEntry("ied", "IED", exact=True),
    TermEntry("attack", "استهدف*"),
    TermEntry("attack", "attack"),
    TermEntry("city", "الموصل"),
    TermEntry("r", "تفجير (عبوه|لغم)", regex=True),
]
_PRESENCE_CONCEPTS = ("attack", "city", "convoy", "ied", "r", "unused")
_PRESENCE_MATCHER = Matcher(_PRESENCE_TERMS, accelerate=False)  # regex terms unscanned: possible anywhere
_PRESENCE_WORDS = st.sampled_from(
    [
        *("convoy", "convoys", "IED", "IEDs", "رتل", "والرتل", "بعبوةٍ", "ناسفة", "استهدفت", "attacked"),
        *("للموصل", "موصل", "تفجير", "لغم", "عبوه", "the", "و", "ب", ".", "\n", "؟", "-", "،", "\u200f", "x"),
    ]
)


def _mask(concepts: set[str]) -> int:
    return sum(1 << _PRESENCE_CONCEPTS.index(concept) for concept in concepts)


@given(st.lists(_PRESENCE_WORDS, max_size=25).map(" ".join) | st.text(max_size=60))
@settings(max_examples=300)
def test_presence_brackets_the_concepts_of_the_scan(text: str) -> None:
    """presence: certain concepts are all hit, every hit concept is possible (also per sentence)."""
    doc = tokenise(text)
    hits = _PRESENCE_MATCHER.scan(doc)
    found = _mask({hit.concept for hit in hits})
    sentences = _PRESENCE_MATCHER.presence_map(tokenise(text), _PRESENCE_CONCEPTS).sentences
    certain, possible = _union(sentences)
    assert certain & found == certain
    assert found & possible == found
    by_sentence: dict[int, set[str]] = {}
    for hit in hits:
        by_sentence.setdefault(doc.sentence_key(hit.first), set()).add(hit.concept)
    for concepts in by_sentence.values():
        here = _mask(concepts)
        assert any(sure & here == sure and here & maybe == here for sure, maybe in sentences), concepts


def _union(sentences: list[tuple[int, int]]) -> tuple[int, int]:
    certain = possible = 0
    for sure, maybe in sentences:
        certain |= sure
        possible |= maybe
    return certain, possible


@pytest.mark.skipif(hyperscan is None, reason="hyperscan is not installed on this platform")
def test_the_gate_narrows_unscanned_regex_concepts_to_those_that_may_match() -> None:
    """With the Hyperscan gate, a regex concept is possible only where one of its terms may match."""
    gated = Matcher(_PRESENCE_TERMS)
    assert gated.presence_map(tokenise("weather"), _PRESENCE_CONCEPTS).sentences == []
    presence = gated.presence_map(tokenise("a convoy. تفجير لغم"), _PRESENCE_CONCEPTS)
    assert presence.everywhere == _mask({"r"})
    assert (_mask({"convoy"}), _mask({"convoy", "r"})) in presence.sentences


_EQUIVALENCE_TERMS = [
    *_PRESENCE_TERMS,
    *SHIPPED.entries,
]
_PLAIN = Matcher(_EQUIVALENCE_TERMS, accelerate=False)
_GATED = Matcher(_EQUIVALENCE_TERMS)
_EQUIVALENCE_WORDS = st.sampled_from(
    [
        *("if", "would", "not", "expect", "to", "2019", "2021", "in", "since", "hit", "struck", "a", "base"),
        *("us", "ied", "convoy", "12", "attacks", "cement", "trucks", "no", "coalition", "cargo", "unknown"),
        *("هدنه", "بالهدنه", "منذ", "اذا", "ما", "عثر", "علي", "عبوه", "استهداف", "قاعده", "رتلهم", "لا"),
        *("يوجد", "اثر", "لهجوم", "تصاعد", "دخان", "بالطيران", "المسير", "تفجير", "لغم", ".", "\n"),
    ]
)


@given(st.lists(_EQUIVALENCE_WORDS, max_size=30).map(" ".join) | st.text(max_size=60))
@settings(max_examples=300)
def test_the_gate_changes_no_hit_and_no_scanned_presence(text: str) -> None:
    """Matcher with and without the regex gate: the same hits and the same scanned presence."""
    concepts = tuple(sorted({entry.concept for entry in _EQUIVALENCE_TERMS}))
    assert _GATED.scan(tokenise(text)) == _PLAIN.scan(tokenise(text))
    gated = _GATED.presence_map(tokenise(text), concepts, regexes=True)
    plain = _PLAIN.presence_map(tokenise(text), concepts, regexes=True)
    assert (sorted(gated.sentences), gated.positions) == (sorted(plain.sentences), plain.positions)
    unscanned = _GATED.presence_map(tokenise(text), concepts)
    assert (
        unscanned.everywhere & _PLAIN.presence_map(tokenise(text), concepts).everywhere
        == unscanned.everywhere
    )


def test_presence_of_exact_and_regex_terms_is_only_possible() -> None:
    """Unscanned, an exact term's key and a regex concept are possible, never certain."""
    presence = _PRESENCE_MATCHER.presence_map(tokenise("an IED hit a convoy"), _PRESENCE_CONCEPTS)
    assert _union(presence.sentences) == (_mask({"convoy"}), _mask({"convoy", "ied", "r"}))
    assert _PRESENCE_MATCHER.presence_map(tokenise(""), _PRESENCE_CONCEPTS).sentences == []


def test_presence_map_scans_regex_terms_and_places_every_match() -> None:
    """presence_map: regex concepts possible everywhere, or scanned (certain where they are)."""
    assert _PRESENCE_MATCHER.presence_map(tokenise("weather"), _PRESENCE_CONCEPTS).sentences == [
        (0, _mask({"r"}))
    ]
    sentences = _PRESENCE_MATCHER.presence_map(tokenise("a convoy. an attack"), _PRESENCE_CONCEPTS).sentences
    assert (_mask({"convoy"}), _mask({"convoy", "r"})) in sentences
    assert (_mask({"attack"}), _mask({"attack", "r"})) in sentences
    scanned = _PRESENCE_MATCHER.presence_map(
        tokenise("a convoy. an attack"), _PRESENCE_CONCEPTS, regexes=True
    )
    assert sorted(scanned.sentences) == sorted([(_mask({"convoy"}),) * 2, (_mask({"attack"}),) * 2])
    assert scanned.everywhere == 0
    text = "تفجير عبوه قرب رتل. an IED"
    presence = _PRESENCE_MATCHER.presence_map(tokenise(text), _PRESENCE_CONCEPTS, regexes=True)
    assert presence.positions == [
        (0, _mask({"r"}), _mask({"r"})),
        (3, _mask({"convoy"}), _mask({"convoy"})),
        (5, 0, _mask({"ied"})),  # an exact term: possible until its words are checked
    ]
    assert (_mask({"r", "convoy"}), _mask({"r", "convoy"})) in presence.sentences


# -- regex terms: each term's own whole-word matches, found fast ------------------------

_SHIPPED_REGEXES = [entry for entry in SHIPPED.entries if entry.regex]
_PATTERNS = [
    *(entry.term for entry in _SHIPPED_REGEXES),
    "(?<!not )hit",
    "(?<=the )convoy",
    "(a|an) (ied|bomb)",
    "ied|convoy",
    "(x)?",  # can match empty: falls back to finditer
    "[0-9]+ killed",
    "(?i:IED)",
    "(و|ف)?(عثر|وجد)( \\S+){0,2} (علي )?عبوه",  # optional proclitics, then literals
    "(و|ب|ل)*(هدنه|رتل)(ها|هم)?",
    "(x|y)?(ied|bomb) (hit|struck)",
    "(و|ف)?(بالطيران المسير|بطيران مسير)",  # a shared start the parser factors out
    "(hit|hits|hitting) (a|an) (convoy|base)",
    "hit(?= and run)|(?<!in )hit(?! (the|a) base)",  # alternatives at the top
]
_STREAM_WORDS = [
    "عثر", "وعثر", "فوجد", "وجد", "عبوه", "بالهدنه", "وللهدنه", "رتلهم", "ورتل", "xied", "ybomb",
    "وبالطيران", "بطيران", "المسير", "مسير", "hits", "hitting", "and", "run",
]  # fmt: skip
_STREAM_WORDS += [
    "if", "diff", "would", "could", "not", "expect", "expected", "to", "reach", "2019", "2021", "in", "since",
    "hit", "struck", "the", "a", "an", "base", "us", "ied", "bomb", "convoy", "12", "attacks", "killed", "x",
    "هدنه", "بالهدنه", "منذ", "اذا", "ما", "عثر", "علي", "عبوه", "استهداف", "قاعده", "\x1e", "\x1f",
]  # fmt: skip


@pytest.mark.parametrize("pattern", _PATTERNS)
def test_regex_term_spans_are_exactly_finditer(pattern: str) -> None:
    """The fast scan of a regex term finds exactly the whole-word matches finditer finds."""
    term = _RegexTerm.of(TermEntry("c", pattern, regex=True))
    rng = random.Random(pattern)
    for _ in range(300):
        stream = " " + " ".join(rng.choice(_STREAM_WORDS) for _ in range(rng.randint(0, 25))) + " "
        assert list(term.spans(stream)) == [found.span() for found in term.whole.finditer(stream)], stream


def test_regex_term_helpers() -> None:
    """Leading lookbehinds are stripped, a required literal and the first literals are found."""
    assert _strip_lookbehinds("(?<!clear )(?<!a (b) )if") == "if"
    assert _strip_lookbehinds("(?<!x") == "(?<!x"  # unbalanced: left alone
    assert _strip_lookbehinds("(?<!x)") == "(?<!x)"  # nothing would be left
    assert _required_literal("(?<!ما )(و|ف)?اذا") == "اذا"
    assert _required_literal("(a|b) c") == " c"
    assert _required_literal("(a|b) (c|d)") is None
    assert _required_literal("(?i)convoy") is None  # case-insensitive: a literal check would be wrong
    assert _first_literals("(?i:ied) x") is None
    assert _first_literals("(struck|hit) (a )?base") == ("hit", "struck")
    assert _first_literals("(?<!not )hit") == ("hit",)
    assert _first_literals("[0-9]+ killed") is None
    assert _first_literals("(a|b*c)") is None  # an alternative without a literal start
    assert _inner_literals("(و|ف)?(عثر|وجد) x") == ("عثر", "وجد")
    # the parser factors a shared start out of the alternatives: joined back
    assert _inner_literals("(و|ف)?(بالطيران المسير|بطيران مسير)") == ("بالطيران المسير", "بطيران مسير")
    assert _first_literals("(ab|a) x") == ("a", "ab")
    assert _first_literals("hit(?= and run)|(?<!in )hits?") == ("hit",)  # each alternative's start
    assert _first_literals("ab|c*d") is None
    assert _inner_literals("(و|ب|ل)*رتل") == ("رتل",)
    assert _inner_literals("(a b)?x") is None  # the optional part may hold a space
    assert _inner_literals("x+y") is None  # nothing optional to skip


def test_overlapping_regex_terms_each_find_their_own_matches() -> None:
    """Two regex terms whose matches overlap both hit (one combined pattern would drop one)."""
    matcher = Matcher(
        [
            TermEntry("trend", "(in|since) (2019|2020)", regex=True),
            TermEntry("year", "2019 to 2021", regex=True),
        ]
    )
    concepts = {hit.concept for hit in matcher.scan(tokenise("since 2019 to 2021 attacks rose"))}
    assert concepts == {"trend", "year"}


@pytest.mark.parametrize(
    ("pattern", "held"),
    [
        (r"whose( [^ ]+){0,4} unknown", True),  # [^ ] takes the line mark
        (r"whose .* unknown", True),
        (r"whose( \S+){0,4} unknown", False),  # the mark is whitespace to Python's \S
        (r"a( \w+)? b", False),
        (r"a \W b", True),
        (r"a[\s] b", True),
        (r"a[^ab] b", True),
        (r"(و|ف)?(ال)?عبوه(?! (اخري|ثانيه)(?![^ ]))", False),  # lookarounds consume nothing
        (r"a(?=.)", False),
        (r"a(?:b|[^ ]c)", True),
        (r"(a)\1", True),  # a back reference: unsure
        (r"(?a:\S) b", True),  # inline flags: unsure
    ],
)
def test_may_hold_tells_which_regex_terms_can_match_across_a_line(pattern: str, held: bool) -> None:
    """Only what a match consumes counts; any doubt says it may hold the line mark."""
    assert may_hold(pattern, LINE) is held


def test_a_regex_that_cannot_hold_the_line_mark_never_matches_across_lines() -> None:
    """On every labelled post, each hit of such a shipped regex term lies within one line."""
    confined = {entry.term for entry in _SHIPPED_REGEXES if not may_hold(fold_letters(entry.term), LINE)}
    assert confined
    seen = 0
    for path in [
        ROOT.parent / "shared" / "eval" / "dev.jsonl",
        *sorted((ROOT / "tests" / "data").glob("*.jsonl")),
    ]:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            doc = tokenise(text)
            for hit in SHIPPED.matcher.scan(doc):
                if hit.term in confined:
                    seen += 1
                    assert "\n" not in text[hit.start : hit.end], (hit, text)
    assert seen > 100
