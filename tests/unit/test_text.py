"""Normalisation and tokenisation: tables of real cases and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.text import normalise, tokenise

NORMALISATION_CASES = [
    # (text, normalised, what it shows)
    ("أمريكي", "امريكي", "alef with hamza above"),
    ("إمداد", "امداد", "alef with hamza below"),
    ("آليات", "اليات", "alef with madda"),
    ("ٱلرتل", "الرتل", "alef wasla"),
    ("تبنى", "تبني", "alef maqsura to ya"),
    ("عبوة ناسفة", "عبوه ناسفه", "ta marbuta to ha"),
    ("رتلٌ", "رتل", "tanwin removed"),
    ("قَاصِمُ الجَبَّارِين", "قاصم الجبارين", "harakat and shadda removed"),
    ("رتـــل", "رتل", "tatweel inside a word"),
    ("الـــرتـل", "الرتل", "several tatweels inside a word"),
    ("ر\u200fت\u200eل", "رتل", "RTL/LTR marks inside a word"),
    ("عبو\u200cة", "عبوه", "zero-width non-joiner inside a word"),
    ("\u202bرتل\u202c", "رتل", "bidi embedding around a word"),
    ("\ufeffIED", "ied", "byte-order mark"),
    ("کرکوک", "كركوك", "Persian keheh to kaf"),
    ("ایران", "ايران", "Persian yeh to ya"),
    ("گرمیان", "كرميان", "Persian gaf to kaf"),
    ("پل", "بل", "Persian peh to beh"),
    ("چمچمال", "جمجمال", "Persian tcheh to jeem"),
    ("ژاندارم", "زاندارم", "Persian jeh to zain"),
    ("٢٠٢١/٥/١٦", "2021/5/16", "Arabic-Indic digits"),
    ("۱۴۰۰", "1400", "Eastern Arabic-Indic (Persian) digits"),
    ("في ٢٣ January 2022", "في 23 january 2022", "mixed scripts and digits"),
    ("IED Attack", "ied attack", "case folding"),
    ("STRASSE ß", "strasse ss", "full case folding"),
    ("ﻻ", "لا", "presentation form (NFKC)"),
    ("ﺭﺗﻞ", "رتل", "isolated presentation forms (NFKC)"),
    ("Ｉ Ｅ Ｄ", "i e d", "full-width Latin (NFKC)"),
]


@pytest.mark.parametrize(("text", "expected", "why"), NORMALISATION_CASES)
def test_normalise_table(text: str, expected: str, why: str) -> None:
    """Each Arabic, Persian, Unicode and digit variant folds to its plain form."""
    assert normalise(text) == expected, why


TOKEN_CASES = [
    ("US-led convoy", ["us", "led", "convoy"]),
    ("Mosul's IED cell", ["mosul", "s", "ied", "cell"]),
    ("«استهداف رتل»", ["استهداف", "رتل"]),
    ("بعبوة،والرتل", ["بعبوه", "والرتل"]),
    ("#صابرين_نيوز", ["صابرين", "نيوز"]),
    ("Deir ez-Zor", ["deir", "ez", "zor"]),
    ("رتـــل\u200f عسكري", ["رتل", "عسكري"]),
    ("22.01.2021", ["22", "01", "2021"]),
    ("ـــ رتل ـــ", ["رتل"]),
    ("🔴 عاجل | انفجار", ["عاجل", "انفجار"]),
]


@pytest.mark.parametrize(("text", "norms"), TOKEN_CASES)
def test_tokenise_table(text: str, norms: list[str]) -> None:
    """Punctuation, hyphens, apostrophes, quotes and underscores separate tokens."""
    assert [token.norm for token in tokenise(text).tokens] == norms


def test_offsets_point_into_the_original_text() -> None:
    """Every token's span is the original (unnormalised) surface text."""
    text = "انفجار  بعبوةٍ ناسفـــة\n\nUS-led  convoys"
    doc = tokenise(text)
    assert [text[token.start : token.end] for token in doc.tokens] == [
        "انفجار",
        "بعبوةٍ",
        "ناسفـــة",
        "US",
        "led",
        "convoys",
    ]


