"""Group events reported by many posts into incidents (pure).

The store asks ``find_incident`` for each new event, passing the incidents that could be
the same attack, one ``Candidate`` each: what its members state on the days of the window
(same country, within ``MAX_DAY_GAP`` days; ``stated`` gives it from an incident's members,
and the store keeps it per incident and day), plus the member events related by
forwarding. It stores the answer; ``summarise`` gives an incident's best-known details
from all its member events. Candidates are one per incident, so the cost of grouping an
event does not grow with how many reports an attack already has.

Two reports are of the same attack when one forwards the other (or both forward the same
original), or when they agree on everything they both state: country and governorate,
dates at most a day apart, the place (the same name, or points within ``NEAR_KM``, or
one of them names only the governorate), the attack type and the target (or one of them
does not know). An incident never takes two events of one post: a post that lists two
attacks in Babil reports two incidents. Every choice is ordered by stable keys (ties go
to the oldest incident), so grouping the same events again gives the same incidents.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.model import Event, EventRecord

#: Reports of one attack are dated at most this many days apart.
MAX_DAY_GAP = 1
#: Two differently named places this close (km) are one site (a junction and its town).
NEAR_KM = 5.0

T = TypeVar("T")


def _post(record: EventRecord) -> tuple[str, int]:
    return record.channel, record.message_id


def _origin(record: EventRecord) -> tuple[str, int]:
    """The original post a record's post forwards, or the post itself."""
    if record.forward is not None:
        return record.forward.channel, record.forward.message_id
    return _post(record)


def _distance_km(a: Event, b: Event) -> float | None:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def _agree(a: str, b: str) -> bool:
    return a == b or "unknown" in (a, b)


def _place_match(a: Event, b: Event) -> int | None:
    """How well two events' places agree: 2 same name, 1 near or one unnamed, None if they differ."""
    if a.place is None or b.place is None:
        return 1
    if a.place.casefold() == b.place.casefold():
        return 2
    distance = _distance_km(a, b)
    if distance is not None and distance <= NEAR_KM:
        return 1
    return None


def _compatible(a: Event, b: Event) -> bool:
    """Whether two events could describe the same attack (nothing both state disagrees)."""
    if a.country != b.country or a.admin1 is None or a.admin1 != b.admin1:
        return False
    if abs((a.date - b.date).days) > MAX_DAY_GAP:
        return False
    if _place_match(a, b) is None:
        return False
    return _agree(a.attack_type, b.attack_type) and _agree(a.target, b.target)


def _forward_related(event: EventRecord, other: EventRecord) -> bool:
    return _origin(event) == _origin(other) and _post(event) != _post(other)


