"""Grouping events from many posts into incidents, and an incident's best-known details."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import incidents
from bot.incidents import MAX_DAY_GAP, candidates, find_incident, summarise
from bot.model import Event, EventRecord, ForwardOrigin

DAY = dt.date(2021, 6, 10)
T0 = dt.datetime(2021, 6, 10, 6, 0, tzinfo=dt.UTC)


def event(**changes: object) -> Event:
    base = Event(
        date=DAY,
        country="IQ",
        admin1="IQ-BB",
        place="Jisr al-Mahaweel",
        attack_type="ied",
        target="us_coalition",
        lat=32.66,
        lon=44.41,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def record(
    event_id: int,
    channel: str,
    message_id: int,
    ev: Event,
    *,
    minutes: int = 0,
    forward: ForwardOrigin | None = None,
) -> EventRecord:
    return EventRecord(
        event_id=event_id,
        event=ev,
        channel=channel,
        message_id=message_id,
        posted_at=T0 + dt.timedelta(minutes=minutes),
        forward=forward,
    )


def group(records: Sequence[EventRecord]) -> list[int]:
    """What the store does: for each new event, the incidents in the window and the forwards."""
    grouped: list[EventRecord] = []
    next_id = 1
    for item in records:
        window = [
            other
            for other in grouped
            if other.event.country == item.event.country
            and abs((other.event.date - item.event.date).days) <= MAX_DAY_GAP
        ]
        origin = item.forward or ForwardOrigin(item.channel, item.message_id)
        forwards = [
            other
            for other in (grouped if item.forward is not None else window)
            if (other.channel, other.message_id) == (origin.channel, origin.message_id)
            or other.forward == origin
        ]
        taken = {
            other.incident_id
            for other in grouped
            if (other.channel, other.message_id) == (item.channel, item.message_id)
            and other.incident_id is not None
        }
        found = find_incident(item, candidates(window), forwards, taken)
        if found is None:
            found = next_id
            next_id += 1
        grouped.append(dataclasses.replace(item, incident_id=found))
    return [item.incident_id or 0 for item in grouped]


def test_the_same_attack_from_three_channels_is_one_incident() -> None:
    """Three channels, three wordings (one without the place, one with 'unknown' type): one incident."""
    records = [
        record(1, "sabereen_news", 10, event()),
        record(2, "iraq_monitor_en", 20, event(place=None, lat=32.55, lon=44.5), minutes=30),
        record(3, "babil_ajel", 30, event(attack_type="unknown"), minutes=45),
    ]
    assert group(records) == [1, 1, 1]


def test_a_forward_joins_its_original() -> None:
    """A forwarded post is its original's incident even when its wording gives other details."""
    original = record(1, "sabereen_news", 10, event())
    forward = record(
        2,
        "muqawama_iq_news",
        5,
        event(attack_type="unknown", place=None),
        minutes=5,
        forward=ForwardOrigin("sabereen_news", 10),
    )
    assert group([original, forward]) == [1, 1]


def test_forwards_of_a_multi_attack_post_keep_each_attack_apart() -> None:
    """Each event of a forwarded round-up joins the matching event of the original."""
    origin = ForwardOrigin("sabereen_news", 10)
    original = [
        record(1, "sabereen_news", 10, event(admin1="IQ-QA", place="Diwaniyah", lat=31.99, lon=44.93)),
        record(2, "sabereen_news", 10, event(admin1="IQ-MU", place="Samawah", lat=31.33, lon=45.29)),
    ]
    forwarded = [
        record(
            3,
            "relay",
            7,
            event(admin1="IQ-MU", place="Samawah", lat=31.33, lon=45.29),
            minutes=9,
            forward=origin,
        ),
        record(
            4,
            "relay",
            7,
            event(admin1="IQ-QA", place="Diwaniyah", lat=31.99, lon=44.93),
            minutes=9,
            forward=origin,
        ),
    ]
    assert group([*original, *forwarded]) == [1, 2, 2, 1]


def test_a_repost_a_day_later_joins() -> None:
    """A channel reposting the attack the next day (dated by its own post) is the same incident."""
    records = [
        record(1, "sabereen_news", 10, event()),
        record(2, "weekly_digest", 99, event(date=DAY + dt.timedelta(days=1)), minutes=24 * 60),
    ]
    assert group(records) == [1, 1]


