"""The rule engine: all/any/none, windows, sentences, weights, labels, and the shipped rules."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model import Classification
from bot.rules.engine import NOT_RELEVANT, RuleSet, classify, load_ruleset
from bot.rules.evaluate import evaluate_records
from bot.rules.matcher import Hit, Matcher, TermEntry
from bot.rules.text import tokenise

ROOT = Path(__file__).parents[2]

RULES = """\
categories:
  relevant: {threshold: 1}
  attack_type: {values: [ied, drone, unknown], default: unknown, threshold: 1}
concepts:
  convoy: [convoy, رتل]
  attack: [attack, hit, استهداف]
  ied: [IED, عبوة ناسفة]
  drone: [drone]
  foiled: [defused]
  genre: [analysis]
  near: [nearby]
rules:
  - name: convoy-attack
    category: relevant
    all: [convoy]
    any: [attack, ied]
    same_sentence: true
    none_near: [foiled]
    none: [genre]
  - name: near-words
    category: relevant
    weight: 0.5
    all: [convoy, near]
    within: 2
  - name: near-words-again
    category: relevant
    weight: 0.5
    all: [near, convoy]
    within: 2
  - name: type-ied
    category: attack_type
    value: ied
    weight: 2
    any: [ied]
  - name: type-drone
    category: attack_type
    value: drone
    weight: 2
    any: [drone]
