"""One contract for every Sender (console, file, Telegram): what the outbox relies on."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

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


@pytest.fixture(params=["console", "file", "telegram"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """Each Sender adapter with a reader of its medium."""
    if request.param == "console":
        stream = io.StringIO()
        yield Harness(
            ConsoleSender(stream),
            lambda: [block for block in stream.getvalue().split("--- to ") if block],
            lambda: stream.getvalue().count("[chart,"),
        )
    elif request.param == "file":
        folder = tmp_path / "sink"
        yield Harness(
            FileSender(folder),
            lambda: [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.html"))],
            lambda: len(list(folder.glob("*.png"))),
        )
    else:
        fake = FakeTelegram()
        fake.add_bot("123:ABC")
        fake.add_chat(4242)
        client = await fake.client(authorized=False)
        await client.sign_in(bot_token="123:ABC")
        try:
            yield Harness(
                TelegramSender(client),
                lambda: [sent.text for sent in fake.sent],
                lambda: sum(1 for sent in fake.sent if sent.media),
            )
        finally:
            await client.disconnect()


class TestSenderContract:
    """Every adapter of the Sender port behaves the same way for the outbox."""

    async def test_each_send_delivers_one_message_and_returns_a_distinct_id(self, harness: Harness) -> None:
        """Two sends: two messages in order, two different non-empty ids."""
        first = await harness.sender.send(CHAT, "<b>Digest</b> part one", None)
        second = await harness.sender.send(CHAT, "part two &amp; more", None)
        delivered = harness.delivered()
        assert first and second and first != second
        assert len(delivered) == 2
        assert "Digest" in delivered[0] and "part one" in delivered[0]
        assert "part two" in delivered[1]

    async def test_an_attachment_goes_with_its_message(self, harness: Harness) -> None:
        """A chart sent with a part reaches the medium once, with the part's text."""
        await harness.sender.send(CHAT, "with chart", PNG)
        assert harness.attachments() == 1
        assert any("with chart" in text for text in harness.delivered())

    async def test_arabic_text_survives(self, harness: Harness) -> None:
        """Arabic place names reach the medium unchanged."""
        await harness.sender.send(CHAT, "الديوانية \u2068الحلة\u2069", None)
        assert any("الديوانية" in text for text in harness.delivered())
