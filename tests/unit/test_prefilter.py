"""The literal prefilter: a superset of the concepts the matcher finds, in any spelling, on both engines."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.engine import RuleSet, load_ruleset
from bot.rules.matcher import Matcher, TermEntry
from bot.rules.prefilter import Prefilter, screen_text, term_key, term_keys
from bot.rules.text import normalise, tokenise

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_ruleset(ROOT / "config" / "rules")
ORDER = tuple(sorted(SHIPPED.concepts))
CONCEPTS = dict(SHIPPED.concepts)
PREFILTER = Prefilter(CONCEPTS, ORDER)
PREFILTER_AHO = Prefilter(CONCEPTS, ORDER, engine="aho-corasick")
BIT = {concept: 1 << number for number, concept in enumerate(ORDER)}

try:
    import hyperscan  # noqa: F401

    HAVE_HYPERSCAN = True
except ImportError:  # pragma: no cover - depends on the platform
    HAVE_HYPERSCAN = False


def _found(text: str) -> set[str]:
    return {hit.concept for hit in SHIPPED.matcher.scan(tokenise(text))}


def _possible(prefilter: Prefilter, text: str) -> set[str]:
    mask = prefilter.possible(text)
    return {concept for concept, bit in BIT.items() if mask & bit}


REGEX_TERMS = {(entry.concept, entry.term) for entry in SHIPPED.entries if entry.regex}


def _assert_superset(text: str) -> None:
    hits = SHIPPED.matcher.scan(tokenise(text))
    found = {hit.concept for hit in hits}
    by_regex = {hit.concept for hit in hits if (hit.concept, hit.term) in REGEX_TERMS}
    for prefilter in (PREFILTER, PREFILTER_AHO):
        missing = found - _possible(prefilter, text)
        assert not missing, (text, prefilter.engine, missing)
        bound = prefilter.regex_concepts(screen_text(text))
        missing = {concept for concept in by_regex if not bound & BIT[concept]}
        assert not missing, (text, prefilter.engine, "regex", missing)


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("رتل", "convoy"),
        ("أرتال القوات", "convoy"),
        ("استهداف والرتل", "convoy"),
        ("للرتل", "convoy"),
        ("رتـــل", "convoy"),  # tatweel inside the word
        ("رَتَل", "convoy"),  # diacritics
        ("ر\u200fتل", "convoy"),  # an RTL mark inside the word
        ("ﺭﺗﻞ", "convoy"),  # presentation forms: not NFKC, normalised in full
        ("قافلة", "convoy"),
        ("قافله", "convoy"),
        ("ڨافلة", "convoy"),  # a Maghrebi qaf: folded by normalise, a key spelling here
        ("بعبوة ناسفة", "ied"),
        ("بعبوتين", "ied"),
        ("عبواتها", "ied"),
        ("CONVOYS", "convoy"),
        ("ＣＯＮＶＯＹ", "convoy"),  # full-width letters
        ("convoy's", "convoy"),
        ("IEDs", "ied"),
    ],
)
def test_every_spelling_of_a_term_is_possible(text: str, concept: str) -> None:
    """Affixed, variant, marked and unnormalised spellings keep the concept possible."""
    assert concept in _found(text), "the matcher itself must find it (test premise)"
    for prefilter in (PREFILTER, PREFILTER_AHO):
        assert concept in _possible(prefilter, text), (text, prefilter.engine)


def test_plain_news_rules_out_the_convoy_concepts() -> None:
    """Plain news holds no convoy or weapon key; the empty text only unscreenable regex concepts."""
    regex_only = {entry.concept for entry in SHIPPED.entries if entry.regex}
    possible = _possible(PREFILTER, "The weather in Basra is hot today.")
    assert not possible & {"convoy", "ied", "attack", "trucks"}
    assert _possible(PREFILTER, "") <= regex_only


def test_regex_terms_make_their_concept_always_possible() -> None:
    """A regex term cannot be screened: its concept is always possible."""
    prefilter = Prefilter(
        {"a": (TermEntry("a", "x+y", regex=True),), "b": (TermEntry("b", "zzz"),)}, ("a", "b")
    )
    assert prefilter.possible("nothing here") == 0b01
    assert prefilter.possible("zzz") == 0b11


@pytest.mark.parametrize("engine", ["auto", "aho-corasick"])
def test_regex_concepts_bound_the_concepts_of_regex_terms(engine: str) -> None:
    """Only regex terms count, each by its own keys; one without a key always may match."""
    concepts = {
        "a": (TermEntry("a", "hit(?= and run)", regex=True), TermEntry("a", "ambush")),
        "b": (TermEntry("b", "x+y", regex=True),),
    }
    prefilter = Prefilter(concepts, ("a", "b"), engine=engine)
    assert prefilter.regex_concepts(screen_text("no such word")) == 0b10
    assert prefilter.regex_concepts(screen_text("a hit and run")) == 0b11
    assert prefilter.regex_concepts(screen_text("an ambush")) == 0b10  # a plain term's key: no regex
    assert prefilter.possible("an ambush") == 0b11


@pytest.mark.parametrize(
    ("term", "key"),
    [
        ("الموصل", "لموصل"),  # للموصل and بالموصل hold no alef, but an article's ل
        ("الهدف", "لهدف"),  # not inside استهداف
        ("عبوة", "عبو"),  # عبوتها holds no ه
        ("supply", "suppl"),  # supplies
        ("strike", "strik"),  # striking
        ("column of trucks", "column"),  # the longest word
        ("استهدف*", "استهدف"),
        ("bomb*", "bomb"),
    ],
)
def test_term_keys(term: str, key: str) -> None:
    """A term's key is a piece of its longest word every reading of it contains."""
    assert term_key(TermEntry("c", term)) == key


