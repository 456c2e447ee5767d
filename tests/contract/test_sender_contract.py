"""One contract for every Sender (console, file, Telegram): what the outbox relies on.

The resend of a message key (a crash between the send and ``mark_sent``, then a restart) is
the one place the adapters differ, by design: the file sink and Telegram deliver a key
exactly once (the sink rewrites the key's file; Telegram refuses a ``random_id`` it has seen),
the console at-least-once (each resend is a second message). ``Harness.idempotent`` states
which, and the contract checks that each adapter does what it says. Telegram is run in both
ways it has been seen to answer a repeated ``random_id``: the documented RANDOM_ID_DUPLICATE
error, and the first message's id again.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from telethon import TelegramClient

from bot.digest.senders import ConsoleSender, FileSender, Sender, TelegramSender
from tests.faketg import FakeTelegram

CHAT = "-4242"
PNG = b"\x89PNG\r\n\x1a\nfake-chart"


@dataclass
class Harness:
    """A sender and a way to read back what reached its medium (plain text of each message)."""

    sender: Sender
    delivered: Callable[[], list[str]]
    attachments: Callable[[], int]
    #: A new adapter over the same medium: the sender of the restarted process.
    restarted: Callable[[], Awaitable[Sender]]
    #: Whether a resend of a key already delivered is absorbed (exactly once).
    idempotent: bool
    #: Whether an absorbed resend returns the first send's id (else an id of its own, stable).
    same_id: bool = True


async def _console(stream: io.StringIO) -> Sender:
    return ConsoleSender(stream)


async def _file(folder: Path) -> Sender:
    return FileSender(folder)


async def _bot(fake: FakeTelegram, clients: list[TelegramClient]) -> Sender:
    """A sender on a newly logged-in client of the same bot (a fresh process, a new session)."""
    client = await fake.client(authorized=False)
    await client.sign_in(bot_token="123:ABC")
    clients.append(client)
    return TelegramSender(client)


@pytest.fixture(params=["console", "file", "telegram", "telegram-original"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """Each Sender adapter with a reader of its medium."""
    if request.param == "console":
        stream = io.StringIO()
        yield Harness(
            ConsoleSender(stream),
            lambda: [block for block in stream.getvalue().split("--- to ") if block],
            lambda: stream.getvalue().count("[chart,"),
            restarted=lambda: _console(stream),
            idempotent=False,
        )
    elif request.param == "file":
        folder = tmp_path / "sink"
        yield Harness(
            FileSender(folder),
            lambda: [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.html"))],
            lambda: len(list(folder.glob("*.png"))),
            restarted=lambda: _file(folder),
            idempotent=True,
        )
    else:
        fake = FakeTelegram()
        fake.add_bot("123:ABC")
        fake.add_chat(4242)
        if request.param == "telegram-original":
            fake.repeat_answer = "original"
        clients: list[TelegramClient] = []
        sender = await _bot(fake, clients)
        try:
            yield Harness(
                sender,
                lambda: [sent.text for sent in fake.sent],
                lambda: sum(1 for sent in fake.sent if sent.media),
                restarted=lambda: _bot(fake, clients),
                idempotent=True,
                same_id=request.param == "telegram-original",
            )
        finally:
            for client in clients:
                await client.disconnect()


class TestSenderContract:
    """Every adapter of the Sender port behaves the same way for the outbox."""

    async def test_each_send_delivers_one_message_and_returns_a_distinct_id(self, harness: Harness) -> None:
        """Two sends: two messages in order, two different non-empty ids."""
        first = await harness.sender.send(CHAT, "<b>Digest</b> part one", None, key="d|-4242|0")
        second = await harness.sender.send(CHAT, "part two &amp; more", None, key="d|-4242|1")
        delivered = harness.delivered()
        assert first and second and first != second
        assert len(delivered) == 2
        assert "Digest" in delivered[0] and "part one" in delivered[0]
        assert "part two" in delivered[1]

    async def test_an_attachment_goes_with_its_message(self, harness: Harness) -> None:
        """A chart sent with a part reaches the medium once, with the part's text."""
        await harness.sender.send(CHAT, "with chart", PNG, key="d|-4242|0")
        assert harness.attachments() == 1
        assert any("with chart" in text for text in harness.delivered())

    async def test_arabic_text_survives(self, harness: Harness) -> None:
        """Arabic place names reach the medium unchanged."""
        await harness.sender.send(CHAT, "الديوانية \u2068الحلة\u2069", None, key="d|-4242|0")
        assert any("الديوانية" in text for text in harness.delivered())

    async def test_the_key_not_the_text_identifies_a_message(self, harness: Harness) -> None:
        """Two parts with the same text but different keys are two messages."""
        first = await harness.sender.send(CHAT, "same text", None, key="a|-4242|0")
        second = await harness.sender.send(CHAT, "same text", None, key="b|-4242|0")
        assert first != second
        assert len(harness.delivered()) == 2

    async def test_a_resend_after_a_restart_is_absorbed_or_repeated(self, harness: Harness) -> None:
        """A key resent by a restarted process: one message (a stable id) if idempotent, else two."""
        first = await harness.sender.send(CHAT, "with chart", PNG, key="d|-4242|0")
        second = await harness.sender.send(CHAT, "next part", None, key="d|-4242|1")
        restarted = await harness.restarted()
        again = await restarted.send(CHAT, "with chart", PNG, key="d|-4242|0")
        delivered = harness.delivered()
        copies = sum("with chart" in text for text in delivered)
        if harness.idempotent:
            assert (copies, len(delivered), harness.attachments()) == (1, 2, 1)
            once_more = await restarted.send(CHAT, "with chart", PNG, key="d|-4242|0")
            assert once_more == again and again not in {"", second}
            assert again == first or not harness.same_id
            assert len(harness.delivered()) == 2
        else:
            assert (copies, len(delivered), harness.attachments()) == (2, 3, 2)
