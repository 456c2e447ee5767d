"""RuleSet.evaluate against a plain reading of the rule semantics, on generated hits."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model import Classification, RuleHit, TermMatch
from bot.rules.engine import RELEVANT, Rule, RuleSet, load_ruleset
from bot.rules.matcher import Hit
from bot.rules.text import Document, tokenise

#: One rule for each way a rule can be tried: in one sentence or not, with a window or not,
#: with ``none_near`` exclusions, and with a concept in two slots (``all`` and ``any``).
RULES = """\
categories:
  relevant: {threshold: 1}
  kind: {values: [x, y, z], default: z, threshold: 1}
concepts:
  a: [alpha]
  b: [bravo]
  c: [charlie]
  d: [delta]
  e: [echo]
  f: [foxtrot]
rules:
  - {name: sentence, category: relevant, all: [a], any: [b, c], same_sentence: true,
     none_near: [e], none: [f]}
  - {name: window, category: relevant, weight: 0.5, all: [a, b], within: 3, none_near: [d]}
  - {name: twice, category: relevant, weight: 0.5, all: [a], any: [a, b]}
  - {name: twice-local, category: relevant, weight: 0.5, all: [b], any: [c, b], within: 2,
     same_sentence: true}
  - {name: twice-sentence, category: relevant, weight: 0.5, all: [c], any: [b, c], same_sentence: true}
  - {name: any-c, category: kind, value: x, any: [c]}
  - {name: local-window, category: kind, value: y, weight: 2, all: [a, c], within: 4, same_sentence: true}
  - {name: near-only, category: kind, value: y, all: [b], none_near: [d]}
  - {name: far, category: kind, value: x, all: [c], any: [a, b], within: 5, none_near: [e]}
