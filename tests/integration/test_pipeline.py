"""The pipeline: in-order processing, batching, error isolation, deletions, hooks."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from bot.model import Analysis, Classification, Event, Post
from bot.pipeline import Pipeline
from bot.store import SaveOutcome, Store

WHEN = dt.datetime(2024, 2, 3, 5, 0, tzinfo=dt.UTC)


class FakeAnalyser:
    """Relevant when the text says 'attack'; raises on 'boom' (a fake of the analyser port)."""

    def analyse(self, post: Post) -> Analysis:
        if "boom" in post.text:
            raise ValueError("cannot parse")
        if "attack" in post.text:
            event = Event(post.local_date, "IQ", "IQ-BG", f"place-{post.message_id}", "ied", "us_coalition")
            return Analysis(Classification(True, 1.0), (event,))
        return Analysis(Classification(False, 0.0))


def _post(mid: int, text: str, channel: str = "chan") -> Post:
    return Post(channel, mid, WHEN + dt.timedelta(minutes=mid), text)


async def test_worker_processes_in_order_and_isolates_failures(db_path: Path) -> None:
    """Queued posts are stored in order; one that fails analysis is stored with its error."""
    seen: list[int] = []

    async def hook(saved: Sequence[tuple[Post, SaveOutcome]]) -> None:
        seen.extend(post.message_id for post, _ in saved)

    async with await Store.open(db_path) as store:
        pipeline = Pipeline(store, FakeAnalyser(), on_saved=[hook])
        worker = asyncio.create_task(pipeline.run())
        for mid, text in [(1, "attack one"), (2, "boom"), (3, "weather"), (4, "attack two")]:
            await pipeline.put(_post(mid, text))
        await pipeline.join()
        await pipeline.close()
        await worker
        stats = await store.posts.stats()
        failed = await store.posts.get("chan", 2)
    assert seen == [1, 2, 3, 4]
    assert stats["posts"] == 4 and stats["relevant_posts"] == 2 and stats["posts_failed"] == 1
    assert failed is not None and failed.error == "ValueError: cannot parse"
    assert pipeline.totals.failed == 1
    assert pipeline.metrics.post_errors._value.get() == 1


async def test_deletions_and_edits_through_the_queue(db_path: Path) -> None:
    """A delete queued after a post marks it; an edit queued after is kept in history."""
    async with await Store.open(db_path) as store:
        pipeline = Pipeline(store, FakeAnalyser())
        worker = asyncio.create_task(pipeline.run())
        await pipeline.put(_post(1, "attack"))
        await pipeline.put(_post(1, "attack, corrected"))
        await pipeline.put(_post(2, "other"))
        await pipeline.delete("chan", [2])
        await pipeline.join()
        await pipeline.close()
        await worker
        edited = await store.posts.get("chan", 1)
        deleted = await store.posts.get("chan", 2)
    assert edited is not None and edited.history == ("attack",) and edited.post.text == "attack, corrected"
    assert deleted is not None and deleted.deleted
    assert pipeline.totals.edited == 1 and pipeline.totals.deleted == 1


async def test_close_drains_everything_queued_before_it(db_path: Path) -> None:
    """Closing finishes the queue first: nothing queued before close is lost."""
    async with await Store.open(db_path) as store:
        pipeline = Pipeline(store, FakeAnalyser())
        for mid in range(1, 1201):
            await pipeline.put(_post(mid, "attack" if mid % 3 == 0 else "x"))
        await pipeline.close()
        await pipeline.run()
        stats = await store.posts.stats()
    assert stats["posts"] == 1200 and stats["relevant_posts"] == 400


async def test_ingest_twice_is_idempotent(db_path: Path) -> None:
    """Ingesting the same batch twice leaves the store as it was after the first time."""
    posts = [_post(mid, "attack" if mid % 2 else "x") for mid in range(1, 50)]
    async with await Store.open(db_path) as store:
        pipeline = Pipeline(store, FakeAnalyser())
        await pipeline.ingest(posts)
        first = await store.posts.stats()
        await pipeline.ingest(posts)
        assert await store.posts.stats() == first
    assert pipeline.totals.unchanged == len(posts)
