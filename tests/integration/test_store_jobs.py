"""The one-job write path: a batch is one call in the database thread, all or nothing, idempotent,
and incident grouping reads one row per incident and day of the window."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import aiosqlite
import pytest

from bench.crash_soak import compare, snapshot
from bench.generate import Spec, jsonl_records
from bot.analysis import Analyser
from bot.errors import StoreError
from bot.extract.events import load_extractor
from bot.model import Analysis, Classification, Event, ForwardOrigin, Post
from bot.rules.engine import load_ruleset
from bot.sources.replay import jsonl_post
from bot.store import SaveResult, Store
from bot.store.db import CHECKPOINT_BYTES, Database, now_iso
from bot.store.migrations import MIGRATIONS
from bot.store.posts import Item, save_batch
from tests.conftest import CONFIG

T = TypeVar("T")
WHEN = dt.datetime(2024, 2, 3, 5, 0, tzinfo=dt.UTC)
QUIET = Analysis(Classification(False, 0.0))
DAYS = "SELECT * FROM incident_days ORDER BY 1, 2, 3"


def _event(
    place: str | None = "Diwaniyah",
    admin1: str = "IQ-QA",
    day: int = 3,
    attack_type: str = "ied",
    **kw: object,
) -> Event:
    return Event(dt.date(2024, 2, day), "IQ", admin1, place, attack_type, "us_coalition", **kw)  # type: ignore[arg-type]


def _report(*events: Event) -> Analysis:
    return Analysis(Classification(True, 1.0), events)


def _post(channel: str, mid: int, text: str = "report", **kw: object) -> Post:
    return Post(channel=channel, message_id=mid, date=kw.pop("date", WHEN), text=text, **kw)  # type: ignore[arg-type]


class CountingDatabase(Database):
    """A Database that counts the calls it sends to the database thread."""

    calls = 0

    def _in_thread(self, call: Callable[[], T]) -> Awaitable[T]:
        CountingDatabase.calls += 1
        return super()._in_thread(call)


async def _members(store: Store) -> list[list[tuple[str, int, int]]]:
    rows = await store.db.read(
        "SELECT e.incident_id, p.channel, p.message_id, e.seq FROM events e JOIN posts p ON p.id = e.post_id"
        " ORDER BY e.incident_id, p.channel, p.message_id, e.seq"
    )
    groups: dict[int, list[tuple[str, int, int]]] = {}
    for row in rows:
        groups.setdefault(int(row[0]), []).append((row[1], int(row[2]), int(row[3])))
    return sorted(groups.values())


async def test_a_batch_with_reports_is_one_call_in_the_database_thread(db_path: Path) -> None:
    """Saving a batch (plain posts, reports, an edit) costs one call to the thread; a live post too."""
    async with Store(await CountingDatabase.open(db_path)) as store:
        CountingDatabase.calls = 0
        await store.posts.save_many(
            [
                (_post("a", 1, "plain"), QUIET, None),
                (_post("a", 2), _report(_event()), None),
                (_post("b", 1), _report(_event(), _event("Samawah", "IQ-MU")), None),
                (_post("a", 2, "report, edited"), _report(_event()), None),
            ]
        )
        assert CountingDatabase.calls == 1
        await store.posts.save(_post("c", 1), _report(_event()))
        await store.posts.mark_deleted("c", [1])
        await store.channels.advance_cursor("c", 9)
        assert CountingDatabase.calls == 4


async def test_a_batch_that_fails_half_way_leaves_nothing(db_path: Path) -> None:
    """A post SQLite cannot take, after reports were grouped, rolls the whole batch back."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post("a", 1), _report(_event()))
        before = await store.db.read("SELECT * FROM incident_days")
        with pytest.raises(UnicodeEncodeError):
            await store.posts.save_many(
                [
                    (_post("b", 1), _report(_event()), None),
                    (_post("b", 2), _report(_event("Samawah", "IQ-MU")), None),
                    (_post("b", 3, "lone \ud800 surrogate"), _report(_event("Kut", "IQ-WA")), None),
                ]
            )
        stats = await store.posts.stats()
        after = await store.db.read("SELECT * FROM incident_days")
        assert (stats["posts"], stats["events"], stats["incidents"]) == (1, 1, 1)
        assert [tuple(row) for row in after] == [tuple(row) for row in before]
        # The connection is usable and out of the failed transaction.
        assert not store.db.conn.in_transaction
        outcome = await store.posts.save(_post("b", 1), _report(_event()))
        assert outcome.result is SaveResult.NEW and outcome.changed_incidents == (1,)


