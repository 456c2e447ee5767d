"""Senders: where a rendered message goes (adapters behind the ``Sender`` port).

``TelegramSender`` wraps a connected Telethon client, either a bot (recommended, so the
monitoring account only reads) or the user account, and turns Telethon's errors into the
three outcomes the outbox worker acts on: ``RetryAfterError`` (flood wait), ``TransientSendError``
(retry with backoff) and ``PermanentSendError`` (the chat is unreachable: leave the part pending).
``ConsoleSender`` and ``FileSender`` are the sinks of the embedded default and of tests.

Every send carries the outbox message's ``key`` (digest key, chat, seq: the same in every
run). What a resend of the same key does after a crash between the send and ``mark_sent``:

* ``FileSender``: exactly once. The file's name holds a digest of the key, so a resend
  rewrites the same file with the same bytes; every write attempt is logged in
  ``journal.jsonl`` (so a resend is visible, never silently absorbed).
* ``ConsoleSender``: at-least-once. Standard output cannot be read back after a restart, so
  the part in flight at a crash may be printed again.
* ``TelegramSender``: exactly once, by Telegram's own deduplication. ``messages.sendMessage``
  and ``sendMedia`` carry a ``random_id`` ("unique client message ID required to prevent
  message resending"); ours is derived from the key alone (``random_id_for``), so every
  process sends a given part with the same one. Telegram answers a ``random_id`` this account
  already used with ``500 RANDOM_ID_DUPLICATE`` (or, as also observed, with the original
  message's ``updateMessageID``) and posts nothing: the resend is a success
  (``delivery.resend_absorbed``), and so is the retry of a send whose answer was lost (a
  timeout after Telegram had accepted it). This holds as long as Telegram remembers the ``random_id``;
  how long it does is not documented. Telethon's ``send_message``/``send_file`` draw a fresh
  ``random_id`` per call, so the requests are built here (HTML parsed by Telethon's own
  parser, link previews off) and sent once each, past Telethon's retry of 5xx answers
  (``_invoke``), which would otherwise sleep through every RANDOM_ID_DUPLICATE and hide it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

from telethon import TelegramClient, errors
from telethon.extensions import html as telethon_html
from telethon.sessions import StringSession
from telethon.tl import functions, types

from bot.digest.render import to_plain
from bot.errors import ConfigError, ConvoywatchError
from bot.logs import get_logger
from bot.settings import Settings
from bot.sources.telegram_session import ClientFactory, make_client

log = get_logger(__name__)


class SendError(Exception):
    """A message was not accepted."""


class RetryAfterError(SendError):
    """Telegram asked us to wait (flood wait, slow mode) before sending again."""

    def __init__(self, seconds: float, message: str = "flood wait") -> None:
        self.seconds = max(0.0, float(seconds))
        super().__init__(f"{message}: retry after {self.seconds:g}s")


class TransientSendError(SendError):
    """A failure worth retrying soon (network, Telegram server error)."""


class PermanentSendError(SendError):
    """The chat cannot receive messages from us (removed, blocked, private, unknown)."""


class Sender(Protocol):
    """Delivers one message (HTML, optionally with a PNG) and returns its message id.

    ``key`` identifies the outbox message: a send with a key already sent is a resend of
    the same message (after a crash before it was marked sent). An adapter delivers it again
    (at-least-once) or, where the medium allows, makes it a no-op that succeeds (exactly once),
    returning the first send's id or, if the medium does not tell it, a stable one of its own.
    """

    async def send(self, chat: str, html: str, attachment: bytes | None, *, key: str) -> str: ...


#: Telethon errors that mean "this chat will not take our messages" (until someone acts).
PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    errors.ChatWriteForbiddenError,
    errors.UserIsBlockedError,
    errors.ChannelPrivateError,
    errors.PeerIdInvalidError,
    errors.ChatIdInvalidError,
    errors.ChannelInvalidError,
    errors.ChatAdminRequiredError,
    errors.ChatRestrictedError,
    errors.UserBannedInChannelError,
    errors.InputUserDeactivatedError,
    errors.ForbiddenError,
    errors.UnauthorizedError,
    errors.BadRequestError,
)


def chat_peer(chat: str) -> int | str:
    """A configured chat id as Telethon wants it: marked numeric ids as int, usernames as text."""
    text = chat.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def random_id_for(key: str) -> int:
    """Telegram's ``random_id`` for a message key: its SHA-256's first 8 bytes, signed, never 0.

    Derived from the key alone, so a restarted process resends a part with the same id.
    """
    value = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)
    return value or 1


def sent_message_id(result: Any, random_id: int) -> int | None:
    """The id Telegram gave the message sent with ``random_id``, read from the request's result.

    ``updateShortSentMessage`` carries it directly; otherwise it is the ``updateMessageID``
    that maps our ``random_id`` to the new message's id (as Telethon's ``_get_response_message``).
    """
    if isinstance(result, types.UpdateShortSentMessage):
        return int(result.id)
    if isinstance(result, types.UpdateShort):
        updates = [result.update]
    elif isinstance(result, types.Updates | types.UpdatesCombined):
        updates = list(result.updates)
    else:
        return None
    for update in updates:
        if isinstance(update, types.UpdateMessageID) and update.random_id == random_id:
            return int(update.id)
    return None


def parse_html(html: str) -> tuple[str, list[Any]]:
    """Text and entities as Telethon's ``parse_mode="html"`` makes them (empty entities dropped)."""
    text, entities = telethon_html.parse(html)
    return text, [entity for entity in entities if entity.length]