"""


@pytest.fixture(scope="module")
def ruleset(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "rules.yaml").write_text(RULES, encoding="utf-8")
    return load_ruleset(directory)


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_ruleset(ROOT / "config" / "rules")


CASES = [
    ("An IED hit a convoy near Hilla.", True, "convoy and attack in one sentence"),
    ("A convoy passed. Later an IED went off in the city.", False, "different sentences"),
    ("استهداف رتل بعبوة ناسفة", True, "Arabic, proclitics"),
    ("Police defused an IED on the road used by every convoy.", False, "excluded in the same sentence"),
    ("Police defused an IED. Another IED hit a convoy.", True, "exclusion in another sentence"),
    ("Analysis: an IED hit a convoy.", False, "excluded anywhere in the text (none)"),
    ("convoy nearby", True, "two half-weight rules add up to the threshold"),
    ("convoy was seen somewhere nearby", False, "outside the 2-word window"),
    ("", False, "empty text"),
]


@pytest.mark.parametrize(("text", "relevant", "why"), CASES)
def test_relevance(ruleset: RuleSet, text: str, relevant: bool, why: str) -> None:
    """Relevance follows all/any/none, none_near, same_sentence, within and weights."""
    assert ruleset.classify(text).relevant is relevant, why


def test_fired_rules_carry_matches_with_original_spans(ruleset: RuleSet) -> None:
    """Each fired rule lists its matched terms with spans into the original text."""
    text = "انفجار بعبوةٍ ناسفة استهدف رتلاً"
    result = ruleset.classify(text)
    assert result.rule_names == ("convoy-attack", "type-ied")
    fired = result.hits[0]
    assert fired.category == "relevant"
    assert fired.weight == 1
    assert {(match.concept, match.text) for match in fired.matches} == {
        ("convoy", "رتلاً"),
        ("ied", "بعبوةٍ ناسفة"),
    }
    for match in fired.matches:
        assert text[match.start : match.end] == match.text


def test_labels_pick_the_heaviest_value_and_fall_back_to_default(ruleset: RuleSet) -> None:
    """attack_type takes the best-scoring value, the first listed on a tie, else the default."""
    assert ruleset.classify("IED hit a convoy").labels == {"attack_type": "ied"}
    assert ruleset.classify("a drone hit a convoy").labels == {"attack_type": "drone"}
    assert ruleset.classify("a drone and an IED hit a convoy").labels == {"attack_type": "ied"}
    assert ruleset.classify("something hit a convoy").labels == {"attack_type": "unknown"}


def test_labels_for_a_token_window(ruleset: RuleSet) -> None:
    """labels_for only looks at the hits inside the given tokens (one event of a post)."""
    doc = tokenise("1) an IED hit a convoy 2) a drone hit a convoy")
    hits = ruleset.matcher.scan(doc)
    assert ruleset.labels_for(doc, hits, 0, 5) == {"attack_type": "ied"}
    assert ruleset.labels_for(doc, hits, 6, len(doc) - 1) == {"attack_type": "drone"}
    assert ruleset.labels_for(doc, hits, 0, len(doc) - 1) == {"attack_type": "ied"}


def test_unknown_concepts_in_hits_are_ignored(ruleset: RuleSet) -> None:
    """Hits of concepts the rules do not know (gazetteer, groups) change nothing."""
    doc = tokenise("an IED hit a convoy in Hilla")
    matcher = Matcher([*ruleset.entries, TermEntry("place:hilla", "Hilla"), TermEntry("group:x", "convoy")])
    hits = matcher.scan(doc)
    assert any(hit.concept == "place:hilla" for hit in hits)
    assert ruleset.evaluate(doc, hits) == ruleset.evaluate(doc, ruleset.matcher.scan(doc))


def test_entries_hold_every_term_with_its_origin(ruleset: RuleSet) -> None:
    """RuleSet.entries lists every concept term, each with file:line."""
    terms = {(entry.concept, entry.term) for entry in ruleset.entries}
    assert ("ied", "عبوة ناسفة") in terms
    assert all(entry.origin and entry.origin.split(":")[-1].isdigit() for entry in ruleset.entries)


def test_classify_builds_the_matcher_once(ruleset: RuleSet) -> None:
    """The convenience classify() caches one Matcher on the rule set."""
    first = classify(ruleset, "IED hit a convoy")
    assert classify(ruleset, "IED hit a convoy") == first
    assert ruleset.matcher is ruleset.matcher


def test_regex_terms_work_beside_plain_terms(tmp_path: Path) -> None:
    """A regex term matches whole normalised words; plain terms still match."""
    (tmp_path / "rules.yaml").write_text(
        textwrap.dedent(
            """\
            categories:
              relevant: {threshold: 1}
            concepts:
              convoy: [convoy, "re:رتل(ين|ان)"]
              attack: [attack]
            rules:
              - name: r
                category: relevant
                all: [convoy, attack]
            """
        ),
        encoding="utf-8",
    )
    rules = load_ruleset(tmp_path)
    assert rules.classify("attack on رتلين").relevant
    assert rules.classify("attack on a convoy").relevant
    assert not rules.classify("attack on رتلينات").relevant


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_classify_never_raises(text: str) -> None:
    """The shipped rules classify any string without raising."""
    result = _SHIPPED.classify(text)
    assert isinstance(result, Classification)
    for fired in result.hits:
        for match in fired.matches:
            assert text[match.start : match.end] == match.text


_SHIPPED = load_ruleset(ROOT / "config" / "rules")


SHIPPED_CONCEPTS = [
    # the caveat rows, at the level of the shipped concepts
    ("والرتل يتحرك نحو المدينة", "convoy", True),
    ("أرتال عسكرية", "convoy", True),
    ("استهداف رتلين", "convoy", True),
    ("مرور رتلهم", "convoy", True),
    ("انفجار العبوة الناسفة", "ied", True),
    ("يعاني من بلغم في صدره", "ied", False),
    ("two IEDs exploded", "ied", True),
    ("they tried to flee", "ied", False),
    ("a car-bomb exploded", "ied", True),
    ("أبطال المقاومة", "foiled", False),
]


@pytest.mark.parametrize(("text", "concept", "expected"), SHIPPED_CONCEPTS)
def test_shipped_concepts(shipped: RuleSet, text: str, concept: str, expected: bool) -> None:
    """The shipped concepts match the caveat cases as intended."""
    hits = shipped.matcher.scan(tokenise(text))
    assert any(hit.concept == concept for hit in hits) is expected


@pytest.mark.parametrize("name", ["rules_holdout.jsonl", "rules_holdout2.jsonl"])
def test_shipped_rules_on_the_holdout_corpora(shipped: RuleSet, name: str) -> None:
    """The shipped rules reach P and R >= 0.97 on the repository's held-out corpora."""
    path = ROOT / "tests" / "data" / name
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = evaluate_records(shipped, records)
    relevance = report.scores["relevant"]
    assert relevance.precision >= 0.97, report.of("relevant")
    assert relevance.recall >= 0.97, report.of("relevant")
    assert report.scores["attack_type"].precision >= 0.9
    assert report.scores["target"].precision >= 0.9


