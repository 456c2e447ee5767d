"""Telegram sessions and clients: a session file on a volume (locked) or a StringSession secret.

One client per session: a second process on the same session file is refused with a clear
error (an exclusive ``fcntl`` lock on ``<session file>.lock``), because two clients on one
auth key make Telegram drop both.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TextIO

from telethon import TelegramClient, errors
from telethon.sessions import StringSession

from bot.errors import ConfigError, ConvoywatchError
from bot.logs import get_logger
from bot.settings import Settings

log = get_logger(__name__)

#: Builds the client for a session (tests swap in one whose MTProto sender is a fake).
ClientFactory = Callable[[Settings, Any], TelegramClient]


class SessionInUseError(ConvoywatchError):
    """Another process holds the session file."""


class NotLoggedInError(ConvoywatchError):
    """The session is not authorised: run ``convoywatch login`` first."""

    exit_code = 2


class SessionLock:
    """An exclusive, non-blocking lock file beside the session file (released on close or exit)."""

    def __init__(self, session_file: Path) -> None:
        self.path = session_file.with_name(session_file.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SessionInUseError(
                f"session file {self.path.with_suffix('')} is in use by another convoywatch process"
                f" (pid {holder}); one session must never run in two processes: stop the other one,"
                " or give this command its own session (session_file / `convoywatch login`)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


def credentials(settings: Settings) -> tuple[int, str]:
    """The api id and hash, or a ConfigError naming what is missing."""
    if settings.api_id is None or settings.api_hash is None:
        raise ConfigError("Telegram is not configured: set api_id and api_hash (CONVOYWATCH_API_ID/_HASH)")
    return int(settings.api_id.get_secret_value().strip()), settings.api_hash.get_secret_value()


def make_client(settings: Settings, session: Any) -> TelegramClient:
    """The production client: flood waits and reconnects are handled by the source, not Telethon."""
    api_id, api_hash = credentials(settings)
    return TelegramClient(
        session,
        api_id,
        api_hash,
        flood_sleep_threshold=0,  # every FloodWaitError reaches the source, which logs and counts it
        auto_reconnect=False,  # the source reconnects with backoff and catches up afterwards
        catch_up=False,  # catch-up is the source's job (cursor + iter_messages), not getDifference
        receive_updates=True,
        request_retries=3,
    )


def session_for(settings: Settings) -> tuple[Any, Path | None]:
    """The session to use: the StringSession secret if set, else the session file (and its path)."""
    if settings.session is not None:
        return StringSession(settings.session.get_secret_value().strip()), None
    path = settings.session_file
    if path.suffix != ".session":
        path = path.with_name(path.name + ".session")  # what Telethon would do to the name
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path), path


@contextlib.asynccontextmanager
async def _connected(
    settings: Settings, session: Any, path: Path | None, factory: ClientFactory | None
) -> AsyncIterator[TelegramClient]:
    """A connected client on ``session``, the session file's lock held; disconnected after."""
    lock = SessionLock(path) if path is not None else None
    if lock is not None:
        lock.acquire()
    try:
        client = (factory or make_client)(settings, session)
        try:
            await client.connect()
        except (OSError, ConnectionError) as error:
            raise ConvoywatchError(f"cannot connect to Telegram: {error}") from error
        try:
            yield client
        finally:
            await client.disconnect()
    finally:
        if lock is not None:
            lock.release()


@contextlib.asynccontextmanager
async def open_client(
    settings: Settings, *, factory: ClientFactory | None = None, require_login: bool = True
) -> AsyncIterator[TelegramClient]:
    """A connected, authorised client for the configured session; the lock is held while open."""
    session, path = session_for(settings)
    async with _connected(settings, session, path, factory) as client:
        if require_login and not await client.is_user_authorized():
            raise NotLoggedInError(
                "the Telegram session is not logged in: run `convoywatch login` first"
                + (f" (session file {path})" if path else " (the StringSession secret is not valid)")
            )
        yield client


async def login(
    settings: Settings,
    *,
    prompt: Callable[[str], str],
    secret_prompt: Callable[[str], str],
    out: TextIO,
    print_string: bool = False,
    factory: ClientFactory | None = None,
) -> str | None:
    """Log in interactively (phone, code, 2FA password); store the session file or print a StringSession.

    Returns the StringSession string when one was printed.
    """
    use_string = print_string or settings.session is not None
    session: Any = StringSession() if use_string else session_for(settings)[0]
    path = None if use_string else session_for(settings)[1]
    async with _connected(settings, session, path, factory) as client:
        if not await client.is_user_authorized():
            phone = prompt("Phone number (international format, e.g. +964...): ").strip()
            await client.send_code_request(phone)
            code = prompt("Login code Telegram sent you: ").strip()
            try:
                await client.sign_in(phone=phone, code=code)
            except errors.SessionPasswordNeededError:
                try:
                    await client.sign_in(password=secret_prompt("Two-step verification password: "))
                except errors.PasswordHashInvalidError as error:
                    raise ConvoywatchError(
                        "the two-step verification password is not valid; run `convoywatch login` again"
                    ) from error
            except errors.PhoneCodeInvalidError as error:
                raise ConvoywatchError(
                    "the login code is not valid; run `convoywatch login` again"
                ) from error
        me = await client.get_me()
        name = getattr(me, "username", None) or getattr(me, "first_name", None) or "?"
        log.info("telegram.logged_in", user=name)
        if use_string:
            string = StringSession.save(client.session)
            out.write(
                "Logged in. Keep this StringSession secret; set it as CONVOYWATCH_SESSION:\n" + string + "\n"
            )
            return str(string)
        out.write(f"Logged in as {name}; session saved to {path}\n")
        return None
