"""Hostile posts through the real analyser and the pipeline into a real SQLite file.

Nothing raises out of the pipeline: a post that cannot be processed is stored with its
error, counted, and the posts after it are processed as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.analysis import Analyser
from bot.extract.events import load_extractor
from bot.model import Analysis, ForwardOrigin, Post
from bot.pipeline import MAX_ANALYSED_CHARS, Pipeline
from bot.rules.engine import load_ruleset
from bot.sources.replay import clean_text
from bot.store import Store
from tests.conftest import CONFIG

WHEN = dt.datetime(2024, 2, 3, 5, 0, tzinfo=dt.UTC)
REPORT_EN = "An IED struck a US-led coalition supply convoy near Diwaniyah this morning."
REPORT_AR = "استهداف رتل دعم لوجستي تابع للتحالف الدولي بعبوة ناسفة قرب الديوانية صباح اليوم"

HOSTILE: dict[str, str] = {
    "empty": "",
    "spaces": "   \n\t  ",
    "emoji-only": "🔥💥🚨" * 200,
    "rtl-marks-only": "\u200f\u200e\u202b\u202c" * 300,
    "bidi-override": f"\u202e{REPORT_EN}\u202c",
    "nul-bytes": "IED\x00 struck a convoy\x00 near Diwaniyah",
    "huge-killed": f"{REPORT_EN} 999999999999 killed and 99999999999999999999999999 injured.",
    "huge-killed-ar": f"{REPORT_AR} وأسفر عن مقتل ٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩ شخص",
    "negative-killed": f"{REPORT_EN} -5 killed.",
    "31-february": "An IED struck a US convoy near Diwaniyah on 31 February 2024.",
    "30-february-ar": "استهداف رتل للتحالف بعبوة ناسفة قرب الديوانية يوم 30 شباط 2024",
    "year-0": "An IED struck a US convoy near Diwaniyah on 1 January 0000.",
    "year-99999": "An IED struck a US convoy near Diwaniyah on 1/1/99999.",
    "html-injection": f"<b>{REPORT_EN}</b><script>alert(1)</script><a href='javascript:x'>y</a>",
    "markdown-injection": f"**{REPORT_EN}** [click](https://evil.example) `code` __x__",
    "1mb-report": (REPORT_EN + " ") * (1_000_000 // (len(REPORT_EN) + 1)),
    "1mb-arabic": (REPORT_AR + " ") * (1_000_000 // (len(REPORT_AR) + 1)),
    "1mb-one-word": "ا" * 1_000_000,
    "many-places": " ".join(
        f"An IED struck a US convoy near {p}." for p in ["Diwaniyah", "Samawah", "Basra"] * 300
    ),
    "replacement-chars": "\ufffd" * 5000,
    "combining-flood": "a" + "\u0301" * 20_000,
    "numbers-only": " ".join(str(n) for n in range(20_000)),
}


@pytest.fixture(scope="module")
def analyser() -> Analyser:
    """The real rules, gazetteer and groups from config/."""
    return Analyser.build(
        load_ruleset(CONFIG / "rules"), load_extractor(CONFIG / "gazetteer", CONFIG / "groups.yaml")
    )


#: Whole-megabyte reports: the pipeline analyses the first ``MAX_ANALYSED_CHARS`` of a post; the
#: analyser takes them whole too (seconds: extraction is linear in the text), checked below.
PIPELINE_ONLY = {"1mb-report", "1mb-arabic"}


@pytest.mark.parametrize("name", [name for name in HOSTILE if name not in PIPELINE_ONLY])
def test_analyser_takes_hostile_text(analyser: Analyser, name: str) -> None:
    """The analyser returns an Analysis for every hostile post; its events hold sane values."""
    analysis = analyser.analyse(Post("chan", 1, WHEN, HOSTILE[name]))
    for event in analysis.events:
        for count in (event.killed, event.injured):
            assert count is None or 0 <= count < 2**63  # what SQLite can store
        assert 1900 < event.date.year < 2200
    if not any(ch.isalpha() for ch in HOSTILE[name]):
        assert not analysis.relevant


@pytest.mark.slow
@pytest.mark.parametrize(("name", "report"), [("1mb-report", REPORT_EN), ("1mb-arabic", REPORT_AR)])
def test_a_megabyte_of_one_report_is_that_report(analyser: Analyser, name: str, report: str) -> None:
    """A report repeated to 1 MB, analysed whole (no cap), gives the event of one copy."""
    text = HOSTILE[name]
    one = analyser.analyse(Post("chan", 1, WHEN, report))
    whole = analyser.analyse(Post("chan", 1, WHEN, text))
    assert text.startswith(report) and len(text) > 60 * MAX_ANALYSED_CHARS
    assert one.relevant and whole.relevant
    assert whole.events == one.events and len(one.events) == 1


async def test_pipeline_stores_every_hostile_post(analyser: Analyser, db_path: Path) -> None:
    """Every hostile post is stored once, in one batch, and a replay of the batch changes nothing."""
    posts = [Post("hostile", n, WHEN, text) for n, text in enumerate(HOSTILE.values(), 1)]
    async with await Store.open(db_path) as store:
        pipeline = Pipeline(store, analyser)
        await pipeline.ingest(posts)
        before = await store.posts.stats()
        await pipeline.ingest(posts)
        after = await store.posts.stats()
        stored = [await store.posts.get("hostile", post.message_id) for post in posts]
    assert before == after
    assert before["posts"] == len(posts) and before["posts_failed"] == 0
    assert pipeline.totals.new == len(posts) and pipeline.totals.unchanged == len(posts)
    assert all(s is not None for s in stored)
    assert {s.post.text for s in stored if s is not None} == {clean_text(p.text) for p in posts}


@dataclass(frozen=True)
class ExplodingAnalyser(Analyser):
    """The real analyser, except that it raises on posts containing ``BOOM``."""

    def analyse(self, post: Post) -> Analysis:
        if "BOOM" in post.text:
            raise RecursionError("maximum recursion depth exceeded while analysing")
        return super().analyse(post)


async def test_megabyte_posts_are_stored_whole_and_analysed_in_part(
    analyser: Analyser, db_path: Path
) -> None:
    """A 1 MB report is stored whole; its first part is analysed, so it is still found relevant."""
    posts = [Post("big", n, WHEN, HOSTILE[name]) for n, name in enumerate(sorted(PIPELINE_ONLY), 1)]
    async with await Store.open(db_path) as store:
        pipeline = Pipeline(store, analyser)
        outcomes = await pipeline.ingest(posts)
        stored = [await store.posts.get("big", post.message_id) for post in posts]
    assert all(len(post.text) > 60 * MAX_ANALYSED_CHARS for post in posts)
    assert all(outcome.relevant for outcome in outcomes)
    assert [len(s.post.text) if s else 0 for s in stored] == [len(post.text) for post in posts]


async def test_lone_surrogates_from_a_live_source_do_not_fail_the_batch(
    analyser: Analyser, db_path: Path
) -> None:
    """Lone surrogates in a post's text are replaced; the post and the rest of its batch are stored."""
    posts = [
        Post("live", 1, WHEN, REPORT_EN),
        Post("live", 2, WHEN, f"{REPORT_AR} \ud800 \udfff\ud83d"),
        Post("live", 3, WHEN, "\x00\ud83d\ude00"),
    ]
    async with await Store.open(db_path) as store:
        outcomes = await Pipeline(store, analyser).ingest(posts)
        stored = [await store.posts.get("live", n) for n in (1, 2, 3)]
    assert [o.relevant for o in outcomes] == [True, True, False]
    texts = [s.post.text if s else None for s in stored]
    assert texts[1] is not None and texts[1].startswith(REPORT_AR) and "\ud800" not in texts[1]
    assert texts[2] == "😀"