def test_hit_concepts_sorted_in_scan_order(shipped: RuleSet) -> None:
    """Hits from the shipped matcher are sorted by token position."""
    hits: list[Hit] = shipped.matcher.scan(tokenise("IED hits US convoy; drone strikes SDF convoy"))
    assert hits == sorted(hits, key=lambda hit: (hit.first, hit.last, hit.concept, hit.term))


def _corpus_texts() -> list[str]:
    texts: list[str] = []
    paths = [
        ROOT.parent / "shared" / "eval" / "dev.jsonl",
        *sorted((ROOT / "tests" / "data").glob("*.jsonl")),
    ]
    for path in paths:
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return texts


def test_screened_classification_equals_the_full_one(shipped: RuleSet) -> None:
    """classify_doc (prefilter, screen, then scan) gives exactly evaluate(scan) on every labelled post."""
    texts = [*_corpus_texts(), "weather today", "", "a convoy", "US forces", "تحذير"]
    screened = 0
    for text in texts:
        doc = tokenise(text)
        full = shipped.evaluate(doc, shipped.matcher.scan(doc))
        quick, hits = shipped.classify_doc(tokenise(text))
        assert quick == full, text
        screened += not hits
    assert screened >= 5  # the screen did skip some scans


@given(st.text(max_size=120))
@settings(max_examples=200, deadline=None)
def test_screen_never_changes_the_verdict(text: str) -> None:
    """For any string the screened verdict equals the full one."""
    doc = tokenise(text)
    assert _SHIPPED.classify_doc(tokenise(text))[0] == _SHIPPED.evaluate(doc, _SHIPPED.matcher.scan(doc))


def _same_result(ruleset: RuleSet, text: str) -> None:
    doc = tokenise(text)
    hits = ruleset.matcher.scan(doc)
    full = ruleset.evaluate(doc, hits)
    quick, quick_hits = ruleset.classify_doc(tokenise(text))
    assert quick == full, text
    assert repr(quick.score) == repr(full.score), text  # 0 and 0.0 print differently in JSON
    if quick_hits:
        assert quick_hits == hits


def test_a_post_whose_regex_terms_cannot_match_is_screened_without_its_stream(tmp_path: Path) -> None:
    """The prefilter's bound on the regex concepts stands in for the regex gate: no stream."""
    rules = REGEX_RULES.replace(
        'blast: ["re:blasts? (hit|struck)"]', 'blast: [explosion, "re:blasts? (hit|struck)"]'
    )
    (tmp_path / "rules.yaml").write_text(rules, encoding="utf-8")
    ruleset = load_ruleset(tmp_path)
    for text, stream in (
        ("a convoy. an explosion", False),  # no key of the regex: ruled out on the bound
        ("a convoy. a blast. an explosion", True),  # a key: the gate decides (no match)
    ):
        doc = tokenise(text)
        assert ruleset.classify_doc(doc) == (NOT_RELEVANT, []), text
        assert ("stream" in doc.memo) is stream, text
        _same_result(ruleset, text)
    for text in ("a convoy explosion", "a blast hit the convoy"):
        assert ruleset.classify_doc(tokenise(text))[0].relevant, text
        _same_result(ruleset, text)


def test_a_certain_regex_exclusion_still_turns_a_post_back_at_the_screen(tmp_path: Path) -> None:
    """No positive regex concept to bound, but an excluding regex term: the screen still scans
    that term and turns the post back, hits empty, as before the bound."""
    rules = REGEX_RULES.replace("foiled: [defused]", 'foiled: ["re:defus(ed|ing)"]').replace(
        'blast: ["re:blasts? (hit|struck)"]', "blast: [blast]"
    )
    (tmp_path / "rules.yaml").write_text(rules, encoding="utf-8")
    ruleset = load_ruleset(tmp_path)
    assert ruleset.classify_doc(tokenise("police defused a blast device near a convoy")) == (NOT_RELEVANT, [])
    _same_result(ruleset, "police defused a blast device near a convoy")
    assert ruleset.classify_doc(tokenise("a blast hit a convoy"))[0].relevant


