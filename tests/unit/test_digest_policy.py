"""What a digest tells each chat, and which incidents deserve an immediate alert."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.digest.policy import (
    AlertPolicy,
    alert_key,
    alert_reasons,
    digest_entries,
    incident_version,
    new_alert_reasons,
    summary_entries,
)
from bot.model import Source
from tests.unit.test_digest_render import T0, make_incident

TODAY = dt.date(2026, 11, 21)


def test_version_changes_with_what_a_digest_shows() -> None:
    """A new source, a deletion or changed casualties change the version; updated_at does not."""
    base = make_incident()
    same = dataclasses.replace(base, updated_at=T0 + dt.timedelta(hours=1))
    more = dataclasses.replace(base, sources=(*base.sources, Source("other", 9, T0, "https://t.me/other/9")))
    gone = dataclasses.replace(base, sources=(dataclasses.replace(base.sources[0], deleted=True),))
    worse = dataclasses.replace(base, killed=3)
    versions = {incident_version(x) for x in (base, more, gone, worse)}
    assert len(versions) == 4
    assert incident_version(same) == incident_version(base)


def test_entries_are_new_updated_or_left_out() -> None:
    """Never told: new; told an older version: updated; told this version: not repeated."""
    a, b, c = make_incident(1), make_incident(2), make_incident(3)
    told = {2: "0000000000000000", 3: incident_version(c)}
    entries = digest_entries([a, b, c], told)
    assert [(e.incident.incident_id, e.status) for e in entries] == [(1, "new"), (2, "updated")]


def test_summary_lists_everything_with_its_status() -> None:
    """A summary keeps incidents already sent (seen), marks changed ones updated, others new."""
    a, b, c = make_incident(1), make_incident(2), make_incident(3)
    entries = summary_entries([a, b, c], {2: "0000000000000000", 3: incident_version(c)})
    assert [e.status for e in entries] == ["new", "updated", "seen"]


@pytest.mark.parametrize(
    ("changes", "policy", "expected"),
    [
        ({}, AlertPolicy(), ()),
        ({"killed": 1}, AlertPolicy(), ("casualties",)),
        ({"injured": 2}, AlertPolicy(min_casualties=3), ()),
        ({"injured": 2, "killed": 1}, AlertPolicy(min_casualties=3), ("casualties",)),
        ({"killed": 5}, AlertPolicy(min_casualties=0), ()),
        ({"claimed_by": "Ashab al-Kahf"}, AlertPolicy(), ("claim",)),
        ({"claimed_by": "Ashab al-Kahf"}, AlertPolicy(on_claim=False), ()),
        ({}, AlertPolicy(min_sources=1), ("sources",)),
        ({}, AlertPolicy(governorates=frozenset({"IQ-BG"})), ("governorate",)),
        ({"admin1": "IQ-AN"}, AlertPolicy(governorates=frozenset({"IQ-BG"})), ()),
        (
            {"killed": 1, "claimed_by": "X"},
            AlertPolicy(governorates=frozenset({"IQ-BG"})),
            ("casualties", "claim", "governorate"),
        ),
        ({"killed": 1, "date": dt.date(2026, 11, 18)}, AlertPolicy(), ()),
    ],
)
def test_alert_reasons(changes: dict[str, object], policy: AlertPolicy, expected: tuple[str, ...]) -> None:
    """Each threshold fires on its own; old incidents (backfill) never alert."""
    incident = dataclasses.replace(make_incident(), **changes)  # type: ignore[arg-type]
    assert alert_reasons(incident, policy, TODAY) == expected


def test_corroboration_counts_channels_not_posts() -> None:
    """Two posts from one channel are not corroboration; a second channel is."""
    one = make_incident(
        sources=(Source("a", 1, T0, "https://t.me/a/1"), Source("a", 2, T0, "https://t.me/a/2"))
    )
    two = dataclasses.replace(one, sources=(*one.sources, Source("b", 3, T0, "https://t.me/b/3")))
    assert alert_reasons(one, AlertPolicy(), TODAY) == ()
    assert alert_reasons(two, AlertPolicy(), TODAY) == ("sources",)


def test_only_reasons_not_alerted_before_are_new() -> None:
    """A claim already alerted does not alert again; a new corroboration does, with its own key."""
    incident = make_incident(
        claimed_by="X", sources=(*make_incident().sources, Source("b", 3, T0, "https://t.me/b/3"))
    )
    reasons = new_alert_reasons(incident, AlertPolicy(), {"claim"}, TODAY)
    assert reasons == ("sources",)
    assert alert_key(7, reasons) == "alert:7:sources"
    assert alert_key(7, ("casualties", "claim")) == "alert:7:casualties+claim"


def test_policy_refuses_nonsense_thresholds() -> None:
    """Zero sources or negative casualties are configuration errors."""
    with pytest.raises(ValueError, match="min_sources"):
        AlertPolicy(min_sources=0)
    with pytest.raises(ValueError, match="min_casualties"):
        AlertPolicy(min_casualties=-1)
