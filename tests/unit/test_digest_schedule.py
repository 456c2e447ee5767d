"""Digest schedules: clock times in a zone, every N hours, DST, catching up after a restart."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bot.digest.schedule import Schedule, latest_due, next_run, slot_key

BAGHDAD = zoneinfo.ZoneInfo("Asia/Baghdad")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TWICE = Schedule.at(BAGHDAD, [dt.time(19), dt.time(7)])


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A UTC datetime."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2026, 11, 21, 3, 59), "2026-11-21T07:00:00+03:00"),  # 06:59 Baghdad
        (utc(2026, 11, 21, 4, 0), "2026-11-21T19:00:00+03:00"),  # exactly 07:00: strictly after
        (utc(2026, 11, 21, 16, 30), "2026-11-22T07:00:00+03:00"),  # 19:30 Baghdad
        (utc(2026, 12, 31, 21, 0), "2027-01-01T07:00:00+03:00"),  # midnight new year in Baghdad
    ],
)
def test_clock_times_in_baghdad(after: dt.datetime, expected: str) -> None:
    """07:00 and 19:00 Asia/Baghdad are 04:00 and 16:00 UTC, whatever zone 'after' is in."""
    assert next_run(TWICE, after).isoformat() == expected
    assert next_run(TWICE, after.astimezone(NEW_YORK)).isoformat() == expected


def test_same_wall_time_across_a_dst_change() -> None:
    """07:00 Europe/Berlin stays 07:00 local across the October change (06:00 then 07:00 UTC... in UTC+1)."""
    schedule = Schedule.at(BERLIN, [dt.time(7)])
    before = next_run(schedule, utc(2026, 10, 24, 12))
    after = next_run(schedule, before)
    assert before.astimezone(dt.UTC) == utc(2026, 10, 25, 6)  # CET after the change: UTC+1
    assert before.astimezone(BERLIN).hour == 7
    assert after.astimezone(dt.UTC) == utc(2026, 10, 26, 6)
    assert next_run(schedule, utc(2026, 10, 20, 12)).astimezone(dt.UTC) == utc(2026, 10, 21, 5)  # CEST


def test_a_wall_time_skipped_by_dst_still_runs() -> None:
    """02:30 does not exist in Berlin on 29 March 2026; the slot still happens that day, once."""
    schedule = Schedule.at(BERLIN, [dt.time(2, 30)])
    slot = next_run(schedule, utc(2026, 3, 28, 12))
    assert slot.astimezone(dt.UTC).date() == dt.date(2026, 3, 29)
    assert next_run(schedule, slot).astimezone(BERLIN).date() == dt.date(2026, 3, 30)


@pytest.mark.parametrize(
    ("hours", "after", "expected"),
    [
        (6, utc(2026, 11, 21, 16, 19), "2026-11-22T00:00:00+03:00"),
        (6, utc(2026, 11, 21, 21, 0), "2026-11-22T06:00:00+03:00"),
        (1, utc(2026, 11, 21, 16, 19), "2026-11-21T20:00:00+03:00"),
        (0.5, utc(2026, 11, 21, 16, 19), "2026-11-21T19:30:00+03:00"),
        (24, utc(2026, 11, 21, 16, 19), "2026-11-22T00:00:00+03:00"),
    ],
)
def test_every_n_hours_counts_from_local_midnight(hours: float, after: dt.datetime, expected: str) -> None:
    """Every N hours gives the same local times each day when N divides 24."""
    schedule = Schedule(zone=BAGHDAD, every_hours=hours)
    assert next_run(schedule, after).isoformat() == expected


def test_latest_due_runs_a_missed_slot_once() -> None:
    """After two days down, only the latest missed slot is due, not each of the four."""
    last = utc(2026, 11, 19, 4, 0)  # the 07:00 slot two days ago
    now = utc(2026, 11, 21, 10, 0)  # 13:00 Baghdad
    assert latest_due(TWICE, last, now) == dt.datetime(2026, 11, 21, 7, tzinfo=BAGHDAD)
    assert latest_due(TWICE, dt.datetime(2026, 11, 21, 7, tzinfo=BAGHDAD), now) is None


def test_latest_due_includes_a_slot_at_exactly_now() -> None:
    """A slot equal to now is due; one a second later is not."""
    now = utc(2026, 11, 21, 16, 0)
    assert latest_due(TWICE, utc(2026, 11, 21, 4, 0), now) == now
    assert latest_due(TWICE, utc(2026, 11, 21, 4, 0), now - dt.timedelta(seconds=1)) is None


def test_slot_key_is_in_the_zone() -> None:
    """Keys name the slot in local time with its offset, whatever zone the slot came in."""
    assert slot_key("periodic", utc(2026, 11, 21, 4), BAGHDAD) == "periodic:2026-11-21T07:00+03:00"


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"every_hours": 0}, {"every_hours": -3}, {"times": (dt.time(7, tzinfo=dt.UTC),)}],
)
def test_bad_schedules_are_refused(kwargs: dict[str, object]) -> None:
    """A schedule without times, with a non-positive period or with zoned times is refused."""
    with pytest.raises(ValueError, match=r"schedule|every_hours"):
        Schedule(zone=BAGHDAD, **kwargs)  # type: ignore[arg-type]


def test_naive_times_are_refused() -> None:
    """``now`` must be aware: a naive datetime is a bug, not local time."""
    with pytest.raises(ValueError, match="aware"):
        next_run(TWICE, dt.datetime(2026, 11, 21, 7))
