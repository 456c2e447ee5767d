"""SIGKILL the real ``convoywatch replay`` at random points, restart, and compare with a clean run.

CI-sized: a small generated export and three kills. ``make soak`` runs the long version
(bench/crash_soak.py: 50 kills during replay and 50 during digest delivery). The digest
test SIGKILLs the real ``convoywatch digest --send`` (file sink) right after a message
reached the sink, until a restarted run had to resend a part, and checks every part is in
the sink exactly once.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.crash_soak import (
    ROOT,
    check_sink,
    compare,
    digest_command,
    digest_env,
    digest_kill_loop,
    empty_incidents,
    integrity,
    kill_loop,
    replay_command,
    run_to_end,
    snapshot,
    stored_posts,
)
from bench.generate import Spec, write_export, write_jsonl

pytestmark = pytest.mark.timeout(300)


def _replay(source: Path, db: Path) -> None:
    done = run_to_end(replay_command([source], db), timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated Desktop export: 2,400 posts in 6 channels over about 8 days, 6% reports."""
    path = tmp_path_factory.mktemp("soak") / "result.json"
    with path.open("w", encoding="utf-8") as out:
        write_export(Spec(2400, 6, seed=11, posts_per_day=300, relevant_share=0.06), out)
    return path


@pytest.fixture(scope="module")
def clean(export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export replayed once, undisturbed."""
    db = tmp_path_factory.mktemp("clean") / "clean.db"
    _replay(export, db)
    return db


def test_killed_replays_store_everything_exactly_once(export: Path, clean: Path, tmp_path: Path) -> None:
    """After SIGKILLs mid-replay and a restart, posts, events and incidents equal a clean run's."""
    crashed = tmp_path / "crash.db"
    total = stored_posts(clean)
    log = kill_loop(
        replay_command([export], crashed),
        crashed,
        kills=3,
        rng=random.Random(3),
        total_posts=total,
        from_start_share=0.0,
        settle=0.0,
    )
    assert log.kills == 3 and not log.failed_runs and not log.integrity_failures
    assert any(0 < stored < total for stored in log.stored_at_kill)  # kills hit a half-done replay
    _replay(export, crashed)
    want = snapshot(clean)
    assert sum(want["events"].values()) > 0 and sum(want["incidents"].values()) > 0
    assert compare(want, snapshot(crashed)) == []
    assert integrity(crashed) == "ok"
    assert empty_incidents(crashed) == 0


def test_replaying_twice_changes_nothing(export: Path, clean: Path, tmp_path: Path) -> None:
    """A second replay of the same export leaves every table exactly as the first left it."""
    db = tmp_path / "twice.db"
    shutil.copy(clean, db)
    _replay(export, db)
    assert compare(snapshot(clean), snapshot(db)) == []


def test_replaying_jsonl_with_edits_twice_changes_nothing(tmp_path: Path) -> None:
    """A second replay of a JSONL holding edited posts leaves the edit history as it was."""
    source = tmp_path / "posts.jsonl"
    with source.open("w", encoding="utf-8") as out:
        write_jsonl(Spec(800, 4, seed=5, posts_per_day=300, relevant_share=0.06, edit_share=0.05), out)
    db = tmp_path / "edits.db"
    _replay(source, db)
    first = snapshot(db)
    assert sum(first["post_edits"].values()) > 0
    _replay(source, db)
    assert compare(first, snapshot(db)) == []


def test_killed_digest_delivery_leaves_every_part_in_the_sink_once(clean: Path, tmp_path: Path) -> None:
    """SIGKILL `digest --send` right after a part reached the sink: after restarts, each part once."""
    db = tmp_path / "digest.db"
    shutil.copy(clean, db)
    data = tmp_path / "data"
    rng = random.Random(5)
    kills = 0
    while kills < 6:  # until a restart had to resend a part already in the sink (usually the first)
        log = digest_kill_loop(
            db,
            data,
            kills=1,
            rng=rng,
            verbose=False,
            from_start_share=0.0,
            on_message_share=1.0,
            settle=0.0,
            deepest=3,
        )
        assert not log.failed_runs
        kills += log.kills
        if check_sink(db, data / "sent").rewrites:
            break
    last = subprocess.run(
        digest_command(db),
        cwd=ROOT,
        env=digest_env(data),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert last.returncode == 0, last.stderr[-2000:]
    check = check_sink(db, data / "sent")
    assert check.rewrites >= 1  # a resend happened and the message key absorbed it
    assert check.parts > kills and check.sent == check.parts
    assert check.problems == []
    assert (check.delivered_once, check.messages) == (check.parts, check.parts)
    assert (check.duplicated, check.lost, check.wrong) == (0, 0, 0)
    assert integrity(db) == "ok"
