"""Digest composition and outbox delivery on a real temporary SQLite store, with a fake Sender port."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot import cli
from bot.digest.commands import CommandHandler
from bot.digest.compose import DigestConfig, Digester
from bot.digest.deliver import AlertHook, DeliveryWorker, DigestScheduler, OutboxLock, RetryPolicy, digest_now
from bot.digest.policy import AlertPolicy
from bot.digest.render import to_plain
from bot.digest.schedule import Schedule
from bot.digest.senders import (
    ConsoleSender,
    FileSender,
    PermanentSendError,
    RetryAfterError,
    TransientSendError,
)
from bot.digest.service import DeliveryService, digest_command
from bot.errors import ConvoywatchError
from bot.metrics import Metrics
from bot.model import Analysis, Classification, Event, Post
from bot.settings import Settings
from bot.store import SaveOutcome, Store

BAGHDAD = zoneinfo.ZoneInfo("Asia/Baghdad")
DAY = dt.date(2026, 11, 21)
POSTED = dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.UTC)
CHATS = ("-1001111111111", "-1002222222222")


class Crash(BaseException):
    """Simulates the process dying mid-delivery (not an Exception: nothing may catch it)."""


@dataclass
class FakeSender:
    """The Sender port: records what was accepted; ``fail`` decides per call what to raise."""

    fail: Callable[[int, str, str], BaseException | None] = lambda n, chat, html: None
    sent: list[tuple[str, str, bytes | None]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    calls: int = 0

    async def send(self, chat: str, html: str, attachment: bytes | None, *, key: str) -> str:
        self.calls += 1
        error = self.fail(self.calls, chat, html)
        if error is not None:
            raise error
        self.sent.append((chat, html, attachment))
        self.keys.append(key)
        return str(len(self.sent))


@dataclass
class FakeClock:
    """A settable clock."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Sleeps:
    """An injectable sleep that records instead of waiting."""

    seconds: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


async def report(
    store: Store,
    channel: str,
    message_id: int,
    *,
    place: str = "Abu Ghraib",
    admin1: str = "IQ-BG",
    day: dt.date = DAY,
    text: str | None = None,
    **details: object,
) -> SaveOutcome:
    """Store one relevant post reporting one attack."""
    event = Event(day, "IQ", admin1, place, "ied", "us_coalition", **details)  # type: ignore[arg-type]
    post = Post(
        channel, message_id, POSTED + dt.timedelta(minutes=message_id), text or f"{place} {message_id}"
    )
    return await store.posts.save(post, Analysis(Classification(True, 1.0), (event,)))


def config(tmp_path: Path, **changes: object) -> DigestConfig:
    """A digest config for two analyst chats, archiving under tmp_path/data."""
    values: dict[str, object] = {"chats": CHATS, "zone": BAGHDAD, "data_dir": tmp_path / "data"}
    values.update(changes)
    return DigestConfig(**values)  # type: ignore[arg-type]


async def compose(store: Store, cfg: DigestConfig, key: str = "periodic:test") -> int | None:
    """Compose a periodic digest of everything not yet told; returns its digest id."""
    now = dt.datetime(2026, 11, 21, 16, 0, tzinfo=dt.UTC)
    composed = await Digester(store, cfg, clock=FakeClock(now)).digest(
        kind="periodic",
        key=key,
        period_start=now - dt.timedelta(hours=12),
        period_end=now,
        changed_since=None,
    )
    return composed.digest_id if composed else None