def test_an_exact_term_is_its_own_key() -> None:
    """An exact term's word is only ever itself: no ending is taken off (type, not typ)."""
    assert term_key(TermEntry("c", "type", exact=True)) == "type"
    assert term_key(TermEntry("c", "الهدف", exact=True)) == "الهدف"


def test_the_article_key_screens_out_words_that_only_hold_the_rest() -> None:
    """الهدف is possible in للهدف, بالهدف, والهدف, الهدفين, never in استهداف or هدف alone."""
    prefilter = Prefilter({"target": (TermEntry("target", "الهدف"),)}, ("target",))
    for text in ("للهدف", "بالهدف", "والهدف", "الهدفين", "وللهدف", "الأهداف والهدف"):
        assert prefilter.possible(text) == 1, text
    for text in ("استهداف رتل", "هدف"):
        assert prefilter.possible(text) == 0, text


def test_regex_terms_have_no_plain_key() -> None:
    """term_key is for plain terms; regex terms have term_keys."""
    assert term_key(TermEntry("c", "a|b", regex=True)) is None


@pytest.mark.parametrize(
    "text",
    ["Convoy HIT", "أُعلن عن استهداف رتلٍ", "قافلة ى", "ﻻ", "ＡＢＣ", "a\u0301", "İstanbul", "\ud800 lone"],
)
def test_screen_text_is_normalise_up_to_the_rare_letters(text: str) -> None:
    """The cheap fold agrees with normalise once the rare letters are folded too."""
    assert normalise(screen_text(text)) == normalise(text)


def test_screen_text_of_unnormalised_gaf_holds_both_readings() -> None:
    """Text the cheap fold cannot take, with گ: the ك reading and the ق reading, both."""
    text = "ﺣﺮگ الشاحنات"  # presentation forms: not NFKC
    assert screen_text(text) == "حرك الشاحنات\nحرق الشاحنات"


def test_a_qaf_term_is_possible_where_it_is_written_with_gaf() -> None:
    """حرگ / گنبلة may be read as حرق / قنبلة by the matcher: the prefilter lets them through."""
    prefilter = Prefilter(
        {"burn": [TermEntry("burn", "حرق")], "bomb": [TermEntry("bomb", "قنبلة")]}, ("burn", "bomb")
    )
    assert prefilter.possible("حرگ الشاحنات") == 0b01
    assert prefilter.possible("انفجار گنبلة") == 0b10
    assert prefilter.possible("ﺣﺮگ") == 0b01


def _corpus_texts() -> list[str]:
    dev = (ROOT.parent / "shared" / "eval" / "dev.jsonl").read_text(encoding="utf-8")
    texts = [json.loads(line)["text"] for line in dev.splitlines() if line]
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return texts


def test_superset_on_every_corpus() -> None:
    """On every labelled post, each concept the matcher finds is possible (both engines agree)."""
    for text in _corpus_texts():
        _assert_superset(text)
        assert PREFILTER.possible(text) == PREFILTER_AHO.possible(text), text


@pytest.mark.skipif(not HAVE_HYPERSCAN, reason="hyperscan is not installed on this platform")
def test_hyperscan_is_the_default_where_installed() -> None:
    """Where the wheel exists the prefilter runs on Hyperscan."""
    assert PREFILTER.engine == "hyperscan"
    assert PREFILTER_AHO.engine == "aho-corasick"


def test_unknown_engine_is_refused() -> None:
    """A typo in the engine name is an error, not a silent fallback."""
    with pytest.raises(ValueError, match="unknown prefilter engine"):
        Prefilter(CONCEPTS, ORDER, engine="re2")


_WORDS = sorted(
    {word for entry in SHIPPED.entries if not entry.regex for word in entry.term.rstrip("*").split()}
    | {"رتل", "عبوه", "قافله", "convoy", "IED", "supply", "الموصل", "قاعده"}
)
_PREFIXES = st.sampled_from(["", "", "", "و", "ف", "ب", "ل", "ال", "وال", "بال", "لل", "وب", "فبال"])
_SUFFIXES = st.sampled_from(
    ["", "", "", "ها", "هم", "ات", "ين", "ان", "ه", "ا", "s", "es", "ed", "ing", "'s"]
)
_VARIANTS = {
    "ا": "أإآٱ",
    "ي": "ىیې",
    "ه": "ةھۀە",
    "ك": "کڪگ",
    "ب": "پ",
    "ف": "ڤ",
    "ق": "ڨگ",  # gaf for qaf: Iraqi writing (the matcher reads it as ق when that makes a term)
    "ج": "چ",
    "ز": "ژ",
}
_GAPS = st.sampled_from([" ", " ", ". ", "\n", "، ", "-", "\u200f", "/", "#"])


