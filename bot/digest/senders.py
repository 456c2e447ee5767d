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
* ``TelegramSender``: at-least-once. Telethon's ``send_message``/``send_file`` draw a fresh
  ``random_id`` (Telegram's deduplication id) for every call, so a resend is a new message,
  and a bot cannot read back what it sent. The worker sends one part at a time and marks it
  sent in one short transaction right after Telegram answers, so a crash can repeat only
  the single part in flight: at most one duplicate message per crash (and per retried
  timeout that Telegram had in fact accepted), never a lost part.
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
from typing import Protocol, TextIO

from telethon import TelegramClient, errors
from telethon.sessions import StringSession

from bot.digest.render import to_plain
from bot.errors import ConfigError, ConvoywatchError
from bot.settings import Settings
from bot.sources.telegram_session import ClientFactory, make_client


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
    (at-least-once) or, where the medium allows, makes it a no-op returning the same id.
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


class TelegramSender:
    """Sends through a connected Telethon client (bot or user account).

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
        """At-least-once: ``key`` is not used (Telethon draws a new ``random_id`` per call)."""
        del key
        peer = chat_peer(chat)
        client = self._current()
        try:
            if attachment is not None:
                photo = io.BytesIO(attachment)
                photo.name = "digest.png"
                message = await client.send_file(peer, photo, caption=html, parse_mode="html")
            else:
                message = await client.send_message(peer, html, parse_mode="html", link_preview=False)
        except (errors.FloodWaitError, errors.SlowModeWaitError, errors.FloodPremiumWaitError) as error:
            raise RetryAfterError(error.seconds, type(error).__name__) from error
        except PERMANENT_ERRORS as error:
            raise PermanentSendError(f"{type(error).__name__}: {error}") from error
        except ValueError as error:  # Telethon: the chat cannot be resolved to an entity
            raise PermanentSendError(f"cannot resolve chat {chat!r}: {error}") from error
        except (TimeoutError, errors.RPCError, ConnectionError, OSError) as error:
            raise TransientSendError(f"{type(error).__name__}: {error}") from error
        return str(message.id)


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