async def test_digest_is_committed_first_then_sent_once(tmp_path: Path, db_path: Path) -> None:
    """A digest's parts (chart, then text) are all committed before sending, then each chat gets them once."""
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1, killed=2)
        await report(store, "chan_b", 2, place="Rutba", admin1="IQ-AN")
        digest_id = await compose(store, config(tmp_path))
        assert digest_id is not None
        pending = await store.outbox.pending()
        assert [(p.chat_id, p.seq) for p in pending] == [
            (chat, seq) for chat in sorted(CHATS) for seq in (0, 1)
        ]
        assert (await store.posts.stats())["digests_pending"] == 1

        sender = FakeSender()
        worker = DeliveryWorker(store.outbox, sender, sleep=Sleeps())
        first = await worker.deliver_pending()
        second = await worker.deliver_pending()

        assert (first.sent, first.pending, second.sent) == (4, 0, 0)
        first_chat, second_chat = sorted(CHATS)
        assert [chat for chat, _, _ in sender.sent] == [first_chat, first_chat, second_chat, second_chat]
        chart_message = sender.sent[0]
        assert chart_message[2] is not None and chart_message[2].startswith(b"\x89PNG")
        text = to_plain(sender.sent[1][1])
        assert "2 incidents (2 new, 0 updated)" in text
        assert "https://t.me/chan_a/1" in text and "Rutba" in text
        stats = await store.posts.stats()
        assert (stats["digests_pending"], stats["digests_sent"]) == (0, 1)


async def test_same_key_is_composed_once(tmp_path: Path, db_path: Path) -> None:
    """Composing the same slot twice (a restart mid-tick) commits nothing the second time."""
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1)
        assert await compose(store, config(tmp_path)) is not None
        assert await compose(store, config(tmp_path)) is None
        assert len(await store.outbox.pending()) == 4


async def test_crash_between_parts_then_restart_sends_the_rest_once(tmp_path: Path, db_path: Path) -> None:
    """The process dies after the first part was accepted; after a restart the rest go out, nothing twice."""
    async with await Store.open(db_path) as store:
        for n in range(1, 40):
            await report(store, f"channel_{n:02d}", n, place=f"Place number {n}", admin1="IQ-BG", day=DAY)
        await compose(store, config(tmp_path, chats=("-1001111111111",)))
        total = len(await store.outbox.pending())
        assert total >= 3  # chart + at least two text parts
        dying = FakeSender(fail=lambda n, chat, html: Crash() if n == 2 else None)
        with pytest.raises(Crash):
            await DeliveryWorker(store.outbox, dying, sleep=Sleeps()).deliver_pending()
        assert len(dying.sent) == 1

    async with await Store.open(db_path) as store:
        fresh = FakeSender()
        result = await DeliveryWorker(store.outbox, fresh, sleep=Sleeps()).deliver_pending()
        assert result.sent == total - 1
        delivered = [html for _, html, _ in dying.sent + fresh.sent]
        assert len(delivered) == len(set(delivered)) == total
        again = await DeliveryWorker(store.outbox, FakeSender(), sleep=Sleeps()).deliver_pending()
        assert (again.sent, again.pending) == (0, 0)


async def test_flood_wait_in_the_middle_is_slept_through(tmp_path: Path, db_path: Path) -> None:
    """A flood wait on the second part is slept (injected sleep) and the part then sent, in order."""
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1)
        await compose(store, config(tmp_path, chats=("-1001111111111",)))
        sender = FakeSender(fail=lambda n, chat, html: RetryAfterError(17) if n == 2 else None)
        sleeps = Sleeps()
        metrics = Metrics()
        result = await DeliveryWorker(store.outbox, sender, sleep=sleeps, metrics=metrics).deliver_pending()
        assert (result.sent, result.flood_waits, sleeps.seconds) == (2, 1, [17.0])
        assert [attachment is not None for _, _, attachment in sender.sent] == [True, False]
        assert metrics.registry.get_sample_value("convoywatch_flood_waits_total", {"scope": "send"}) == 1


async def test_long_flood_wait_pauses_only_that_chat(tmp_path: Path, db_path: Path) -> None:
    """A flood wait longer than the maximum pauses the chat (others go on) until it has passed."""
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1)
        await compose(store, config(tmp_path))
        slow = sorted(CHATS)[0]
        clock = [100.0]
        sender = FakeSender(
            fail=lambda n, chat, html: RetryAfterError(3600) if chat == slow and n == 1 else None
        )
        worker = DeliveryWorker(store.outbox, sender, sleep=Sleeps(), monotonic=lambda: clock[0])
        first = await worker.deliver_pending()
        assert (first.sent, first.pending, list(first.failed_chats)) == (2, 2, [slow])
        clock[0] += 60
        assert (await worker.deliver_pending()).sent == 0
        clock[0] += 3600
        assert (await worker.deliver_pending()).sent == 2
        assert [chat for chat, _, _ in sender.sent].count(slow) == 2