def test_two_attacks_in_one_governorate_on_one_day_stay_apart() -> None:
    """Mahmudiyah and Latifiyah on the same morning are two incidents."""
    records = [
        record(1, "a", 1, event(admin1="IQ-BG", place="Mahmudiyah", lat=33.06, lon=44.37)),
        record(2, "b", 2, event(admin1="IQ-BG", place="Latifiyah", lat=32.99, lon=44.35), minutes=10),
        record(3, "c", 3, event(admin1="IQ-BG", place="Latifiyah", lat=32.99, lon=44.35), minutes=20),
    ]
    assert group(records) == [1, 2, 2]


@pytest.mark.parametrize(
    "other",
    [
        event(admin1="IQ-QA", place="Diwaniyah", lat=31.99, lon=44.93),
        event(date=DAY + dt.timedelta(days=2)),
        event(attack_type="rocket"),
        event(target="iraqi_forces"),
        event(country="SY", admin1="SY-HA", place="Shaddadi", lat=36.05, lon=40.73),
        event(admin1=None, place=None, lat=None, lon=None),
    ],
)
def test_events_that_disagree_do_not_merge(other: Event) -> None:
    """Another governorate, days apart, another weapon or target, or nothing known: a new incident."""
    assert group([record(1, "a", 1, event()), record(2, "b", 2, other, minutes=5)]) == [1, 2]


def test_one_post_never_feeds_one_incident_twice() -> None:
    """Two Babil attacks listed in one post are two incidents even with no place named."""
    babil = event(place=None, lat=32.55, lon=44.5)
    records = [record(1, "southfront", 5, babil), record(2, "southfront", 5, babil)]
    assert group(records) == [1, 2]


def test_grouping_again_changes_nothing() -> None:
    """Re-running the grouping over the same events gives the same incidents."""
    records = [
        record(1, "a", 1, event()),
        record(2, "b", 2, event(admin1="IQ-BG", place="Latifiyah", lat=32.99, lon=44.35)),
        record(3, "c", 3, event(place=None)),
        record(4, "d", 4, event(admin1="IQ-BG", place="Latifiyah", lat=32.99, lon=44.35)),
    ]
    assert group(records) == group(records) == [1, 2, 1, 2]


def test_ties_go_to_the_oldest_incident() -> None:
    """When an event fits two incidents equally, the lower incident id wins whatever the order."""
    one = dataclasses.replace(record(1, "a", 1, event(place=None)), incident_id=7)
    two = dataclasses.replace(record(2, "b", 2, event(place=None)), incident_id=3)
    new = record(3, "c", 3, event(place=None))
    assert find_incident(new, candidates([one, two])) == find_incident(new, candidates([two, one])) == 3


def test_summary_takes_the_best_known_details() -> None:
    """Most common date, a named place, the highest figures, a claimant when any report has one."""
    members = [
        record(1, "a", 1, event(place=None, lat=32.55, lon=44.5, injured=1)),
        record(2, "b", 2, event(claimed_by="Ashab al-Kahf", killed=0, injured=3), minutes=5),
        record(3, "c", 3, event(attack_type="unknown", date=DAY + dt.timedelta(days=1)), minutes=900),
    ]
    best = summarise(members)
    assert best.date == DAY
    assert (best.place, best.lat, best.lon) == ("Jisr al-Mahaweel", 32.66, 44.41)
    assert (best.killed, best.injured, best.claimed_by) == (0, 3, "Ashab al-Kahf")
    assert best.attack_type == "ied"


def test_summary_ignores_deleted_posts_while_others_remain() -> None:
    """A deleted report's details give way to the live ones."""
    members = [
        dataclasses.replace(record(1, "a", 1, event(killed=9)), deleted=True),
        record(2, "b", 2, event(killed=1), minutes=5),
    ]
    assert summarise(members).killed == 1


def test_summary_needs_members() -> None:
    """An incident without events has no summary."""
    with pytest.raises(ValueError, match="at least one event"):
        summarise([])


