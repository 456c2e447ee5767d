"""`convoywatch run` and `backfill` with Telegram configured: the real wiring, the fake Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import io
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from telethon import TelegramClient

from bot import cli
from bot.app import run_service
from bot.settings import Settings
from bot.sources import telegram_session
from tests.faketg import FakeTelegram
from tests.faketg.live import make_settings, wait_until
from tests.faketg.server import EPOCH

make_real_client = telegram_session.make_client


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeTelegram:
    """Every client the service builds talks to this fake Telegram (and is logged in)."""
    server = FakeTelegram()

    def make_client(settings: Settings, session: Any) -> TelegramClient:
        client = server.install(make_real_client(settings, session))
        server.authorize(client)
        return client

    monkeypatch.setattr(telegram_session, "make_client", make_client)
    return server


def _posts(db: Path) -> dict[tuple[str, int], tuple[str, int]]:
    """The stored posts, read through a separate read-only connection (empty before migration)."""
    if not db.exists():
        return {}
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        try:
            rows = conn.execute("SELECT channel, message_id, text, deleted FROM posts").fetchall()
        except sqlite3.OperationalError:
            return {}
    return {(row[0], row[1]): (row[2], row[3]) for row in rows}


def _settings(tmp_path: Path, channels: list[str]) -> Settings:
    return make_settings(tmp_path, channels, inbox=tmp_path / "inbox", data_dir=tmp_path)


async def test_run_uses_the_live_source_and_stops_cleanly_on_sigterm(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """`run` with api id/hash set reads Telegram live; SIGTERM drains into the store and exits 0."""
    news = fake.add_channel("ConvoyNews")
    fake.post(news, "posted before the start")
    settings = _settings(tmp_path, ["@ConvoyNews"])
    service = asyncio.create_task(run_service(settings, once=False))
    await wait_until(lambda: len(_posts(settings.db)) == 1, task=service)
    fake.post(news, "IED struck a supply convoy near Samawah")
    fake.edit(news, 1, "posted before the start (edited)")
    await wait_until(lambda: len(_posts(settings.db)) == 2, task=service)
    await wait_until(lambda: _posts(settings.db)[("convoynews", 1)][0].endswith("(edited)"), task=service)
    loop = asyncio.get_running_loop()
    assert signal.SIGTERM in loop._signal_handlers  # type: ignore[attr-defined]
    signal.raise_signal(signal.SIGTERM)
    assert await asyncio.wait_for(service, 10) == 0
    assert _posts(settings.db) == {
        ("convoynews", 1): ("posted before the start (edited)", 0),
        ("convoynews", 2): ("IED struck a supply convoy near Samawah", 0),
    }


async def test_run_once_reads_one_round_and_exits(fake: FakeTelegram, tmp_path: Path) -> None:
    """`run --once` resolves, catches up and re-checks once, then exits with everything stored."""
    news = fake.add_channel("ConvoyNews")
    for n in range(3):
        fake.post(news, f"report {n}")
    settings = _settings(tmp_path, ["@ConvoyNews"])
    assert await run_service(settings, once=True) == 0
    assert sorted(_posts(settings.db)) == [("convoynews", 1), ("convoynews", 2), ("convoynews", 3)]


def test_backfill_command_fetches_history_since_a_date(
    fake: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`convoywatch backfill --channel X --since DATE` stores that channel's posts since the date."""
    news = fake.add_channel("ConvoyNews")
    other = fake.add_channel("Other")
    for day in range(1, 5):
        fake.post(news, f"day {day}", date=EPOCH.replace(day=day))
        fake.post(other, f"other day {day}", date=EPOCH.replace(day=day))
    config = tmp_path / "convoywatch.toml"
    config.write_text(
        f'api_id = "12345"\napi_hash = "0123456789abcdef0123456789abcdef"\n'
        f'db = "{tmp_path / "cw.db"}"\nsession_file = "{tmp_path / "cw.session"}"\n'
        'channels = ["@ConvoyNews", "@Other"]\n',
        encoding="utf-8",
    )
    code = cli.main(
        ["backfill", "--config", str(config), "--channel", "@ConvoyNews", "--since", "2026-01-03"]
    )
    assert code == 0
    assert sorted(_posts(tmp_path / "cw.db")) == [("convoynews", 3), ("convoynews", 4)]
    assert "convoynews: 2 posts" in capsys.readouterr().out


def test_login_command_stores_the_session(
    fake: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`convoywatch login` asks for phone and code and saves the session file."""

    def make_client(settings: Settings, session: Any) -> TelegramClient:
        return fake.install(make_real_client(settings, session))

    monkeypatch.setattr(telegram_session, "make_client", make_client)
    answers = iter(["+9647700000000", fake.login_code])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    config = tmp_path / "convoywatch.toml"
    config.write_text(
        f'api_id = "12345"\napi_hash = "0123456789abcdef0123456789abcdef"\n'
        f'session_file = "{tmp_path / "cw.session"}"\n',
        encoding="utf-8",
    )
    assert cli.main(["login", "--config", str(config)]) == 0
    assert "session saved" in capsys.readouterr().out
    assert (tmp_path / "cw.session").exists()