async def test_transient_errors_are_retried_with_backoff(tmp_path: Path, db_path: Path) -> None:
    """Two network errors: retried after 1 s and 2 s, then sent; attempts are counted."""
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1)
        await compose(store, config(tmp_path, chats=("-1001111111111",), chart=False))
        sender = FakeSender(fail=lambda n, chat, html: TransientSendError("reset") if n <= 2 else None)
        sleeps = Sleeps()
        result = await DeliveryWorker(store.outbox, sender, sleep=sleeps).deliver_pending()
        assert (result.sent, sleeps.seconds) == (1, [1.0, 2.0])
        row = await store.db.read_one("SELECT attempts, last_error, sent_at FROM digest_parts")
        assert row is not None and row["attempts"] == 3 and row["last_error"] is None and row["sent_at"]


async def test_transient_errors_give_up_for_this_pass(tmp_path: Path, db_path: Path) -> None:
    """After the retry budget the part stays pending with its error for the next pass."""
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1)
        await compose(store, config(tmp_path, chats=("-1001111111111",), chart=False))
        sender = FakeSender(fail=lambda n, chat, html: TransientSendError("timeout"))
        sleeps = Sleeps()
        worker = DeliveryWorker(store.outbox, sender, sleep=sleeps, retry=RetryPolicy(attempts=3))
        result = await worker.deliver_pending()
        assert (result.sent, result.pending, sleeps.seconds) == (0, 1, [1.0, 2.0])
        part = (await store.outbox.pending())[0]
        assert (part.attempts, part.last_error) == (3, "timeout")


async def test_permanent_error_leaves_the_digest_pending_and_visible(tmp_path: Path, db_path: Path) -> None:
    """A chat that removed the bot keeps its parts pending (stats, gauge, last_error); others get theirs."""
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1)
        await compose(store, config(tmp_path))
        gone = sorted(CHATS)[1]
        sender = FakeSender(
            fail=lambda n, chat, html: PermanentSendError("ChatWriteForbiddenError") if chat == gone else None
        )
        metrics = Metrics()
        result = await DeliveryWorker(store.outbox, sender, sleep=Sleeps(), metrics=metrics).deliver_pending()
        assert (result.sent, result.pending) == (2, 2)
        assert result.failed_chats == {gone: "ChatWriteForbiddenError"}
        assert {chat for chat, _, _ in sender.sent} == {sorted(CHATS)[0]}
        assert sender.calls == 3  # the second part for the gone chat was not even tried
        stats = await store.posts.stats()
        assert (stats["digests_pending"], stats["digests_sent"]) == (1, 0)
        assert metrics.registry.get_sample_value("convoywatch_digests_pending") == 2
        assert [p.last_error for p in await store.outbox.pending()] == ["ChatWriteForbiddenError", None]


async def test_updates_are_marked_and_nothing_is_repeated(tmp_path: Path, db_path: Path) -> None:
    """A second report of a sent incident makes it an update; with nothing new the digest is quiet."""
    async with await Store.open(db_path) as store:
        cfg = config(tmp_path, chats=("-1001111111111",), chart=False)
        await report(store, "chan_a", 1)
        await compose(store, cfg, key="periodic:1")
        await report(store, "chan_b", 2)  # same place and day: joins the incident
        await report(store, "chan_c", 3, place="Rutba", admin1="IQ-AN")
        await compose(store, cfg, key="periodic:2")
        assert await compose(store, cfg, key="periodic:3") is None
        quiet = await compose(
            store, config(tmp_path, chats=("-1001111111111",), chart=False, send_empty=True), key="periodic:4"
        )
        sender = FakeSender()
        await DeliveryWorker(store.outbox, sender, sleep=Sleeps()).deliver_pending()
        texts = [to_plain(html) for _, html, _ in sender.sent]
        assert quiet is not None and len(texts) == 3
        assert "1 incident (1 new, 0 updated)" in texts[0]
        assert "2 incidents (1 new, 1 updated)" in texts[1]
        assert "• 🔄 update · Abu Ghraib" in texts[1] and "2 channels, 2 posts" in texts[1]
        assert "• Rutba" in texts[1]
        assert "No new incidents." in texts[2]


