"""Group events reported by many posts into incidents (pure).

The store asks ``find_incident`` for each new event, passing the already-grouped events
that could be the same attack, and stores the answer; ``summarise`` gives an incident's
best-known details from all its member events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.model import Event, EventRecord

#: Reports of one attack are dated at most this many days apart.
MAX_DAY_GAP = 1


def _compatible(a: Event, b: Event) -> bool:
    if a.country != b.country or a.admin1 != b.admin1:
        return False
    if abs((a.date - b.date).days) > MAX_DAY_GAP:
        return False
    if a.place and b.place and a.place != b.place:
        return False
    return a.attack_type == b.attack_type or "unknown" in (a.attack_type, b.attack_type)


def find_incident(event: EventRecord, candidates: Sequence[EventRecord]) -> int | None:
    """The incident an event belongs to, or None for a new one. Deterministic."""
    if event.forward is not None:
        for other in candidates:
            if other.incident_id is None:
                continue
            if other.forward == event.forward or (
                other.channel == event.forward.channel and other.message_id == event.forward.message_id
            ):
                return other.incident_id
    matches = sorted(
        (
            abs((other.event.date - event.event.date).days),
            other.incident_id,
        )
        for other in candidates
        if other.incident_id is not None
        and (other.channel, other.message_id) != (event.channel, event.message_id)
        and _compatible(event.event, other.event)
    )
    return matches[0][1] if matches else None


def _most_common(values: Sequence[str | None]) -> str | None:
    known = [value for value in values if value is not None]
    if not known:
        return None
    counts = Counter(known)
    return max(counts, key=lambda value: (counts[value], -known.index(value)))


def summarise(members: Sequence[EventRecord]) -> Event:
    """An incident's best-known details from every event that reports it."""
    if not members:
        raise ValueError("an incident has at least one event")
    live = [member for member in members if not member.deleted] or list(members)
    events = [member.event for member in sorted(live, key=lambda m: (m.posted_at, m.event_id))]
    first = events[0]
    placed = [event for event in events if event.place]
    located = placed[0] if placed else first
    attack = _most_common([e.attack_type for e in events if e.attack_type != "unknown"]) or "unknown"
    target = _most_common([e.target for e in events if e.target != "unknown"]) or "unknown"
    killed = [e.killed for e in events if e.killed is not None]
    injured = [e.injured for e in events if e.injured is not None]
    return Event(
        date=min(event.date for event in events),
        country=first.country,
        admin1=first.admin1,
        place=located.place,
        attack_type=attack,
        target=target,
        claimed_by=_most_common([e.claimed_by for e in events]),
        killed=max(killed) if killed else None,
        injured=max(injured) if injured else None,
        lat=located.lat,
        lon=located.lon,
        place_ar=located.place_ar,
    )
