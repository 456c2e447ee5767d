"""FakeTelegram: channels, messages, accounts and pts, answering real TL requests."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import struct
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telethon import TelegramClient
from telethon import password as srp
from telethon.extensions import BinaryReader
from telethon.sessions import StringSession
from telethon.tl import functions, types

from tests.faketg.sender import FakeSender, RpcFailure

API_ID = 12345
API_HASH = "0123456789abcdef0123456789abcdef"
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

Handler = Callable[[FakeSender, Any], Awaitable[Any]]


@dataclass
class FakeChannel:
    """One broadcast channel: its history (current state) and its pts event log."""

    id: int
    access_hash: int
    title: str
    username: str | None
    messages: dict[int, Any] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    #: (pts, kind, message id(s)) with kind "new" | "edit" | "delete".
    log: list[tuple[int, str, tuple[int, ...]]] = field(default_factory=list)
    pts: int = 1
    last_id: int = 0
    private: bool = False
    gone: bool = False
    members: set[int] = field(default_factory=set)
    #: the next GetChannelDifference answers channelDifferenceTooLong.
    too_long: bool = False

    @property
    def tl(self) -> Any:
        return types.Channel(
            id=self.id,
            title=self.title,
            photo=types.ChatPhotoEmpty(),
            date=EPOCH,
            broadcast=True,
            left=(FakeTelegram.ME_ID not in self.members) or None,
            access_hash=self.access_hash,
            username=self.username,
        )

    @property
    def peer(self) -> Any:
        return types.PeerChannel(self.id)

    @property
    def key(self) -> str:
        """The convoywatch channel key (username lowercased, else the bare channel id)."""
        return self.username.lower() if self.username else str(self.id)


@dataclass
class Sent:
    """A message some client sent (``messages.SendMessage`` / ``SendMedia``)."""

    peer: Any
    text: str
    entities: list[Any]
    media: bool
    message_id: int
    by: int
    #: the request's ``random_id`` (Telegram's deduplication id for resends)
    random_id: int


@dataclass
class _Failure:
    request_type: type
    code: int
    message: str
    times: int | None
    when: Callable[[Any], bool] | None


def _error_code(message: str) -> int:
    if message.startswith(("FLOOD_WAIT_", "FLOOD_PREMIUM_WAIT_", "SLOWMODE_WAIT_")):
        return 420
    if message.startswith(("AUTH_KEY", "SESSION_")):
        return 401
    if message == "RANDOM_ID_DUPLICATE":
        return 500
    if message in {"CHAT_WRITE_FORBIDDEN", "USER_IS_BLOCKED", "CHAT_ADMIN_REQUIRED"}:
        return 403
    return 400


class FakeTelegram:
    """A Telegram server in memory that real Telethon clients talk to through ``FakeSender``."""

    #: the account every user client logs in as
    ME_ID = 777000111

    def __init__(self, *, now: Callable[[], dt.datetime] | None = None) -> None:
        self._now = now
        self._clock = itertools.count(1)
        self.channels: dict[int, FakeChannel] = {}
        self.users: dict[int, Any] = {}
        self.chats: dict[int, Any] = {}
        self.senders: set[FakeSender] = set()
        self.authorized: dict[int, int] = {}  # auth key id -> user id
        self.requests: list[Any] = []
        self.sent: list[Sent] = []
        #: per account: every ``random_id`` it sent a message with, and that message
        self.random_ids: dict[int, dict[int, Any]] = {}
        #: how a repeated ``random_id`` is answered: ``"error"`` as Telegram usually does
        #: (500 RANDOM_ID_DUPLICATE); ``"original"`` answers with the first message's
        #: ``updateMessageID`` and ``pts_count=0``, as has also been observed
        self.repeat_answer = "error"
        self.offline = False
        self.login_code = "12345"
        #: set to require two-step verification with this password at login
        self.password: str | None = None
        self._srp: dict[int, tuple[Any, int, int]] = {}  # srp_id -> (algo, b, v)
        self.bot_tokens: dict[str, int] = {}
        self.account_pts: dict[int, int] = {}
        self._account_messages: dict[int, list[tuple[int, Any]]] = {}
        self._failures: list[_Failure] = []
        self._next_channel_id = itertools.count(1001)
        self._next_private_id = itertools.count(1)
        self.handlers: dict[type, Handler] = {
            functions.InvokeWithLayerRequest: self._unwrap,
            functions.InitConnectionRequest: self._unwrap,
            functions.InvokeWithoutUpdatesRequest: self._unwrap,
            functions.help.GetConfigRequest: self._get_config,
            functions.users.GetUsersRequest: self._get_users,
            functions.updates.GetStateRequest: self._get_state,
            functions.updates.GetDifferenceRequest: self._get_difference,
            functions.updates.GetChannelDifferenceRequest: self._get_channel_difference,
            functions.contacts.ResolveUsernameRequest: self._resolve_username,
            functions.channels.GetChannelsRequest: self._get_channels,
            functions.channels.JoinChannelRequest: self._join_channel,
            functions.channels.GetMessagesRequest: self._get_messages,
            functions.messages.GetHistoryRequest: self._get_history,
            functions.messages.GetChatsRequest: self._get_chats,
            functions.messages.SendMessageRequest: self._send_message,
            functions.messages.SendMediaRequest: self._send_message,
            functions.upload.SaveFilePartRequest: self._save_file_part,
            functions.upload.SaveBigFilePartRequest: self._save_file_part,
            functions.auth.SendCodeRequest: self._send_code,
            functions.auth.SignInRequest: self._sign_in,
            functions.account.GetPasswordRequest: self._get_password,
            functions.auth.CheckPasswordRequest: self._check_password,
            functions.auth.ImportBotAuthorizationRequest: self._import_bot_authorization,
        }
        self.me = self.add_user(self.ME_ID, first_name="Analyst", username="analyst", is_self=True)

    # --- time ----------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        """The fake's clock: the injected ``now`` or one second per call after 2026-01-01."""
        if self._now is not None:
            return self._now()
        return EPOCH + dt.timedelta(seconds=next(self._clock))

    # --- world building --------------------------------------------------------------------
    def add_user(
        self,
        user_id: int,
        *,
        first_name: str = "User",
        username: str | None = None,
        bot: bool = False,
        is_self: bool = False,
    ) -> Any:
        """Register a user (or bot) account."""
        user = types.User(
            id=user_id,
            is_self=is_self or None,
            bot=bot or None,
            bot_info_version=1 if bot else None,
            access_hash=user_id * 7 + 3,
            first_name=first_name,
            username=username,
        )
        self.users[user_id] = user
        self.account_pts.setdefault(user_id, 1)
        return user

    def add_chat(self, chat_id: int, title: str = "Analysts") -> Any:
        """Register a basic group chat (peer id ``-chat_id``) that messages can be sent to."""
        chat = types.Chat(
            id=chat_id, title=title, photo=types.ChatPhotoEmpty(), participants_count=3, date=EPOCH, version=1
        )
        self.chats[chat_id] = chat
        return chat

    def add_bot(self, token: str, *, user_id: int = 555000111, username: str = "convoy_bot") -> Any:
        """Register a bot account that ``auth.importBotAuthorization`` accepts with ``token``."""
        self.bot_tokens[token] = user_id
        return self.add_user(user_id, first_name="Convoy bot", username=username, bot=True)

    def add_channel(
        self, username: str | None, title: str = "", *, joined: bool = True, channel_id: int | None = None
    ) -> FakeChannel:
        """Create a broadcast channel (public when ``username`` is given)."""
        cid = channel_id if channel_id is not None else next(self._next_channel_id)
        channel = FakeChannel(
            id=cid,
            access_hash=cid * 1_000_003 + 17,
            title=title or (username or f"channel {cid}"),
            username=username,
        )
        if joined:
            channel.members.add(self.ME_ID)
        self.channels[cid] = channel
        return channel

    # --- channel activity (changes history and pushes the matching updates) ---------------
    def post(
        self,
        channel: FakeChannel,
        text: str = "",
        *,
        media: bool = False,
        grouped_id: int | None = None,
        forward_from: tuple[FakeChannel, int] | None = None,
        date: dt.datetime | None = None,
        deliver: bool = True,
    ) -> Any:
        """Publish a post; ``deliver=False`` changes history without pushing the update (a lost update)."""
        channel.last_id += 1
        fwd = None
        if forward_from is not None:
            origin, origin_id = forward_from
            fwd = types.MessageFwdHeader(date=EPOCH, from_id=origin.peer, channel_post=origin_id)
        message = types.Message(
            id=channel.last_id,
            peer_id=channel.peer,
            date=date or self.now(),
            message=text,
            post=True,
            media=types.MessageMediaPhoto(photo=types.PhotoEmpty(id=channel.last_id)) if media else None,
            grouped_id=grouped_id,
            fwd_from=fwd,
        )
        channel.messages[message.id] = message
        channel.pts += 1
        channel.log.append((channel.pts, "new", (message.id,)))
        if deliver:
            self._push_channel(
                channel, types.UpdateNewChannelMessage(message=message, pts=channel.pts, pts_count=1)
            )
        return message

    def post_album(
        self,
        channel: FakeChannel,
        caption: str,
        *,
        size: int = 3,
        caption_index: int = 0,
        deliver: bool = True,
        date: dt.datetime | None = None,
    ) -> list[Any]:
        """Publish an album of ``size`` photos, the caption on item ``caption_index``, in one update batch."""
        grouped_id = 900_000 + channel.last_id + 1
        when = date or self.now()
        messages = [
            self.post(
                channel,
                caption if index == caption_index else "",
                media=True,
                grouped_id=grouped_id,
                date=when,
                deliver=False,
            )
            for index in range(size)
        ]
        if deliver:
            first_pts = channel.pts - size
            self._push_channel(
                channel,
                *(
                    types.UpdateNewChannelMessage(message=message, pts=first_pts + index + 1, pts_count=1)
                    for index, message in enumerate(messages)
                ),
            )
        return messages

    def edit(self, channel: FakeChannel, message_id: int, text: str, *, deliver: bool = True) -> Any:
        """Edit a post's text."""
        old = channel.messages[message_id]
        message = types.Message(
            id=old.id,
            peer_id=old.peer_id,
            date=old.date,
            message=text,
            post=True,
            media=old.media,
            grouped_id=old.grouped_id,
            fwd_from=old.fwd_from,
            edit_date=self.now(),
        )
        channel.messages[message_id] = message
        channel.pts += 1
        channel.log.append((channel.pts, "edit", (message_id,)))
        if deliver:
            self._push_channel(
                channel, types.UpdateEditChannelMessage(message=message, pts=channel.pts, pts_count=1)
            )
        return message

    def delete(self, channel: FakeChannel, message_ids: Sequence[int], *, deliver: bool = True) -> None:
        """Delete posts."""
        ids = [mid for mid in message_ids if mid in channel.messages]
        for mid in ids:
            del channel.messages[mid]
            channel.deleted.add(mid)
        channel.pts += len(ids)
        channel.log.append((channel.pts, "delete", tuple(ids)))
        if deliver and ids:
            self._push_channel(
                channel,
                types.UpdateDeleteChannelMessages(
                    channel_id=channel.id, messages=ids, pts=channel.pts, pts_count=len(ids)
                ),
            )

    def make_private(self, channel: FakeChannel) -> None:
        """The channel turns private (or bans us): every request about it fails CHANNEL_PRIVATE."""
        channel.private = True

    def remove_channel(self, channel: FakeChannel) -> None:
        """The channel is deleted: its username no longer resolves."""
        channel.gone = True
        channel.private = True

    def push_to_bot(self, bot_id: int, text: str, *, chat_id: int, from_id: int) -> Any:
        """A user writes ``text`` to the bot in a private chat with ``chat_id`` (the user's id)."""
        pts = self.account_pts[bot_id] = self.account_pts[bot_id] + 1
        message = types.Message(
            id=pts,
            peer_id=types.PeerUser(chat_id),
            date=self.now(),
            message=text,
            from_id=types.PeerUser(from_id),
        )
        self._account_messages.setdefault(bot_id, []).append((pts, message))
        users = [self.users[uid] for uid in {chat_id, from_id} if uid in self.users]
        updates = types.Updates(
            updates=[types.UpdateNewMessage(message=message, pts=pts, pts_count=1)],
            users=users,
            chats=[],
            date=self.now(),
            seq=0,
        )
        for sender in list(self.senders):
            if self._user_of(sender) == bot_id:
                sender.push(updates)
        return message

    # --- connection -------------------------------------------------------------------------
    def drop_connections(self) -> None:
        """Every connected client loses its connection (the network dropped)."""
        for sender in list(self.senders):
            sender._drop(ConnectionError("connection to the fake Telegram dropped"))

    # --- error injection ----------------------------------------------------------------------
    def fail(
        self,
        request_type: type,
        error: str,
        *,
        times: int | None = 1,
        code: int | None = None,
        when: Callable[[Any], bool] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests (``None``: all) with the RPC ``error``.

        ``error`` is Telegram's message, e.g. ``"FLOOD_WAIT_30"`` or ``"CHANNEL_PRIVATE"``;
        ``when`` narrows the match (e.g. to one channel).
        """
        self._failures.append(_Failure(request_type, code or _error_code(error), error, times, when))

    def count(self, request_type: type) -> int:
        """How many requests of this type reached the server."""
        return sum(isinstance(request, request_type) for request in self.requests)

    # --- clients ---------------------------------------------------------------------------------
    def install(self, client: TelegramClient) -> TelegramClient:
        """Replace the client's MTProto sender with one talking to this fake (before ``connect``)."""
        sender = FakeSender(self, client._updates_queue, client.session.auth_key)
        sender._auto_reconnect_callback = client._handle_auto_reconnect
        client._sender = sender
        return client

    def authorize(self, client: TelegramClient, user_id: int | None = None) -> None:
        """Mark the client's auth key as logged in (as ``user_id``, default the analyst)."""
        self.authorized[self._key_id(client._sender)] = user_id or self.ME_ID

    async def client(
        self, session: Any = None, *, authorized: bool = True, user_id: int | None = None, **kwargs: Any
    ) -> TelegramClient:
        """A real, connected ``TelegramClient`` on this fake (a fresh ``StringSession`` by default)."""
        kwargs.setdefault("flood_sleep_threshold", 0)  # flood waits raise: a test never sleeps for real
        client = TelegramClient(
            session if session is not None else StringSession(),
            API_ID,
            API_HASH,
            receive_updates=True,
            **kwargs,
        )
        self.install(client)
        if authorized:
            self.authorize(client, user_id)
        await client.connect()
        return client

    # --- internals: dispatch ------------------------------------------------------------------
    @staticmethod
    def _key_id(sender: FakeSender) -> int:
        return int(sender.auth_key.key_id)

    def _user_of(self, sender: FakeSender) -> int | None:
        return self.authorized.get(self._key_id(sender))

    async def handle(self, sender: FakeSender, request: Any) -> Any:
        if self.offline or not sender.is_connected():
            raise ConnectionError("fake Telegram is offline")
        if not isinstance(request, functions.InvokeWithLayerRequest | functions.InitConnectionRequest):
            self.requests.append(request)
        for failure in list(self._failures):
            if isinstance(request, failure.request_type) and (failure.when is None or failure.when(request)):
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                raise RpcFailure(failure.code, failure.message)
        handler = self.handlers.get(type(request))
        if handler is None:
            raise RpcFailure(400, f"FAKE_NOT_IMPLEMENTED_{type(request).__name__.upper()}")
        return await handler(sender, request)

    async def _unwrap(self, sender: FakeSender, request: Any) -> Any:
        return await self.handle(sender, request.query)

    def _require_user(self, sender: FakeSender) -> int:
        user_id = self._user_of(sender)
        if user_id is None:
            raise RpcFailure(401, "AUTH_KEY_UNREGISTERED")
        return user_id

    def _channel(self, input_channel: Any) -> FakeChannel:
        channel_id = getattr(input_channel, "channel_id", None)
        channel = self.channels.get(channel_id) if channel_id is not None else None
        if channel is None or channel.access_hash != input_channel.access_hash:
            raise RpcFailure(400, "CHANNEL_INVALID")
        if channel.private:
            raise RpcFailure(400, "CHANNEL_PRIVATE")
        return channel

    def _chats(self, channel: FakeChannel, messages: Iterable[Any]) -> list[Any]:
        """The channel plus the original channels of forwarded messages (as Telegram sends them)."""
        chats = {channel.id: channel.tl}
        for message in messages:
            header = getattr(message, "fwd_from", None)
            origin = getattr(header, "from_id", None) if header is not None else None
            if isinstance(origin, types.PeerChannel) and origin.channel_id in self.channels:
                chats.setdefault(origin.channel_id, self.channels[origin.channel_id].tl)
        return list(chats.values())

    def _push_channel(self, channel: FakeChannel, *updates: Any) -> None:
        messages = [getattr(update, "message", None) for update in updates]
        batch = types.Updates(
            updates=list(updates), users=[], chats=self._chats(channel, messages), date=self.now(), seq=0
        )
        for sender in list(self.senders):
            if self._user_of(sender) in channel.members and not channel.private:
                sender.push(batch)

    @staticmethod
    def _current(channel: FakeChannel, message_id: int) -> Any:
        return channel.messages.get(message_id)

    # --- internals: handlers ----------------------------------------------------------------------
    async def _get_config(self, sender: FakeSender, request: Any) -> Any:
        return types.Config(
            date=self.now(),
            expires=self.now() + dt.timedelta(hours=1),
            test_mode=False,
            this_dc=2,
            dc_options=[types.DcOption(id=2, ip_address="149.154.167.51", port=443)],
            dc_txt_domain_name="",
            chat_size_max=200,
            megagroup_size_max=200000,
            forwarded_count_max=100,
            online_update_period_ms=120000,
            offline_blur_timeout_ms=5000,
            offline_idle_timeout_ms=30000,
            online_cloud_timeout_ms=300000,
            notify_cloud_delay_ms=30000,
            notify_default_delay_ms=1500,
            push_chat_period_ms=60000,
            push_chat_limit=2,
            edit_time_limit=172800,
            revoke_time_limit=172800,
            revoke_pm_time_limit=2147483647,
            rating_e_decay=2419200,
            stickers_recent_limit=200,
            channels_read_media_period=604800,
            call_receive_timeout_ms=20000,
            call_ring_timeout_ms=90000,
            call_connect_timeout_ms=30000,
            call_packet_timeout_ms=10000,
            me_url_prefix="https://t.me/",
            caption_length_max=1024,
            message_length_max=4096,
            webfile_dc_id=4,
        )

    async def _get_users(self, sender: FakeSender, request: Any) -> list[Any]:
        user_id = self._require_user(sender)
        found = []
        for input_user in request.id:
            if isinstance(input_user, types.InputUserSelf):
                found.append(self.users[user_id])
            elif getattr(input_user, "user_id", None) in self.users:
                found.append(self.users[input_user.user_id])
        return found

    async def _get_state(self, sender: FakeSender, request: Any) -> Any:
        user_id = self._require_user(sender)
        return types.updates.State(
            pts=self.account_pts[user_id], qts=0, date=self.now(), seq=0, unread_count=0
        )

    async def _get_difference(self, sender: FakeSender, request: Any) -> Any:
        user_id = self._require_user(sender)
        pts = self.account_pts[user_id]
        if request.pts >= pts:
            return types.updates.DifferenceEmpty(date=self.now(), seq=0)
        messages = [m for p, m in self._account_messages.get(user_id, []) if p > request.pts]
        return types.updates.Difference(
            new_messages=messages,
            new_encrypted_messages=[],
            other_updates=[],
            chats=[],
            users=list(self.users.values()),
            state=types.updates.State(pts=pts, qts=0, date=self.now(), seq=0, unread_count=0),
        )

    async def _get_channel_difference(self, sender: FakeSender, request: Any) -> Any:
        self._require_user(sender)
        channel = self._channel(request.channel)
        if channel.too_long:
            channel.too_long = False
            top = max(channel.messages, default=0)
            latest = [
                channel.messages[mid] for mid in sorted(channel.messages, reverse=True)[: request.limit]
            ]
            return types.updates.ChannelDifferenceTooLong(
                dialog=types.Dialog(
                    peer=channel.peer,
                    top_message=top,
                    read_inbox_max_id=top,
                    read_outbox_max_id=top,
                    unread_count=0,
                    unread_mentions_count=0,
                    unread_reactions_count=0,
                    unread_poll_votes_count=0,
                    notify_settings=types.PeerNotifySettings(),
                    pts=channel.pts,
                ),
                messages=latest,
                chats=[channel.tl],
                users=[],
                final=True,
                timeout=30,
            )
        if request.pts >= channel.pts:
            return types.updates.ChannelDifferenceEmpty(pts=channel.pts, final=True, timeout=30)
        entries = [entry for entry in channel.log if entry[0] > request.pts]
        batch = entries[: request.limit]
        final = len(batch) == len(entries)
        new_ids = [mid for _, kind, ids in batch if kind == "new" for mid in ids]
        new_messages = [channel.messages[mid] for mid in new_ids if mid in channel.messages]
        other: list[Any] = []
        for pts, kind, ids in batch:
            if kind == "edit" and ids[0] not in new_ids and ids[0] in channel.messages:
                other.append(
                    types.UpdateEditChannelMessage(message=channel.messages[ids[0]], pts=pts, pts_count=1)
                )
            elif kind == "delete":
                other.append(
                    types.UpdateDeleteChannelMessages(
                        channel_id=channel.id, messages=list(ids), pts=pts, pts_count=len(ids)
                    )
                )
        return types.updates.ChannelDifference(
            pts=batch[-1][0],
            new_messages=new_messages,
            other_updates=other,
            chats=self._chats(channel, new_messages),
            users=[],
            final=final or None,
            timeout=30 if final else None,
        )

    async def _resolve_username(self, sender: FakeSender, request: Any) -> Any:
        self._require_user(sender)
        for channel in self.channels.values():
            if channel.username and channel.username.lower() == request.username.lower() and not channel.gone:
                return types.contacts.ResolvedPeer(peer=channel.peer, chats=[channel.tl], users=[])
        for user in self.users.values():
            if user.username and user.username.lower() == request.username.lower():
                return types.contacts.ResolvedPeer(peer=types.PeerUser(user.id), chats=[], users=[user])
        raise RpcFailure(400, "USERNAME_NOT_OCCUPIED")

    async def _get_channels(self, sender: FakeSender, request: Any) -> Any:
        self._require_user(sender)
        return types.messages.Chats(chats=[self._channel(item).tl for item in request.id])

    async def _join_channel(self, sender: FakeSender, request: Any) -> Any:
        user_id = self._require_user(sender)
        channel = self._channel(request.channel)
        channel.members.add(user_id)
        return types.Updates(updates=[], users=[], chats=[channel.tl], date=self.now(), seq=0)

    async def _get_messages(self, sender: FakeSender, request: Any) -> Any:
        self._require_user(sender)
        channel = self._channel(request.channel)
        if len(request.id) > 100:
            raise RpcFailure(400, "LIMIT_INVALID")
        found = []
        for item in request.id:
            message = self._current(channel, item.id)
            found.append(message if message is not None else message_empty(item.id))
        return types.messages.ChannelMessages(
            pts=channel.pts,
            count=len(found),
            messages=found,
            topics=[],
            chats=self._chats(channel, found),
            users=[],
        )

    async def _get_history(self, sender: FakeSender, request: Any) -> Any:
        self._require_user(sender)
        if not isinstance(request.peer, types.InputPeerChannel):
            raise RpcFailure(400, "PEER_ID_INVALID")
        channel = self._channel(types.InputChannel(request.peer.channel_id, request.peer.access_hash))
        newest_first = [channel.messages[mid] for mid in sorted(channel.messages, reverse=True)]
        if request.offset_id:
            start = next(
                (i for i, m in enumerate(newest_first) if m.id < request.offset_id), len(newest_first)
            )
        elif request.offset_date and request.offset_date.timestamp() > 0:  # 0 on the wire means none
            start = next(
                (i for i, m in enumerate(newest_first) if m.date < request.offset_date), len(newest_first)
            )
        else:
            start = 0
        begin = start + request.add_offset
        end = begin + min(request.limit, 100)
        page = newest_first[max(0, begin) : max(0, end)]
        if request.min_id:
            page = [m for m in page if m.id > request.min_id]
        if request.max_id:
            page = [m for m in page if m.id < request.max_id]
        return types.messages.ChannelMessages(
            pts=channel.pts,
            count=len(newest_first),
            messages=page,
            topics=[],
            chats=self._chats(channel, page),
            users=[],
        )

    async def _get_chats(self, sender: FakeSender, request: Any) -> Any:
        self._require_user(sender)
        missing = [chat_id for chat_id in request.id if chat_id not in self.chats]
        if missing:
            raise RpcFailure(400, "CHAT_ID_INVALID")
        return types.messages.Chats(chats=[self.chats[chat_id] for chat_id in request.id])

    async def _send_message(self, sender: FakeSender, request: Any) -> Any:
        user_id = self._require_user(sender)
        seen = self.random_ids.setdefault(user_id, {})
        if request.random_id in seen:  # a resend: Telegram posts nothing
            if self.repeat_answer == "error":
                raise RpcFailure(500, "RANDOM_ID_DUPLICATE")
            return self._sent_before(user_id, request.random_id, seen[request.random_id])
        peer = request.peer
        text = request.message
        media = isinstance(request, functions.messages.SendMediaRequest)
        if isinstance(peer, types.InputPeerChannel):
            channel = self._channel(types.InputChannel(peer.channel_id, peer.access_hash))
            message = self.post(channel, text, media=media, deliver=False)
            seen[request.random_id] = message
            entities = list(request.entities or [])
            self.sent.append(Sent(peer, text, entities, media, message.id, user_id, request.random_id))
            return types.Updates(
                updates=[
                    types.UpdateMessageID(id=message.id, random_id=request.random_id),
                    types.UpdateNewChannelMessage(message=message, pts=channel.pts, pts_count=1),
                ],
                users=[],
                chats=[channel.tl],
                date=self.now(),
                seq=0,
            )
        pts = self.account_pts[user_id] = self.account_pts[user_id] + 1
        if isinstance(peer, types.InputPeerUser):
            if peer.user_id not in self.users:
                raise RpcFailure(400, "PEER_ID_INVALID")
            peer_id: Any = types.PeerUser(peer.user_id)
        elif isinstance(peer, types.InputPeerChat):
            if peer.chat_id not in self.chats:
                raise RpcFailure(400, "CHAT_ID_INVALID")
            peer_id = types.PeerChat(peer.chat_id)
        elif isinstance(peer, types.InputPeerSelf):
            peer_id = types.PeerUser(user_id)
        else:
            raise RpcFailure(400, "PEER_ID_INVALID")
        message = types.Message(
            id=pts,
            peer_id=peer_id,
            date=self.now(),
            message=text,
            out=True,
            from_id=types.PeerUser(user_id),
            entities=request.entities,
            media=types.MessageMediaPhoto(photo=types.PhotoEmpty(id=pts)) if media else None,
        )
        seen[request.random_id] = message
        entities = list(request.entities or [])
        self.sent.append(Sent(peer, text, entities, media, message.id, user_id, request.random_id))
        return types.Updates(
            updates=[
                types.UpdateMessageID(id=message.id, random_id=request.random_id),
                types.UpdateNewMessage(message=message, pts=pts, pts_count=1),
            ],
            users=[self.users[user_id]],
            chats=[self.chats[peer_id.chat_id]] if isinstance(peer_id, types.PeerChat) else [],
            date=self.now(),
            seq=0,
        )

    def _sent_before(self, user_id: int, random_id: int, message: Any) -> Any:
        """The answer to a repeated ``random_id`` in ``"original"`` mode: the first message again."""
        if isinstance(message.peer_id, types.PeerChannel):
            channel = self.channels[message.peer_id.channel_id]
            update: Any = types.UpdateNewChannelMessage(message=message, pts=channel.pts, pts_count=0)
            chats = [channel.tl]
        else:
            update = types.UpdateNewMessage(message=message, pts=self.account_pts[user_id], pts_count=0)
            chat_id = getattr(message.peer_id, "chat_id", None)
            chats = [self.chats[chat_id]] if chat_id is not None else []
        return types.Updates(
            updates=[types.UpdateMessageID(id=message.id, random_id=random_id), update],
            users=[self.users[user_id]],
            chats=chats,
            date=self.now(),
            seq=0,
        )

    async def _save_file_part(self, sender: FakeSender, request: Any) -> bool:
        self._require_user(sender)
        return True

    async def _send_code(self, sender: FakeSender, request: Any) -> Any:
        return types.auth.SentCode(type=types.auth.SentCodeTypeApp(length=5), phone_code_hash="fakehash")

    async def _sign_in(self, sender: FakeSender, request: Any) -> Any:
        if request.phone_code != self.login_code:
            raise RpcFailure(400, "PHONE_CODE_INVALID")
        if self.password is not None:
            self._pending_2fa = self._key_id(sender)
            raise RpcFailure(401, "SESSION_PASSWORD_NEEDED")
        self.authorized[self._key_id(sender)] = self.ME_ID
        return types.auth.Authorization(user=self.me)

    async def _get_password(self, sender: FakeSender, request: Any) -> Any:
        """SRP parameters for two-step verification (the server half of Telegram's SRP-2048)."""
        if self.password is None:
            return types.account.Password(
                new_algo=types.PasswordKdfAlgoUnknown(),
                new_secure_algo=types.SecurePasswordKdfAlgoUnknown(),
                secure_random=os.urandom(32),
            )
        p_bytes = _good_prime()
        algo = types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
            salt1=os.urandom(8), salt2=os.urandom(16), g=3, p=p_bytes
        )
        p = int.from_bytes(p_bytes, "big")
        x = int.from_bytes(srp.compute_hash(algo, self.password), "big")
        v = pow(3, x, p)
        k = int.from_bytes(srp.sha256(srp.num_bytes_for_hash(p_bytes), srp.big_num_for_hash(3)), "big")
        while True:
            b = int.from_bytes(os.urandom(256), "big")
            big_b = (k * v + pow(3, b, p)) % p
            if srp.is_good_large(big_b, p):
                break
        srp_id = int.from_bytes(os.urandom(8), "big", signed=True)
        self._srp[srp_id] = (algo, b, v)
        return types.account.Password(
            new_algo=algo,
            new_secure_algo=types.SecurePasswordKdfAlgoUnknown(),
            secure_random=os.urandom(32),
            has_password=True,
            current_algo=algo,
            srp_B=srp.big_num_for_hash(big_b),
            srp_id=srp_id,
        )

    async def _check_password(self, sender: FakeSender, request: Any) -> Any:
        check = request.password
        algo, b, v = self._srp.pop(check.srp_id, (None, 0, 0))
        if algo is None:
            raise RpcFailure(400, "SRP_ID_INVALID")
        p = int.from_bytes(algo.p, "big")
        k = int.from_bytes(srp.sha256(srp.num_bytes_for_hash(algo.p), srp.big_num_for_hash(3)), "big")
        big_b = (k * v + pow(3, b, p)) % p
        a_for_hash = srp.num_bytes_for_hash(check.A)
        b_for_hash = srp.big_num_for_hash(big_b)
        u = int.from_bytes(srp.sha256(a_for_hash, b_for_hash), "big")
        secret = pow(int.from_bytes(check.A, "big") * pow(v, u, p), b, p)
        expected = srp.sha256(
            srp.xor(srp.sha256(srp.num_bytes_for_hash(algo.p)), srp.sha256(srp.big_num_for_hash(3))),
            srp.sha256(algo.salt1),
            srp.sha256(algo.salt2),
            a_for_hash,
            b_for_hash,
            srp.sha256(srp.big_num_for_hash(secret)),
        )
        if bytes(check.M1) != bytes(expected):
            raise RpcFailure(400, "PASSWORD_HASH_INVALID")
        self.authorized[self._key_id(sender)] = self.ME_ID
        return types.auth.Authorization(user=self.me)

    async def _import_bot_authorization(self, sender: FakeSender, request: Any) -> Any:
        user_id = self.bot_tokens.get(request.bot_auth_token)
        if user_id is None:
            raise RpcFailure(400, "ACCESS_TOKEN_INVALID")
        self.authorized[self._key_id(sender)] = user_id
        return types.auth.Authorization(user=self.users[user_id])


def _good_prime() -> bytes:
    """Telegram's 2048-bit SRP prime, as Telethon knows it (the one its client accepts)."""
    consts = srp.check_prime_and_good.__code__.co_consts
    return bytes(next(c for c in consts if isinstance(c, tuple) and len(c) == 256))


def message_empty(message_id: int) -> Any:
    """A ``messageEmpty`` (Telethon patches the class, so it is read from its TL bytes)."""
    data = struct.pack("<Iii", types.MessageEmpty.CONSTRUCTOR_ID, 0, message_id)
    with BinaryReader(data) as reader:
        return reader.tgread_object()


async def settle(client: TelegramClient | None = None, rounds: int = 20) -> None:
    """Let pending tasks (update loop, handlers, answers) run."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def all_ids(messages: Iterable[Any]) -> list[int]:
    """The ids of some messages, in order."""
    return [message.id for message in messages]