"""
CONCEPTS = ("a", "b", "c", "d", "e", "f", "unknown")


@pytest.fixture(scope="module")
def ruleset(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "rules.yaml").write_text(RULES, encoding="utf-8")
    return load_ruleset(directory)


# -- the reference: the rules read plainly, with no index, mask or shortcut ----------------


def _keep(hits: Sequence[Hit]) -> list[Hit]:
    kept: list[Hit] = []
    for hit in hits:
        if sum(other.concept == hit.concept for other in kept) < 4:
            kept.append(hit)
    return sorted(kept, key=lambda hit: (hit.first, hit.last, hit.concept))


def _window(within: int, slots: list[list[Hit]], excluded: list[Hit]) -> list[Hit] | None:
    tagged = sorted(
        [(hit.first, number, hit) for number, slot in enumerate(slots) for hit in slot],
        key=lambda item: (item[0], item[1]),
    )
    for start, (first, _, _) in enumerate(tagged):
        window = [item for item in tagged[start:] if item[0] - first <= within]
        if {number for _, number, _ in window} != set(range(len(slots))):
            continue
        if any(first - within <= hit.first <= window[-1][0] + within for hit in excluded):
            continue
        return _keep([hit for _, _, hit in window])
    return None


def _reference_try(rule: Rule, doc: Document, hits: list[Hit]) -> list[Hit] | None:
    def of(concepts: Sequence[str], among: list[Hit]) -> list[Hit]:
        return [hit for concept in concepts for hit in among if hit.concept == concept]

    found = {hit.concept for hit in hits}
    if not rule.all_of and not rule.any_of:
        return None
    if not set(rule.all_of) <= found or (rule.any_of and not set(rule.any_of) & found):
        return None
    if set(rule.none_of) & found:
        return None
    if rule.same_sentence or (rule.within is None and rule.none_near):
        for sentence in sorted({doc.sentence_of(hit.first) for hit in hits}):
            inside = [hit for hit in hits if doc.sentence_of(hit.first) == sentence]
            slots = [of(slot, inside) for slot in rule.slots]
            if not all(slots) or of(rule.none_near, inside):
                continue
            if rule.within is None:
                return _keep([hit for slot in slots for hit in slot])
            matched = _window(rule.within, slots, [])
            if matched is not None:
                return matched
        return None
    slots = [of(slot, hits) for slot in rule.slots]
    if rule.within is None:
        return _keep([hit for slot in slots for hit in slot])
    return _window(rule.within, slots, of(rule.none_near, hits))


def _reference_fire(ruleset: RuleSet, doc: Document, hits: list[Hit], *, relevance: bool) -> list[RuleHit]:
    known = [hit for hit in hits if hit.concept in ruleset.concepts]
    fired = []
    for rule in ruleset.rules:
        if (rule.category == RELEVANT) is relevance:
            matched = _reference_try(rule, doc, known)
            if matched is not None:
                matches = tuple(
                    TermMatch(hit.concept, hit.term, hit.start, hit.end, doc.text[hit.start : hit.end])
                    for hit in matched
                )
                fired.append(RuleHit(rule.name, rule.category, rule.weight, rule.value, matches))
    return fired


def _reference(ruleset: RuleSet, doc: Document, hits: list[Hit]) -> Classification:
    fired = _reference_fire(ruleset, doc, hits, relevance=True)
    score = float(sum(hit.weight for hit in fired))
    if not fired or score < ruleset.categories[RELEVANT].threshold:
        return Classification(relevant=False, score=round(score, 6), hits=tuple(fired))
    described = _reference_fire(ruleset, doc, hits, relevance=False)
    labels = {}
    for category in ruleset.labels:
        scores = {
            value: sum(
                hit.weight for hit in described if hit.value == value and hit.category == category.name
            )
            for value in category.values
        }
        best = max(category.values, key=lambda value: scores[value])  # the first of the best
        chosen = best if scores[best] >= category.threshold else category.default
        if chosen is not None:
            labels[category.name] = chosen
    return Classification(relevant=True, score=round(score, 6), hits=(*fired, *described), labels=labels)


# -- generated documents and hits ----------------------------------------------------------

_WORDS = st.lists(st.sampled_from(["w", "w", "w", "w.", "w\n", "w\n\n"]), min_size=1, max_size=30)
_HITS = st.lists(
    st.tuples(
        st.sampled_from(CONCEPTS), st.sampled_from(["t1", "t2"]), st.integers(0, 29), st.integers(0, 2)
    ),
    max_size=24,
)


def _document(words: list[str], raw: list[tuple[str, str, int, int]]) -> tuple[Document, list[Hit]]:
    doc = tokenise(" ".join(words))
    size = len(doc)
    hits = []
    for concept, term, position, length in raw:
        first = position % size
        last = min(first + length, size - 1)
        hits.append(Hit(concept, term, first, last, doc.span(first)[0], doc.span(last)[1]))
    hits.sort(key=lambda hit: (hit.first, hit.last, hit.concept, hit.term))  # as scan gives them
    return doc, hits


@given(_WORDS, _HITS)
@settings(max_examples=400)
def test_evaluate_reads_the_rules_as_written(
    ruleset: RuleSet, words: list[str], raw: list[tuple[str, str, int, int]]
) -> None:
    """evaluate fires exactly the rules, with exactly the matches, that a plain reading of them does."""
    doc, hits = _document(words, raw)
    assert ruleset.evaluate(doc, hits) == _reference(ruleset, doc, hits)


@given(_WORDS, _HITS, st.randoms(use_true_random=False))
@settings(max_examples=200)
def test_evaluate_does_not_depend_on_the_order_of_the_hits(
    ruleset: RuleSet, words: list[str], raw: list[tuple[str, str, int, int]], shuffler: random.Random
) -> None:
    """Hits in any order give the result of the plain reading of the rules on that order."""
    doc, hits = _document(words, raw)
    shuffler.shuffle(hits)
    assert ruleset.evaluate(doc, hits) == _reference(ruleset, doc, hits)


def test_a_concept_in_two_slots_keeps_four_matches_in_all(ruleset: RuleSet) -> None:
    """A concept named in ``all`` and ``any`` still keeps its first four matches only."""
    doc, hits = _document(["w"] * 12, [("a", "t1", position, 0) for position in range(6)])
    twice = next(hit for hit in ruleset.evaluate(doc, hits).hits if hit.rule == "twice")
    assert [match.start for match in twice.matches] == [0, 2, 4, 6]


def test_a_rule_with_a_window_picks_the_first_window(ruleset: RuleSet) -> None:
    """A window rule keeps the hits of its first window that holds every slot and no exclusion near."""
    raw = [("a", "t1", 0, 0), ("b", "t1", 2, 0), ("d", "t1", 4, 0), ("a", "t1", 8, 0), ("b", "t1", 10, 0)]
    doc, hits = _document(["w"] * 20, raw)
    window = next(hit for hit in ruleset.evaluate(doc, hits).hits if hit.rule == "window")
    assert [(match.concept, match.start) for match in window.matches] == [("a", 16), ("b", 20)]


# -- token offsets -------------------------------------------------------------------------

_PIECES = ["a", "bc", "ب", "ـ", "é", ".", "-", " ", "  ", "\n", "\n\n", " \n", "\t", "\r", "\u00a0"]


@given(st.lists(st.sampled_from(_PIECES), max_size=24).map("".join))
@settings(max_examples=400)
def test_every_token_span_lies_where_its_chunk_is(text: str) -> None:
    """A token's span is its chunk's offset in the text plus the span the chunk's analysis gives it."""
    from bot.rules.text import _analyse_chunk  # noqa: PLC0415 - the chunk analysis under test

    expected = [
        (chunk.start() + start, chunk.start() + end)
        for chunk in re.finditer(r"\S+", text)
        for start, end in _analyse_chunk(chunk.group()).spans
    ]
    doc = tokenise(text)
    shuffled = list(range(len(doc)))
    random.Random(len(text)).shuffle(shuffled)
    spans = doc.spans(shuffled)
    assert [spans[index] for index in range(len(doc))] == expected
    assert [doc.span(index) for index in range(len(doc))] == expected


def test_spans_of_a_text_with_blank_lines_and_runs_of_spaces() -> None:
    """Offsets stay exact after blank lines and runs of spaces (each newline is one character)."""
    text = "convoy  hit\n\nنبأ عاجل\n  IED   here"
    doc = tokenise(text)
    assert [text[start:end] for start, end in doc.spans(range(len(doc))).values()] == [
        "convoy",
        "hit",
        "نبأ",
        "عاجل",
        "IED",
        "here",
    ]