# ------------------------------------------- incident candidates decide as member events did
def _by_members(event: EventRecord, members: Sequence[EventRecord]) -> int | None:
    """The grouping before candidates were incidents: every grouped member event of the window
    (and the forwards) passed one by one (kept here as the reference it must agree with)."""
    by_incident: dict[int, list[EventRecord]] = {}
    for member in members:
        if member.incident_id is not None:
            by_incident.setdefault(member.incident_id, []).append(member)
    own = (event.channel, event.message_id)
    open_ = {i: m for i, m in by_incident.items() if all((x.channel, x.message_id) != own for x in m)}
    forwarded = [(i, m) for i, ms in open_.items() for m in ms if incidents._forward_related(event, m)]
    if forwarded:
        fitting = sorted(
            (
                -(incidents._place_match(event.event, m.event) or 0),
                abs((event.event.date - m.event.date).days),
                i,
            )
            for i, m in forwarded
            if incidents._loosely_same(event.event, m.event)
        )
        if fitting:
            return fitting[0][2]
        if len({i for i, _ in forwarded}) == 1:
            return forwarded[0][0]
    ranked = []
    for i, ms in open_.items():
        if not all(incidents._compatible(event.event, m.event) for m in ms):
            continue
        place = max(incidents._place_match(event.event, m.event) or 0 for m in ms)
        gap = min(abs((event.event.date - m.event.date).days) for m in ms)
        same_type = any(m.event.attack_type == event.event.attack_type for m in ms)
        ranked.append((-place, gap, not same_type, i))
    return min(ranked)[3] if ranked else None


def _old_group(records: Sequence[EventRecord]) -> list[int]:
    """Grouping as the store did before: window members plus, for a forward, its relatives."""
    grouped: list[EventRecord] = []
    next_id = 1
    for item in records:
        members = [
            other
            for other in grouped
            if other.event.country == item.event.country
            and abs((other.event.date - item.event.date).days) <= MAX_DAY_GAP
        ]
        if item.forward is not None:
            origin = item.forward
            members += [
                other
                for other in grouped
                if (other.channel, other.message_id) == (origin.channel, origin.message_id)
                or other.forward == origin
            ]
        found = _by_members(item, members)
        if found is None:
            found = next_id
            next_id += 1
        grouped.append(dataclasses.replace(item, incident_id=found))
    return [item.incident_id or 0 for item in grouped]


SITES = [
    ("Diwaniyah", "IQ-QA", 31.99, 44.93),
    ("Diwaniyah junction", "IQ-QA", 32.01, 44.95),  # within NEAR_KM of Diwaniyah
    ("Afak", "IQ-QA", 32.06, 45.25),
    (None, "IQ-QA", 31.9, 45.0),
    ("Samawah", "IQ-MU", 31.33, 45.29),
    (None, None, None, None),
]
_report = st.tuples(
    st.sampled_from(range(len(SITES))),
    st.sampled_from(["ied", "unknown", "rocket"]),
    st.sampled_from(["us_coalition", "unknown"]),
)
GenPost = tuple[int, int, list[tuple[int, str, str]]]
_post = st.tuples(
    st.integers(0, 3),  # day
    st.integers(0, 4),  # forwards the post with this index (when there is one), or 4: not a forward
    st.lists(_report, min_size=1, max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_post, min_size=1, max_size=14))
def test_incident_candidates_decide_as_member_events_did(
    posts: list[tuple[int, int, list[tuple[int, str, str]]]],
) -> None:
    """Distinct facts per incident and day give the same incidents as every member event did."""
    records: list[EventRecord] = []
    for index, (day, forwards, reports) in enumerate(posts):
        origin = ForwardOrigin("ch0", forwards) if forwards < min(index, 4) else None
        for place, attack_type, target in reports:
            name, admin1, lat, lon = SITES[place]
            ev = event(
                date=DAY + dt.timedelta(days=day),  # one post's events share its day
                admin1=admin1,
                place=name,
                lat=lat,
                lon=lon,
                attack_type=attack_type,
                target=target,
            )
            channel = f"ch{index % 3}" if index >= 4 else "ch0"
            records.append(record(len(records) + 1, channel, index, ev, minutes=index, forward=origin))
    assert group(records) == _old_group(records)
