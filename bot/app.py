"""Composition root: settings -> store, analyser, pipeline, sources, delivery -> tasks -> shutdown.

Resources enter through one ``AsyncExitStack``; long-running loops run in one
``asyncio.TaskGroup``. SIGTERM/SIGINT set the stop event; shutdown drains in order: stop
sources, finish the queue, flush the store, close clients. A second signal exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.analysis import Analyser
from bot.errors import InputError
from bot.extract.events import load_extractor
from bot.health import HealthServer, HealthState, SourceState, heartbeat
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.model import Post
from bot.pipeline import BATCH, Pipeline
from bot.rules.engine import load_ruleset
from bot.settings import Settings
from bot.sources.replay import BadRecord, expand, read_posts
from bot.store import Store

log = get_logger(__name__)


def build_analyser(settings: Settings) -> Analyser:
    """Load and compile the rules, gazetteer and groups (raises RuleError / ConfigError)."""
    ruleset = load_ruleset(settings.rules_dir)
    extractor = load_extractor(settings.gazetteer_dir, settings.groups_file)
    return Analyser.build(ruleset, extractor)


@dataclass(slots=True)
class ReplaySummary:
    """What a replay did, for the summary line."""

    files: int = 0
    read: int = 0
    bad: list[BadRecord] = field(default_factory=list)

    def line(self, pipeline: Pipeline) -> str:
        totals = pipeline.totals
        return (
            f"replayed {self.files} file(s): {self.read} posts read, {totals.new} new, "
            f"{totals.edited} edited, {totals.unchanged} unchanged, {totals.relevant} relevant, "
            f"{totals.events} events, {totals.incidents} new incidents, {totals.failed} failed, "
            f"{len(self.bad)} bad records"
        )


Progress = Callable[[str, int], None]


async def replay_files(
    pipeline: Pipeline,
    paths: Sequence[Path],
    *,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
) -> ReplaySummary:
    """Stream files through the whole pipeline in batched transactions.

    A bad record is collected and skipped; a file that is not readable at all raises
    ``InputError`` after everything before it is stored."""
    summary = ReplaySummary()
    for path in expand(list(paths)):
        summary.files += 1
        batch: list[Post] = []
        for item in read_posts(path):
            if isinstance(item, BadRecord):
                summary.bad.append(item)
                log.warning("replay.bad_record", file=item.path, line=item.line, reason=item.message)
                continue
            batch.append(item)
            summary.read += 1
            if len(batch) >= BATCH:
                await pipeline.ingest(batch)
                batch = []
                if progress:
                    progress(path.name, summary.read)
                if stop is not None and stop.is_set():
                    return summary
                await asyncio.sleep(0)  # let signal handlers and the health server run
        if batch:
            await pipeline.ingest(batch)
        if progress:
            progress(path.name, summary.read)
        log.info("replay.file_done", file=str(path), posts=summary.read)
    return summary


class Inbox:
    """A folder watched for exports/JSONL files; each is replayed once, then moved aside."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.done = folder / "processed"
        self.failed = folder / "failed"
        self._sizes: dict[Path, tuple[int, float]] = {}

    def ready(self) -> list[Path]:
        """Files whose size and mtime did not change since the last look (fully written)."""
        if not self.folder.is_dir():
            return []
        found: list[Path] = []
        seen: dict[Path, tuple[int, float]] = {}
        for path in sorted(self.folder.iterdir()):
            if (
                not path.is_file()
                or path.name.startswith(".")
                or path.suffix.lower()
                not in {
                    ".json",
                    ".jsonl",
                    ".ndjson",
                }
            ):
                continue
            stat = path.stat()
            seen[path] = (stat.st_size, stat.st_mtime)
            if self._sizes.get(path) == seen[path]:
                found.append(path)
        self._sizes = seen
        return found

    def settle(self, path: Path, ok: bool) -> Path:
        target_dir = self.done if ok else self.failed
        target_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        target = target_dir / f"{stamp}-{path.name}"
        path.replace(target)
        return target


async def drain_inbox(pipeline: Pipeline, inbox: Inbox, *, wait_stable: bool) -> int:
    """Replay every ready inbox file; returns how many were processed."""
    ready = inbox.ready()
    if wait_stable and not ready:
        return 0
    if not wait_stable:
        # --once: take what is there now (a second look makes sizes 'stable').
        ready = inbox.ready() or ready
    processed = 0
    for path in ready:
        try:
            summary = await replay_files(pipeline, [path])
        except InputError as error:
            log.error("inbox.file_failed", file=str(path), reason=str(error))
            inbox.settle(path, ok=False)
            continue
        moved = inbox.settle(path, ok=True)
        processed += 1
        log.info(
            "inbox.file_done", file=str(path), moved_to=str(moved), posts=summary.read, bad=len(summary.bad)
        )
    return processed