def _loosely_same(a: Event, b: Event) -> bool:
    """For forwards of one post: the same attack of that post (its place and day), not another one."""
    return (
        a.admin1 == b.admin1 and _place_match(a, b) is not None and abs((a.date - b.date).days) <= MAX_DAY_GAP
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """An incident that could be an event's, with what its members state near the event.

    ``stated`` holds each distinct fact (country, day, governorate, place, point, attack
    type, target) its members state on the days of the window, as events (casualties and
    claimant left out): the members are compared by exactly these fields, so distinct facts
    decide as all members would, however many reports repeat them."""

    incident_id: int
    stated: tuple[Event, ...]


def fact(event: Event) -> Event:
    """The fields of an event that grouping compares (the rest left empty)."""
    return Event(
        date=event.date,
        country=event.country,
        admin1=event.admin1,
        place=event.place,
        attack_type=event.attack_type,
        target=event.target,
        lat=event.lat,
        lon=event.lon,
    )


def _fact_key(event: Event) -> tuple[object, ...]:
    return tuple(
        (value is None, value)
        for value in (
            event.country,
            event.date,
            event.admin1,
            event.place,
            event.lat,
            event.lon,
            event.attack_type,
            event.target,
        )
    )


def stated(members: Iterable[EventRecord]) -> list[Event]:
    """The distinct facts a set of member events state, in a stable order."""
    distinct = {
        (e.date, e.country, e.admin1, e.place, e.attack_type, e.target, e.lat, e.lon)
        for e in (member.event for member in members)
    }
    facts = (
        Event(
            date=date,
            country=country,
            admin1=admin1,
            place=place,
            attack_type=attack_type,
            target=target,
            lat=lat,
            lon=lon,
        )
        for date, country, admin1, place, attack_type, target, lat, lon in distinct
    )
    return sorted(facts, key=_fact_key)


def candidates(members: Iterable[EventRecord]) -> list[Candidate]:
    """Candidates from grouped member events (those without an incident are left out)."""
    by_incident: dict[int, list[EventRecord]] = {}
    for member in members:
        if member.incident_id is not None:
            by_incident.setdefault(member.incident_id, []).append(member)
    return [
        Candidate(incident_id, tuple(stated(group))) for incident_id, group in sorted(by_incident.items())
    ]


def window(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the events an event on ``day`` can be grouped with."""
    gap = dt.timedelta(days=MAX_DAY_GAP)
    return day - gap, day + gap


def find_incident(
    event: EventRecord,
    candidates: Sequence[Candidate],
    forwards: Sequence[EventRecord] = (),
    taken: Collection[int] = (),
) -> int | None:
    """The incident an event belongs to, or None for a new one. Deterministic.

    ``candidates``: the incidents with a member in the event's country within the day
    window, with what those members state. ``forwards``: grouped member events of the
    post the event's post forwards or of posts forwarding the same original (when the
    event's post is not a forward: of posts forwarding it, within the window).
    ``taken``: incidents already holding an event of the event's own post."""
    own_post = _post(event)
    closed = set(taken)
    # An incident never holds two events of one post.
    related = [
        member
        for member in forwards
        if member.incident_id is not None
        and member.incident_id not in closed
        and _post(member) != own_post
        and _forward_related(event, member)
    ]
    if related:
        fitting = sorted(
            (
                -(_place_match(event.event, member.event) or 0),
                abs((event.event.date - member.event.date).days),
                member.incident_id,
            )
            for member in related
            if member.incident_id is not None and _loosely_same(event.event, member.event)
        )
        if fitting:
            return fitting[0][2]
        if len({member.incident_id for member in related}) == 1:
            return related[0].incident_id
    facts: dict[int, list[Event]] = {}
    for candidate in candidates:
        if candidate.incident_id not in closed:
            facts.setdefault(candidate.incident_id, []).extend(candidate.stated)
    for member in forwards:
        # A forward's event counts in its incident's comparison even outside the window.
        if member.incident_id is not None and member.incident_id not in closed:
            facts.setdefault(member.incident_id, []).append(member.event)
    ranked = []
    for incident_id, events in facts.items():
        if not all(_compatible(event.event, other) for other in events):
            continue
        place = max(_place_match(event.event, other) or 0 for other in events)
        gap = min(abs((event.event.date - other.date).days) for other in events)
        same_type = any(other.attack_type == event.event.attack_type for other in events)
        ranked.append((-place, gap, not same_type, incident_id))
    if not ranked:
        return None
    return min(ranked)[3]


def _most_common(values: Sequence[T], key: Callable[[T], object] = lambda value: value) -> T | None:
    """The most frequent value; ties go to the one reported first."""
    if not values:
        return None
    counts = Counter(key(value) for value in values)
    best = max(counts.values())
    return next(value for value in values if counts[key(value)] == best)


def summarise(members: Sequence[EventRecord]) -> Event:
    """An incident's best-known details from every event that reports it.

    The most common date (ties: the earliest), governorate and labels; the most reported
    named place; the highest casualty figures any report gives; a claimant when any
    report names one. Deleted posts count only when nothing else is left.
    """
    if not members:
        raise ValueError("an incident has at least one event")
    live = [member for member in members if not member.deleted] or list(members)
    ordered = sorted(live, key=lambda m: (m.posted_at, m.event_id))
    events = [member.event for member in ordered]
    dates = sorted(events, key=lambda e: e.date)
    date = (_most_common(dates, key=lambda e: e.date) or events[0]).date
    admin1 = _most_common([e.admin1 for e in events if e.admin1 is not None])
    located_events = [e for e in events if e.admin1 == admin1]
    country = _most_common([e.country for e in located_events if e.country is not None]) or _most_common(
        [e.country for e in events if e.country is not None]
    )
    named = [e for e in located_events if e.place is not None]
    located = _most_common(named, key=lambda e: (e.place or "").casefold()) if named else None
    pointed = located or next((e for e in located_events if e.lat is not None), None)
    attack = _most_common([e.attack_type for e in events if e.attack_type != "unknown"]) or "unknown"
    target = _most_common([e.target for e in events if e.target != "unknown"]) or "unknown"
    killed = [e.killed for e in events if e.killed is not None]
    injured = [e.injured for e in events if e.injured is not None]
    return Event(
        date=date,
        country=country,
        admin1=admin1,
        place=located.place if located else None,
        attack_type=attack,
        target=target,
        claimed_by=_most_common([e.claimed_by for e in events if e.claimed_by is not None]),
        killed=max(killed) if killed else None,
        injured=max(injured) if injured else None,
        lat=pointed.lat if pointed else None,
        lon=pointed.lon if pointed else None,
        place_ar=located.place_ar if located else None,
    )
