"""The live Telegram source: channels resolved once, live events, catch-up, re-check, backfill.

Nothing is lost because three mechanisms overlap, and every write is idempotent:

* live handlers (new, edited, deleted messages) that only enqueue;
* catch-up after the channel cursor (the last stored message id) at start-up, after every
  reconnect and periodically, with ``iter_messages(min_id=..., reverse=True)``;
* a periodic re-check of each channel's recent window for edits and deletions, which
  Telethon's own gap recovery drops (``channelDifferenceTooLong``, other_updates).

Flood waits are handled here (the client's ``flood_sleep_threshold`` is 0): short ones are
slept through with jitter, long ones pause only the channel concerned. Every wait is logged
(``telegram.flood_wait``) and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from telethon import TelegramClient, errors, events, utils
from telethon.tl import functions, types

from bot.logs import get_logger
from bot.metrics import Metrics
from bot.model import ForwardOrigin, Post
from bot.settings import Settings
from bot.sources import telegram_session
from bot.sources.telegram_refs import ChannelRef, channel_key, marked_id, parse_channel_refs
from bot.sources.telegram_session import ClientFactory, open_client
from bot.store import Store

log = get_logger(__name__)

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
Progress = Callable[[str, int], None]

#: Telegram answers ``channels.getMessages`` with at most 100 ids.
GET_MESSAGES_CHUNK = 100
#: Album members are at most 10 consecutive messages.
ALBUM_SPAN = 9
#: Flood waits slept through for one request before the channel is paused anyway.
MAX_FLOOD_RETRIES = 5
#: The errors that carry a wait in seconds (FLOOD_WAIT_X, FLOOD_PREMIUM_WAIT_X).
FLOOD_ERRORS = (errors.FloodWaitError, errors.FloodPremiumWaitError)


class PostSink(Protocol):
    """Where posts go (``bot.pipeline.Pipeline``)."""

    async def put(self, post: Post) -> None: ...

    async def delete(self, channel: str, message_ids: Sequence[int]) -> None: ...

    async def join(self) -> None: ...


class ChannelPausedError(Exception):
    """A flood wait longer than the service accepts: the channel waits, the others go on."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood wait of {seconds:.0f}s")
        self.seconds = seconds


class ChannelUnavailableError(Exception):
    """The channel is private, banned or gone: reported and skipped."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


def _unavailable(error: Exception) -> ChannelUnavailableError | None:
    """The channel status an RPC error means, if it means the channel cannot be read."""
    if isinstance(error, errors.ChannelPrivateError | errors.ChatForbiddenError):
        return ChannelUnavailableError("private", "the channel is private or we were removed from it")
    if isinstance(error, errors.ChannelBannedError | errors.UserBannedInChannelError):
        return ChannelUnavailableError("banned", "this account is banned in the channel")
    if isinstance(
        error,
        errors.UsernameNotOccupiedError
        | errors.UsernameInvalidError
        | errors.ChannelInvalidError
        | errors.PeerIdInvalidError,
    ):
        return ChannelUnavailableError("gone", f"the channel does not exist ({type(error).__name__})")
    return None


@dataclass(slots=True)
class Channel:
    """A watched channel as the source knows it while running."""

    key: str
    ref: ChannelRef
    peer: Any = None  # InputPeerChannel once resolved
    peer_id: int = 0  # marked id
    title: str | None = None
    status: str = "ok"
    paused_until: float = 0.0


class RateLimiter:
    """A token bucket: at most ``amount`` units per ``period`` seconds on the injected clock."""

    def __init__(self, amount: int, period: float, clock: Clock, sleep: Sleep) -> None:
        self.amount = amount
        self.rate = amount / period
        self.tokens = float(amount)
        self.clock = clock
        self.sleep = sleep
        self.stamp = clock()

    async def acquire(self, units: int) -> None:
        units = min(units, self.amount)
        while True:
            now = self.clock()
            self.tokens = min(self.amount, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= units:
                self.tokens -= units
                return
            await self.sleep((units - self.tokens) / self.rate)


def _has_media(message: Any) -> bool:
    media = getattr(message, "media", None)
    return media is not None and not isinstance(media, types.MessageMediaEmpty | types.MessageMediaWebPage)


def build_post(
    key: str, messages: Sequence[Any], *, forward: ForwardOrigin | None, title: str | None
) -> Post:
    """One Post from one message or an album's messages: the lowest id, the caption as text."""
    ordered = sorted(messages, key=lambda m: m.id)
    first = ordered[0]
    text = next((m.message for m in ordered if m.message), "")
    edits = [m.edit_date for m in ordered if getattr(m, "edit_date", None)]
    return Post(
        channel=key,
        message_id=first.id,
        date=first.date,
        text=text or "",
        edit_date=max(edits) if edits else None,
        forward=forward,
        grouped_id=first.grouped_id,
        has_media=any(_has_media(m) for m in ordered),
        channel_title=title,
    )