def test_the_shared_verdict_is_a_fresh_one_and_read_only() -> None:
    """NOT_RELEVANT equals a fresh verdict, copies and pickles like one; its labels cannot change."""
    fresh = Classification(relevant=False, score=0.0)
    assert fresh == NOT_RELEVANT
    assert copy.deepcopy(NOT_RELEVANT) == pickle.loads(pickle.dumps(NOT_RELEVANT)) == fresh
    assert dataclasses.asdict(NOT_RELEVANT) == dataclasses.asdict(fresh)
    assert json.dumps(NOT_RELEVANT.labels) == "{}"
    with pytest.raises(TypeError):
        NOT_RELEVANT.labels["target"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        NOT_RELEVANT.labels.update(target="x")  # type: ignore[attr-defined]
    assert dict(NOT_RELEVANT.labels) == {}


def test_screen_skips_posts_no_rule_can_fire_on(ruleset: RuleSet) -> None:
    """A trigger without the rest of a rule, or split over sentences, skips the scan, same result."""
    for text in (
        "A convoy passed by.",
        "A convoy passed. Later an IED went off.",
        "Analysis: an IED hit a convoy.",
    ):
        _same_result(ruleset, text)
        assert ruleset.classify_doc(tokenise(text))[1] == [], text
    assert ruleset.classify_doc(tokenise("An IED hit a convoy."))[1] != []


LINE_RULES = """\
categories:
  relevant: {threshold: 1}
concepts:
  convoy: [convoy, رتل]
  ied: [IED, عبوة]
  whose: ['re:whose( [^ ]+){0,4} unknown']
rules:
  - name: convoy-ied
    category: relevant
    all: [convoy, ied]
    same_sentence: true
  - name: unknown-owner
    category: relevant
    all: [convoy, whose]
    same_sentence: true
"""


def test_rules_that_need_one_sentence_are_screened_line_by_line(tmp_path: Path) -> None:
    """Concepts split over lines never meet in a sentence: no tokenising; on one line, scanned."""
    (tmp_path / "rules.yaml").write_text(LINE_RULES, encoding="utf-8")
    ruleset = load_ruleset(tmp_path)
    split = tokenise("A convoy passed the bridge\nLater an IED was found elsewhere")
    assert ruleset.classify_doc(split) == (Classification(relevant=False, score=0.0), [])
    assert "parts" not in split.memo  # ruled out by the line screen, before the tokeniser
    for text in ("An IED hit a convoy\nno more", "رتل\nعبوة ناسفة قرب رتل", "A convoy\nAn IED"):
        _same_result(ruleset, text)
    assert ruleset.classify_doc(tokenise("weather\nAn IED hit a convoy"))[0].relevant


def test_a_regex_concept_counts_on_every_line_of_its_text(tmp_path: Path) -> None:
    """A regex match may run past a line break ([^ ] takes the line mark): its concept spreads."""
    (tmp_path / "rules.yaml").write_text(LINE_RULES, encoding="utf-8")
    ruleset = load_ruleset(tmp_path)
    text = "a convoy whose\ncargo is unknown"
    doc = tokenise(text)
    assert ruleset.evaluate(doc, ruleset.matcher.scan(doc)).relevant  # whose .. unknown spans the break
    _same_result(ruleset, text)
    possible = ruleset.prefilter.possible(text)
    lines = list(ruleset.prefilter.line_masks(text, possible))
    whose = 1 << ruleset._screen.concepts.index("whose")
    assert all(line & whose for line in lines)


def test_a_regex_concept_that_stays_in_its_line_counts_only_there(tmp_path: Path) -> None:
    """A regex whose match cannot take the line mark (\\S, not [^ ]) is screened line by line."""
    rules = LINE_RULES.replace("re:whose( [^ ]+){0,4} unknown", "re:whose( \\S+){0,4} unknown")
    (tmp_path / "rules.yaml").write_text(rules, encoding="utf-8")
    ruleset = load_ruleset(tmp_path)
    split = tokenise("a convoy\nwhose cargo is unknown")
    assert ruleset.classify_doc(split) == (Classification(relevant=False, score=0.0), [])
    assert "parts" not in split.memo  # ruled out by the line screen, before the tokeniser
    for text in (
        "a convoy whose cargo is unknown",
        "whose cargo\nis unknown convoy",
        "x\na convoy whose load is unknown",
    ):
        _same_result(ruleset, text)
    assert ruleset.classify_doc(tokenise("x\na convoy whose load is unknown"))[0].relevant


REGEX_RULES = """\
categories:
  relevant: {threshold: 1}
concepts:
  convoy: [convoy]
  blast: ["re:blasts? (hit|struck)"]
  foiled: [defused]
rules:
  - name: convoy-blast
    category: relevant
    all: [convoy, blast]
    same_sentence: true
    none_near: [foiled]
"""


def test_screen_with_regex_concepts(tmp_path: Path) -> None:
    """Regex concepts are screened by their real hits (scanned once, reused by the scan)."""
    (tmp_path / "rules.yaml").write_text(REGEX_RULES, encoding="utf-8")
    ruleset = load_ruleset(tmp_path)
    for text in (
        "a blast hit the convoy",
        "a convoy. a blast hit",
        "defused. a convoy blast struck",
        "convoy",
    ):
        _same_result(ruleset, text)
    assert ruleset.classify("a blast hit the convoy").relevant
    assert not ruleset.classify("a convoy. a blast hit").relevant


_VOCABULARY = sorted(
    {entry.term.rstrip("*") for entry in _SHIPPED.entries if not entry.regex}
    | {"والرتل", "بالعبوات", "IEDs", "attacked", "convoys", "رتلاً", "للتحالف"}
)
_HOSTILE = st.sampled_from([" ", " ", " ", ". ", "\n", "\n\n", "؟ ", "، ", "-", "\u200f", "\u064b", "U.S. "])


@given(st.lists(st.tuples(st.sampled_from(_VOCABULARY), _HOSTILE), max_size=30))
@settings(max_examples=300, deadline=None)
def test_screen_never_changes_the_result_on_rule_words(pieces: list[tuple[str, str]]) -> None:
    """Posts made of the shipped rules' own terms and separators: screened result == full result."""
    _same_result(_SHIPPED, "".join(word + gap for word, gap in pieces))


WINDOW_RULES = """\
categories:
  relevant: {threshold: 1}
concepts:
  convoy: [convoy]
  blast: [blast, explosion]
  foiled: [defused]
rules:
  - name: blast-near-convoy
    category: relevant
    all: [convoy, blast]
    within: 3
    none_near: [foiled]
"""
REGEX_WINDOW_RULES = """\
categories:
  relevant: {threshold: 1}
concepts:
  convoy: [convoy]
  far: ["re:far+"]
rules:
  - name: far-words
    category: relevant
    all: [convoy, far]
    within: 2
"""


def test_screen_with_window_rules(tmp_path: Path) -> None:
    """Window rules: a post whose concepts are too far apart, or an exclusion close by, skips the scan."""
    (tmp_path / "rules.yaml").write_text(WINDOW_RULES, encoding="utf-8")
    ruleset = load_ruleset(tmp_path)
    cases = {
        "a blast hit the convoy": True,
        "a blast. then the convoy": True,  # a window crosses sentences
        "a blast one two three four five the convoy": False,
        "a blast hit the convoy; defused one": False,  # the exclusion is within 3 of the window
        "a blast hit the convoy one two three four defused": True,  # far enough
    }
    for text, relevant in cases.items():
        _same_result(ruleset, text)
        assert ruleset.classify(text).relevant is relevant, text
    assert ruleset.classify_doc(tokenise("a blast one two three four five the convoy"))[1] == []
    assert ruleset.classify_doc(tokenise("a blast hit the convoy; defused one"))[1] == []


def test_window_screen_places_regex_hits(tmp_path: Path) -> None:
    """A regex concept's hits have positions: a window rule on it is screened by distance too."""
    (tmp_path / "rules.yaml").write_text(REGEX_WINDOW_RULES, encoding="utf-8")
    ruleset = load_ruleset(tmp_path)
    for text, relevant in {"the convoy was far": True, "far one two three the convoy": False}.items():
        _same_result(ruleset, text)
        assert ruleset.classify(text).relevant is relevant, text
    assert ruleset.classify_doc(tokenise("far one two three the convoy"))[1] == []


@given(
    st.lists(
        st.sampled_from(["convoy", "blast", "explosion", "defused", "far", "farr", "x", "y", ".", "\n"]),
        max_size=25,
    )
)
@settings(max_examples=300, deadline=None)
def test_window_screen_never_changes_the_result(words: list[str]) -> None:
    """Random arrangements of window-rule concepts: screened result == full result."""
    _same_result(_WINDOW_RULESET, " ".join(words))


def _window_ruleset() -> RuleSet:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "rules.yaml").write_text(WINDOW_RULES, encoding="utf-8")
        return load_ruleset(Path(folder))


_WINDOW_RULESET = _window_ruleset()
