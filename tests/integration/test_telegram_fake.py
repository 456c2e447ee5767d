"""The fake Telegram itself, for the digest delivery tests: bot sign-in, sends, commands, errors."""

from __future__ import annotations

import asyncio

import pytest
import telethon
from telethon import errors, events
from telethon.tl import functions

from tests.faketg import FakeTelegram
from tests.faketg.live import wait_until


async def test_bot_signs_in_sends_html_and_receives_commands() -> None:
    """A bot client logs in with its token, sends parsed HTML to a group and sees a command."""
    fake = FakeTelegram()
    bot = fake.add_bot("123:ABC")
    fake.add_user(42, first_name="Ana")
    fake.add_chat(4242, "Analysts")
    client = await fake.client(authorized=False)
    await client.sign_in(bot_token="123:ABC")
    me = await client.get_me()
    assert me.id == bot.id and me.bot
    sent = await client.send_message(-4242, "<b>3 incidents</b> &lt;b&gt;", parse_mode="html")
    assert sent.chat_id == -4242
    assert fake.sent[-1].text == "3 incidents <b>"
    assert [type(e).__name__ for e in fake.sent[-1].entities] == ["MessageEntityBold"]
    commands: list[tuple[int, str]] = []

    async def on_command(event: events.NewMessage.Event) -> None:
        commands.append((event.chat_id, event.raw_text))

    client.add_event_handler(on_command, events.NewMessage(pattern="/status"))
    fake.push_to_bot(bot.id, "/status", chat_id=42, from_id=42)
    await wait_until(lambda: bool(commands))
    assert commands == [(42, "/status")]
    await client.disconnect()


async def test_injected_errors_reach_the_caller_as_telethon_errors() -> None:
    """A flood wait and a forbidden chat surface as Telethon's own exception types."""
    fake = FakeTelegram()
    fake.add_bot("1:A")
    fake.add_chat(7, "Analysts")
    client = await fake.client(authorized=False)
    await client.sign_in(bot_token="1:A")
    fake.fail(functions.messages.SendMessageRequest, "FLOOD_WAIT_30")
    with pytest.raises(errors.FloodWaitError) as flood:
        await client.send_message(-7, "first")
    assert flood.value.seconds == 30
    client._flood_waited_requests.clear()
    fake.fail(functions.messages.SendMessageRequest, "CHAT_WRITE_FORBIDDEN", times=None)
    with pytest.raises(errors.ChatWriteForbiddenError):
        await client.send_message(-7, "second")
    assert [s.text for s in fake.sent] == []
    await client.disconnect()
    await asyncio.sleep(0)


def test_fake_matches_the_pinned_telethon() -> None:
    """The fake drives Telethon internals (_sender, _updates_queue); an upgrade re-checks it first."""
    assert telethon.__version__ == "1.45.0", "update tests/faketg for the new Telethon, then this pin"