async def grouped(messages: AsyncIterator[Any]) -> AsyncIterator[list[Any]]:
    """Consecutive messages (oldest first) with one album's ``grouped_id`` as one list."""
    current: list[Any] = []
    async for message in messages:
        if not isinstance(message, types.Message):
            continue  # service messages (pins, title changes) are not posts
        if current and (message.grouped_id is None or message.grouped_id != current[0].grouped_id):
            yield current
            current = []
        current.append(message)
    if current:
        yield current


@dataclass(slots=True)
class _Live:
    """One item on the intake queue between the live handlers and the drain."""

    kind: str  # "message" | "edit" | "delete" | "post"
    key: str
    message: Any = None
    ids: tuple[int, ...] = ()
    post: Post | None = None


@dataclass(slots=True)
class BackfillResult:
    """What a backfill did per channel."""

    posts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False


class TelegramSource:
    """Live ingestion from Telegram channels into a ``PostSink``."""

    def __init__(
        self,
        client: TelegramClient,
        store: Store,
        sink: PostSink,
        channels: Sequence[str],
        *,
        metrics: Metrics | None = None,
        join: bool = False,
        catch_up_interval: float = 300.0,
        recheck_window: int = 200,
        recheck_interval: float = 900.0,
        flood_max_wait: float = 300.0,
        reconnect_max_backoff: float = 300.0,
        history_wait_time: float = 1.0,
        initial_posts: int = 20,
        album_delay: float = 1.0,
        recheck_rate: tuple[int, float] = (300, 30.0),
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.store = store
        self.sink = sink
        self.refs = parse_channel_refs(list(channels))
        self.metrics = metrics or Metrics()
        self.join = join
        self.catch_up_interval = catch_up_interval
        self.recheck_window = recheck_window
        self.recheck_interval = recheck_interval
        self.flood_max_wait = flood_max_wait
        self.reconnect_max_backoff = reconnect_max_backoff
        self.history_wait_time = history_wait_time
        self.initial_posts = initial_posts
        self.album_delay = album_delay
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self.rate = RateLimiter(recheck_rate[0], recheck_rate[1], clock, sleep)
        self.channels: dict[str, Channel] = {}
        self._by_peer: dict[int, Channel] = {}
        self._intake: asyncio.Queue[_Live | None] = asyncio.Queue()
        self._albums: dict[str, list[Any]] = {}
        self._wake = asyncio.Event()
        self._connected = asyncio.Event()
        self._connected.set()
        #: maintenance rounds done (catch-up, and re-check when due); tests and /status read it
        self.caught_up = asyncio.Event()
        self.passes = 0

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        client: TelegramClient,
        store: Store,
        sink: PostSink,
        metrics: Metrics,
        **kw: Any,
    ) -> TelegramSource:
        """The source as ``convoywatch run`` configures it."""
        return cls(
            client,
            store,
            sink,
            settings.channels,
            metrics=metrics,
            join=settings.join_channels,
            catch_up_interval=settings.catch_up_interval_seconds,
            recheck_window=settings.recheck_window,
            recheck_interval=settings.recheck_interval_seconds,
            flood_max_wait=settings.flood_max_wait_seconds,
            reconnect_max_backoff=settings.reconnect_max_backoff_seconds,
            **kw,
        )

    # ================================================================== flood waits
    async def _flood(self, operation: str, key: str | None, error: errors.FloodError, attempt: int) -> None:
        """Sleep through a short flood wait (with jitter); raise ChannelPausedError for a long one."""
        seconds = float(getattr(error, "seconds", 0) or 1)
        self.metrics.flood_waits.labels(operation).inc()
        self.metrics.flood_wait_seconds.labels(operation).inc(seconds)
        # Telethon remembers the wait per request type and would refuse the next request of that
        # type for any channel; the wait is ours to manage, so the memo is dropped.
        self.client._flood_waited_requests.clear()
        if seconds > self.flood_max_wait or attempt >= MAX_FLOOD_RETRIES:
            log.warning(
                "telegram.flood_wait", operation=operation, channel=key, seconds=seconds, action="pause"
            )
            raise ChannelPausedError(seconds)
        wait = seconds * (1.0 + 0.1 * self.jitter()) + self.jitter()
        log.info(
            "telegram.flood_wait",
            operation=operation,
            channel=key,
            seconds=seconds,
            wait=round(wait, 3),
            action="sleep",
        )
        await self.sleep(wait)

    async def _call(self, operation: str, key: str | None, call: Callable[[], Awaitable[T]]) -> T:
        """One request with explicit flood-wait handling."""
        attempt = 0
        while True:
            try:
                return await call()
            except FLOOD_ERRORS as error:
                attempt += 1
                await self._flood(operation, key, error, attempt)

    # ================================================================== channels
    async def resolve_all(self) -> None:
        """Resolve every configured channel (cached ones without a request); skip unavailable ones."""
        if not self.refs:
            log.warning("telegram.no_channels")
        for ref in self.refs:
            channel = self.channels.setdefault(ref.key, Channel(key=ref.key, ref=ref))
            await self._try_resolve(channel)

    async def _try_resolve(self, channel: Channel) -> None:
        """Resolve one channel; unavailable ones are retired, failed ones retried later."""
        try:
            await self._resolve(channel)
        except ChannelUnavailableError as error:
            await self._mark_unavailable(channel, error)
        except ChannelPausedError as error:
            channel.paused_until = self.clock() + error.seconds
            await self._set_status(channel, "paused", f"flood wait {error.seconds:.0f}s while resolving")
        except (errors.RPCError, OSError, ConnectionError) as error:
            # Telegram trouble: try again at the next catch-up instead of failing the service.
            channel.paused_until = self.clock() + self.catch_up_interval
            log.warning("telegram.resolve_failed", channel=channel.key, error=repr(error))
            await self._set_status(channel, "paused", f"could not resolve: {type(error).__name__}")

    async def _resolve(self, channel: Channel) -> None:
        row = await self.store.channels.get(channel.key)
        if row is not None and row.peer_id is not None and row.access_hash is not None:
            # Cached: never resolve the username again (the request Telegram punishes hardest).
            channel.peer = types.InputPeerChannel(row.peer_id, row.access_hash)
            channel.title = row.title
            log.debug("telegram.channel_cached", channel=channel.key)
        else:
            entity = await self._fetch_entity(channel)
            channel.peer = types.InputPeerChannel(entity.id, entity.access_hash)
            channel.title = entity.title
            await self.store.channels.upsert(
                channel.key,
                peer_id=entity.id,
                access_hash=entity.access_hash,
                username=entity.username,
                title=entity.title,
            )
            log.info("telegram.channel_resolved", channel=channel.key, peer_id=entity.id, title=entity.title)
            if self.join and getattr(entity, "left", False):
                await self._join(channel)
        channel.peer_id = marked_id(channel.peer.channel_id)
        self._by_peer[channel.peer_id] = channel
        await self._set_status(channel, "ok", None)

    async def _fetch_entity(self, channel: Channel) -> Any:
        ref = channel.ref
        try:
            if ref.username is not None:
                name = ref.username
                result = await self._call(
                    "resolve",
                    channel.key,
                    lambda: self.client(functions.contacts.ResolveUsernameRequest(username=name)),
                )
                chats = [chat for chat in result.chats if isinstance(chat, types.Channel)]
                if not chats:
                    raise ChannelUnavailableError("gone", f"@{name} is not a channel")
                return chats[0]
            assert ref.channel_id is not None
            try:
                peer = await self.client.get_input_entity(types.PeerChannel(ref.channel_id))
            except ValueError:
                raise ChannelUnavailableError(
                    "gone", "numeric id unknown to this session; join it, or configure its @username once"
                ) from None
            result = await self._call(
                "resolve",
                channel.key,
                lambda: self.client(
                    functions.channels.GetChannelsRequest(id=[utils.get_input_channel(peer)])
                ),
            )
            return result.chats[0]
        except errors.RPCError as error:
            unavailable = _unavailable(error)
            if unavailable is None:
                raise
            raise unavailable from error

    async def _join(self, channel: Channel) -> None:
        peer = channel.peer
        try:
            await self._call(
                "join",
                channel.key,
                lambda: self.client(
                    functions.channels.JoinChannelRequest(
                        types.InputChannel(peer.channel_id, peer.access_hash)
                    )
                ),
            )
        except errors.RPCError as error:
            unavailable = _unavailable(error)
            if unavailable is None:
                raise
            raise unavailable from error
        log.info("telegram.channel_joined", channel=channel.key)

    async def _set_status(self, channel: Channel, status: str, reason: str | None) -> None:
        if channel.status != status or status != "ok":
            await self.store.channels.set_status(channel.key, status, reason)
        channel.status = status

    async def _mark_unavailable(self, channel: Channel, error: ChannelUnavailableError) -> None:
        log.error(
            "telegram.channel_unavailable", channel=channel.key, status=error.status, reason=error.reason
        )
        channel.status = error.status
        await self.store.channels.set_status(channel.key, error.status, error.reason)

    def active(self) -> list[Channel]:
        """Channels that can be read now (resolved, not unavailable, not paused)."""
        now = self.clock()
        return [
            channel
            for channel in self.channels.values()
            if channel.peer is not None and channel.status in {"ok", "paused"} and channel.paused_until <= now
        ]

    async def _guarded(self, channel: Channel, work: Callable[[], Awaitable[None]]) -> None:
        """Run one channel's work; pause or retire the channel on its errors, never the service."""
        try:
            await work()
        except ChannelPausedError as error:
            channel.paused_until = self.clock() + error.seconds
            await self._set_status(channel, "paused", f"flood wait {error.seconds:.0f}s")
        except errors.RPCError as error:
            unavailable = _unavailable(error)
            if unavailable is None:
                log.warning("telegram.request_failed", channel=channel.key, error=repr(error))
                return
            await self._mark_unavailable(channel, unavailable)
        else:
            if channel.status == "paused":
                log.info("telegram.channel_resumed", channel=channel.key)
            await self._set_status(channel, "ok", None)

    # ================================================================== posts
    async def _forward_origin(self, message: Any) -> ForwardOrigin | None:
        header = getattr(message, "fwd_from", None)
        if header is None or not isinstance(header.from_id, types.PeerChannel) or not header.channel_post:
            return None
        channel_id = header.from_id.channel_id
        row = await self.store.channels.by_peer(channel_id)
        if row is not None:
            return ForwardOrigin(row.key, header.channel_post)
        forward = getattr(message, "forward", None)
        chat = getattr(forward, "chat", None) if forward is not None else None
        return ForwardOrigin(channel_key(getattr(chat, "username", None), channel_id), header.channel_post)

    async def _post(self, channel: Channel, messages: Sequence[Any]) -> Post:
        return build_post(
            channel.key,
            messages,
            forward=await self._forward_origin(min(messages, key=lambda m: m.id)),
            title=channel.title,
        )

    # ================================================================== live handlers (enqueue only)
    def _channel_of(self, event: Any) -> Channel | None:
        channel = self._by_peer.get(getattr(event, "chat_id", None) or 0)
        if channel is None or channel.status not in {"ok", "paused"}:
            return None
        return channel

    async def _on_new(self, event: Any) -> None:
        channel = self._channel_of(event)
        if channel is not None:
            self._intake.put_nowait(_Live("message", channel.key, message=event.message))

    async def _on_edit(self, event: Any) -> None:
        channel = self._channel_of(event)
        if channel is not None:
            self._intake.put_nowait(_Live("edit", channel.key, message=event.message))

    async def _on_delete(self, event: Any) -> None:
        channel = self._channel_of(event)
        if channel is not None and event.deleted_ids:
            self._intake.put_nowait(_Live("delete", channel.key, ids=tuple(event.deleted_ids)))

    def _handlers(self) -> list[tuple[Callable[[Any], Awaitable[None]], Any]]:
        return [
            (self._on_new, events.NewMessage()),
            (self._on_edit, events.MessageEdited()),
            (self._on_delete, events.MessageDeleted()),
        ]

    # ================================================================== the drain (one consumer, in order)
    async def _drain(self) -> None:
        while True:
            timeout = self.album_delay if self._albums else None
            try:
                item = await asyncio.wait_for(self._intake.get(), timeout)
            except TimeoutError:
                await self._flush_albums()
                continue
            try:
                if item is None:
                    await self._flush_albums()
                    return
                await self._apply(item)
            finally:
                self._intake.task_done()

    async def idle(self) -> None:
        """Wait until everything enqueued so far (albums included) has been handed to the sink."""
        while True:
            await self._intake.join()
            if not self._albums:
                return
            await asyncio.sleep(self.album_delay / 2)

    async def _flush_albums(self, key: str | None = None) -> None:
        for album_key in [k for k in self._albums if key is None or k == key]:
            messages = self._albums.pop(album_key)
            channel = self.channels.get(album_key)
            if channel is not None:
                await self.sink.put(await self._post(channel, messages))

    async def _apply(self, item: _Live) -> None:
        channel = self.channels[item.key]
        if item.kind == "message":
            message = item.message
            pending = self._albums.get(item.key)
            if pending and (message.grouped_id is None or message.grouped_id != pending[0].grouped_id):
                await self._flush_albums(item.key)
            if message.grouped_id is not None:
                self._albums.setdefault(item.key, []).append(message)
            elif isinstance(message, types.Message):
                await self.sink.put(await self._post(channel, [message]))
            return
        await self._flush_albums(item.key)
        if item.kind == "post" and item.post is not None:
            await self.sink.put(item.post)
        elif item.kind == "delete":
            await self.sink.delete(item.key, item.ids)
        elif item.kind == "edit" and isinstance(item.message, types.Message):
            if item.message.grouped_id is None:
                await self.sink.put(await self._post(channel, [item.message]))
            else:
                await self._guarded(channel, lambda: self._refetch_album(channel, item.message))

    async def _refetch_album(self, channel: Channel, message: Any) -> None:
        """An album member was edited: fetch the whole album so the post keeps its lowest id."""
        ids = list(range(max(1, message.id - ALBUM_SPAN), message.id + ALBUM_SPAN + 1))
        found = await self._get_messages(channel, ids)
        members = [m for m in found.values() if m is not None and m.grouped_id == message.grouped_id]
        await self.sink.put(await self._post(channel, members or [message]))

    # ================================================================== catch-up
    async def catch_up(self, channel: Channel) -> int:
        """Fetch everything after the channel's cursor into the intake; returns posts found."""
        cursor = await self.store.channels.cursor(channel.key)
        found = 0
        if cursor == 0:
            # A channel never seen: start from its newest posts (older history is `backfill`).
            newest = await self._call(
                "history",
                channel.key,
                lambda: _collect(self._history(channel, limit=self.initial_posts)),
            )
            async for group in grouped(_aiter(reversed(newest))):
                self._intake.put_nowait(_Live("post", channel.key, post=await self._post(channel, group)))
                found += 1
            return found
        # From the cursor itself (inclusive), so an album stored under its lowest id is complete.
        after = cursor - 1
        attempt = 0
        while True:
            try:
                async for group in grouped(self._history(channel, min_id=after, reverse=True)):
                    self._intake.put_nowait(_Live("post", channel.key, post=await self._post(channel, group)))
                    after = max(m.id for m in group)
                    found += 1
                break
            except FLOOD_ERRORS as error:
                attempt += 1
                await self._flood("history", channel.key, error, attempt)
        self.metrics.backfill_lag.labels(channel.key).set(0)
        if found:
            log.info("telegram.caught_up", channel=channel.key, posts=found, after=cursor)
        return found

    def _history(self, channel: Channel, **kwargs: Any) -> AsyncIterator[Any]:
        iterator: AsyncIterator[Any] = self.client.iter_messages(
            channel.peer, wait_time=self.history_wait_time, **kwargs
        )
        return iterator

    async def catch_up_all(self) -> None:
        """One catch-up pass over every readable channel (resolving any still unresolved)."""
        now = self.clock()
        for channel in self.channels.values():
            if channel.peer is None and channel.status == "paused" and channel.paused_until <= now:
                await self._try_resolve(channel)
        for channel in self.active():
            await self._guarded(channel, lambda channel=channel: self._catch_up_quiet(channel))  # type: ignore[misc]

    async def _catch_up_quiet(self, channel: Channel) -> None:
        await self.catch_up(channel)

    # ================================================================== re-check (edits, deletions)
    async def _get_messages(self, channel: Channel, ids: Sequence[int]) -> dict[int, Any]:
        """Current messages by id (None: deleted), ≤100 ids a request, within the id rate."""
        found: dict[int, Any] = {}
        for start in range(0, len(ids), GET_MESSAGES_CHUNK):
            chunk = list(ids[start : start + GET_MESSAGES_CHUNK])
            await self.rate.acquire(len(chunk))
            result = await self._call(
                "recheck",
                channel.key,
                lambda chunk=chunk: self.client.get_messages(channel.peer, ids=chunk),  # type: ignore[misc]
            )
            for message_id, message in zip(chunk, result, strict=True):
                found[message_id] = message if isinstance(message, types.Message) else None
        return found

    async def recheck(self, channel: Channel) -> tuple[int, int]:
        """Re-read the recent window: changed posts are put again, vanished ones deleted."""
        ids = sorted(await self.store.posts.recent_ids(channel.key, self.recheck_window))
        if not ids:
            return 0, 0
        found = await self._get_messages(channel, ids)
        # An album is stored under its lowest id; when that member has no caption, the caption is
        # on another member (between it and the next stored post): fetch those few ids too.
        following = dict(zip(ids, [*ids[1:], ids[-1] + ALBUM_SPAN + 1], strict=True))
        extra = sorted(
            {
                member
                for message in found.values()
                if message is not None and message.grouped_id is not None and not message.message
                for member in range(message.id + 1, min(message.id + ALBUM_SPAN + 1, following[message.id]))
            }
        )
        if extra:
            found.update(await self._get_messages(channel, extra))
        albums: dict[int, list[Any]] = {}
        for message in found.values():
            if message is not None and message.grouped_id is not None:
                albums.setdefault(message.grouped_id, []).append(message)
        changed, gone = 0, []
        for message_id in ids:
            message = found.get(message_id)
            if message is None:
                gone.append(message_id)
                continue
            members = (
                albums.get(message.grouped_id, [message]) if message.grouped_id is not None else [message]
            )
            post = await self._post(channel, members)
            if post.message_id != message_id:
                continue
            stored = await self.store.posts.get(channel.key, message_id)
            if stored is None or stored.post.text != post.text:
                self._intake.put_nowait(_Live("post", channel.key, post=post))
                changed += 1
        if gone:
            self._intake.put_nowait(_Live("delete", channel.key, ids=tuple(gone)))
        if changed or gone:
            log.info("telegram.rechecked", channel=channel.key, changed=changed, deleted=len(gone))
        return changed, len(gone)

    async def recheck_all(self) -> None:
        for channel in self.active():
            await self._guarded(channel, lambda channel=channel: self._recheck_quiet(channel))  # type: ignore[misc]

    async def _recheck_quiet(self, channel: Channel) -> None:
        await self.recheck(channel)

    # ================================================================== connection
    async def _watch_connection(self, stop: asyncio.Event) -> None:
        """When the connection drops, reconnect with exponential backoff, then catch up."""
        while not stop.is_set():
            with contextlib.suppress(Exception):
                await self.client.disconnected
            if stop.is_set():
                return
            self._connected.clear()
            log.warning("telegram.disconnected")
            await self._reconnect(stop)
            self._connected.set()
            self._wake.set()

    async def _reconnect(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            delay = min(self.reconnect_max_backoff, 2.0**attempt) * (0.5 + 0.5 * self.jitter())
            log.info("telegram.reconnect_wait", attempt=attempt + 1, seconds=round(delay, 3))
            await self.sleep(delay)
            try:
                await self.client.disconnect()  # ends the old update loop before a new one starts
                await self.client.connect()
            except (OSError, ConnectionError) as error:
                log.warning("telegram.reconnect_failed", attempt=attempt + 1, error=repr(error))
                attempt += 1
                continue
            log.info("telegram.reconnected", attempt=attempt + 1)
            return

    # ================================================================== the service
    async def _maintain(self, stop: asyncio.Event) -> None:
        """Catch-up now and periodically (and after reconnects); re-check periodically."""
        next_catch_up = self.clock()
        next_recheck = self.clock()  # at start-up too: edits and deletions made while we were down
        while not stop.is_set():
            now = self.clock()
            try:
                if now >= next_catch_up or self._wake.is_set():
                    self._wake.clear()
                    await self.catch_up_all()
                    next_catch_up = self.clock() + self.catch_up_interval
                if now >= next_recheck:
                    await self.recheck_all()
                    next_recheck = self.clock() + self.recheck_interval
                self.passes += 1
                self.caught_up.set()
            except (OSError, ConnectionError) as error:
                log.warning("telegram.maintenance_interrupted", error=repr(error))
                await self._connected.wait()
                continue
            paused = [c.paused_until for c in self.channels.values() if c.paused_until > self.clock()]
            due = min([next_catch_up, next_recheck, *paused]) - self.clock()
            await self._sleep_until(max(due, 0.0), stop)

    async def _sleep_until(self, seconds: float, stop: asyncio.Event) -> None:
        """Sleep on the injected clock; wake early on stop or a reconnect."""
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        stopper = asyncio.ensure_future(stop.wait())
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, stopper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper, waker):
                task.cancel()
            await asyncio.gather(sleeper, stopper, waker, return_exceptions=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Listen and catch up until ``stop`` is set; then hand every queued item to the sink."""
        await self.resolve_all()
        handlers = self._handlers()
        for callback, builder in handlers:
            self.client.add_event_handler(callback, builder)
        log.info(
            "telegram.listening",
            channels=[c.key for c in self.channels.values() if c.status in {"ok", "paused"}],
            unavailable={c.key: c.status for c in self.channels.values() if c.status not in {"ok", "paused"}},
        )
        drain = asyncio.create_task(self._drain(), name="telegram.drain")
        helpers = [
            asyncio.create_task(self._maintain(stop), name="telegram.maintain"),
            asyncio.create_task(self._watch_connection(stop), name="telegram.connection"),
        ]
        stopping = asyncio.create_task(stop.wait(), name="telegram.stop")
        try:
            # Until stop, or until a loop fails: a bug must stop the service, not silently end catch-up.
            await asyncio.wait({stopping, drain, *helpers}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for callback, builder in handlers:
                self.client.remove_event_handler(callback, builder)
            for task in (stopping, *helpers):
                task.cancel()
            results = await asyncio.gather(*helpers, return_exceptions=True)
            if not drain.done():
                self._intake.put_nowait(None)
            await drain  # raises if the drain failed
        for result in results:
            if isinstance(result, Exception):
                log.error("telegram.failed", error=repr(result))
                raise result
        log.info("telegram.stopped")

    async def run_once(self) -> None:
        """One round (resolve, catch-up, re-check), everything handed to the sink; for ``run --once``."""
        await self.resolve_all()
        drain = asyncio.create_task(self._drain(), name="telegram.drain")
        try:
            await self.catch_up_all()
            await self.recheck_all()
            self.passes += 1
        finally:
            self._intake.put_nowait(None)
            await drain

    # ================================================================== backfill
    async def backfill(
        self,
        since: dt.datetime,
        *,
        only: str | None = None,
        progress: Progress | None = None,
        stop: asyncio.Event | None = None,
        checkpoint_every: int = 100,
    ) -> BackfillResult:
        """Fetch history since ``since`` into the sink; resumable from a checkpoint in ``store.state``."""
        if only is not None:
            # One channel, configured or not: resolve (and cache) just that one.
            self.refs = parse_channel_refs([only])
        await self.resolve_all()
        result = BackfillResult()
        wanted = None if only is None else self.refs[0].key
        for channel in self.channels.values():
            if wanted is not None and channel.key != wanted:
                continue
            if channel.status not in {"ok", "paused"} or channel.peer is None:
                result.skipped[channel.key] = channel.status
                continue
            try:
                done = await self._backfill_channel(channel, since, progress, stop, checkpoint_every)
            except ChannelPausedError as error:
                result.skipped[channel.key] = f"paused: flood wait {error.seconds:.0f}s"
                await self._set_status(channel, "paused", f"flood wait {error.seconds:.0f}s")
                continue
            except errors.RPCError as error:
                unavailable = _unavailable(error)
                if unavailable is None:
                    raise
                await self._mark_unavailable(channel, unavailable)
                result.skipped[channel.key] = unavailable.status
                continue
            result.posts[channel.key] = done
            if stop is not None and stop.is_set():
                result.interrupted = True
                break
        return result

    async def _backfill_channel(
        self,
        channel: Channel,
        since: dt.datetime,
        progress: Progress | None,
        stop: asyncio.Event | None,
        checkpoint_every: int,
    ) -> int:
        state_key = f"backfill:{channel.key}:{since.astimezone(dt.UTC).isoformat()}"
        checkpoint = int(await self.store.state.get(state_key) or 0)
        after = max(checkpoint - 1, 0)
        posts = since_checkpoint = 0
        last_post = checkpoint
        log.info(
            "telegram.backfill_start", channel=channel.key, since=since.isoformat(), checkpoint=checkpoint
        )
        attempt = 0
        while True:
            try:
                kwargs: dict[str, Any] = {"min_id": after, "reverse": True}
                if after == 0:
                    kwargs["offset_date"] = since
                async for group in grouped(self._history(channel, **kwargs)):
                    post = await self._post(channel, group)
                    if post.date < since:
                        continue
                    await self.sink.put(post)
                    posts += 1
                    since_checkpoint += 1
                    after = max(m.id for m in group)
                    last_post = post.message_id
                    if progress is not None:
                        progress(channel.key, posts)
                    if since_checkpoint >= checkpoint_every:
                        await self._checkpoint(state_key, post.message_id)
                        since_checkpoint = 0
                    if stop is not None and stop.is_set():
                        await self._checkpoint(state_key, post.message_id)
                        log.info("telegram.backfill_interrupted", channel=channel.key, posts=posts)
                        return posts
                break
            except FLOOD_ERRORS as error:
                attempt += 1
                await self._flood("backfill", channel.key, error, attempt)
        await self.sink.join()
        if last_post:
            await self.store.state.set(state_key, str(last_post))
        log.info("telegram.backfill_done", channel=channel.key, posts=posts)
        return posts

    async def _checkpoint(self, state_key: str, message_id: int) -> None:
        """Record progress only once everything before it is stored."""
        await self.sink.join()
        await self.store.state.set(state_key, str(message_id))


@contextlib.asynccontextmanager
async def open_source(
    settings: Settings,
    store: Store,
    sink: PostSink,
    metrics: Metrics,
    *,
    factory: ClientFactory | None = None,
    **source_options: Any,
) -> AsyncIterator[TelegramSource]:
    """The live source on a connected, authorised client holding the session lock.

    Entered before the service's task group starts, so a missing login or a locked session
    is one clear error, not a failed task.
    """
    async with open_client(settings, factory=factory or telegram_session.make_client) as client:
        yield TelegramSource.from_settings(settings, client, store, sink, metrics, **source_options)


async def run_live(
    settings: Settings,
    store: Store,
    sink: PostSink,
    metrics: Metrics,
    stop: asyncio.Event,
    *,
    factory: ClientFactory | None = None,
    started: Callable[[TelegramSource], None] | None = None,
    **source_options: Any,
) -> None:
    """The live source until ``stop`` (what ``convoywatch run`` does with Telegram configured).

    ``started`` receives the source once it exists (for status reporting and tests).
    """
    async with open_source(settings, store, sink, metrics, factory=factory, **source_options) as source:
        if started is not None:
            started(source)
        await source.run(stop)


async def run_backfill(
    settings: Settings,
    store: Store,
    sink: PostSink,
    metrics: Metrics,
    since: dt.datetime,
    *,
    only: str | None = None,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
    factory: ClientFactory | None = None,
    **source_options: Any,
) -> BackfillResult:
    """``convoywatch backfill``: history since ``since`` through the same pipeline, resumable."""
    async with open_source(settings, store, sink, metrics, factory=factory, **source_options) as source:
        return await source.backfill(since, only=only, progress=progress, stop=stop)


async def _collect(messages: AsyncIterator[Any]) -> list[Any]:
    return [message async for message in messages]


async def _aiter(items: Any) -> AsyncIterator[Any]:
    for item in items:
        yield item
