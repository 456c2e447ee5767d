"""The live Telegram source end to end: a real Telethon client on the fake Telegram, a real SQLite file.

Each scenario ends with the same check: every post exactly once with its latest text, and
deleted posts marked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from telethon.tl import functions

from bot.metrics import Metrics
from bot.model import ForwardOrigin
from bot.sources.telegram import run_live
from bot.sources.telegram_session import make_client
from bot.store import Store
from tests.faketg import FakeChannel, FakeTelegram
from tests.faketg.clock import FakeClock
from tests.faketg.live import LiveService, make_settings, wait_until
from tests.faketg.server import EPOCH


@pytest.fixture
async def live() -> AsyncIterator[Callable[..., LiveService]]:
    """Build LiveServices that are always stopped and closed at the end of the test."""
    made: list[LiveService] = []

    def build(*args: Any, **kwargs: Any) -> LiveService:
        made.append(LiveService(*args, **kwargs))
        return made[-1]

    yield build
    for service in made:
        await service.close()


async def assert_mirrors(
    store: Store, fake: FakeTelegram, channel: FakeChannel, *, albums: bool = False
) -> None:
    """The store holds every post of the channel once with its latest text; deleted ones are marked."""
    key = channel.key
    expected: dict[int, str] = {}
    seen_groups: dict[int, int] = {}
    for message_id in sorted(channel.messages):
        message = channel.messages[message_id]
        if albums and message.grouped_id is not None:
            first = seen_groups.setdefault(message.grouped_id, message_id)
            expected[first] = expected.get(first) or message.message or ""
            continue
        expected[message_id] = message.message or ""
    ids = await store.posts.recent_ids(key, 100_000)
    assert sorted(ids) == sorted(expected), "live posts stored (no more, no fewer)"
    for message_id, text in expected.items():
        stored = await store.posts.get(key, message_id)
        assert stored is not None and stored.post.text == text and not stored.deleted
    for message_id in channel.deleted:
        stored = await store.posts.get(key, message_id)
        if stored is not None:
            assert stored.deleted, f"post {message_id} deleted on Telegram is marked deleted"


async def _count(store: Store, key: str) -> int:
    return await store.posts.count(key)


@pytest.fixture
async def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def news(fake: FakeTelegram) -> FakeChannel:
    return fake.add_channel("ConvoyNews", "Convoy news")


@pytest.fixture
async def service(
    fake: FakeTelegram, news: FakeChannel, tmp_path: Path, live: Callable[..., LiveService]
) -> AsyncIterator[LiveService]:
    running = live(fake, make_settings(tmp_path, ["@ConvoyNews"]))
    await running.start()
    yield running
    await running.close()


def _store(service: LiveService) -> Store:
    assert service.store is not None
    return service.store


async def test_live_posts_are_stored_once(
    fake: FakeTelegram, news: FakeChannel, service: LiveService
) -> None:
    """Posts published while the service runs are stored, each once, with their text."""
    for n in range(1, 4):
        fake.post(news, f"report {n}")
    store = _store(service)
    await wait_until(lambda: _count_is(store, "convoynews", 3))
    await service.settled()
    await assert_mirrors(store, fake, news)
    assert service.source.passes == 1, "stored by the live handlers, not by a later catch-up"


async def _count_is(store: Store, key: str, expected: int) -> bool:
    return await store.posts.count(key) == expected


async def test_lost_update_is_recovered_by_telethon_gap_detection(
    fake: FakeTelegram, news: FakeChannel, service: LiveService
) -> None:
    """A post whose update never arrives (a pts gap) is fetched by getChannelDifference."""
    fake.post(news, "first")
    store = _store(service)
    await wait_until(lambda: _count_is(store, "convoynews", 1))
    fake.post(news, "lost on the way", deliver=False)
    fake.post(news, "third")
    await wait_until(lambda: _count_is(store, "convoynews", 3))
    await service.settled()
    await assert_mirrors(store, fake, news)
    assert fake.count(functions.updates.GetChannelDifferenceRequest) >= 1
    assert service.source.passes == 1, "no periodic catch-up was needed"


async def test_edit_delete_album_forward_live(
    fake: FakeTelegram, news: FakeChannel, tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """Edits keep history, deletions are marked, an album is one post, a forward keeps its origin."""
    origin = fake.add_channel("IraqWatch", "Iraq watch")
    original = fake.post(origin, "IED hits a convoy near Diwaniyah")
    service = live(fake, make_settings(tmp_path, ["@ConvoyNews", "https://t.me/IraqWatch"]))
    await service.start()
    store = _store(service)
    first = fake.post(news, "Convoy attacked")
    doomed = fake.post(news, "wrong report")
    album = fake.post_album(news, "Photos from the road", size=3, caption_index=1)
    forward = fake.post(news, "IED hits a convoy near Diwaniyah", forward_from=(origin, original.id))
    media_only = fake.post(news, "", media=True)
    await wait_until(lambda: _count_is(store, "convoynews", 5))
    fake.edit(news, first.id, "Convoy attacked near Samawah")
    fake.delete(news, [doomed.id])
    fake.edit(news, album[1].id, "Photos from the road (updated)")
    await service.settled()
    await wait_until(lambda: _text_is(store, "convoynews", album[0].id, "Photos from the road (updated)"))
    await wait_until(lambda: _text_is(store, "convoynews", first.id, "Convoy attacked near Samawah"))
    await wait_until(lambda: _deleted(store, "convoynews", doomed.id))
    edited = await store.posts.get("convoynews", first.id)
    assert edited is not None and edited.history == ("Convoy attacked",)
    stored_album = await store.posts.get("convoynews", album[0].id)
    assert (
        stored_album is not None and stored_album.post.has_media and stored_album.post.grouped_id is not None
    )
    assert await store.posts.get("convoynews", album[1].id) is None, "album members are not separate posts"
    stored_forward = await store.posts.get("convoynews", forward.id)
    assert stored_forward is not None and stored_forward.post.forward == ForwardOrigin(
        "iraqwatch", original.id
    )
    stored_media = await store.posts.get("convoynews", media_only.id)
    assert stored_media is not None and stored_media.post.text == "" and stored_media.post.has_media
    await assert_mirrors(store, fake, news, albums=True)
    await service.stop()


async def _text_is(store: Store, key: str, message_id: int, text: str) -> bool:
    stored = await store.posts.get(key, message_id)
    return stored is not None and stored.post.text == text


async def _deleted(store: Store, key: str, message_id: int) -> bool:
    stored = await store.posts.get(key, message_id)
    return stored is not None and stored.deleted


async def test_channel_difference_too_long_is_recovered_by_catch_up_and_recheck(
    fake: FakeTelegram, news: FakeChannel, service: LiveService
) -> None:
    """channelDifferenceTooLong gives Telethon nothing; the cursor catch-up and re-check fill it in."""
    store = _store(service)
    fake.post(news, "before")
    await wait_until(lambda: _count_is(store, "convoynews", 1))
    news.too_long = True
    for n in range(30):
        fake.post(news, f"missed {n}", deliver=False)
    fake.edit(news, 1, "before (edited while we were cut off)", deliver=False)
    fake.post(news, "this update reveals the gap")
    await wait_until(lambda: fake.count(functions.updates.GetChannelDifferenceRequest) >= 1)
    await service.settled()
    assert await store.posts.count("convoynews") < 32, "Telethon alone recovered nothing"
    await service.passes()
    await service.clock.advance(service.settings.recheck_interval_seconds)
    await wait_until(lambda: _text_is(store, "convoynews", 1, "before (edited while we were cut off)"))
    await service.settled()
    await assert_mirrors(store, fake, news)


async def test_short_flood_wait_is_slept_through_and_counted(
    fake: FakeTelegram, news: FakeChannel, service: LiveService
) -> None:
    """A flood wait under the maximum is slept (on the injected clock) and the fetch completes."""
    store = _store(service)
    for n in range(5):
        fake.post(news, f"quiet {n}", deliver=False)
    fake.fail(functions.messages.GetHistoryRequest, "FLOOD_WAIT_7")
    pass_done = service.source.passes + 1
    await service.clock.advance(service.settings.catch_up_interval_seconds)
    await wait_until(lambda: service.clock.sleeping >= 1 and 7.0 in service.clock.sleeps)
    await service.clock.advance(8)
    await wait_until(lambda: service.source.passes >= pass_done)
    await service.settled()
    await assert_mirrors(store, fake, news)
    metrics = service.metrics
    assert metrics.flood_waits.labels("history")._value.get() == 1
    assert metrics.flood_wait_seconds.labels("history")._value.get() == 7


async def test_long_flood_wait_pauses_only_that_channel(
    fake: FakeTelegram, tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """A flood wait above the maximum pauses its channel; the other channel keeps being read."""
    slow = fake.add_channel("SlowChannel")
    fast = fake.add_channel("FastChannel")
    service = live(fake, make_settings(tmp_path, ["@SlowChannel", "@FastChannel"], flood_max_wait_seconds=60))
    await service.start()
    store = _store(service)
    for n in range(3):
        fake.post(slow, f"slow {n}", deliver=False)
        fake.post(fast, f"fast {n}", deliver=False)
    slow_peer = slow.id
    fake.fail(
        functions.messages.GetHistoryRequest, "FLOOD_WAIT_1000", when=lambda r: r.peer.channel_id == slow_peer
    )
    await service.passes()
    await assert_mirrors(store, fake, fast)
    assert await store.posts.count("slowchannel") == 0
    row = await store.channels.get("slowchannel")
    assert row is not None and row.status == "paused" and "1000" in (row.reason or "")
    assert service.metrics.flood_waits.labels("history")._value.get() == 1
    await service.clock.advance(1000)
    await service.passes()
    await assert_mirrors(store, fake, slow)
    row = await store.channels.get("slowchannel")
    assert row is not None and row.status == "ok"
    await service.stop()


async def test_channel_that_becomes_private_is_reported_and_skipped(
    fake: FakeTelegram, tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """A channel turning private is marked so with a reason; the other channel keeps running."""
    closing = fake.add_channel("ClosingSoon")
    staying = fake.add_channel("Staying")
    service = live(fake, make_settings(tmp_path, ["@ClosingSoon", "@Staying"]))
    await service.start()
    store = _store(service)
    fake.post(closing, "last public post")
    await wait_until(lambda: _count_is(store, "closingsoon", 1))
    fake.make_private(closing)
    fake.post(staying, "still here", deliver=False)
    await service.passes()
    row = await store.channels.get("closingsoon")
    assert row is not None and row.status == "private" and row.reason
    await assert_mirrors(store, fake, staying)
    fake.post(staying, "and live too")
    await wait_until(lambda: _count_is(store, "staying", 2))
    await service.stop()


async def test_unavailable_channels_at_start_do_not_stop_the_others(
    fake: FakeTelegram, tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """A username that does not exist and a private channel are reported; the good one is read."""
    good = fake.add_channel("GoodChannel")
    secret = fake.add_channel("SecretChannel")
    fake.make_private(secret)
    fake.post(good, "hello", deliver=False)
    service = live(
        fake,
        make_settings(tmp_path, ["@NoSuchChannel", "t.me/SecretChannel", "-1009999999999", "@GoodChannel"]),
    )
    await service.start()
    store = _store(service)
    missing = await store.channels.get("nosuchchannel")
    assert missing is not None and missing.status == "gone"
    unknown_id = await store.channels.get("9999999999")
    assert (
        unknown_id is not None and unknown_id.status == "gone" and "numeric id" in (unknown_id.reason or "")
    )
    await service.settled()
    await assert_mirrors(store, fake, good)
    await service.stop()


async def test_join_channels_joins_only_when_configured(
    fake: FakeTelegram, tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """With join_channels a channel we are not in is joined once; without it, never."""
    outside = fake.add_channel("Outside", joined=False)
    service = live(fake, make_settings(tmp_path, ["@Outside"]))
    await service.start()
    await service.stop()
    assert fake.count(functions.channels.JoinChannelRequest) == 0
    other = tmp_path / "second"
    other.mkdir()
    service = live(fake, make_settings(other, ["@Outside"], join_channels=True))
    await service.start()
    assert fake.count(functions.channels.JoinChannelRequest) == 1
    assert FakeTelegram.ME_ID in outside.members
    fake.post(outside, "now we hear it live")
    store = _store(service)
    await wait_until(lambda: _count_is(store, "outside", 1))
    await service.stop()


async def test_recheck_reads_100_ids_a_request_at_about_300_ids_per_30_seconds(
    fake: FakeTelegram, tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """The re-check window goes out in chunks of at most 100 ids and waits once 300 ids are used."""
    busy = fake.add_channel("Busy")
    for n in range(400):
        fake.post(busy, f"post {n}", deliver=False)
    service = live(fake, make_settings(tmp_path, ["@Busy"], recheck_window=400))
    await service.open_store()
    await service.backfill(EPOCH)
    await service.close_store()
    fake.edit(busy, 5, "post 4, edited", deliver=False)
    fake.delete(busy, [399], deliver=False)
    before = fake.count(functions.channels.GetMessagesRequest)
    await service.start(wait=False)
    await wait_until(lambda: 10.0 in service.clock.sleeps)
    assert fake.count(functions.channels.GetMessagesRequest) - before == 3
    await service.clock.advance(10.0)
    await wait_until(lambda: service.source.passes >= 1)
    assert fake.count(functions.channels.GetMessagesRequest) - before == 4
    await service.settled()
    await assert_mirrors(_store(service), fake, busy)
    await service.stop()


async def test_flood_wait_while_resolving_pauses_that_channel_until_it_can_be_resolved(
    fake: FakeTelegram, tmp_path: Path, live: Callable[..., LiveService]
) -> None:
    """A long flood wait on username resolution delays only that channel; it is resolved afterwards."""
    later = fake.add_channel("LaterChannel")
    now = fake.add_channel("NowChannel")
    fake.post(later, "waited for", deliver=False)
    fake.post(now, "read at once", deliver=False)
    fake.fail(
        functions.contacts.ResolveUsernameRequest,
        "FLOOD_WAIT_900",
        when=lambda r: r.username == "LaterChannel",
    )
    service = live(fake, make_settings(tmp_path, ["@LaterChannel", "@NowChannel"]))
    await service.start()
    await service.settled()
    store = _store(service)
    await assert_mirrors(store, fake, now)
    row = await store.channels.get("laterchannel")
    assert row is not None and row.status == "paused" and row.peer_id is None
    await service.clock.advance(900)
    await service.passes()
    await assert_mirrors(store, fake, later)
    assert fake.count(functions.contacts.ResolveUsernameRequest) == 3
    await service.stop()


async def test_edit_and_delete_inside_a_gap_are_found_by_the_recheck(
    fake: FakeTelegram, news: FakeChannel, service: LiveService
) -> None:
    """Telethon's gap recovery drops an edit and a deletion from other_updates; the re-check finds both."""
    store = _store(service)
    fake.post(news, "first")
    fake.post(news, "second")
    await wait_until(lambda: _count_is(store, "convoynews", 2))
    fake.edit(news, 1, "first, corrected", deliver=False)
    fake.delete(news, [2], deliver=False)
    fake.post(news, "third reveals the gap")
    await wait_until(lambda: _count_is(store, "convoynews", 3))
    await service.settled()
    stale = await store.posts.get("convoynews", 1)
    assert stale is not None and stale.post.text == "first", "Telethon alone dropped the edit"
    await service.clock.advance(service.settings.recheck_interval_seconds)
    await wait_until(lambda: _text_is(store, "convoynews", 1, "first, corrected"))
    await wait_until(lambda: _deleted(store, "convoynews", 2))
    await service.settled()
    await assert_mirrors(store, fake, news)