async def _invoke(client: TelegramClient, request: Any) -> Any:
    """Send ``request`` once and return Telegram's answer, or raise its error as Telethon maps it.

    ``client(request)`` retries every 5xx answer after 2 s, ``request_retries`` times, then
    raises a bare ``ValueError`` (``raise_last_call_error`` is off). RANDOM_ID_DUPLICATE is a
    500 (``RandomIdDuplicateError`` is a ``ServerError``), so a resend would sleep through the
    retries and end as an error indistinguishable from an unknown chat. One attempt here; the
    outbox worker retries transient errors itself, which a fixed ``random_id`` makes safe.
    """
    result = await client._sender.send(request)
    client.session.process_entities(result)  # as ``client(request)`` does: cache the peers seen
    return result


class TelegramSender:
    """Sends through a connected Telethon client (bot or user account), exactly once per key.

    ``client`` may be a getter, for the user account whose client the live source owns
    (None until it is connected: a transient error, retried).
    """

    def __init__(self, client: TelegramClient | Callable[[], TelegramClient | None]) -> None:
        self._client = client

    def _current(self) -> TelegramClient:
        client = self._client if isinstance(self._client, TelegramClient) else self._client()
        if client is None or not client.is_connected():
            raise TransientSendError("the Telegram client is not connected")
        return client

    async def send(self, chat: str, html: str, attachment: bytes | None, *, key: str) -> str:
        """Send with ``random_id_for(key)``; a resend Telegram recognises posts nothing and succeeds."""
        random_id = random_id_for(key)
        client = self._current()
        text, entities = parse_html(html)
        try:
            peer = await client.get_input_entity(chat_peer(chat))
            request: Any
            if attachment is not None:
                photo = io.BytesIO(attachment)
                photo.name = "digest.png"
                uploaded = await client.upload_file(photo)
                request = functions.messages.SendMediaRequest(
                    peer=peer,
                    media=types.InputMediaUploadedPhoto(file=uploaded),
                    message=text,
                    entities=entities,
                    random_id=random_id,
                )
            else:
                request = functions.messages.SendMessageRequest(
                    peer=peer, message=text, entities=entities, no_webpage=True, random_id=random_id
                )
            result = await _invoke(client, request)
        except errors.RandomIdDuplicateError:
            # Telegram already has this message (sent before a crash, or accepted before a timeout).
            log.info("delivery.resend_absorbed", chat_id=chat, key=key, random_id=random_id)
            return f"dup:{random_id}"
        except (errors.FloodWaitError, errors.SlowModeWaitError, errors.FloodPremiumWaitError) as error:
            raise RetryAfterError(error.seconds, type(error).__name__) from error
        except PERMANENT_ERRORS as error:
            raise PermanentSendError(f"{type(error).__name__}: {error}") from error
        except ValueError as error:  # Telethon: the chat cannot be resolved to an entity
            raise PermanentSendError(f"cannot resolve chat {chat!r}: {error}") from error
        except (TimeoutError, errors.RPCError, ConnectionError, OSError) as error:
            raise TransientSendError(f"{type(error).__name__}: {error}") from error
        message_id = sent_message_id(result, random_id)
        if message_id is None:  # accepted, but the answer names no message (not seen so far)
            log.warning("delivery.sent_without_id", chat_id=chat, key=key, random_id=random_id)
            return f"sent:{random_id}"
        return str(message_id)


