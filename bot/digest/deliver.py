"""Delivery: the outbox worker, the digest scheduler and the alert hook (adapters).

``DeliveryWorker.deliver_pending`` sends every unsent part in order (per chat: a chat's
next part waits until the previous one is accepted), marking each sent only after the
sender returned, with nothing in between but that one short write. Each send carries the
part's stable message key (``PendingPart.message_key``), so a part resent after a crash in
that window comes with the same key: the file sink rewrites it and Telegram recognises its
``random_id`` (exactly once); the console prints it again (at-least-once; parts go one at a
time, so a crash repeats at most the one part in flight). Flood waits are slept through (up to ``flood_max``),
transient errors retried with exponential backoff, and a permanent error leaves the chat's
parts pending (logged, counted, retried after ``blocked_for``). ``sleep`` and
``monotonic`` are injectable so tests never really wait.

``DigestScheduler.tick`` composes whatever is due now; the last slot run is kept in
``store.state`` so a restart neither repeats a slot nor runs every missed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.digest.compose import SCAN_MARGIN, Clock, Composed, DigestConfig, Digester, utc_now
from bot.digest.schedule import Schedule, latest_due, next_run, slot_key
from bot.digest.senders import (
    ConsoleSender,
    FileSender,
    PermanentSendError,
    RetryAfterError,
    Sender,
    TransientSendError,
)
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.model import Post
from bot.settings import Settings, parse_clock
from bot.store import SaveOutcome, Store
from bot.store.outbox import OutboxRepo, PendingPart

log = get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one pass tries before leaving a part for the next pass."""

    attempts: int = 5
    base_seconds: float = 1.0
    cap_seconds: float = 60.0
    #: A flood wait up to this long is slept through; a longer one pauses the chat.
    flood_max_seconds: float = 300.0
    #: Flood waits slept through for one part before it is left for the next pass.
    flood_retries: int = 5
    #: A chat that refused permanently is tried again after this long.
    blocked_seconds: float = 900.0

    def backoff(self, attempt: int) -> float:
        """Seconds before retry ``attempt`` (1-based): 1, 2, 4, ... capped."""
        return float(min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1)))


@dataclass(slots=True)
class DeliveryReport:
    """What one pass did."""

    sent: int = 0
    pending: int = 0
    flood_waits: int = 0
    failed_chats: dict[str, str] = field(default_factory=dict)


