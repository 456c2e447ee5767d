"""Group events reported by many posts into incidents (pure).

The store asks ``find_incident`` for each new event, passing the already-grouped events
that could be the same attack (same country within ``MAX_DAY_GAP`` days, or the same
forwarded original), and stores the answer; ``summarise`` gives an incident's best-known
details from all its member events.

Two reports are of the same attack when one forwards the other (or both forward the same
original), or when they agree on everything they both state: country and governorate,
dates at most a day apart, the place (the same name, or points within ``NEAR_KM``, or
one of them names only the governorate), the attack type and the target (or one of them
does not know). An incident never takes two events of one post: a post that lists two
attacks in Babil reports two incidents. Every choice is ordered by stable keys (ties go
to the oldest incident), so grouping the same events again gives the same incidents.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
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


def _by_incident(candidates: Sequence[EventRecord]) -> dict[int, list[EventRecord]]:
    incidents: dict[int, list[EventRecord]] = defaultdict(list)
    for record in candidates:
        if record.incident_id is not None:
            incidents[record.incident_id].append(record)
    return incidents


def find_incident(event: EventRecord, candidates: Sequence[EventRecord]) -> int | None:
    """The incident an event belongs to, or None for a new one. Deterministic."""
    incidents = _by_incident(candidates)
    own_post = _post(event)
    # An incident never holds two events of one post.
    open_incidents = {
        incident_id: members
        for incident_id, members in incidents.items()
        if all(_post(member) != own_post for member in members)
    }
    forwarded = [
        (incident_id, member)
        for incident_id, members in open_incidents.items()
        for member in members
        if _forward_related(event, member)
    ]
    if forwarded:
        fitting = sorted(
            (
                -(_place_match(event.event, member.event) or 0),
                abs((event.event.date - member.event.date).days),
                incident_id,
            )
            for incident_id, member in forwarded
            if _loosely_same(event.event, member.event)
        )
        if fitting:
            return fitting[0][2]
        if len({incident_id for incident_id, _ in forwarded}) == 1:
            return forwarded[0][0]
    ranked = []
    for incident_id, members in open_incidents.items():
        if not all(_compatible(event.event, member.event) for member in members):
            continue
        place = max(_place_match(event.event, member.event) or 0 for member in members)
        gap = min(abs((event.event.date - member.event.date).days) for member in members)
        same_type = any(member.event.attack_type == event.event.attack_type for member in members)
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