class ConsoleSender:
    """Prints each message as plain text (tags stripped, entities unescaped).

    At-least-once: what was printed cannot be read back after a restart.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._count = 0

    async def send(self, chat: str, html: str, attachment: bytes | None, *, key: str) -> str:
        del key  # nothing to check it against after a restart
        self._count += 1
        stream = self._stream or sys.stdout
        note = f" [chart, {len(attachment)} bytes]" if attachment is not None else ""
        stream.write(f"--- to {chat}{note}\n{to_plain(html)}\n")
        stream.flush()
        return f"console:{self._count}"


class FileSender:
    """Writes each message to ``directory`` as ``<chat>-<n>-<tag>.html`` (and ``.png``).

    ``n`` numbers a chat's messages in delivery order; ``tag`` is a digest of the message
    key, so a resend of a key rewrites its own file and the directory holds every message
    exactly once, whatever the crashes. Each write attempt is appended to ``journal.jsonl``
    (key, file, whether it rewrote a message already there) before the files are written.
    """

    JOURNAL = "journal.jsonl"

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def send(self, chat: str, html: str, attachment: bytes | None, *, key: str) -> str:
        return await asyncio.to_thread(self._write, chat, html, attachment, key)

    def _write(self, chat: str, html: str, attachment: bytes | None, key: str) -> str:
        self._directory.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", chat) or "chat"
        tag = key_tag(key)
        name = re.compile(rf"{re.escape(safe)}-(\d+)-([0-9a-f]{{{len(tag)}}})\.(html|png)")
        last = 0
        mine: int | None = None
        rewrite = False
        with os.scandir(self._directory) as entries:
            for entry in entries:
                found = name.fullmatch(entry.name)
                if found is None:
                    continue
                number = int(found[1])
                last = max(last, number)
                if found[2] == tag:
                    mine = number
                    rewrite = rewrite or found[3] == "html"
        stem = self._directory / f"{safe}-{mine if mine is not None else last + 1:05d}-{tag}"
        line = json.dumps({"key": key, "file": stem.name, "rewrite": rewrite}, ensure_ascii=False)
        with (self._directory / self.JOURNAL).open("a", encoding="utf-8") as journal:
            journal.write(line + "\n")
        # the chart first, then the message, each written whole or not at all (temp + rename),
        # so a crash never leaves a half-written message behind
        if attachment is not None:
            _write_atomically(stem.with_suffix(".png"), attachment)
        _write_atomically(stem.with_suffix(".html"), html.encode("utf-8"))
        return f"file:{stem.name}"


def key_tag(key: str) -> str:
    """The part of a sink file's name that identifies its message key (16 hex digits)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


@contextlib.asynccontextmanager
async def open_bot_client(
    settings: Settings, *, factory: ClientFactory = make_client
) -> AsyncIterator[TelegramClient]:
    """A connected client logged in with ``bot_token`` (in-memory session: safe beside the service).

    Flood waits reach the sender (``flood_sleep_threshold=0`` in ``make_client``).
    """
    if settings.bot_token is None:
        raise ConfigError("setting 'bot_token': needed to send as a bot")
    client = factory(settings, StringSession())
    try:
        await client.connect()
    except (OSError, ConnectionError) as error:
        raise ConvoywatchError(f"cannot connect to Telegram: {error}") from error
    try:
        try:
            await client.sign_in(bot_token=settings.bot_token.get_secret_value())
        except (errors.AccessTokenInvalidError, errors.AccessTokenExpiredError) as error:
            raise ConfigError("setting 'bot_token': Telegram refused the bot token") from error
        yield client
    finally:
        await client.disconnect()
