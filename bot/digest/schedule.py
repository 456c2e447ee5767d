"""When digests are due (pure: ``now`` and the last run are passed in).

A schedule is either clock times in a zone (``07:00`` and ``19:00`` Asia/Baghdad) or every
N hours, counted in the zone's wall-clock time from 1970-01-01 00:00 so that N dividing 24
gives the same times every day (6 -> 00:00, 06:00, 12:00, 18:00). Slots are instants; a
missed slot is run once on restart (the latest one), never once per missed slot.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

#: A restart after a long outage looks back at most this far for a missed slot.
MAX_CATCH_UP = dt.timedelta(days=8)

_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Clock times in ``zone``, or every ``every_hours`` hours (which then wins)."""

    zone: dt.tzinfo
    times: tuple[dt.time, ...] = ()
    every_hours: float | None = None

    def __post_init__(self) -> None:
        if self.every_hours is not None and not (0 < self.every_hours <= 24 * 366):
            raise ValueError(f"every_hours must be in (0, 8784], got {self.every_hours}")
        if self.every_hours is None and not self.times:
            raise ValueError("a schedule needs clock times or every_hours")
        if any(time.tzinfo is not None for time in self.times):
            raise ValueError("schedule times are wall-clock times in the zone, without tzinfo")

    @classmethod
    def daily(cls, zone: dt.tzinfo, time: dt.time) -> Schedule:
        """Once a day at ``time`` in ``zone``."""
        return cls(zone=zone, times=(time,))

    @classmethod
    def at(cls, zone: dt.tzinfo, times: Sequence[dt.time]) -> Schedule:
        """At each of ``times`` every day in ``zone``."""
        return cls(zone=zone, times=tuple(sorted(set(times))))


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _local(wall: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    # Normalise through UTC so a wall time skipped by a DST change maps to a real instant.
    return wall.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def next_run(schedule: Schedule, after: dt.datetime) -> dt.datetime:
    """The first slot strictly after ``after``, in the schedule's zone."""
    _require_aware(after, "after")
    zone = schedule.zone
    wall = after.astimezone(zone).replace(tzinfo=None)
    candidates: list[dt.datetime] = []
    if schedule.every_hours is not None:
        step = dt.timedelta(hours=schedule.every_hours)
        index = math.floor((wall - _EPOCH) / step)
        candidates = [
            _local(_EPOCH + step * (index + k), zone)
            for k in range(-1, 4 + math.ceil(2 / schedule.every_hours))
        ]
    else:
        for offset in range(-1, 3):
            day = wall.date() + dt.timedelta(days=offset)
            candidates.extend(_local(dt.datetime.combine(day, time), zone) for time in schedule.times)
    return min(candidate for candidate in candidates if candidate > after)


def latest_due(schedule: Schedule, last: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The latest slot in ``(last, now]``, or None when nothing is due."""
    _require_aware(last, "last")
    _require_aware(now, "now")
    slot = next_run(schedule, max(last, now - MAX_CATCH_UP))
    due: dt.datetime | None = None
    while slot <= now:
        due = slot
        slot = next_run(schedule, slot)
    return due


def slot_key(kind: str, slot: dt.datetime, zone: dt.tzinfo) -> str:
    """The outbox key of a scheduled digest, e.g. ``periodic:2026-11-21T07:00+03:00``."""
    _require_aware(slot, "slot")
    return f"{kind}:{slot.astimezone(zone).isoformat(timespec='minutes')}"