async def test_deleted_source_makes_an_update(tmp_path: Path, db_path: Path) -> None:
    """A source post deleted after the digest shows the incident again, marked and with the deletion."""
    async with await Store.open(db_path) as store:
        cfg = config(tmp_path, chats=("-1001111111111",), chart=False)
        await report(store, "chan_a", 1)
        await report(store, "chan_b", 2)
        await compose(store, cfg, key="periodic:1")
        await store.posts.mark_deleted("chan_b", [2])
        assert await compose(store, cfg, key="periodic:2") is not None
        sender = FakeSender()
        await DeliveryWorker(store.outbox, sender, sleep=Sleeps()).deliver_pending()
        assert "https://t.me/chan_b/2 (deleted)" in to_plain(sender.sent[-1][1])
        assert "update" in to_plain(sender.sent[-1][1])


async def test_schedule_across_a_timezone_and_a_restart(tmp_path: Path, db_path: Path) -> None:
    """07:00/19:00 Baghdad slots fire once each, survive a restart, and a long outage runs one catch-up."""
    schedule = Schedule.at(BAGHDAD, [dt.time(7), dt.time(19)])
    cfg = config(tmp_path, chats=("-1001111111111",), chart=False, send_empty=True)
    clock = FakeClock(dt.datetime(2026, 11, 21, 3, 59, tzinfo=dt.UTC))  # 06:59 in Baghdad
    keys: list[str] = []

    def scheduler(store: Store) -> DigestScheduler:
        return DigestScheduler(store, Digester(store, cfg, clock=clock), periodic=schedule, clock=clock)

    async with await Store.open(db_path) as store:
        assert await scheduler(store).tick() == []  # first start: the clock starts now
        await report(store, "chan_a", 1)
        clock.now = dt.datetime(2026, 11, 21, 4, 0, 30, tzinfo=dt.UTC)
        keys += [c.key for c in await scheduler(store).tick()]
        clock.now += dt.timedelta(minutes=10)
        keys += [c.key for c in await scheduler(store).tick()]

    async with await Store.open(db_path) as store:  # restart the same day
        keys += [c.key for c in await scheduler(store).tick()]
        clock.now = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)  # 08:00 next day: 19:00 and 07:00 missed
        keys += [c.key for c in await scheduler(store).tick()]
        keys += [c.key for c in await scheduler(store).tick()]
        assert await store.state.get("digest.periodic.last_slot") == "2026-11-22T07:00:00+03:00"

    assert keys == ["periodic:2026-11-21T07:00+03:00", "periodic:2026-11-22T07:00+03:00"]


async def test_daily_summary_lists_the_day_even_if_already_sent(tmp_path: Path, db_path: Path) -> None:
    """The daily summary repeats the day's incidents already sent in periodic digests."""
    cfg = config(tmp_path, chats=("-1001111111111",), chart=False)
    clock = FakeClock(dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.UTC))
    async with await Store.open(db_path) as store:
        scheduler = DigestScheduler(
            store,
            Digester(store, cfg, clock=clock),
            periodic=Schedule.at(BAGHDAD, [dt.time(7)]),
            daily=Schedule.daily(BAGHDAD, dt.time(7, 30)),
            clock=clock,
        )
        await scheduler.tick()
        await report(store, "chan_a", 1)
        clock.now = dt.datetime(2026, 11, 21, 4, 40, tzinfo=dt.UTC)  # 07:40
        kinds = [c.kind for c in await scheduler.tick()]
        assert kinds == ["periodic", "daily"]
        sender = FakeSender()
        await DeliveryWorker(store.outbox, sender, sleep=Sleeps()).deliver_pending()
        assert "daily summary" in to_plain(sender.sent[-1][1])
        assert "1 incident (0 new, 0 updated, 1 already sent)" in to_plain(sender.sent[-1][1])
        assert "Abu Ghraib" in to_plain(sender.sent[-1][1])