@st.composite
def _spelled_word(draw: st.DrawFn) -> str:
    word = draw(_PREFIXES) + draw(st.sampled_from(_WORDS)) + draw(_SUFFIXES)
    letters = []
    for letter in word:
        choices = _VARIANTS.get(letter)
        swap = bool(choices) and draw(st.integers(0, 4)) == 0
        letters.append(draw(st.sampled_from(choices)) if swap and choices else letter)
        mark = draw(st.integers(0, 12))
        if mark == 0:
            letters.append("\u0640")  # tatweel
        elif mark == 1:
            letters.append("\u064e")  # fatha
    spelled = "".join(letters)
    case = draw(st.integers(0, 3))
    if case == 0:
        spelled = spelled.upper()
    elif case == 1:
        spelled = unicodedata.normalize("NFKD", spelled)
    return spelled


@given(st.lists(st.tuples(_spelled_word(), _GAPS), max_size=12))
@settings(max_examples=400, deadline=None)
def test_superset_on_affixed_variant_spellings(pieces: list[tuple[str, str]]) -> None:
    """Rule words with proclitics, endings, variant letters, marks and case: never screened out."""
    _assert_superset("".join(word + gap for word, gap in pieces))


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_superset_on_any_text(text: str) -> None:
    """Any string at all: the prefilter never misses a concept the matcher finds."""
    _assert_superset(text)


def test_ruleset_prefilter_only_screens_what_relevance_needs() -> None:
    """Exclusion-only concepts are not keys (they never make a relevance rule possible)."""
    ruleset: RuleSet = SHIPPED
    needed = {
        concept
        for rule in ruleset.rules
        if rule.category == "relevant"
        for concept in (*rule.all_of, *rule.any_of)
    }
    assert "denial" not in needed
    mask = ruleset.prefilter.possible("The ministry denied the report; no attack happened, it was fake.")
    concepts = ruleset._screen.concepts
    assert "denial" not in {concepts[i] for i in range(len(concepts)) if mask >> i & 1}


@pytest.mark.parametrize(
    ("pattern", "keys"),
    [
        ("(?<!ما )(و|ف)?اذا", ("اذا",)),  # a required literal
        ("(struck|hit|targeted) (a |the )?base", ("base",)),  # the required literal wins
        ("(struck|hit|targeted) (a |the )?(base|camp)", ("hit", "struck", "targeted")),  # first words
        ("convoys? (hit|struck)", ("convoy",)),  # the longest word of a required literal
        ("[0-9]+ killed", ("killed",)),
        ("(a|b)+ c", None),  # nothing every match holds inside a word
        ("(?i)convoy", None),  # case-insensitive: a literal check would be wrong
    ],
)
def test_regex_term_keys(pattern: str, keys: tuple[str, ...] | None) -> None:
    """A regex term is screened by a literal inside one word that every match contains."""
    assert term_keys(TermEntry("c", pattern, regex=True)) == keys


_REGEX_CONCEPTS = {
    "blast": (TermEntry("blast", "(?<!no )(blasts?|explosions?) (hit|struck)", regex=True),),
    "year": (TermEntry("year", "(in|since) (199[0-9]|20[0-9][0-9])", regex=True),),
    "ar": (TermEntry("ar", "(و|ب|ل)*هدنه", regex=True),),
}
_REGEX_ORDER = ("ar", "blast", "year")
_REGEX_PREFILTERS = [
    Prefilter(_REGEX_CONCEPTS, _REGEX_ORDER),
    Prefilter(_REGEX_CONCEPTS, _REGEX_ORDER, engine="aho-corasick"),
]
_REGEX_MATCHER = Matcher([entry for entries in _REGEX_CONCEPTS.values() for entry in entries])


_REGEX_WORDS = ["blast", "blasts", "explosion", "hit", "struck", "no", "in", "since", "2019", "1999", "٢٠١٩"]
_REGEX_WORDS += ["x", "هدنة", "بالهدنه", "وللهدنة", "هدنـة", ".", "\n", "-"]


@given(st.lists(st.sampled_from(_REGEX_WORDS), max_size=15))
@settings(max_examples=300, deadline=None)
def test_regex_keys_keep_the_superset(words: list[str]) -> None:
    """Texts made of regex-term words: every concept the matcher finds is possible."""
    text = " ".join(words)
    found = {hit.concept for hit in _REGEX_MATCHER.scan(tokenise(text))}
    for prefilter in _REGEX_PREFILTERS:
        mask = prefilter.possible(text)
        possible = {concept for number, concept in enumerate(_REGEX_ORDER) if mask >> number & 1}
        assert found <= possible, (text, prefilter.engine)