class DeliveryWorker:
    """Sends the outbox's unsent parts through one ``Sender``."""

    def __init__(
        self,
        outbox: OutboxRepo,
        sender: Sender,
        *,
        metrics: Metrics | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.metrics = metrics or Metrics()
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.monotonic = monotonic
        self.wake = asyncio.Event()
        self._blocked: dict[str, float] = {}

    async def deliver_pending(self) -> DeliveryReport:
        """One pass over every unsent part, oldest digest first."""
        report = DeliveryReport()
        stalled: set[str] = set()
        for part in await self.outbox.pending():
            if part.chat_id in stalled:
                continue
            until = self._blocked.get(part.chat_id)
            if until is not None and self.monotonic() < until:
                stalled.add(part.chat_id)
                continue
            self._blocked.pop(part.chat_id, None)
            if not await self._send(part, report):
                stalled.add(part.chat_id)
        counts = await self.outbox.counts()
        report.pending = counts.pending_parts
        self.metrics.digests_pending.set(counts.pending_parts)
        if report.sent or report.failed_chats:
            log.info(
                "delivery.pass_done",
                sent=report.sent,
                pending=report.pending,
                failed_chats=sorted(report.failed_chats),
            )
        return report

    async def _send(self, part: PendingPart, report: DeliveryReport) -> bool:
        transient = 0
        floods = 0
        while True:
            try:
                message_id = await self.sender.send(
                    part.chat_id, part.body, part.attachment, key=part.message_key
                )
            except RetryAfterError as error:
                floods += 1
                report.flood_waits += 1
                self.metrics.flood_waits.labels("send").inc()
                self.metrics.flood_wait_seconds.labels("send").inc(error.seconds)
                await self.outbox.mark_failed(part.part_id, str(error))
                if error.seconds > self.retry.flood_max_seconds or floods > self.retry.flood_retries:
                    self._blocked[part.chat_id] = self.monotonic() + error.seconds
                    log.warning("delivery.flood_paused", chat_id=part.chat_id, seconds=error.seconds)
                    report.failed_chats[part.chat_id] = str(error)
                    return False
                log.info("delivery.flood_wait", chat_id=part.chat_id, seconds=error.seconds, key=part.key)
                await self.sleep(error.seconds)
                continue
            except TransientSendError as error:
                transient += 1
                await self.outbox.mark_failed(part.part_id, str(error))
                if transient >= self.retry.attempts:
                    log.warning(
                        "delivery.gave_up_for_now", chat_id=part.chat_id, key=part.key, error=str(error)
                    )
                    report.failed_chats[part.chat_id] = str(error)
                    return False
                delay = self.retry.backoff(transient)
                log.info(
                    "delivery.retry", chat_id=part.chat_id, attempt=transient, delay=delay, error=str(error)
                )
                await self.sleep(delay)
                continue
            except PermanentSendError as error:
                await self.outbox.mark_failed(part.part_id, str(error))
                self._blocked[part.chat_id] = self.monotonic() + self.retry.blocked_seconds
                log.error("delivery.chat_unreachable", chat_id=part.chat_id, key=part.key, error=str(error))
                report.failed_chats[part.chat_id] = str(error)
                return False
            if await self.outbox.mark_sent(part.part_id, message_id):
                report.sent += 1
                self.metrics.digests_sent.inc()
                log.info(
                    "delivery.part_sent",
                    chat_id=part.chat_id,
                    key=part.key,
                    seq=part.seq,
                    message_id=message_id,
                )
            return True

    async def run(self, stop: asyncio.Event, *, interval: float = 60.0) -> None:
        """Deliver on every wake-up (a digest or alert was committed) and every ``interval``."""
        while not stop.is_set():
            self.wake.clear()
            await self.deliver_pending()
            await _wait_any(stop, self.wake, interval)


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        for waiter in waiters:
            with contextlib.suppress(asyncio.CancelledError):
                await waiter


# --------------------------------------------------------------------------- scheduling
def schedules_from_settings(settings: Settings) -> tuple[Schedule, Schedule | None]:
    """The periodic digest schedule and the daily summary schedule (None when off)."""
    zone = settings.zone
    if settings.digest_every_hours is not None:
        periodic = Schedule(zone=zone, every_hours=settings.digest_every_hours)
    else:
        periodic = Schedule.at(zone, [parse_clock(value) for value in settings.digest_times])
    daily = (
        Schedule.daily(zone, parse_clock(settings.daily_summary_time))
        if settings.daily_summary_time
        else None
    )
    return periodic, daily


class DigestScheduler:
    """Composes the periodic digest and the daily summary when their slots come."""

    def __init__(
        self,
        store: Store,
        digester: Digester,
        *,
        periodic: Schedule,
        daily: Schedule | None = None,
        clock: Clock = utc_now,
        on_composed: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.digester = digester
        self.periodic = periodic
        self.daily = daily
        self.clock = clock
        self.on_composed = on_composed

    async def tick(self) -> list[Composed]:
        """Compose every digest due now; the first tick ever only starts the clock."""
        now = self.clock()
        composed: list[Composed] = []
        for kind, schedule in (("periodic", self.periodic), ("daily", self.daily)):
            if schedule is None:
                continue
            last_key = f"digest.{kind}.last_slot"
            last = await self.store.state.get(last_key)
            if last is None:
                await self.store.state.set(last_key, now.isoformat())
                log.info("digest.schedule_started", kind=kind, next=next_run(schedule, now).isoformat())
                continue
            slot = latest_due(schedule, dt.datetime.fromisoformat(last), now)
            if slot is None:
                continue
            result = await self._compose(kind, slot, now)
            await self.store.state.set(last_key, slot.isoformat())
            if result is not None:
                composed.append(result)
                self.on_composed()
        return composed

    async def _compose(self, kind: str, slot: dt.datetime, now: dt.datetime) -> Composed | None:
        key = slot_key(kind, slot, self.digester.config.zone)
        lookback = self.digester.config.initial_lookback
        if kind == "daily":
            return await self.digester.digest(
                kind=kind,
                key=key,
                period_start=slot - dt.timedelta(days=1),
                period_end=now,
                changed_since=utc_now() - dt.timedelta(days=1),
            )
        previous_end = await self.store.state.get("digest.periodic.period_end")
        last_created = await self.store.outbox.last_created("periodic")
        changed_since = last_created - SCAN_MARGIN if last_created else utc_now() - lookback
        result = await self.digester.digest(
            kind=kind,
            key=key,
            period_start=dt.datetime.fromisoformat(previous_end) if previous_end else now - lookback,
            period_end=now,
            changed_since=changed_since,
        )
        await self.store.state.set("digest.periodic.period_end", now.isoformat())
        return result

    def next_due(self, now: dt.datetime) -> dt.datetime:
        """The next slot of either schedule."""
        slots = [next_run(self.periodic, now)]
        if self.daily is not None:
            slots.append(next_run(self.daily, now))
        return min(slots)

    async def run(self, stop: asyncio.Event, *, poll: float = 60.0) -> None:
        """Tick at every slot (checking at least every ``poll`` seconds, so clock jumps are seen)."""
        while not stop.is_set():
            await self.tick()
            now = self.clock()
            wait = max(0.5, min(poll, (self.next_due(now) - now).total_seconds() + 0.5))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)


# --------------------------------------------------------------------------- alerts
class AlertHook:
    """A pipeline ``on_saved`` hook: queue alerts for incidents a batch created or changed."""

    def __init__(
        self, store: Store, digester: Digester, *, metrics: Metrics | None = None, wake: Callable[[], None]
    ) -> None:
        self.store = store
        self.digester = digester
        self.metrics = metrics or Metrics()
        self.wake = wake

    async def __call__(self, saved: Sequence[tuple[Post, SaveOutcome]]) -> None:
        ids = sorted(
            {i for _, outcome in saved for i in (*outcome.new_incidents, *outcome.changed_incidents)}
        )
        incidents = [found for i in ids if (found := await self.store.posts.incident(i)) is not None]
        if not incidents:
            return
        queued = await self.digester.alerts(incidents)
        if queued:
            self.metrics.alerts_queued.inc(len(queued))
            self.wake()


# --------------------------------------------------------------------------- one deliverer per database
class OutboxLock:
    """An exclusive, non-blocking ``fcntl`` lock beside the database: one process delivers.

    Held by the running service for its lifetime; ``digest --send`` beside it only commits
    its digest and leaves delivery to the service. The OS drops the lock when a process dies.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".outbox.lock")
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """True when this process now delivers; False when another one does."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# --------------------------------------------------------------------------- wiring helpers
def local_sender(settings: Settings) -> Sender:
    """The sink used when no Telegram sender is configured: console, or files under data_dir."""
    if settings.sender == "file":
        return FileSender(settings.data_dir / "sent")
    return ConsoleSender()


async def digest_now(
    store: Store,
    config: DigestConfig,
    *,
    since: dt.timedelta | None = None,
    send: bool,
    sender: Sender | None = None,
    metrics: Metrics | None = None,
    clock: Clock = utc_now,
    sleep: Sleep = asyncio.sleep,
) -> tuple[Composed | None, DeliveryReport | None]:
    """A digest on request (CLI ``digest``, ``run --once``): always rendered and archived.

    Covers ``since`` back from now, or else everything changed since the last periodic
    digest (the first: ``initial_lookback``). With ``send`` it is committed to the outbox
    and delivered at once through ``sender`` (with every other pending part).
    """
    now = clock()
    if since is not None:
        changed_since: dt.datetime | None = utc_now() - since
        period_start: dt.datetime | None = now - since
    else:
        last = await store.outbox.last_created("periodic")
        changed_since = last - SCAN_MARGIN if last else utc_now() - config.initial_lookback
        period_start = now - (utc_now() - changed_since)
    digester = Digester(store, config, clock=clock)
    composed = await digester.digest(
        kind="manual",
        key=f"manual:{now.isoformat(timespec='microseconds')}",
        period_start=period_start,
        period_end=now,
        changed_since=changed_since,
        force=True,
        commit=send,
    )
    if not send or sender is None:
        return composed, None
    worker = DeliveryWorker(store.outbox, sender, metrics=metrics, sleep=sleep)
    return composed, await worker.deliver_pending()