async def test_alerts_fire_once_per_reason(tmp_path: Path, db_path: Path) -> None:
    """Casualties alert at once; the same again is quiet; a second channel alerts for corroboration."""
    cfg = config(tmp_path, chats=("-1001111111111",), policy=AlertPolicy(min_sources=2, on_claim=False))
    clock = FakeClock(dt.datetime(2026, 11, 21, 6, 0, tzinfo=dt.UTC))
    woken: list[bool] = []
    async with await Store.open(db_path) as store:
        hook = AlertHook(store, Digester(store, cfg, clock=clock), wake=lambda: woken.append(True))
        first = await report(store, "chan_a", 1, killed=2)
        await hook([(Post("chan_a", 1, POSTED, "x"), first)])
        await hook([(Post("chan_a", 1, POSTED, "x"), first)])
        second = await report(store, "chan_b", 2)
        await hook([(Post("chan_b", 2, POSTED, "y"), second)])
        old = await report(
            store, "chan_c", 3, place="Rutba", admin1="IQ-AN", day=dt.date(2026, 10, 1), killed=9
        )
        await hook([(Post("chan_c", 3, POSTED, "z"), old)])
        keys = [row["key"] for row in await store.db.read("SELECT key FROM digests ORDER BY id")]
        incident_id = first.new_incidents[0]
        assert keys == [f"alert:{incident_id}:casualties", f"alert:{incident_id}:sources"]
        assert woken == [True, True]
        sender = FakeSender()
        await DeliveryWorker(store.outbox, sender, sleep=Sleeps()).deliver_pending()
        assert "reported by 2 channels" in to_plain(sender.sent[1][1])


async def test_digest_now_archives_and_prints_plain_text(tmp_path: Path, db_path: Path) -> None:
    """A digest on request writes .html/.txt/.png under data_dir and the console prints it without tags."""
    out = io.StringIO()
    cfg = config(tmp_path, chats=("local",))
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1, claimed_by="<b>Ashab</b>")
        clock = FakeClock(dt.datetime(2026, 11, 21, 16, 0, tzinfo=dt.UTC))
        composed, result = await digest_now(store, cfg, send=True, sender=ConsoleSender(out), clock=clock)
    assert composed is not None and result is not None and result.sent == 2
    names = sorted(path.name for path in composed.files)
    assert names == ["digest-20261121-1900.html", "digest-20261121-1900.png", "digest-20261121-1900.txt"]
    text = (tmp_path / "data" / "digest-20261121-1900.txt").read_text(encoding="utf-8")
    assert "claimed by <b>Ashab</b>" in text
    printed = out.getvalue()
    assert "claimed by <b>Ashab</b>" in printed and "<i>" not in printed and "&lt;" not in printed
    assert "[chart," in printed


async def test_digest_preview_commits_nothing(tmp_path: Path, db_path: Path) -> None:
    """Without --send the digest is rendered and archived but nothing enters the outbox."""
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1)
        composed, result = await digest_now(store, config(tmp_path), since=dt.timedelta(hours=6), send=False)
        assert composed is not None and result is None and composed.digest_id is None
        assert "Abu Ghraib" in composed.plain
        assert await store.outbox.pending() == []


async def test_file_sender_writes_each_message(tmp_path: Path, db_path: Path) -> None:
    """The file sink writes every part as HTML (and the chart as PNG), numbered per chat."""
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1)
        await compose(store, config(tmp_path, chats=("local",)))
        await DeliveryWorker(store.outbox, FileSender(tmp_path / "sent"), sleep=Sleeps()).deliver_pending()
    names = sorted(path.name for path in (tmp_path / "sent").glob("local-*"))
    assert [re.sub(r"-[0-9a-f]{16}\.", ".", name) for name in names] == [
        "local-00001.html",
        "local-00001.png",
        "local-00002.html",
    ]
    assert "Abu Ghraib" in (tmp_path / "sent" / names[2]).read_text(encoding="utf-8")


