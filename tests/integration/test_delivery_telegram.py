"""Delivery through a real Telethon bot client on the fake Telegram: sends, crashes, floods, commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs
from telethon import TelegramClient, errors
from telethon.errors import rpc_message_to_error
from telethon.tl import functions, types

from bot.digest.commands import CommandHandler, register_commands
from bot.digest.compose import Digester
from bot.digest.deliver import DeliveryWorker, DigestScheduler
from bot.digest.schedule import Schedule
from bot.digest.senders import TelegramSender, open_bot_client, random_id_for, sent_message_id
from bot.digest.service import DeliveryService
from bot.metrics import Metrics
from bot.model import Post
from bot.settings import Settings
from bot.sources.telegram_session import make_client
from bot.store import Store
from tests.faketg import FakeTelegram, settle
from tests.faketg.live import make_settings, wait_until
from tests.faketg.sender import FakeSender
from tests.integration.test_delivery import BAGHDAD, POSTED, Crash, FakeClock, Sleeps, compose, config, report

pytestmark = pytest.mark.timeout(30)

TOKEN = "555000111:TEST-TOKEN"
ANALYST = 4242
OTHER_ANALYST = 4343
STRANGER = 9999


@pytest.fixture
def fake() -> FakeTelegram:
    """A fake Telegram with the bot and two analysts (private chats with the bot) and a stranger."""
    server = FakeTelegram()
    server.add_bot(TOKEN)
    server.add_user(ANALYST, first_name="Analyst")
    server.add_user(OTHER_ANALYST, first_name="Second analyst")
    server.add_user(STRANGER, first_name="Stranger")
    return server


def bot_settings(tmp_path: Path, *chats: int) -> Settings:
    """Bot-mode settings for the given analyst chats."""
    return make_settings(
        tmp_path,
        [],
        bot_token=TOKEN,
        chat_ids=[str(chat) for chat in chats],
        sender="bot",
        data_dir=tmp_path / "data",
    )


@asynccontextmanager
async def bot(fake: FakeTelegram, settings: Settings) -> AsyncIterator[TelegramClient]:
    """The production bot client (``open_bot_client``) with its MTProto sender on the fake."""

    def factory(s: Settings, session: Any) -> TelegramClient:
        return fake.install(make_client(s, session))

    async with open_bot_client(settings, factory=factory) as client:
        yield client


def texts(fake: FakeTelegram, chat: int) -> list[str]:
    """The text (or caption) of every message the bot sent to a user chat, in order."""
    return [
        sent.text
        for sent in fake.sent
        if isinstance(sent.peer, types.InputPeerUser) and sent.peer.user_id == chat
    ]


async def test_digest_is_sent_as_html_with_its_chart(
    fake: FakeTelegram, tmp_path: Path, db_path: Path
) -> None:
    """Chart as a captioned photo, then the text: HTML became entities, hostile text stayed literal."""
    settings = bot_settings(tmp_path, ANALYST)
    async with await Store.open(db_path) as store, bot(fake, settings) as client:
        await report(store, "chan_a", 1, claimed_by="<b>Ashab</b>", killed=1)
        await compose(store, config(tmp_path, chats=(str(ANALYST),)))
        result = await DeliveryWorker(store.outbox, TelegramSender(client), sleep=Sleeps()).deliver_pending()
        assert (result.sent, result.pending) == (2, 0)
    assert [sent.media for sent in fake.sent] == [True, False]
    caption, body = texts(fake, ANALYST)
    assert caption.startswith("Convoy attacks · digest: 1 incident")
    assert "claimed by <b>Ashab</b>" in body and "Abu Ghraib" in body
    urls = [e.url for e in fake.sent[1].entities if isinstance(e, types.MessageEntityTextUrl)]
    assert urls == ["https://t.me/chan_a/1"]
    assert any(isinstance(e, types.MessageEntityBold) for e in fake.sent[1].entities)
    assert all(sent.by == fake.bot_tokens[TOKEN] for sent in fake.sent)


async def test_crash_between_parts_and_restart(fake: FakeTelegram, tmp_path: Path, db_path: Path) -> None:
    """The service dies before the second part; after a restart the rest is sent and nothing twice."""
    settings = bot_settings(tmp_path, ANALYST)

    class DiesOnSecond(TelegramSender):
        calls = 0

        async def send(self, chat: str, html: str, attachment: bytes | None, *, key: str) -> str:
            DiesOnSecond.calls += 1
            if DiesOnSecond.calls == 2:
                raise Crash
            return await super().send(chat, html, attachment, key=key)

    async with await Store.open(db_path) as store:
        for n in range(1, 40):
            await report(store, f"channel_{n:02d}", n, place=f"Place number {n}")
        await compose(store, config(tmp_path, chats=(str(ANALYST),)))
        total = len(await store.outbox.pending())
        assert total >= 3
        async with bot(fake, settings) as client:
            with pytest.raises(Crash):
                await DeliveryWorker(store.outbox, DiesOnSecond(client), sleep=Sleeps()).deliver_pending()
        assert len(fake.sent) == 1

    async with await Store.open(db_path) as store, bot(fake, settings) as client:
        result = await DeliveryWorker(store.outbox, TelegramSender(client), sleep=Sleeps()).deliver_pending()
        again = await DeliveryWorker(store.outbox, TelegramSender(client), sleep=Sleeps()).deliver_pending()
    assert (result.sent, again.sent) == (total - 1, 0)
    sent = texts(fake, ANALYST)
    assert len(sent) == len(set(sent)) == total
    assert "Place number 1" in "".join(sent) and "Place number 39" in "".join(sent)


async def test_flood_wait_in_the_middle(fake: FakeTelegram, tmp_path: Path, db_path: Path) -> None:
    """FLOOD_WAIT_30 on the text part: slept (injected), retried; both parts arrive in order."""
    settings = bot_settings(tmp_path, ANALYST)
    fake.fail(functions.messages.SendMessageRequest, "FLOOD_WAIT_30", times=1)
    sleeps = Sleeps()
    async with await Store.open(db_path) as store, bot(fake, settings) as client:

        async def sleep(seconds: float) -> None:
            # No real time passes, so move Telethon's own flood deadline back as a real sleep would.
            await sleeps(seconds)
            waited = client._flood_waited_requests
            for constructor in list(waited):
                waited[constructor] -= seconds

        await report(store, "chan_a", 1)
        await compose(store, config(tmp_path, chats=(str(ANALYST),)))
        result = await DeliveryWorker(store.outbox, TelegramSender(client), sleep=sleep).deliver_pending()
    assert (result.sent, result.flood_waits, sleeps.seconds) == (2, 1, [30.0])
    assert fake.count(functions.messages.SendMessageRequest) == 2
    assert [sent.media for sent in fake.sent] == [True, False]
    # the refused request posted nothing, so its retry (same random_id) is the one message
    tries = [r.random_id for r in fake.requests if isinstance(r, functions.messages.SendMessageRequest)]
    assert tries[0] == tries[1] == fake.sent[1].random_id


def test_random_id_is_derived_from_the_key_alone(tmp_path: Path) -> None:
    """Same key, same signed 64-bit random_id in another process (other hash seed); keys differ."""
    keys = [f"periodic:2026-11-21T16:00|{ANALYST}|{seq}" for seq in range(200)]
    ids = [random_id_for(key) for key in keys]
    script = "import sys\nfrom bot.digest.senders import random_id_for\nprint(random_id_for(sys.argv[1]))"
    other = subprocess.run(
        [sys.executable, "-c", script, keys[7]],
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert int(other.stdout) == ids[7]
    # pinned: a different derivation would make every part in flight at an upgrade a new message
    assert random_id_for("periodic:test|4242|0") == 6223471224481816735
    assert len(set(ids)) == len(ids)
    assert all(-(2**63) <= value < 2**63 and value != 0 for value in ids)
    assert any(value < 0 for value in ids) and any(value > 0 for value in ids)


def test_the_message_id_is_read_from_every_shape_of_answer() -> None:
    """updateShortSentMessage, or the updateMessageID for our random_id (not another's); else none."""
    date = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    mine, other = types.UpdateMessageID(id=7, random_id=11), types.UpdateMessageID(id=8, random_id=12)
    short = types.UpdateShortSentMessage(id=9, pts=2, pts_count=1, date=date)
    updates = types.Updates(updates=[other, mine], users=[], chats=[], date=date, seq=0)
    assert sent_message_id(short, 11) == 9
    assert sent_message_id(updates, 11) == 7
    assert sent_message_id(types.UpdateShort(update=mine, date=date), 11) == 7
    assert sent_message_id(types.Updates(updates=[other], users=[], chats=[], date=date, seq=0), 11) is None
    assert sent_message_id(types.UpdatesTooLong(), 11) is None


def test_telethon_counts_random_id_duplicate_as_a_server_error() -> None:
    """Canary: RANDOM_ID_DUPLICATE maps to a ServerError, which client(request) retries and hides."""
    error = rpc_message_to_error(types.RpcError(500, "RANDOM_ID_DUPLICATE"), None)
    assert isinstance(error, errors.RandomIdDuplicateError)
    assert isinstance(error, errors.ServerError) and not isinstance(error, errors.BadRequestError)


async def test_a_resend_from_a_new_bot_session_posts_nothing(fake: FakeTelegram, tmp_path: Path) -> None:
    """The same key from a restarted bot: Telegram refuses the random_id, the send succeeds, one message."""
    settings = bot_settings(tmp_path, ANALYST)
    key = f"periodic:test|{ANALYST}|0"
    async with bot(fake, settings) as client:
        first = await TelegramSender(client).send(str(ANALYST), "<b>part</b> one", None, key=key)
    with capture_logs() as logs:
        async with bot(fake, settings) as client:
            again = await TelegramSender(client).send(str(ANALYST), "<b>part</b> one", None, key=key)
            other = await TelegramSender(client).send(str(ANALYST), "<b>part</b> one", None, key=key + "1")
    assert texts(fake, ANALYST) == ["part one", "part one"]
    assert [sent.random_id for sent in fake.sent] == [random_id_for(key), random_id_for(key + "1")]
    assert fake.count(functions.messages.SendMessageRequest) == 3
    assert (first, again, other) == (
        str(fake.sent[0].message_id),
        f"dup:{random_id_for(key)}",
        str(fake.sent[1].message_id),
    )
    absorbed = [entry for entry in logs if entry["event"] == "delivery.resend_absorbed"]
    assert [(entry["key"], entry["chat_id"]) for entry in absorbed] == [(key, str(ANALYST))]


@pytest.mark.parametrize("repeat_answer", ["error", "original"])
async def test_a_resend_to_a_channel_posts_nothing(
    fake: FakeTelegram, tmp_path: Path, repeat_answer: str
) -> None:
    """A digest channel (by username): the resend posts nothing; the id is stable or the first one."""
    channel = fake.add_channel("ConvoyDigest", "Convoy digest", joined=False)
    fake.repeat_answer = repeat_answer
    settings = bot_settings(tmp_path, ANALYST)
    async with bot(fake, settings) as client:
        first = await TelegramSender(client).send(
            "@ConvoyDigest", "<b>alert</b>", None, key="alert:1|@ConvoyDigest|0"
        )
    async with bot(fake, settings) as client:
        again = await TelegramSender(client).send(
            "@ConvoyDigest", "<b>alert</b>", None, key="alert:1|@ConvoyDigest|0"
        )
    assert list(channel.messages) == [1] and [sent.text for sent in fake.sent] == ["alert"]
    assert first == "1"
    assert again == (
        "1" if repeat_answer == "original" else f"dup:{random_id_for('alert:1|@ConvoyDigest|0')}"
    )


async def test_an_answer_lost_after_telegram_accepted_is_not_sent_twice(
    fake: FakeTelegram, tmp_path: Path, db_path: Path
) -> None:
    """Telegram posts the chart, the connection drops before the answer: the retry posts nothing new."""
    settings = bot_settings(tmp_path, ANALYST)
    accept = fake.handlers[functions.messages.SendMediaRequest]
    dropped: list[int] = []

    async def accept_then_drop(sender: FakeSender, request: Any) -> Any:
        answer = await accept(sender, request)
        if not dropped:
            dropped.append(request.random_id)
            raise ConnectionError("the answer was lost")
        return answer

    fake.handlers[functions.messages.SendMediaRequest] = accept_then_drop
    sleeps = Sleeps()
    async with await Store.open(db_path) as store, bot(fake, settings) as client:
        await report(store, "chan_a", 1)
        await compose(store, config(tmp_path, chats=(str(ANALYST),)))
        result = await DeliveryWorker(store.outbox, TelegramSender(client), sleep=sleeps).deliver_pending()
    assert (result.sent, result.pending, len(sleeps.seconds)) == (2, 0, 1)
    assert fake.count(functions.messages.SendMediaRequest) == 2
    assert [sent.media for sent in fake.sent] == [True, False]
    assert dropped == [fake.sent[0].random_id]


async def test_the_message_is_what_telethon_would_send(fake: FakeTelegram, tmp_path: Path) -> None:
    """Text, entities, no link preview and the photo match Telethon's send_message / send_file."""
    html = (
        '<b>Convoy attacks</b> · <a href="https://t.me/chan_a/1">chan_a/1</a> claimed by '
        "&lt;b&gt;Ashab&lt;/b&gt; <i>Abu Ghraib</i><b></b> الديوانية \u2068الحلة\u2069 <code>x</code>\n"
    )
    png = b"\x89PNG\r\n\x1a\nchart"
    async with bot(fake, bot_settings(tmp_path, ANALYST)) as client:
        photo = io.BytesIO(png)
        photo.name = "digest.png"
        await client.send_message(ANALYST, html, parse_mode="html", link_preview=False)
        await client.send_file(ANALYST, photo, caption=html, parse_mode="html")
        sender = TelegramSender(client)
        await sender.send(str(ANALYST), html, None, key="k|0")
        await sender.send(str(ANALYST), html, png, key="k|1")
    sends = [r for r in fake.requests if isinstance(r, functions.messages.SendMessageRequest)]
    media = [r for r in fake.requests if isinstance(r, functions.messages.SendMediaRequest)]
    telethon_text, telethon_photo, ours_text, ours_photo = fake.sent
    for theirs, ours in ((telethon_text, ours_text), (telethon_photo, ours_photo)):
        assert (ours.text, ours.media, ours.peer) == (theirs.text, theirs.media, theirs.peer)
        assert [e.to_dict() for e in ours.entities] == [e.to_dict() for e in theirs.entities]
    assert "<b>Ashab</b>" in ours_text.text and "الحلة" in ours_text.text
    assert [type(e).__name__ for e in ours_text.entities] == [
        "MessageEntityBold",
        "MessageEntityTextUrl",
        "MessageEntityItalic",
        "MessageEntityCode",
    ]
    assert [r.no_webpage for r in sends] == [True, True]
    assert all(isinstance(r.media, types.InputMediaUploadedPhoto) for r in media)
    assert [r.media.file.name for r in media] == ["digest.png", "digest.png"]


async def test_chat_forbidden_stays_pending(fake: FakeTelegram, tmp_path: Path, db_path: Path) -> None:
    """A user who blocked the bot keeps the digest pending (visible in stats); the other analyst gets it."""
    settings = bot_settings(tmp_path, ANALYST, OTHER_ANALYST)

    def to_blocked(request: Any) -> bool:
        return isinstance(request.peer, types.InputPeerUser) and request.peer.user_id == OTHER_ANALYST

    fake.fail(functions.messages.SendMediaRequest, "USER_IS_BLOCKED", times=None, when=to_blocked)
    fake.fail(functions.messages.SendMessageRequest, "USER_IS_BLOCKED", times=None, when=to_blocked)
    async with await Store.open(db_path) as store, bot(fake, settings) as client:
        await report(store, "chan_a", 1)
        await compose(store, config(tmp_path, chats=(str(ANALYST), str(OTHER_ANALYST))))
        result = await DeliveryWorker(store.outbox, TelegramSender(client), sleep=Sleeps()).deliver_pending()
        stats = await store.posts.stats()
        pending = await store.outbox.pending()
    assert (result.sent, result.pending) == (2, 2)
    assert "UserIsBlockedError" in result.failed_chats[str(OTHER_ANALYST)]
    assert (stats["digests_pending"], stats["digests_sent"]) == (1, 0)
    assert {p.chat_id for p in pending} == {str(OTHER_ANALYST)}
    assert len(texts(fake, ANALYST)) == 2 and texts(fake, OTHER_ANALYST) == []


async def test_schedule_across_timezone_and_restart_over_telegram(
    fake: FakeTelegram, tmp_path: Path, db_path: Path
) -> None:
    """19:00 Baghdad (16:00 UTC) fires once through the bot; a restart at 19:30 sends nothing again."""
    settings = bot_settings(tmp_path, ANALYST)
    cfg = config(tmp_path, chats=(str(ANALYST),), chart=False)
    schedule = Schedule.at(BAGHDAD, [dt.time(7), dt.time(19)])
    clock = FakeClock(dt.datetime(2026, 11, 21, 15, 59, tzinfo=dt.UTC))
    for minutes in (0, 1, 30):
        clock.now = dt.datetime(2026, 11, 21, 15, 59, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
        async with await Store.open(db_path) as store, bot(fake, settings) as client:
            if minutes == 0:
                await report(store, "chan_a", 1)
            scheduler = DigestScheduler(
                store, Digester(store, cfg, clock=clock), periodic=schedule, clock=clock
            )
            await scheduler.tick()
            await DeliveryWorker(store.outbox, TelegramSender(client), sleep=Sleeps()).deliver_pending()
    sent = texts(fake, ANALYST)
    assert len(sent) == 1
    assert "21 Nov 19:00 (Asia/Baghdad)" in sent[0]


async def test_commands_answer_only_configured_chats(
    fake: FakeTelegram, tmp_path: Path, db_path: Path
) -> None:
    """/status, /incidents and /help answer the analyst; the same from a stranger is ignored."""
    settings = bot_settings(tmp_path, ANALYST)
    clock = FakeClock(dt.datetime(2026, 11, 21, 16, 0, tzinfo=dt.UTC))
    bot_id = fake.bot_tokens[TOKEN]
    async with await Store.open(db_path) as store, bot(fake, settings) as client:
        await report(store, "chan_a", 1)
        await report(store, "chan_b", 2, place="Rutba", admin1="IQ-AN")
        handler = CommandHandler(
            store, config(tmp_path, chats=(str(ANALYST),)), allowed=[str(ANALYST)], clock=clock
        )
        register_commands(client, handler)
        fake.push_to_bot(bot_id, "/status", chat_id=STRANGER, from_id=STRANGER)
        fake.push_to_bot(bot_id, "/status", chat_id=ANALYST, from_id=ANALYST)
        await wait_until(lambda: len(texts(fake, ANALYST)) == 1)
        fake.push_to_bot(bot_id, "/incidents anbar 3", chat_id=ANALYST, from_id=ANALYST)
        await wait_until(lambda: len(texts(fake, ANALYST)) == 2)
        fake.push_to_bot(bot_id, "/help", chat_id=ANALYST, from_id=ANALYST)
        await wait_until(lambda: len(texts(fake, ANALYST)) == 3)
        fake.push_to_bot(bot_id, "/digest 6h", chat_id=ANALYST, from_id=ANALYST)
        await wait_until(lambda: len(texts(fake, ANALYST)) == 5)
        await settle(client)
    status, incidents, help_text, chart_caption, digest = texts(fake, ANALYST)
    assert texts(fake, STRANGER) == []
    assert "convoywatch status" in status and "incidents: 2" in status
    assert (
        "Incidents in Anbar, last 3 days" in incidents
        and "Rutba" in incidents
        and "Abu Ghraib" not in incidents
    )
    assert "/incidents [governorate] [days]" in help_text
    assert chart_caption.startswith("Convoy attacks · digest on request: 2 incidents")
    assert "Rutba" in digest and "Abu Ghraib" in digest


async def test_service_in_bot_mode_alerts_and_answers(
    fake: FakeTelegram, tmp_path: Path, db_path: Path
) -> None:
    """The delivery service logs the bot in, sends an alert as soon as it is queued and answers /status."""
    settings = bot_settings(tmp_path, ANALYST)
    clock = FakeClock(dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC))
    stop = asyncio.Event()

    def factory(s: Settings, session: Any) -> TelegramClient:
        return fake.install(make_client(s, session))

    async with (
        await Store.open(db_path) as store,
        DeliveryService.open(settings, store, Metrics(), bot_factory=factory, clock=clock) as service,
    ):
        running = asyncio.create_task(service.run(stop))
        outcome = await report(store, "chan_a", 1, killed=3)
        await service.alert_hook([(Post("chan_a", 1, POSTED, "x"), outcome)])
        await wait_until(lambda: len(texts(fake, ANALYST)) == 1, task=running)
        fake.push_to_bot(fake.bot_tokens[TOKEN], "/status", chat_id=ANALYST, from_id=ANALYST)
        await wait_until(lambda: len(texts(fake, ANALYST)) == 2, task=running)
        stop.set()
        await running
    alert, status = texts(fake, ANALYST)
    assert alert.startswith("⚠️ Convoy attack · Saturday 21 Nov 2026 · Baghdad") and "3 casualties" in alert
    assert "digests pending: 0 (0 messages) · sent messages: 1" in status
    assert "next digest: 2026-11-21 19:00 (Asia/Baghdad)" in status


async def test_service_once_on_the_console(
    tmp_path: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a bot token the service prints the digest and archives text and chart under data_dir."""
    settings = make_settings(tmp_path, [], data_dir=tmp_path / "data")
    clock = FakeClock(dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC))
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1)
        async with DeliveryService.open(settings, store, Metrics(), clock=clock) as service:
            composed, delivered = await service.once()
    assert composed is not None and delivered is not None and delivered.sent == 2
    assert sorted(p.suffix for p in (tmp_path / "data").glob("digest-*")) == [".html", ".png", ".txt"]
    printed = capsys.readouterr().out
    assert "1 incident (1 new, 0 updated)" in printed and "Abu Ghraib" in printed
