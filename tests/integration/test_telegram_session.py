"""Sessions: login, session file vs StringSession, one process per session file."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from telethon import TelegramClient

from bot.errors import ConvoywatchError
from bot.settings import Settings
from bot.sources.telegram_session import (
    NotLoggedInError,
    SessionInUseError,
    SessionLock,
    login,
    make_client,
    open_client,
)
from tests.faketg import FakeTelegram
from tests.faketg.live import make_settings


def _factory(fake: FakeTelegram, *, authorize: bool) -> Any:
    def build(settings: Settings, session: Any) -> TelegramClient:
        client = fake.install(make_client(settings, session))
        if authorize:
            fake.authorize(client)
        return client

    return build


def _answers(*values: str) -> Any:
    queue: Iterator[str] = iter(values)
    return lambda prompt: next(queue)


async def test_second_process_on_the_same_session_file_is_refused(tmp_path: Path) -> None:
    """While one client holds the session file, opening it again fails with a clear error."""
    fake = FakeTelegram()
    settings = make_settings(tmp_path, [])
    async with open_client(settings, factory=_factory(fake, authorize=True)):
        with pytest.raises(SessionInUseError, match="in use by another convoywatch process"):
            async with open_client(settings, factory=_factory(fake, authorize=True)):
                pass
    async with open_client(settings, factory=_factory(fake, authorize=True)) as client:
        assert await client.is_user_authorized()


async def test_unauthorised_session_says_to_log_in(tmp_path: Path) -> None:
    """A session that was never logged in is refused with the command to run."""
    fake = FakeTelegram()
    with pytest.raises(NotLoggedInError, match="convoywatch login"):
        async with open_client(make_settings(tmp_path, []), factory=_factory(fake, authorize=False)):
            pass


async def test_login_saves_the_session_file_that_run_then_uses(tmp_path: Path) -> None:
    """Interactive login (phone, code) writes the session file; the service then opens it logged in."""
    fake = FakeTelegram()
    settings = make_settings(tmp_path, [])
    out = io.StringIO()
    printed = await login(
        settings,
        prompt=_answers("+9647700000000", fake.login_code),
        secret_prompt=_answers(),
        out=out,
        factory=_factory(fake, authorize=False),
    )
    assert printed is None and "session saved" in out.getvalue()
    assert (tmp_path / "tg" / "convoywatch.session").exists()
    async with open_client(settings, factory=_factory(fake, authorize=False)) as client:
        me = await client.get_me()
        assert me.id == FakeTelegram.ME_ID


async def test_login_prints_a_string_session_usable_as_a_secret(tmp_path: Path) -> None:
    """With --string the session is printed, not stored; run accepts it as the session secret."""
    fake = FakeTelegram()
    out = io.StringIO()
    string = await login(
        make_settings(tmp_path, []),
        prompt=_answers("+9647700000000", fake.login_code),
        secret_prompt=_answers(),
        out=out,
        print_string=True,
        factory=_factory(fake, authorize=False),
    )
    assert string and string in out.getvalue()
    assert not (tmp_path / "tg" / "convoywatch.session").exists()
    settings = make_settings(tmp_path, [], session=string)
    async with open_client(settings, factory=_factory(fake, authorize=False)) as client:
        assert await client.is_user_authorized()


async def test_wrong_login_code_is_a_clear_error(tmp_path: Path) -> None:
    """A mistyped code ends the login with a one-line error."""
    fake = FakeTelegram()
    with pytest.raises(ConvoywatchError, match="login code is not valid"):
        await login(
            make_settings(tmp_path, []),
            prompt=_answers("+9647700000000", "00000"),
            secret_prompt=_answers(),
            out=io.StringIO(),
            factory=_factory(fake, authorize=False),
        )


async def test_login_with_two_step_verification(tmp_path: Path) -> None:
    """An account with a 2FA password is asked for it after the code; a wrong one is refused."""
    fake = FakeTelegram()
    fake.password = "correct horse"
    settings = make_settings(tmp_path, [])
    with pytest.raises(ConvoywatchError, match="two-step verification password is not valid"):
        await login(
            settings,
            prompt=_answers("+9647700000000", fake.login_code),
            secret_prompt=_answers("wrong"),
            out=io.StringIO(),
            factory=_factory(fake, authorize=False),
        )
    out = io.StringIO()
    await login(
        settings,
        prompt=_answers("+9647700000000", fake.login_code),
        secret_prompt=_answers("correct horse"),
        out=out,
        factory=_factory(fake, authorize=False),
    )
    assert "Logged in" in out.getvalue()
    async with open_client(settings, factory=_factory(fake, authorize=False)) as client:
        assert await client.is_user_authorized()


async def test_session_lock_is_refused_across_processes(tmp_path: Path) -> None:
    """A session file locked by another process cannot be opened; the error names that process."""
    session_file = tmp_path / "tg" / "convoywatch.session"
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys, pathlib; from bot.sources.telegram_session import SessionLock;"
        f"lock = SessionLock(pathlib.Path({str(session_file)!r})); lock.acquire();"
        "print('locked', flush=True); sys.stdin.read()",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"locked"
        with pytest.raises(SessionInUseError, match=f"pid {holder.pid}"):
            SessionLock(session_file).acquire()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        await holder.wait()
    lock = SessionLock(session_file)
    lock.acquire()
    lock.release()