async def test_a_database_error_in_a_job_is_a_store_error_and_rolls_back(db_path: Path) -> None:
    """A failing statement inside a job is a StoreError naming the database; nothing is kept."""
    async with await Store.open(db_path) as store:

        def job(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO state (key, value) VALUES ('k', 'v')")
            conn.execute("INSERT INTO state (key, value) VALUES ('k', 'again')")  # primary key clash

        with pytest.raises(StoreError, match=f"cannot write to {db_path}"):
            await store.db.run(job)
        assert await store.state.get("k") is None


async def test_saving_the_same_batch_again_changes_nothing(db_path: Path) -> None:
    """The same batch twice: every outcome UNCHANGED, every table (incident_days too) identical."""
    batch = [
        (_post("a", 1), _report(_event()), None),
        (_post("b", 1, forward=ForwardOrigin("a", 1)), _report(_event(place=None)), None),
        (_post("c", 1), _report(_event(), _event("Samawah", "IQ-MU", day=4)), None),
        (_post("c", 2, "plain"), QUIET, None),
    ]
    async with await Store.open(db_path) as store:
        await store.posts.save_many(batch)
        days = [tuple(row) for row in await store.db.read(DAYS)]
    want = snapshot(db_path)
    async with await Store.open(db_path) as store:
        again = await store.posts.save_many(batch)
        assert [
            tuple(row) for row in await store.db.read("SELECT * FROM incident_days ORDER BY 1, 2, 3")
        ] == days
    assert all(outcome.result is SaveResult.UNCHANGED for outcome in again)
    assert compare(want, snapshot(db_path)) == []


async def test_grouping_sees_every_incident_in_a_flooded_window(db_path: Path) -> None:
    """600 reports of one attack do not hide another incident of the same days (LIMIT 500 did)."""
    async with await Store.open(db_path) as store:
        await store.posts.save_many([(_post(f"ch{i % 50}", i), _report(_event()), None) for i in range(600)])
        anbar = _event("Rutba", "IQ-AN")
        await store.posts.save(_post("x", 1), _report(anbar))
        outcome = await store.posts.save(_post("y", 1), _report(anbar))
        rows = await store.db.read("SELECT incident_id, COUNT(*) FROM incident_days GROUP BY incident_id")
    assert outcome.new_incidents == () and outcome.changed_incidents == (2,)
    assert [tuple(row) for row in rows] == [(1, 1), (2, 1)]


async def test_an_edit_updates_what_grouping_reads(db_path: Path) -> None:
    """After an edit moves a report elsewhere, the next report of the old place no longer fits it."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post("a", 1), _report(_event()))
        await store.posts.save(_post("a", 1, "moved", edit_date=WHEN), _report(_event("Samawah", "IQ-MU")))
        outcome = await store.posts.save(_post("b", 1), _report(_event()))
        facts = await store.db.read("SELECT stated FROM incident_days")
    assert outcome.new_incidents != ()
    assert sorted(json.loads(row[0])[0][1] for row in facts) == ["Diwaniyah", "Samawah"]


async def test_one_post_never_feeds_one_incident_twice_even_days_apart(db_path: Path) -> None:
    """Two events of one post go to two incidents, also when the first lies outside the second's window."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post("a", 1), _report(_event(day=3)))
        await store.posts.save(_post("b", 1), _report(_event(day=4)))
        await store.posts.save(_post("c", 1), _report(_event(day=2), _event(day=4)))
        members = await _members(store)
    assert members == [[("a", 1, 0), ("b", 1, 0), ("c", 1, 0)], [("c", 1, 1)]]


async def test_migration_backfills_incident_days_as_the_store_writes_them(db_path: Path) -> None:
    """A database grouped before incident_days existed gets the same rows from the migration."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post("a", 1), _report(_event(lat=31.99, lon=44.93)))
        await store.posts.save(_post("b", 1), _report(_event(place=None, day=4)))
        await store.posts.save(_post("c", 1, forward=ForwardOrigin("a", 1)), _report(_event("Afak")))
        await store.posts.save(_post("d", 1), _report(_event("Samawah", "IQ-MU", killed=2)))
        written = await store.db.read("SELECT incident_id, country, date, stated FROM incident_days")
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("DROP TABLE incident_days")
        conn.execute("DELETE FROM schema_migrations WHERE version = 2")
    conn.close()
    async with await Store.open(db_path) as store:
        migrated = await store.db.read("SELECT incident_id, country, date, stated FROM incident_days")

    def facts(rows: list[aiosqlite.Row]) -> set[tuple[object, ...]]:
        """Rows as sets of facts (the JSON lists' order is not part of the contract)."""
        return {(r[0], r[1], r[2], frozenset(tuple(fact) for fact in json.loads(r[3]))) for r in rows}

    # Incident 1 on the 3rd (Diwaniyah at a point, Afak by forward) and the 4th; Samawah.
    assert len(written) == 3 and facts(migrated) == facts(written)
    assert {len(json.loads(row[3])) for row in written} == {1, 2}
    assert MIGRATIONS[1].name == "incident_days"


def _size(path: Path) -> int:
    return path.stat().st_size


async def test_the_wal_is_checkpointed_in_the_background(db_path: Path) -> None:
    """Writes past CHECKPOINT_BYTES start a checkpoint off the write path; the WAL stays small."""
    wal = Path(f"{db_path}-wal")
    text = "x" * 50_000
    async with await Store.open(db_path) as store:
        sizes = []
        for batch in range(10):
            await store.posts.save_many([(_post("a", batch * 20 + i, text), QUIET, None) for i in range(20)])
            sizes.append(_size(wal))
            if store.db._checkpoint is not None:
                await store.db._checkpoint
        assert max(sizes) < CHECKPOINT_BYTES + 2_000_000  # 10 MB written, never all of it in the WAL
        assert await store.db.integrity_check() == "ok"
    async with await Store.open(db_path) as store:
        assert (await store.posts.stats())["posts"] == 200


async def test_an_edited_report_is_grouped_without_its_old_version(db_path: Path) -> None:
    """An edit from 'IED' to 'rocket' stays in its incident when the other reports leave the weapon open."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post("a", 1), _report(_event(attack_type="unknown")))
        await store.posts.save(_post("b", 1, "IED"), _report(_event()))
        outcome = await store.posts.save(
            _post("b", 1, "rocket", edit_date=WHEN), _report(_event(attack_type="rocket"))
        )
        members = await _members(store)
    assert (outcome.new_incidents, outcome.changed_incidents) == ((), (1,))
    assert members == [[("a", 1, 0), ("b", 1, 0)]]


async def test_an_incident_id_is_never_used_twice(db_path: Path) -> None:
    """A new incident after the newest one was dropped gets a fresh id (alert keys name incident ids)."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post("a", 1), _report(_event()))
        await store.posts.save(_post("b", 1), _report(_event("Samawah", "IQ-MU")))
        dropped = await store.posts.save(_post("b", 1, "no attack after all", edit_date=WHEN), QUIET)
        fresh = await store.posts.save(_post("c", 1), _report(_event("Rutba", "IQ-AN")))
    async with await Store.open(db_path) as store:
        again = await store.posts.save(_post("d", 1), _report(_event("Kut", "IQ-WA")))
    assert dropped.changed_incidents == (2,) and await _ids(db_path) == [1, 3, 4]
    assert (fresh.new_incidents, again.new_incidents) == ((3,), (4,))


async def _ids(db_path: Path) -> list[int]:
    async with await Store.open(db_path) as store:
        return [int(row[0]) for row in await store.db.read("SELECT id FROM incidents ORDER BY id")]


async def test_refreshing_from_cached_members_stores_what_re_reading_does(tmp_path: Path) -> None:
    """Incidents refreshed from the member cache (also after a rolled-back batch) equal re-read ones."""
    analyser = Analyser.build(
        load_ruleset(CONFIG / "rules"), load_extractor(CONFIG / "gazetteer", CONFIG / "groups.yaml")
    )
    spec = Spec(1500, 5, seed=33, posts_per_day=300, relevant_share=0.2, edit_share=0.05)
    posts = [post for record in jsonl_records(spec) if isinstance(post := jsonl_post(record), Post)]
    items = [(post, analyser.analyse(post), None) for post in posts]
    poison = (_post("x", 1, "lone \ud800"), _report(_event("Kut", "IQ-WA")), None)  # fails last
    cached, uncached = tmp_path / "cached.db", tmp_path / "uncached.db"
    for path, cache in ((cached, True), (uncached, False)):
        async with await Store.open(path) as store:
            for start in range(0, len(items), 50):
                batch = items[start : start + 50]
                if start == 500:  # a batch that fails after grouping reposts with other figures
                    with pytest.raises(UnicodeEncodeError):
                        await _save(store, [*_ghosts(items[400:600]), poison], cache)
                await _save(store, batch, cache)
                if start == 700:
                    await store.posts.mark_deleted(posts[10].channel, [posts[10].message_id])
            versions = [tuple(row) for row in await store.db.read("SELECT id, version FROM incidents")]
        if cache:
            want_versions = versions
    want = snapshot(uncached)
    assert sum(want["incidents"].values()) > 5 and sum(want["post_edits"].values()) > 0
    assert compare(want, snapshot(cached)) == []
    assert versions == want_versions


async def _save(store: Store, batch: Sequence[Item], cache: bool) -> None:
    if cache:
        await store.posts.save_many(batch)
    else:
        await store.db.run(lambda conn: save_batch(conn, batch, now_iso()))


def _ghosts(items: Sequence[Item]) -> list[Item]:
    """The reports among ``items`` reposted by another channel, with 999 killed."""
    return [
        (
            dataclasses.replace(post, channel="ghost"),
            dataclasses.replace(
                analysis, events=tuple(dataclasses.replace(e, killed=999) for e in analysis.events)
            ),
            None,
        )
        for post, analysis, _error in items
        if analysis is not None and analysis.events
    ]
