"""The SQLite store against a real temporary file: idempotent writes, edits, deletions, schema."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.errors import StoreError
from bot.model import Analysis, Classification, Event, ForwardOrigin, Post, RuleHit, TermMatch
from bot.store import SaveResult, Store
from bot.store.migrations import SCHEMA_VERSION

WHEN = dt.datetime(2024, 2, 3, 5, 0, tzinfo=dt.UTC)


def _post(channel: str = "chan", mid: int = 1, text: str = "report", **kw: object) -> Post:
    return Post(channel=channel, message_id=mid, date=kw.pop("date", WHEN), text=text, **kw)  # type: ignore[arg-type]


def _analysis(*events: Event) -> Analysis:
    hit = RuleHit("convoy_attack", "relevant", 1.0, "yes", (TermMatch("ied", "IED", 0, 3, "IED"),))
    return Analysis(Classification(True, 1.0, (hit,), {"attack_type": "ied"}), events)


def _event(place: str = "Diwaniyah", admin1: str = "IQ-QA", day: int = 3) -> Event:
    return Event(dt.date(2024, 2, day), "IQ", admin1, place, "ied", "us_coalition")


async def test_same_post_twice_changes_nothing(db_path: Path) -> None:
    """Saving an identical post again is UNCHANGED and leaves every count as it was."""
    async with await Store.open(db_path) as store:
        first = await store.posts.save(_post(), _analysis(_event()))
        before = await store.posts.stats()
        again = await store.posts.save(_post(), _analysis(_event()))
        assert first.result is SaveResult.NEW
        assert again.result is SaveResult.UNCHANGED
        assert await store.posts.stats() == before
        assert before["posts"] == 1 and before["events"] == 1 and before["incidents"] == 1


async def test_edit_keeps_history_and_replaces_events(db_path: Path) -> None:
    """An edited post keeps its earlier text and its events are re-extracted."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post(text="v1"), _analysis(_event("Diwaniyah")))
        outcome = await store.posts.save(_post(text="v2"), _analysis(_event("Samawah", "IQ-MU")))
        stored = await store.posts.get("chan", 1)
        assert outcome.result is SaveResult.EDITED
        assert stored is not None and stored.post.text == "v2" and stored.history == ("v1",)
        incidents = await store.posts.incidents()
        assert [(i.place, i.admin1) for i in incidents] == [("Samawah", "IQ-MU")]


async def test_edit_to_irrelevant_removes_the_incident(db_path: Path) -> None:
    """When an edit makes a post irrelevant, an incident it alone supported disappears."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post(text="v1"), _analysis(_event()))
        await store.posts.save(_post(text="v2"), Analysis(Classification(False, 0.0)))
        stats = await store.posts.stats()
        assert stats["incidents"] == 0 and stats["events"] == 0 and stats["relevant_posts"] == 0


async def test_deleted_posts_stay_marked(db_path: Path) -> None:
    """A deletion marks the post; the incident keeps it as a deleted source."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post(), _analysis(_event()))
        assert await store.posts.mark_deleted("chan", [1, 99]) == 1
        assert await store.posts.mark_deleted("chan", [1]) == 0
        stored = await store.posts.get("chan", 1)
        assert stored is not None and stored.deleted
        (incident,) = await store.posts.incidents()
        assert [s.deleted for s in incident.sources] == [True]


async def test_reports_from_several_channels_make_one_incident(db_path: Path) -> None:
    """The same attack from three channels and a forward is one incident with four sources."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post("a", 1), _analysis(_event()))
        await store.posts.save(_post("b", 7, date=WHEN + dt.timedelta(hours=2)), _analysis(_event()))
        await store.posts.save(_post("c", 3, date=WHEN + dt.timedelta(hours=20)), _analysis(_event(day=4)))
        await store.posts.save(
            _post("d", 5, forward=ForwardOrigin("a", 1)), _analysis(_event(place="Samawah", admin1="IQ-MU"))
        )
        (incident,) = await store.posts.incidents()
        assert incident.corroboration == 4
        assert incident.sources[0].link == "https://t.me/a/1"


async def test_cursor_advances_with_saved_posts(db_path: Path) -> None:
    """Saving a post moves its channel's cursor forward, never back."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post(mid=10), None)
        await store.posts.save(_post(mid=4), None)
        assert await store.channels.cursor("chan") == 10


async def test_reopen_keeps_data_and_migrations_run_once(db_path: Path) -> None:
    """Reopening applies no migration twice and finds the data intact."""
    async with await Store.open(db_path) as store:
        await store.posts.save(_post(), _analysis(_event()))
    async with await Store.open(db_path) as store:
        rows = await store.db.read("SELECT version FROM schema_migrations")
        assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
        assert (await store.posts.stats())["posts"] == 1
        assert await store.db.integrity_check() == "ok"


async def test_database_from_a_newer_schema_is_refused(db_path: Path) -> None:
    """A database written by a newer convoywatch is refused with a clear error, untouched."""
    async with await Store.open(db_path):
        pass
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'future', 'x')", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer than this convoywatch"):
        await Store.open(db_path)


async def test_unopenable_database_path_is_a_store_error(tmp_path: Path) -> None:
    """A database that cannot be created (its folder is a file) is a StoreError, not a traceback."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open database"):
        await Store.open(blocker / "x.db")


async def test_read_only_database_file_is_a_store_error(db_path: Path) -> None:
    """Writing to a database opened read-only fails with a StoreError naming the cause."""
    async with await Store.open(db_path):
        pass
    uri = Path(f"{db_path}")
    async with await Store.open(uri) as store:
        await store.db.conn.execute("PRAGMA query_only = ON")
        with pytest.raises(StoreError, match="cannot write"):
            await store.posts.save(_post(), None)
        await store.db.conn.execute("PRAGMA query_only = OFF")
        assert (await store.posts.stats())["posts"] == 0
