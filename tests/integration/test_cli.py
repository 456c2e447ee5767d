"""The command line end to end: replay, stats, classify, bad input, the service and its inbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import STATS_KEYS, build_parser, main
from tests.conftest import CONFIG, ROOT, SHARED

SAMPLE = CONFIG / "sample" / "result.json"


def _stats(db: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    capsys.readouterr()
    assert main(["stats", "--json", "--db", str(db)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    return dict(json.loads(out[0]))


def test_replay_twice_leaves_stats_unchanged(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Replaying the same export twice changes nothing the second time."""
    assert main(["replay", str(SAMPLE), "--db", str(db_path)]) == 0
    summary = capsys.readouterr().out
    assert "replayed 1 file(s)" in summary
    first = _stats(db_path, capsys)
    assert list(first) == list(STATS_KEYS)
    assert first["posts"] >= 24 and first["relevant_posts"] > 0 and first["incidents"] > 0
    assert main(["--db", str(db_path), "replay", str(SAMPLE)]) == 0
    assert "0 new, 0 edited" in capsys.readouterr().out
    assert _stats(db_path, capsys) == first


def test_classify_output_is_accepted_by_the_scorer(tmp_path: Path) -> None:
    """`classify` writes one prediction per record that score.py scores."""
    gold = SHARED / "eval" / "dev.jsonl"
    pred = tmp_path / "pred.jsonl"
    with pred.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "classify", str(gold)],
            stdout=out,
            cwd=ROOT,
            check=False,
            timeout=120,
        )
    assert done.returncode == 0
    lines = [json.loads(line) for line in pred.read_text().splitlines()]
    assert len(lines) == 160
    assert {"id", "relevant", "events", "rules"} <= set(lines[0])
    scored = subprocess.run(
        [sys.executable, str(SHARED / "eval" / "score.py"), str(gold), str(pred), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    figures = json.loads(scored.stdout.strip().splitlines()[-1])
    assert figures["posts"] == 160


def test_missing_file_is_one_line_and_nonzero(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing replay file is one clear line and exit code 1."""
    assert main(["replay", "/nonexistent/result.json", "--db", str(db_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["convoywatch: /nonexistent/result.json: no such file"]


def test_json_that_is_not_an_export_writes_nothing(
    tmp_path: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A JSON file that is not an export fails with one line and stores nothing."""
    bogus = tmp_path / "config.json"
    bogus.write_text('{"settings": {"a": 1}}')
    assert main(["replay", str(bogus), "--db", str(db_path)]) == 1
    assert "not a Telegram Desktop export" in capsys.readouterr().err
    assert _stats(db_path, capsys)["posts"] == 0


def test_malformed_jsonl_line_is_reported_and_the_rest_ingested(
    tmp_path: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed JSONL line is reported with its number; the other lines are stored; exit 1."""
    good = {"channel": "chan", "message_id": 1, "date": "2024-02-03T05:00:00+00:00", "text": "hello"}
    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps(good) + "\n{broken\n" + json.dumps({**good, "message_id": 2}) + "\n")
    assert main(["replay", str(path), "--db", str(db_path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2: not JSON" in err
    assert _stats(db_path, capsys)["posts"] == 2


def test_unknown_setting_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`config check` on a file with an unknown key exits 2 naming the key."""
    config = tmp_path / "c.toml"
    config.write_text("databse = 'x.db'\n")
    assert main(["config", "check", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"convoywatch: setting 'databse': unknown setting (in {config})"]


def _service_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVOYWATCH_")}
    env.update(
        CONVOYWATCH_DB=str(tmp_path / "svc.db"),
        CONVOYWATCH_DATA_DIR=str(tmp_path / "data"),
        CONVOYWATCH_INBOX=str(tmp_path / "inbox"),
        CONVOYWATCH_INBOX_POLL_SECONDS="0.2",
        CONVOYWATCH_LOG_FORMAT="json",
    )
    return env


def test_run_once_replays_the_sample_and_exits_0(tmp_path: Path) -> None:
    """`run --once` on the embedded default stores the sample and exits 0."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--once"],
        cwd=ROOT,
        env=_service_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "svc.db").exists()
    events = [json.loads(line)["event"] for line in done.stdout.splitlines() if line.startswith("{")]
    assert "replay.sample_done" in events


@pytest.mark.timeout(600)
def test_file_dropped_into_the_inbox_is_ingested(tmp_path: Path) -> None:
    """A JSONL file dropped into the inbox of a running service is ingested; SIGTERM exits 0."""
    env = _service_env(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        inbox = tmp_path / "inbox"
        deadline = time.monotonic() + 300  # generous: CI machines may be loaded
        while not inbox.is_dir() and time.monotonic() < deadline:
            time.sleep(0.1)
        record = {
            "channel": "dropped",
            "message_id": 7,
            "date": "2024-02-03T05:00:00+00:00",
            "text": "IED hit a US supply convoy near Diwaniyah today",
        }
        tmp = inbox / ".incoming.tmp"
        tmp.write_text(json.dumps(record) + "\n")
        tmp.rename(inbox / "drop.jsonl")
        while not any((inbox / "processed").glob("*drop.jsonl")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any((inbox / "processed").glob("*drop.jsonl")), "inbox file was not processed"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert '"inbox.file_done"' in out
    done = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--json", "--db", env["CONVOYWATCH_DB"]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    sample_posts = sum(1 for line in SAMPLE.read_text().split('"type": "message"')) - 1
    assert json.loads(done.stdout)["posts"] == sample_posts + 1


@pytest.mark.parametrize(
    "argv",
    [["--config", "c.toml", "--db", "d.db", "stats"], ["stats", "--config", "c.toml", "--db", "d.db"]],
)
def test_config_and_db_work_before_or_after_the_command(argv: list[str]) -> None:
    """--config and --db are honoured on either side of the command name."""
    args = build_parser().parse_args(argv)
    assert args.config == Path("c.toml")
    assert args.db == Path("d.db")


def test_incidents_export_as_csv_and_geojson(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`incidents` exports the replayed incidents as CSV rows and as a GeoJSON FeatureCollection."""
    assert main(["replay", str(SAMPLE), "--db", str(db_path)]) == 0
    incidents = _stats(db_path, capsys)["incidents"]
    assert main(["incidents", "--format", "csv", "--db", str(db_path)]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    header = rows[0].lstrip("\ufeff").split(",")  # a BOM so spreadsheets read UTF-8
    assert {"date", "country", "admin1", "place", "lat", "lon", "sources", "corroboration"} <= set(header)
    assert len(rows) == incidents + 1
    assert main(["incidents", "--format", "geojson", "--db", str(db_path)]) == 0
    collection = json.loads(capsys.readouterr().out)
    assert collection["type"] == "FeatureCollection"
    assert 0 < len(collection["features"]) <= incidents
    assert all(f["geometry"]["type"] == "Point" for f in collection["features"])
    assert main(["incidents", "--since", "soon", "--db", str(db_path)]) == 1
