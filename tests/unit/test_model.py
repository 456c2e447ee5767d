"""The verdict's value types: TermMatch and RuleHit set their slots directly (made by the thousand)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from bot.model import RuleHit, TermMatch


def test_term_match_fields_are_what_was_given() -> None:
    match = TermMatch("ied", "IED", 4, 7, "IED")
    assert (match.concept, match.term, match.start, match.end, match.text) == ("ied", "IED", 4, 7, "IED")
    assert repr(match) == "TermMatch(concept='ied', term='IED', start=4, end=7, text='IED')"
    assert match == TermMatch("ied", "IED", 4, 7, "IED") != TermMatch("ied", "IED", 4, 8, "IED ")
    assert hash(match) == hash(TermMatch("ied", "IED", 4, 7, "IED"))
    assert TermMatch(concept="ied", term="IED", start=4, end=7, text="IED") == match


@pytest.mark.parametrize(("start", "end"), [(-1, 3), (5, 4)])
def test_term_match_refuses_a_bad_span(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="bad span"):
        TermMatch("ied", "IED", start, end, "")


def test_value_types_stay_frozen_and_round_trip() -> None:
    match = TermMatch("convoy", "رتل", 0, 3, "رتل")
    hit = RuleHit("convoy-attacked", "relevant", 1.0, None, (match,))
    assert (hit.rule, hit.category, hit.weight, hit.value, hit.matches) == (
        "convoy-attacked",
        "relevant",
        1.0,
        None,
        (match,),
    )
    assert RuleHit("r", "relevant", 1.0, None).matches == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        match.text = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.rule = "x"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(match)) == match
    assert pickle.loads(pickle.dumps(hit)) == hit
    assert dataclasses.replace(match, start=1).start == 1
    assert dataclasses.replace(hit, weight=2.0) == RuleHit("convoy-attacked", "relevant", 2.0, None, (match,))
