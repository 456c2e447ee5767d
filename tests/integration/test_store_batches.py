"""Batched saving (the bulk path of ``PostRepo.save_many``) stores exactly what saving one by one does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bench.crash_soak import compare, snapshot
from bench.generate import Spec, jsonl_records
from bot.analysis import Analyser
from bot.extract.events import load_extractor
from bot.model import Analysis, Classification, Post
from bot.pipeline import Pipeline
from bot.rules.engine import load_ruleset
from bot.sources.replay import jsonl_post
from bot.store import SaveResult, Store
from tests.conftest import CONFIG


@pytest.fixture(scope="module")
def analyser() -> Analyser:
    """The real rules, gazetteer and groups from config/."""
    return Analyser.build(
        load_ruleset(CONFIG / "rules"), load_extractor(CONFIG / "gazetteer", CONFIG / "groups.yaml")
    )


def _posts() -> list[Post]:
    """2,000 generated posts with reports, forwards and edits (an edit may share a batch with its post)."""
    spec = Spec(2000, 6, seed=21, posts_per_day=400, relevant_share=0.08, edit_share=0.05)
    posts = [jsonl_post(record) for record in jsonl_records(spec)]
    return [post for post in posts if isinstance(post, Post)]


async def test_batches_store_what_single_saves_store(analyser: Analyser, tmp_path: Path) -> None:
    """Posts, edits, classifications, events and incidents are the same batched or one by one."""
    posts = _posts()
    batched, single = tmp_path / "batched.db", tmp_path / "single.db"
    async with await Store.open(batched) as store:
        pipeline = Pipeline(store, analyser)
        for start in range(0, len(posts), 500):
            await pipeline.ingest(posts[start : start + 500])
    async with await Store.open(single) as store:
        for post in posts:
            await store.posts.save(post, analyser.analyse(post))
    want = snapshot(single)
    assert sum(want["events"].values()) > 20 and sum(want["post_edits"].values()) > 0
    assert compare(want, snapshot(batched)) == []
    # Stored posts sent again in a batch are answered from the bulk lookup: unchanged.
    edited = {(p.channel, p.message_id) for p in posts if p.edit_date is not None}
    unedited = [p for p in posts[:600] if (p.channel, p.message_id) not in edited]
    async with await Store.open(batched) as store:
        again = await Pipeline(store, analyser).ingest(unedited)
    assert again and all(outcome.result is SaveResult.UNCHANGED for outcome in again)
    assert compare(want, snapshot(batched)) == []


async def test_batch_outcomes_match_single_outcomes(tmp_path: Path) -> None:
    """Each post's outcome in a batch (new, unchanged, edited, relevance) is what a single save reports."""
    when = dt.datetime(2024, 2, 3, tzinfo=dt.UTC)
    relevant = Analysis(Classification(True, 1.0))
    quiet = Analysis(Classification(False, 0.0))
    async with await Store.open(tmp_path / "outcomes.db") as store:
        await store.posts.save(Post("c", 1, when, "stored"), quiet)
        outcomes = await store.posts.save_many(
            [
                (Post("c", 1, when, "stored"), quiet, None),  # unchanged
                (Post("c", 2, when, "new relevant"), relevant, None),
                (Post("c", 3, when, "new failed"), None, "ValueError: bad"),
                (Post("c", 4, when, "twice"), quiet, None),
                (Post("c", 4, when, "twice, edited"), quiet, None),
                (Post("d", 1, when, "other channel", channel_title="D"), quiet, None),
            ]
        )
        failed = await store.posts.get("c", 3)
        edited = await store.posts.get("c", 4)
        stats = await store.posts.stats()
    assert [o.result for o in outcomes] == [
        SaveResult.UNCHANGED,
        SaveResult.NEW,
        SaveResult.NEW,
        SaveResult.NEW,
        SaveResult.EDITED,
        SaveResult.NEW,
    ]
    assert [o.relevant for o in outcomes] == [False, True, False, False, False, False]
    assert failed is not None and failed.error == "ValueError: bad" and failed.relevant is None
    assert edited is not None and edited.post.text == "twice, edited" and edited.history == ("twice",)
    assert stats["posts"] == 5 and stats["relevant_posts"] == 1 and stats["channels"] == 2