class Shutdown:
    """SIGTERM/SIGINT set ``stop``; a second signal exits at once."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self._signals = 0

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("service.forced_exit", signal=sig.name)
            sys.stdout.flush()
            os._exit(128 + sig.value)
        log.info("service.stopping", signal=sig.name)
        self.stop.set()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; True when stop was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


async def run_service(settings: Settings, *, once: bool) -> int:
    """The service: live source when Telegram is configured, else the embedded default
    (replay the sample export, then watch the inbox)."""
    analyser = build_analyser(settings)
    # The rules, gazetteer and matchers live as long as the process: kept out of the garbage
    # collector's full passes, which otherwise stop a live post for 20-50 ms now and then.
    gc.freeze()
    metrics = Metrics()
    health = HealthState(settings.heartbeat_seconds, metrics=metrics)
    shutdown = Shutdown()
    shutdown.install()
    started = time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        if settings.health_port is not None:  # first in, last out: answers 503 while starting/stopping
            await stack.enter_async_context(
                HealthServer(health, metrics, settings.health_host, settings.health_port)
            )
        store = await Store.open(settings.db)
        stack.push_async_callback(store.close)
        await stack.enter_async_context(heartbeat(health, settings.db))
        pipeline = Pipeline(store, analyser, metrics)
        inbox = Inbox(settings.inbox)
        settings.inbox.mkdir(parents=True, exist_ok=True)
        log.info(
            "service.starting",
            db=str(settings.db),
            source="telegram" if settings.telegram_configured else "replay",
            once=once,
        )
        if not settings.telegram_configured:
            health.set_source(SourceState.REPLAYING)
        if not settings.telegram_configured and settings.sample.exists():
            summary = await replay_files(pipeline, [settings.sample], stop=shutdown.stop)
            log.info("replay.sample_done", posts=summary.read, new=pipeline.totals.new)
        source = None
        if settings.telegram_configured:
            from bot.sources.telegram import open_source  # noqa: PLC0415 - Telethon only when configured

            # Entered before the tasks start: a missing login or a locked session is one clear error.
            source = await stack.enter_async_context(open_source(settings, store, pipeline, metrics))
            client = source.client
            health.follow_source(
                lambda: SourceState.CONNECTED if client.is_connected() else SourceState.DISCONNECTED
            )
        from bot.digest.service import DeliveryService  # noqa: PLC0415 - matplotlib only when running

        live_client = source.client if source is not None else None
        user_client = (lambda: live_client) if live_client is not None else None
        delivery = await stack.enter_async_context(
            DeliveryService.open(settings, store, metrics, user_client=user_client)
        )
        pipeline.on_saved.append(delivery.alert_hook)  # immediate alerts for new/changed incidents
        await drain_inbox(pipeline, inbox, wait_stable=False)
        if once or shutdown.stop.is_set():
            if source is not None and not shutdown.stop.is_set():
                worker = asyncio.create_task(pipeline.run(), name="pipeline")
                await source.run_once()
                await pipeline.close()
                await worker
            if once and not shutdown.stop.is_set():
                await delivery.once()  # the digest: archived under data_dir, sent or printed
            log.info("service.stopped", seconds=round(time.perf_counter() - started, 3))
            return 0
        async with asyncio.TaskGroup() as tasks:
            worker = tasks.create_task(pipeline.run(), name="pipeline")
            tasks.create_task(delivery.run(shutdown.stop), name="delivery")
            live = tasks.create_task(source.run(shutdown.stop), name="telegram") if source else None
            while not await _sleep_or_stop(shutdown.stop, settings.inbox_poll_seconds):
                await drain_inbox(pipeline, inbox, wait_stable=True)
            health.set_source(SourceState.STOPPING)
            if live is not None:
                await live  # the source hands everything it queued to the pipeline first
            await pipeline.close()
            await worker
    log.info("service.stopped", seconds=round(time.perf_counter() - started, 3))
    return 0


def stats_line(stats: dict[str, int], keys: Iterable[str]) -> str:
    return " ".join(f"{key}={stats[key]}" for key in keys)
