"""Delivery inside the running service, built from the settings in one place (adapter).

``app.py`` needs four lines::

    delivery = await stack.enter_async_context(DeliveryService.open(settings, store, metrics))
    pipeline = Pipeline(store, analyser, metrics, on_saved=[delivery.alert_hook])
    ...
    await delivery.once()                              # run --once: digest now, deliver, print
    tasks.create_task(delivery.run(shutdown.stop))     # otherwise: scheduler + outbox worker

Sender choice (setting ``sender``): ``bot`` (or ``auto`` with a bot token) logs a bot in
and also answers /commands from the configured chats; ``user`` sends through the live
source's client (``user_client`` getter); ``console``/``file`` (and ``auto`` without a token)
are the local sinks. Whatever the sender, every digest is also archived under ``data_dir``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.digest.commands import CommandHandler, register_commands
from bot.digest.compose import Clock, Composed, DigestConfig, Digester, utc_now
from bot.digest.deliver import (
    AlertHook,
    DeliveryReport,
    DeliveryWorker,
    DigestScheduler,
    OutboxLock,
    Sleep,
    digest_now,
    local_sender,
    schedules_from_settings,
)
from bot.digest.senders import Sender, TelegramSender, open_bot_client
from bot.errors import ConfigError, ConvoywatchError
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.settings import Settings
from bot.sources.telegram_session import ClientFactory, make_client, open_client
from bot.store import Store

if TYPE_CHECKING:
    from telethon import TelegramClient

log = get_logger(__name__)


def sender_kind(settings: Settings) -> str:
    """``bot``, ``user``, ``console`` or ``file``: what ``auto`` means for these settings."""
    if settings.sender == "auto":
        return "bot" if settings.bot_token is not None and settings.chat_ids else "console"
    return settings.sender


@dataclass
class DeliveryService:
    """The digest scheduler, the outbox worker, the alert hook and (bot mode) the commands."""

    settings: Settings
    store: Store
    metrics: Metrics
    sender: Sender
    digester: Digester
    worker: DeliveryWorker
    scheduler: DigestScheduler
    alert_hook: AlertHook
    clock: Clock = utc_now
    sleep: Sleep = asyncio.sleep

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        store: Store,
        metrics: Metrics,
        *,
        user_client: Callable[[], TelegramClient | None] | None = None,
        bot_factory: ClientFactory = make_client,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
    ) -> AsyncIterator[DeliveryService]:
        """Build everything; in bot mode the bot client stays connected until the block ends."""
        config = DigestConfig.from_settings(settings)
        periodic, daily = schedules_from_settings(settings)
        kind = sender_kind(settings)
        async with contextlib.AsyncExitStack() as stack:
            lock = OutboxLock(settings.db)
            if not lock.try_acquire():
                raise ConvoywatchError(
                    f"another convoywatch process delivers digests from {settings.db} (lock {lock.path})"
                )
            stack.callback(lock.release)
            bot_client: TelegramClient | None = None
            sender: Sender
            if kind == "bot":
                bot_client = await stack.enter_async_context(open_bot_client(settings, factory=bot_factory))
                sender = TelegramSender(bot_client)
            elif kind == "user":
                if user_client is None:
                    raise ConfigError("setting 'sender': 'user' sends through the live Telegram client (run)")
                sender = TelegramSender(user_client)
            else:
                sender = local_sender(settings)
            digester = Digester(store, config, clock=clock)
            worker = DeliveryWorker(store.outbox, sender, metrics=metrics, sleep=sleep)
            scheduler = DigestScheduler(
                store, digester, periodic=periodic, daily=daily, clock=clock, on_composed=worker.wake.set
            )
            hook = AlertHook(store, digester, metrics=metrics, wake=worker.wake.set)
            service = cls(settings, store, metrics, sender, digester, worker, scheduler, hook, clock, sleep)
            if bot_client is not None:
                me = await bot_client.get_me()
                handler = CommandHandler(
                    store,
                    config,
                    allowed=settings.chat_ids,
                    metrics=metrics,
                    clock=clock,
                    bot_username=getattr(me, "username", None),
                    next_digest=scheduler.next_due,
                )
                register_commands(bot_client, handler)
            log.info("delivery.ready", sender=kind, chats=len(config.chats), zone=settings.timezone)
            yield service

    async def once(self) -> tuple[Composed | None, DeliveryReport | None]:
        """A digest of what is new now, archived and delivered (``run --once``, ``digest --send``)."""
        return await digest_now(
            self.store,
            self.digester.config,
            send=True,
            sender=self.sender,
            metrics=self.metrics,
            clock=self.clock,
            sleep=self.sleep,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """The scheduler and the outbox worker until ``stop``."""
        self.worker.wake.set()  # deliver whatever a previous run left pending
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.scheduler.run(stop), name="digest-scheduler")
            tasks.create_task(self.worker.run(stop), name="outbox-worker")


async def digest_command(
    settings: Settings, store: Store, *, since: dt.timedelta | None, send: bool, clock: Clock = utc_now
) -> tuple[Composed | None, DeliveryReport | None]:
    """``convoywatch digest [--since D] [--send]``: render (and archive) now; with ``send``, deliver.

    The user-account sender opens the locked session itself, so it refuses to run beside
    a running service on the same session (clear error); the bot sender does not mind.
    """
    config = DigestConfig.from_settings(settings)
    if not send:
        return await digest_now(store, config, since=since, send=False, clock=clock)
    probe = OutboxLock(settings.db)
    if not probe.try_acquire():
        # The running service delivers: commit the digest to its outbox and let it send.
        log.info("digest.queued_for_service", lock=str(probe.path))
        return await digest_now(store, config, since=since, send=True, sender=None, clock=clock)
    probe.release()
    metrics = Metrics()
    async with contextlib.AsyncExitStack() as stack:
        user_client: Callable[[], TelegramClient | None] | None = None
        if sender_kind(settings) == "user":
            client = await stack.enter_async_context(open_client(settings))
            user_client = lambda: client  # noqa: E731 - a getter over the one client
        service = await stack.enter_async_context(
            DeliveryService.open(settings, store, metrics, user_client=user_client, clock=clock)
        )
        return await digest_now(
            store, config, since=since, send=True, sender=service.sender, metrics=metrics, clock=clock
        )
    raise AssertionError("unreachable")  # pragma: no cover - the exit stack never swallows
