"""A running live service on the fake Telegram: real Store (temp SQLite), real source, real client."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telethon import TelegramClient

from bot.analysis import Analyser
from bot.app import build_analyser
from bot.metrics import Metrics
from bot.model import Post
from bot.pipeline import Pipeline
from bot.settings import Settings
from bot.sources.telegram import PostSink, TelegramSource, run_backfill, run_live
from bot.sources.telegram_session import make_client
from bot.store import Store
from tests.faketg.clock import FakeClock
from tests.faketg.server import API_HASH, API_ID, FakeTelegram


@functools.cache
def analyser() -> Analyser:
    """The real analyser from the repository's rules (built once per test session)."""
    return build_analyser(Settings(_env_file=None))  # type: ignore[call-arg]


class StoreSink:
    """The PostSink port written straight to the store, in order (stands in for the pipeline)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.puts: list[Post] = []
        self.deletes: list[tuple[str, tuple[int, ...]]] = []

    async def put(self, post: Post) -> None:
        self.puts.append(post)
        await self.store.posts.save(post, None)

    async def delete(self, channel: str, message_ids: Any) -> None:
        self.deletes.append((channel, tuple(message_ids)))
        await self.store.posts.mark_deleted(channel, list(message_ids))

    async def join(self) -> None:
        """Everything put is already stored."""


def make_settings(tmp: Path, channels: list[str], **overrides: Any) -> Settings:
    """Settings as ``convoywatch run`` would load them, with Telegram configured."""
    values: dict[str, Any] = {
        "api_id": str(API_ID),
        "api_hash": API_HASH,
        "session_file": tmp / "tg" / "convoywatch.session",
        "db": tmp / "convoywatch.db",
        "channels": channels,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class LiveService:
    """Start, stop and restart ``run_live`` against a FakeTelegram with a fake clock."""

    def __init__(
        self, fake: FakeTelegram, settings: Settings, clock: FakeClock | None = None, **options: Any
    ):
        self.fake = fake
        self.settings = settings
        self.clock = clock or FakeClock()
        self.metrics = Metrics()
        self.options: dict[str, Any] = {
            "sleep": self.clock.sleep,
            "clock": self.clock,
            "jitter": lambda: 0.0,
            "history_wait_time": 0,
            "album_delay": 0.05,
        }
        self.options.update(options)
        self.store: Store | None = None
        self.sink: Pipeline | None = None
        self._worker: asyncio.Task[None] | None = None
        self.clients: list[TelegramClient] = []
        self.sources: list[TelegramSource] = []
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def factory(self, settings: Settings, session: Any) -> TelegramClient:
        """The production client with its MTProto sender swapped for the fake one."""
        client = self.fake.install(make_client(settings, session))
        self.fake.authorize(client)
        self.clients.append(client)
        return client

    @property
    def source(self) -> TelegramSource:
        return self.sources[-1]

    async def open_store(self) -> None:
        """Open the store and start the pipeline worker (what ``convoywatch run``/``backfill`` do first)."""
        self.store = await Store.open(self.settings.db)
        self.sink = Pipeline(self.store, analyser(), self.metrics)
        self._worker = asyncio.create_task(self.sink.run())

    async def close_store(self) -> None:
        """Finish the pipeline's queue, then close the store."""
        assert self.sink is not None and self._worker is not None and self.store is not None
        await self.sink.close()
        await self._worker
        await self.store.close()

    async def start(self, *, wait: bool = True) -> None:
        """Open the store and run the live source until ``stop``; returns after the first round
        (catch-up and re-check) unless ``wait`` is False."""
        await self.open_store()
        assert self.store is not None and self.sink is not None
        self._stop = asyncio.Event()
        count = len(self.sources)
        self._task = asyncio.create_task(
            run_live(
                self.settings,
                self.store,
                self.sink,
                self.metrics,
                self._stop,
                factory=self.factory,
                started=self.sources.append,
                **self.options,
            )
        )
        await wait_until(lambda: len(self.sources) > count, task=self._task)
        if wait:
            await wait_until(lambda: self.source.passes >= 1, task=self._task)

    async def stop(self) -> None:
        """Set the stop event (what SIGTERM does) and wait for the source to drain and close."""
        assert self._stop is not None and self._task is not None and self.store is not None
        self._stop.set()
        try:
            await self._task
        finally:
            await self.close_store()

    async def close(self) -> None:
        """Teardown after a test, passed or failed: stop if running, always close the store."""
        if self._stop is not None:
            self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        if self._worker is not None and not self._worker.done() and self.sink is not None:
            await self.sink.close()
            with contextlib.suppress(Exception):
                await self._worker
        if self.store is not None:
            with contextlib.suppress(Exception):
                await self.store.close()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def settled(self) -> None:
        """Wait until everything the source enqueued so far is stored."""
        await asyncio.wait_for(self.source.idle(), 10)
        assert self.sink is not None
        await asyncio.wait_for(self.sink.join(), 10)

    async def passes(self, more: int = 1) -> None:
        """Advance the fake clock by one catch-up interval and wait for that pass."""
        target = self.source.passes + more
        for _ in range(more):
            await self.clock.advance(self.settings.catch_up_interval_seconds)
        await wait_until(lambda: self.source.passes >= target, task=self._task)
        await self.settled()

    async def backfill(self, since: Any, **kwargs: Any) -> Any:
        assert self.store is not None and self.sink is not None
        return await run_backfill(
            self.settings,
            self.store,
            self.sink,
            self.metrics,
            since,
            factory=self.factory,
            **self.options,
            **kwargs,
        )


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    within: float = 10.0,
    task: asyncio.Task[Any] | None = None,
) -> None:
    """Poll a condition (sync or async) until it holds; fail clearly after ``within`` real seconds."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if task is not None and task.done():
            task.result()  # raises the service's error
            raise AssertionError("the service stopped before the condition held")
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


__all__ = ["LiveService", "PostSink", "StoreSink", "make_settings", "wait_until"]