class _BrokenSink:
    """A PostSink whose writes fail (a full disk, a bug): the source must not carry on silently."""

    async def put(self, post: Any) -> None:
        raise RuntimeError("disk full")

    async def delete(self, channel: str, message_ids: Any) -> None:
        raise RuntimeError("disk full")

    async def join(self) -> None:
        """Nothing is queued."""


async def test_a_failing_sink_stops_the_source_with_the_error(fake: FakeTelegram, tmp_path: Path) -> None:
    """When handing posts on fails, the live source fails fast with that error instead of idling."""
    news = fake.add_channel("ConvoyNews")
    fake.post(news, "cannot be stored", deliver=False)
    settings = make_settings(tmp_path, ["@ConvoyNews"])
    clock = FakeClock()
    async with await Store.open(settings.db) as store:
        running = asyncio.create_task(
            run_live(
                settings,
                store,
                _BrokenSink(),
                Metrics(),
                asyncio.Event(),
                factory=_factory(fake),
                sleep=clock.sleep,
                clock=clock,
                history_wait_time=0,
            )
        )
        with pytest.raises(RuntimeError, match="disk full"):
            await asyncio.wait_for(running, 10)


def _factory(fake: FakeTelegram) -> Any:
    def build(settings: Any, session: Any) -> Any:
        client = fake.install(make_client(settings, session))
        fake.authorize(client)
        return client

    return build
