"""A part resent after a crash between the send and ``mark_sent``: once in the file sink and
once on Telegram (the fake, refusing a ``random_id`` it has seen as Telegram does).

The crash is simulated in-process (a ``BaseException`` raised right after the sender
returned, so the part is delivered but never marked sent); the restart is a new store and a
new sender over the same database and sink (for Telegram: a new bot session on the same
fake server). tests/integration/test_crash_safety.py does the same with SIGKILL and the real
CLI for the file sink; the fake Telegram lives in the test process, so it cannot outlive a
SIGKILLed service.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from telethon.tl import functions

from bot.digest.deliver import DeliveryWorker
from bot.digest.senders import (
    ConsoleSender,
    FileSender,
    Sender,
    TelegramSender,
    key_tag,
    parse_html,
    random_id_for,
)
from bot.store import Store
from tests.faketg import FakeTelegram
from tests.integration.test_delivery import Crash, Sleeps, compose, config, report
from tests.integration.test_delivery_telegram import ANALYST, TOKEN, bot, bot_settings

CHAT = "local"


@dataclass
class DiesAfterSend:
    """Delivers through ``inner``, then dies on call ``die_on`` before the worker can mark it sent."""

    inner: Sender
    die_on: int
    calls: int = 0

    async def send(self, chat: str, html: str, attachment: bytes | None, *, key: str) -> str:
        self.calls += 1
        message_id = await self.inner.send(chat, html, attachment, key=key)
        if self.calls == self.die_on:
            raise Crash
        return message_id


async def _digest(store: Store, tmp_path: Path, reports: int = 30, chat: str = CHAT) -> int:
    """Commit one digest for ``chat`` with a chart and several text parts; returns its part count."""
    for n in range(1, reports + 1):
        await report(store, f"channel_{n:02d}", n, place=f"Place number {n}")
    await compose(store, config(tmp_path, chats=(chat,)))
    return len(await store.outbox.pending())


def _sink(folder: Path) -> Counter[str]:
    return Counter(path.read_text(encoding="utf-8") for path in folder.glob("*.html"))


def _journal(folder: Path) -> list[dict[str, object]]:
    lines = (folder / FileSender.JOURNAL).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


async def test_message_keys_are_distinct_and_stable_across_a_restart(tmp_path: Path, db_path: Path) -> None:
    """Every pending part has its own message key, and reopening the store gives the same keys."""
    async with await Store.open(db_path) as store:
        await _digest(store, tmp_path)
        keys = [part.message_key for part in await store.outbox.pending()]
    async with await Store.open(db_path) as store:
        again = [part.message_key for part in await store.outbox.pending()]
    assert len(keys) >= 3 and len(set(keys)) == len(keys)
    assert again == keys
    assert all(key.startswith("periodic:test|local|") for key in keys)


async def test_a_part_resent_after_a_crash_is_in_the_file_sink_once(tmp_path: Path, db_path: Path) -> None:
    """Crash after the 2nd part reached the sink, restart: every part once, the resend a rewrite."""
    sink = tmp_path / "sent"
    async with await Store.open(db_path) as store:
        total = await _digest(store, tmp_path)
        bodies = Counter(part.body for part in await store.outbox.pending())
        dying = DiesAfterSend(FileSender(sink), die_on=2)
        with pytest.raises(Crash):
            await DeliveryWorker(store.outbox, dying, sleep=Sleeps()).deliver_pending()
        assert (await store.outbox.counts()).sent_parts == 1  # the 2nd part is in the sink, unmarked
        assert sum(_sink(sink).values()) == 2

    async with await Store.open(db_path) as store:
        result = await DeliveryWorker(store.outbox, FileSender(sink), sleep=Sleeps()).deliver_pending()
        assert (result.sent, result.pending) == (total - 1, 0)
    assert _sink(sink) == bodies
    assert len(list(sink.glob("*.png"))) == 1
    journal = _journal(sink)
    assert len(journal) == total + 1  # one attempt per part, plus the resend
    resends = [entry for entry in journal if entry["rewrite"]]
    assert len(resends) == 1 and str(resends[0]["key"]).endswith("|local|1")


async def test_a_chart_left_without_its_message_is_rewritten_not_duplicated(
    tmp_path: Path, db_path: Path
) -> None:
    """A kill between the chart and its caption leaves a PNG; the resend reuses its file name."""
    sink = tmp_path / "sent"
    async with await Store.open(db_path) as store:
        total = await _digest(store, tmp_path)
        first = (await store.outbox.pending())[0]
        assert first.attachment is not None
        sink.mkdir()
        orphan = sink / f"local-00001-{key_tag(first.message_key)}.png"
        orphan.write_bytes(first.attachment)  # what the killed process left behind
        await DeliveryWorker(store.outbox, FileSender(sink), sleep=Sleeps()).deliver_pending()
    assert sorted(path.name for path in sink.glob("*.png")) == [orphan.name]
    assert orphan.with_suffix(".html").read_text(encoding="utf-8") == first.body
    assert sum(_sink(sink).values()) == total


async def test_the_console_repeats_only_the_part_in_flight(tmp_path: Path, db_path: Path) -> None:
    """At-least-once on the console: a crash repeats exactly the one part in flight, no other."""
    out = io.StringIO()
    async with await Store.open(db_path) as store:
        total = await _digest(store, tmp_path)
        dying = DiesAfterSend(ConsoleSender(out), die_on=2)
        with pytest.raises(Crash):
            await DeliveryWorker(store.outbox, dying, sleep=Sleeps()).deliver_pending()
    async with await Store.open(db_path) as store:
        result = await DeliveryWorker(store.outbox, ConsoleSender(out), sleep=Sleeps()).deliver_pending()
        assert result.sent == total - 1
    printed = Counter(block for block in out.getvalue().split("--- to ") if block)
    assert sum(printed.values()) == total + 1
    assert [count for count in printed.values() if count > 1] == [2]


@pytest.mark.parametrize("repeat_answer", ["error", "original"])
async def test_a_part_resent_after_a_crash_reaches_telegram_once(
    repeat_answer: str, tmp_path: Path, db_path: Path
) -> None:
    """Crash after the 2nd part reached Telegram, restart on a new bot session: every part once."""
    fake = FakeTelegram()
    fake.add_bot(TOKEN)
    fake.add_user(ANALYST)
    fake.repeat_answer = repeat_answer
    settings = bot_settings(tmp_path, ANALYST)
    async with await Store.open(db_path) as store:
        total = await _digest(store, tmp_path, chat=str(ANALYST))
        parts = await store.outbox.pending()
        async with bot(fake, settings) as client:
            dying = DiesAfterSend(TelegramSender(client), die_on=2)
            with pytest.raises(Crash):
                await DeliveryWorker(store.outbox, dying, sleep=Sleeps()).deliver_pending()
        assert (await store.outbox.counts()).sent_parts == 1  # the 2nd part is on Telegram, unmarked
        assert len(fake.sent) == 2

    with capture_logs() as logs:
        async with await Store.open(db_path) as store, bot(fake, settings) as client:
            result = await DeliveryWorker(
                store.outbox, TelegramSender(client), sleep=Sleeps()
            ).deliver_pending()
            assert (result.sent, result.pending) == (total - 1, 0)
    assert [sent.text for sent in fake.sent] == [parse_html(part.body)[0] for part in parts]
    assert [sent.media for sent in fake.sent] == [part.attachment is not None for part in parts]
    assert [sent.random_id for sent in fake.sent] == [random_id_for(part.message_key) for part in parts]
    requests = fake.count(functions.messages.SendMessageRequest) + fake.count(
        functions.messages.SendMediaRequest
    )
    assert requests == total + 1  # the resend reached Telegram and posted nothing
    with sqlite3.connect(db_path) as db:
        stored = [row[0] for row in db.execute("SELECT telegram_message_id FROM digest_parts ORDER BY seq")]
    absorbed = [entry["key"] for entry in logs if entry["event"] == "delivery.resend_absorbed"]
    if repeat_answer == "error":
        assert absorbed == [parts[1].message_key]
        assert stored[1] == f"dup:{random_id_for(parts[1].message_key)}"
        assert stored[:1] + stored[2:] == [str(s.message_id) for s in fake.sent[:1] + fake.sent[2:]]
    else:  # Telegram answered with the first message: its id is stored
        assert absorbed == []
        assert stored == [str(sent.message_id) for sent in fake.sent]