@pytest.mark.parametrize(
    "text",
    ["  an IED hit a convoy ", "an IED hit\na convoy   ", " رتل \n عبوة", "   ", " x"],
)
def test_offsets_with_spaces_around_the_text(text: str) -> None:
    """Leading and trailing spaces (a post cut after a space) shift every offset by the lead."""
    doc = tokenise(text)
    assert [text[token.start : token.end] for token in doc.tokens] == text.split()


def test_sentences_and_paragraphs() -> None:
    """Sentence punctuation and line breaks end sentences; a blank line ends a paragraph."""
    doc = tokenise("One two. Three؟ four\nfive\n\nsix; U.S. forces")
    got = [(token.norm, token.sentence, token.paragraph) for token in doc.tokens]
    assert got == [
        ("one", 0, 0),
        ("two", 0, 0),
        ("three", 1, 0),
        ("four", 2, 0),
        ("five", 3, 0),
        ("six", 4, 1),
        ("u", 5, 1),
        ("s", 5, 1),
        ("forces", 5, 1),
    ]


def test_scripts() -> None:
    """Tokens are tagged Arabic, Latin, digit or other."""
    doc = tokenise("رتل convoy ٢٠ 道路")
    assert [token.script for token in doc.tokens] == ["ar", "latin", "digit", "other"]


def test_ligature_expanding_to_several_words_keeps_its_span() -> None:
    """A ligature that normalises to several words yields several tokens on the same span."""
    text = "محمد ﷺ قال"
    doc = tokenise(text)
    assert [token.norm for token in doc.tokens][:3] == ["محمد", "صلي", "الله"]
    assert {text[token.start : token.end] for token in doc.tokens[1:-1]} == {"ﷺ"}


def test_private_use_line_mark_in_text_is_handled() -> None:
    """A text containing the internal line-break character still tokenises with right offsets."""
    text = "a \ue000 b\ue000c\nd"
    doc = tokenise(text)
    assert [(token.norm, text[token.start : token.end], token.sentence) for token in doc.tokens] == [
        ("a", "a", 0),
        ("b", "b", 0),
        ("c", "c", 0),
        ("d", "d", 1),
    ]


def test_empty_and_blank_texts() -> None:
    """Empty and whitespace-only texts have no tokens."""
    assert tokenise("").tokens == ()
    assert tokenise(" \n\t\n ").tokens == ()
    assert len(tokenise("\n\n")) == 0


TEXTS = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(list("رتلعبوةناسفأإآىـ\u064b\u0651\u200f\u200b\u0640٠٩۴ کیگ .؟!\n -'_ﻻﷺ")),
    ),
    max_size=60,
)


@given(TEXTS)
@settings(max_examples=400)
def test_normalise_is_idempotent(text: str) -> None:
    """Normalising twice changes nothing."""
    once = normalise(text)
    assert normalise(once) == once


@given(TEXTS)
@settings(max_examples=400)
def test_token_offsets_are_inside_the_text(text: str) -> None:
    """Token offsets always point at a non-empty piece of the original text, in order."""
    doc = tokenise(text)
    previous_start = 0
    for index, token in enumerate(doc.tokens):
        assert token.index == index
        assert 0 <= token.start < token.end <= len(text)
        assert text[token.start : token.end].strip()
        assert token.start >= previous_start
        assert token.norm
        previous_start = token.start
        assert doc.span(index) == (token.start, token.end)
        assert doc.sentence_of(index) == token.sentence
        assert doc.paragraph_of(index) == token.paragraph


@given(TEXTS)
@settings(max_examples=200)
def test_token_norms_are_normalised(text: str) -> None:
    """Each token's norm is already in normal form."""
    for token in tokenise(text).tokens:
        assert normalise(token.norm) == token.norm


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
@settings(max_examples=300)
def test_ascii_fast_path_agrees_with_the_general_path(chunk: str) -> None:
    """ASCII chunks analysed by the fast path read exactly as the general path reads them."""
    from bot.rules import text  # noqa: PLC0415 - private helpers under test

    for piece in chunk.split():
        general = text._analyse(piece, text._ORIGINAL_WORD, normalise)
        assert text._analyse_chunk(piece) == general
