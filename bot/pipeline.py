"""The ingest pipeline: sources put posts on one queue, one worker analyses and stores them in order.

Handlers only enqueue, so a source that disconnects never cancels half-done work. A post
whose analysis raises is stored with its error and counted; processing goes on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.logs import get_logger
from bot.metrics import Metrics
from bot.model import Analysis, Post
from bot.sources.replay import clean_text
from bot.store import SaveOutcome, SaveResult, Store

log = get_logger(__name__)

#: Most posts written in one transaction when the queue has a backlog.
BATCH = 500

#: Only this much of a post's text is analysed (all of it is stored). A Telegram post holds at
#: most 4,096 characters; extraction cost grows faster than the text, so a hostile 1 MB post
#: would hold the single worker for minutes (16 K characters: ~0.2 s on the bench machine).
MAX_ANALYSED_CHARS = 16_384


class PostAnalyser(Protocol):
    """What the pipeline needs of the pure core (``bot.analysis.Analyser``)."""

    def analyse(self, post: Post) -> Analysis: ...


OnSaved = Callable[[Sequence[tuple[Post, SaveOutcome]]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Delete:
    channel: str
    message_ids: tuple[int, ...]


@dataclass(slots=True)
class _Item:
    work: Post | _Delete
    queued_at: float
    done: asyncio.Future[None] | None = None


@dataclass(slots=True)
class Totals:
    """What the pipeline has done since it started."""

    posts: int = 0
    new: int = 0
    edited: int = 0
    unchanged: int = 0
    relevant: int = 0
    events: int = 0
    incidents: int = 0
    deleted: int = 0
    failed: int = 0
    channels: set[str] = field(default_factory=set)


def _storable(post: Post) -> Post:
    """The post with text SQLite accepts: a lone surrogate (which a live source can hand over)
    would fail the whole batch's transaction, so it is replaced as the replay sources do."""
    text = post.text
    if text.isascii() and "\x00" not in text:
        return post
    fixed = clean_text(text)
    return post if fixed == text else dataclasses.replace(post, text=fixed)


class Pipeline:
    """Analyse and store posts in arrival order; implements the sources' ``PostSink`` port."""

    def __init__(
        self,
        store: Store,
        analyser: PostAnalyser,
        metrics: Metrics | None = None,
        *,
        on_saved: Iterable[OnSaved] = (),
        maxsize: int = 10_000,
    ) -> None:
        self.store = store
        self.analyser = analyser
        self.metrics = metrics or Metrics()
        self.on_saved = list(on_saved)
        self.totals = Totals()
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue(maxsize)

    # ------------------------------------------------------------------ the PostSink port
    async def put(self, post: Post) -> None:
        """Queue a new or edited post."""
        await self._queue.put(_Item(post, time.perf_counter()))

    async def delete(self, channel: str, message_ids: Sequence[int]) -> None:
        """Queue the deletion of posts (they stay stored, marked deleted)."""
        await self._queue.put(_Item(_Delete(channel, tuple(message_ids)), time.perf_counter()))

    async def join(self) -> None:
        """Wait until everything queued so far is stored."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Item(_Delete("", ()), time.perf_counter(), done))
        await done

    async def close(self) -> None:
        """Ask the worker to finish the queue and stop."""
        await self._queue.put(None)

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    # ------------------------------------------------------------------ the worker
    async def run(self) -> None:
        """Process the queue in order until ``close``; batches a backlog into one transaction."""
        while True:
            item = await self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < BATCH and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    await self._process(batch)
                    return
                batch.append(more)
            await self._process(batch)

    async def _process(self, batch: list[_Item]) -> None:
        posts: list[_Item] = []
        for item in batch:
            if isinstance(item.work, Post):
                posts.append(item)
                continue
            if posts:
                await self._store_posts(posts)
                posts = []
            if item.work.message_ids:
                changed = await self.store.posts.mark_deleted(item.work.channel, item.work.message_ids)
                self.totals.deleted += changed
                self.metrics.posts_deleted.labels(item.work.channel).inc(changed)
                log.info("post.deleted", channel=item.work.channel, message_ids=list(item.work.message_ids))
            if item.done is not None and not item.done.done():
                item.done.set_result(None)
        if posts:
            await self._store_posts(posts)

    async def _store_posts(self, items: list[_Item]) -> None:
        posts = [item.work for item in items if isinstance(item.work, Post)]
        outcomes = await self.ingest(posts)
        now = time.perf_counter()
        for item in items:
            self.metrics.processing_seconds.observe(now - item.queued_at)
        if self.on_saved:
            pairs = list(zip(posts, outcomes, strict=True))
            for hook in self.on_saved:
                await hook(pairs)

    # ------------------------------------------------------------------ direct use (replay)
    def analyse(self, post: Post) -> tuple[Analysis | None, str | None]:
        """Analyse a post; an exception becomes the stored error instead of stopping the pipeline."""
        subject = post
        if len(post.text) > MAX_ANALYSED_CHARS:
            subject = dataclasses.replace(post, text=post.text[:MAX_ANALYSED_CHARS])
            log.info(
                "post.analysis_truncated",
                channel=post.channel,
                message_id=post.message_id,
                chars=len(post.text),
            )
        try:
            return self.analyser.analyse(subject), None
        except Exception as error:  # noqa: BLE001 - one bad post must not stop the others
            log.warning(
                "post.analysis_failed", channel=post.channel, message_id=post.message_id, error=repr(error)
            )
            return None, f"{type(error).__name__}: {error}"[:500]

    async def ingest(self, posts: Sequence[Post]) -> list[SaveOutcome]:
        """Analyse and store posts in one transaction (the caller batches)."""
        items = [(post, *self.analyse(post)) for post in map(_storable, posts)]
        outcomes = await self.store.posts.save_many(items)
        for (post, _analysis, error), outcome in zip(items, outcomes, strict=True):
            self._count(post, outcome, error)
        return outcomes

    def _count(self, post: Post, outcome: SaveOutcome, error: str | None) -> None:
        totals = self.totals
        totals.posts += 1
        totals.channels.add(post.channel)
        if error is not None:
            totals.failed += 1
            self.metrics.post_errors.inc()
        if outcome.result is SaveResult.UNCHANGED:
            totals.unchanged += 1
            return
        if outcome.result is SaveResult.NEW:
            totals.new += 1
        else:
            totals.edited += 1
            log.info("post.edited", channel=post.channel, message_id=post.message_id)
        self.metrics.posts_ingested.labels(post.channel).inc()
        if outcome.relevant:
            totals.relevant += 1
            self.metrics.relevant_posts.labels(post.channel).inc()
        totals.events += outcome.events
        totals.incidents += len(outcome.new_incidents)
        self.metrics.events.inc(outcome.events)
        self.metrics.incidents.inc(len(outcome.new_incidents))
