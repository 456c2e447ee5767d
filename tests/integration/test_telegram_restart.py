"""Restarts, outages and backfill: nothing lost, nothing twice (real client, fake Telegram, real SQLite)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from telethon.tl import functions

from bot.store import Store
from tests.faketg import FakeTelegram
from tests.faketg.live import LiveService, make_settings, wait_until
from tests.integration.test_telegram_live import assert_mirrors

DAY = dt.timedelta(days=1)
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
async def live() -> AsyncIterator[Callable[..., LiveService]]:
    """Build LiveServices that are always stopped and closed at the end of the test."""
    made: list[LiveService] = []

    def build(*args: Any, **kwargs: Any) -> LiveService:
        made.append(LiveService(*args, **kwargs))
        return made[-1]

    yield build
    for service in made:
        await service.close()


def _store(service: LiveService) -> Store:
    assert service.store is not None
    return service.store


async def _count_is(store: Store, key: str, expected: int) -> bool:
    return await store.posts.count(key) == expected


async def test_restart_fetches_posts_edits_and_deletions_made_while_down(
    tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """After a restart the cursor catch-up and the re-check bring the store level with the channel."""
    fake = FakeTelegram()
    news = fake.add_channel("ConvoyNews")
    service = live(fake, make_settings(tmp_path, ["@ConvoyNews"]))
    await service.start()
    for n in range(1, 6):
        fake.post(news, f"report {n}")
    album = fake.post_album(news, "caption on the last photo", size=3, caption_index=2)
    await wait_until(lambda: _count_is(_store(service), "convoynews", 6))
    await service.stop()
    fake.edit(news, album[2].id, "caption on the last photo, corrected while down")

    fake.post(news, "posted while down")
    fake.post_album(news, "album while down", size=2)
    fake.edit(news, 2, "report 2, corrected while down")
    fake.delete(news, [3])
    await service.start()
    store = _store(service)
    await service.settled()
    await assert_mirrors(store, fake, news, albums=True)
    edited = await store.posts.get("convoynews", 2)
    assert edited is not None and edited.history == ("report 2",)
    assert fake.count(functions.contacts.ResolveUsernameRequest) == 1, (
        "the cached channel is not resolved again"
    )
    await service.stop()


async def test_long_outage_reconnects_with_backoff_and_catches_up_hundreds(
    tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """A dropped connection is retried with growing waits; then hundreds of missed posts are fetched."""
    fake = FakeTelegram()
    news = fake.add_channel("ConvoyNews")
    service = live(fake, make_settings(tmp_path, ["@ConvoyNews"], reconnect_max_backoff_seconds=8))
    await service.start()
    fake.post(news, "before the outage")
    store = _store(service)
    await wait_until(lambda: _count_is(store, "convoynews", 1))
    fake.offline = True
    fake.drop_connections()
    for n in range(450):
        fake.post(news, f"during the outage {n}")
    fake.edit(news, 1, "before the outage (edited)")
    # jitter is 0, so each wait is half the capped exponential: 0.5, 1, 2, 4, 4, ...
    clock = service.clock

    def waiting(seconds: float) -> bool:
        return clock.sleeping >= 1 and clock.sleeps[-1] == seconds

    for expected in (0.5, 1.0, 2.0, 4.0, 4.0):
        await wait_until(lambda expected=expected: waiting(expected))  # type: ignore[misc]
        await clock.advance(expected)
    fake.offline = False
    await wait_until(lambda: waiting(4.0))
    passes = service.source.passes
    await service.clock.advance(4.0)
    await wait_until(lambda: service.source.passes > passes)
    await service.settled()
    await wait_until(lambda: _count_is(store, "convoynews", 451))
    await service.clock.advance(service.settings.recheck_interval_seconds)
    await wait_until(lambda: _text(store, 1, "before the outage (edited)"))
    await assert_mirrors(store, fake, news)
    fake.post(news, "live again after reconnecting")
    await wait_until(lambda: _count_is(store, "convoynews", 452))
    await service.stop()


async def _text(store: Store, message_id: int, text: str) -> bool:
    stored = await store.posts.get("convoynews", message_id)
    return stored is not None and stored.post.text == text


def _history_channel(fake: FakeTelegram) -> None:
    news = fake.add_channel("ConvoyNews")
    for day in range(10):
        for n in range(30):
            fake.post(news, f"day {day} post {n}", date=START + day * DAY + dt.timedelta(minutes=n))
        fake.post_album(news, f"day {day} album", size=3, date=START + day * DAY + dt.timedelta(hours=2))


async def test_backfill_stopped_by_sigterm_resumes_without_loss_or_duplicates(
    tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """A backfill stopped half-way (the stop event SIGTERM sets) resumes from its checkpoint."""
    fake = FakeTelegram()
    _history_channel(fake)
    news = fake.channels[1001]
    since = START + 3 * DAY
    service = live(fake, make_settings(tmp_path, ["@ConvoyNews"]))
    await service.open_store()
    store = _store(service)
    assert service.sink is not None
    totals = service.sink.totals
    stop = asyncio.Event()
    seen: list[int] = []

    def progress(key: str, done: int) -> None:
        seen.append(done)
        if done == 100:
            stop.set()

    first = await service.backfill(since, progress=progress, stop=stop)
    assert first.interrupted and first.posts == {"convoynews": 100}
    first_posts = totals.posts
    second = await service.backfill(since, progress=progress)
    assert not second.interrupted
    total = 7 * 31
    assert totals.posts - first_posts == second.posts["convoynews"]
    assert totals.posts <= total + 2, "resumed from the checkpoint, not from the start"
    ids = sorted(await store.posts.recent_ids("convoynews", 10_000))
    expected = sorted(
        {
            m.id
            if m.grouped_id is None
            else min(x.id for x in news.messages.values() if x.grouped_id == m.grouped_id)
            for m in news.messages.values()
            if m.date >= since
        }
    )
    assert ids == expected and len(ids) == total
    assert totals.new == total and await store.posts.count("convoynews") == total
    album = await store.posts.get("convoynews", expected[-1])
    assert album is not None and album.post.text == "day 9 album" and album.post.has_media
    await service.close_store()


async def test_backfill_cancelled_mid_way_loses_nothing_on_rerun(
    tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """A backfill task cancelled mid-flight (hard stop) is re-run: every post stored exactly once."""
    fake = FakeTelegram()
    _history_channel(fake)
    since = START + 5 * DAY
    service = live(fake, make_settings(tmp_path, ["@ConvoyNews"]))
    await service.open_store()
    store = _store(service)
    reached = asyncio.Event()

    def progress(key: str, done: int) -> None:
        if done >= 60:
            reached.set()

    task = asyncio.create_task(service.backfill(since, progress=progress))
    await reached.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert service.sink is not None
    await service.sink.join()
    assert await store.posts.count("convoynews") < 5 * 31
    result = await service.backfill(since)
    assert result.posts["convoynews"] > 0
    assert await store.posts.count("convoynews") == 5 * 31
    assert service.sink.totals.new == 5 * 31, "no post was stored twice"
    await service.close_store()
