"""Senders: where a rendered message goes (adapters behind the ``Sender`` port).

``TelegramSender`` wraps a connected Telethon client, either a bot (recommended, so the
monitoring account only reads) or the user account, and turns Telethon's errors into the
three outcomes the outbox worker acts on: ``RetryAfterError`` (flood wait), ``TransientSendError``
(retry with backoff) and ``PermanentSendError`` (the chat is unreachable: leave the part pending).
``ConsoleSender`` and ``FileSender`` are the sinks of the embedded default and of tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
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
    """Delivers one message (HTML, optionally with a PNG) and returns its message id."""

    async def send(self, chat: str, html: str, attachment: bytes | None) -> str: ...


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

    async def send(self, chat: str, html: str, attachment: bytes | None) -> str:
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
    """Prints each message as plain text (tags stripped, entities unescaped)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._count = 0

    async def send(self, chat: str, html: str, attachment: bytes | None) -> str:
        self._count += 1
        stream = self._stream or sys.stdout
        note = f" [chart, {len(attachment)} bytes]" if attachment is not None else ""
        stream.write(f"--- to {chat}{note}\n{to_plain(html)}\n")
        stream.flush()
        return f"console:{self._count}"


class FileSender:
    """Writes each message to ``directory`` as ``<chat>-<n>.html`` (and ``.png``)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def send(self, chat: str, html: str, attachment: bytes | None) -> str:
        return await asyncio.to_thread(self._write, chat, html, attachment)

    def _write(self, chat: str, html: str, attachment: bytes | None) -> str:
        self._directory.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", chat) or "chat"
        number = sum(1 for _ in self._directory.glob(f"{safe}-*.html")) + 1
        stem = self._directory / f"{safe}-{number:05d}"
        # the chart first, then the message, each written whole or not at all (temp + rename),
        # so a crash never leaves a half-written message behind
        if attachment is not None:
            _write_atomically(stem.with_suffix(".png"), attachment)
        _write_atomically(stem.with_suffix(".html"), html.encode("utf-8"))
        return f"file:{stem.name}"


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