async def test_a_post_that_cannot_be_analysed_is_stored_with_its_error(
    analyser: Analyser, db_path: Path
) -> None:
    """A post whose analysis raises is stored with the error and counted; the others are analysed."""
    broken = ExplodingAnalyser(analyser.ruleset, analyser.extractor, analyser.matcher)
    posts = [
        Post("chan", 1, WHEN, REPORT_EN),
        Post("chan", 2, WHEN, f"BOOM {REPORT_EN}"),
        Post("chan", 3, WHEN, REPORT_AR),
    ]
    async with await Store.open(db_path) as store:
        pipeline = Pipeline(store, broken)
        await pipeline.ingest(posts)
        stats = await store.posts.stats()
        failed = await store.posts.get("chan", 2)
        fine = await store.posts.get("chan", 3)
    assert stats["posts"] == 3 and stats["posts_failed"] == 1 and pipeline.totals.failed == 1
    assert failed is not None and failed.error is not None and "RecursionError" in failed.error
    assert failed.relevant is None
    assert fine is not None and fine.error is None and fine.relevant is True


async def test_live_worker_survives_hostile_posts(analyser: Analyser, db_path: Path) -> None:
    """Hostile posts put on the live queue are all stored and the worker keeps running."""
    posts = [Post("live", n, WHEN, text) for n, text in enumerate(HOSTILE.values(), 1)]
    posts.append(Post("live", 999, WHEN, REPORT_EN, forward=ForwardOrigin("origin", 2**62)))
    async with await Store.open(db_path) as store:
        pipeline = Pipeline(store, analyser)
        async with asyncio_worker(pipeline):
            for post in posts:
                await pipeline.put(post)
            await pipeline.join()
            after_hostile = await store.posts.count()
            await pipeline.put(Post("live", 1000, WHEN, REPORT_AR))
            await pipeline.join()
        assert after_hostile == len(posts)
        assert await store.posts.count() == len(posts) + 1


@contextlib.asynccontextmanager
async def asyncio_worker(pipeline: Pipeline) -> AsyncIterator[None]:
    """Runs ``pipeline.run()`` for the duration of the block, then drains and stops it."""
    task = asyncio.create_task(pipeline.run())
    try:
        yield
    finally:
        await pipeline.close()
        await task


texts = st.text(st.characters(codec="utf-8"), max_size=2000) | st.sampled_from(
    list(HOSTILE.values())[:12]
).flatmap(lambda base: st.text(max_size=200).map(lambda extra: base + extra))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts)
def test_analyser_never_raises_on_any_text(analyser: Analyser, text: str) -> None:
    """Any Unicode text, alone or appended to a real report, analyses without an exception."""
    analysis = analyser.analyse(Post("chan", 1, WHEN, text))
    assert analysis.relevant in (True, False)
    for event in analysis.events:
        assert event.killed is None or 0 <= event.killed < 2**63
        assert event.injured is None or 0 <= event.injured < 2**63