async def test_command_mistakes_are_answered_and_strangers_ignored(tmp_path: Path, db_path: Path) -> None:
    """A bad argument gets an explanation with the help; strangers and plain text get nothing."""
    async with await Store.open(db_path) as store:
        handler = CommandHandler(store, config(tmp_path), allowed=CHATS, clock=FakeClock(POSTED))
        unknown = await handler.answer(CHATS[0], "/incidents atlantis")
        bad_duration = await handler.answer(CHATS[0], "/digest soon")
        other = await handler.answer(CHATS[0], "/frobnicate")
        assert unknown is not None and "unknown governorate &#x27;atlantis&#x27;" in unknown[0].html
        assert bad_duration is not None and "not a duration" in bad_duration[0].html
        assert other is not None and "Unknown command /frobnicate" in other[0].html
        assert await handler.answer("-100999", "/status") is None
        assert await handler.answer(CHATS[0], "good morning") is None


async def _stored_incident(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        await report(store, "chan_a", 1)


def test_cli_digest_prints_and_archives(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`convoywatch digest --since 6h` prints the digest as text and writes it under data_dir."""
    asyncio.run(_stored_incident(db_path))
    monkeypatch.setenv("CONVOYWATCH_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["digest", "--db", str(db_path), "--since", "6h"]) == 0
    out = capsys.readouterr()
    assert "1 incident (1 new, 0 updated)" in out.out and "<b>" not in out.out
    assert len(list((tmp_path / "data").glob("digest-*.png"))) == 1
    assert "wrote " in out.err


def test_cli_digest_send_through_the_file_sink(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`digest --send` with the file sender delivers through the outbox and stats count it sent."""
    asyncio.run(_stored_incident(db_path))
    monkeypatch.setenv("CONVOYWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CONVOYWATCH_SENDER", "file")
    assert cli.main(["digest", "--db", str(db_path), "--send"]) == 0
    sent = tmp_path / "data" / "sent"
    suffixes = sorted(p.suffix for p in sent.iterdir() if p.name != FileSender.JOURNAL)
    assert suffixes == [".html", ".html", ".png"]
    assert cli.main(["stats", "--db", str(db_path), "--json"]) == 0
    assert '"digests_pending": 0, "digests_sent": 1' in capsys.readouterr().out


def test_cli_digest_refuses_a_bad_duration(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --since that is not a duration is one clear line and exit 1."""
    asyncio.run(_stored_incident(db_path))
    assert cli.main(["digest", "--db", str(db_path), "--since", "soon"]) == 1
    assert "--since" in capsys.readouterr().err


async def test_send_beside_a_running_service_only_queues(tmp_path: Path, db_path: Path) -> None:
    """While another process holds the outbox lock, `digest --send` commits its digest and sends nothing."""
    settings = Settings(_env_file=None, db=db_path, data_dir=tmp_path / "data", sender="file")  # type: ignore[call-arg]
    held = OutboxLock(db_path)
    assert held.try_acquire()
    try:
        async with await Store.open(db_path) as store:
            await report(store, "chan_a", 1)
            composed, delivered = await digest_command(settings, store, since=None, send=True)
            assert composed is not None and composed.digest_id is not None and delivered is None
            assert len(await store.outbox.pending()) == 2
            with pytest.raises(ConvoywatchError, match="another convoywatch process delivers"):
                async with DeliveryService.open(settings, store, Metrics()):
                    pass
    finally:
        held.release()
    assert not (tmp_path / "data" / "sent").exists()


def test_run_once_on_the_embedded_default_prints_and_archives_the_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`convoywatch run --once` replays the sample, prints the digest and writes its text and PNG."""
    for name, value in {"DB": "c.db", "DATA_DIR": "data", "INBOX": "inbox"}.items():
        monkeypatch.setenv(f"CONVOYWATCH_{name}", str(tmp_path / value))
    assert cli.main(["run", "--once"]) == 0
    printed = capsys.readouterr().out
    assert "Convoy attacks · digest on request" in printed
    assert "Abu Ghraib \u2068أبو غريب\u2069" in printed and "https://t.me/" in printed
    suffixes = sorted(path.suffix for path in (tmp_path / "data").glob("digest-*"))
    assert suffixes == [".html", ".png", ".txt"]
