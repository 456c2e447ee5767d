"""The service as operators run it: a subprocess with the health port on, scraped, stopped by SIGTERM.

Also the secrets test: every configured secret is absent from the output of full runs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.model import Post
from bot.sources.replay import read_posts
from tests.conftest import CONFIG, ROOT

pytestmark = pytest.mark.slow

#: Generous bounds for a loaded 2-core machine; they are limits, never asserted durations.
START_LIMIT = 90.0
STOP_LIMIT = 30.0

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

INBOX_POSTS = [
    {
        "id": "inbox-1",
        "channel": "inbox_test",
        "message_id": 1,
        "date": "2022-01-24T08:30:00+00:00",
        "lang": "en",
        "text": "An IED exploded targeting a US-led coalition logistics convoy near Nasiriyah on the "
        "highway this morning, security sources said.",
    },
    {
        "id": "inbox-2",
        "channel": "inbox_test",
        "message_id": 2,
        "date": "2022-01-24T09:00:00+00:00",
        "lang": "en",
        "text": "Weather in Baghdad today: sunny, 18 degrees.",
    },
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A running ``convoywatch run`` subprocess and where it keeps things."""

    process: subprocess.Popen[bytes]
    port: int
    data: Path
    stdout: Path
    stderr: Path
    env: dict[str, str]

    @property
    def db(self) -> Path:
        return self.data / "convoywatch.db"

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with _OPENER.open(f"http://127.0.0.1:{self.port}{path}", timeout=5) as answer:
                return int(answer.status), bytes(answer.read())
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read())

    def metrics(self) -> dict[str, float]:
        """Every sample of /metrics summed over its labels, and ``name[value]`` for one-label samples."""
        status, body = self.get("/metrics")
        assert status == 200
        totals: dict[str, float] = {}
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
                if len(sample.labels) == 1:
                    key = f"{sample.name}[{next(iter(sample.labels.values()))}]"
                    totals[key] = totals.get(key, 0.0) + sample.value
        return totals

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")


def service_env(data: Path, port: int, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CONVOYWATCH_")}
    env.update(
        CONVOYWATCH_DB=str(data / "convoywatch.db"),
        CONVOYWATCH_DATA_DIR=str(data),
        CONVOYWATCH_INBOX=str(data / "inbox"),
        CONVOYWATCH_INBOX_POLL_SECONDS="0.2",
        CONVOYWATCH_HEALTH_PORT=str(port),
        CONVOYWATCH_HEALTH_HOST="127.0.0.1",
        CONVOYWATCH_HEARTBEAT_SECONDS="1",
        CONVOYWATCH_LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start(tmp_path: Path, *args: str, **extra: str) -> Service:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    port = free_port()
    env = service_env(data, port, **extra)
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *args], cwd=ROOT, env=env, stdout=out, stderr=err
        )
    return Service(process, port, data, stdout, stderr, env)


def stop(service: Service) -> int:
    if service.process.poll() is None:
        service.process.send_signal(signal.SIGTERM)
    try:
        return service.process.wait(timeout=STOP_LIMIT)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait()
        raise


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    running = start(tmp_path)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def wait_until_healthy(service: Service) -> dict[str, object]:
    deadline = time.monotonic() + START_LIMIT
    last: object = None
    while time.monotonic() < deadline:
        code = service.process.poll()
        assert code is None, f"service exited with {code}:\n{service.output()[-3000:]}"
        try:
            status, body = service.get("/healthz")
        except OSError as error:
            last = error
        else:
            last = (status, body)
            if status == 200:
                answer: dict[str, object] = json.loads(body)
                return answer
        time.sleep(0.2)
    pytest.fail(f"/healthz never answered 200; last answer {last!r}\n{service.output()[-3000:]}")


def wait_for_metric(service: Service, name: str, at_least: float) -> dict[str, float]:
    deadline = time.monotonic() + START_LIMIT
    while time.monotonic() < deadline:
        metrics = service.metrics()
        if metrics.get(name, 0.0) >= at_least:
            return metrics
        assert service.process.poll() is None, service.output()[-3000:]
        time.sleep(0.2)
    pytest.fail(f"{name} never reached {at_least}: {service.metrics().get(name)}")


def sample_posts() -> list[Post]:
    posts = [item for item in read_posts(CONFIG / "sample" / "result.json") if isinstance(item, Post)]
    assert posts, "the sample export has posts"
    return posts


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "healthcheck"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def db_counts(db: Path) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--json", "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    counts: dict[str, int] = json.loads(out.stdout)
    return counts


@pytest.mark.timeout(240)
def test_service_health_metrics_and_clean_stop(service: Service, tmp_path: Path) -> None:
    """The service turns healthy, counts the sample and an inbox file, and stops cleanly on SIGTERM."""
    health = wait_until_healthy(service)
    assert health["status"] == "ok"
    assert health["source"] == "replaying"

    posts = sample_posts()
    distinct = {(post.channel, post.message_id) for post in posts}
    metrics = wait_for_metric(service, "convoywatch_posts_ingested_total", len(distinct))
    assert metrics["convoywatch_posts_ingested_total"] == len(distinct)
    for channel in {post.channel for post in posts}:
        expected = len({key for key in distinct if key[0] == channel})
        assert metrics[f"convoywatch_posts_ingested_total[{channel}]"] == expected
    assert metrics["convoywatch_relevant_posts_total"] > 0
    assert metrics["convoywatch_events_total"] > 0
    assert metrics["convoywatch_heartbeats_total"] >= 1
    assert metrics["convoywatch_store_writable"] == 1
    assert metrics["convoywatch_source_state[replaying]"] == 1
    assert metrics["convoywatch_source_state"] == 1

    # A file dropped into the inbox of the running service is ingested and counted.
    inbox = service.data / "inbox"
    staging = service.data / "staging.jsonl"
    staging.write_text("".join(json.dumps(post) + "\n" for post in INBOX_POSTS), encoding="utf-8")
    staging.replace(inbox / "drop.jsonl")
    metrics = wait_for_metric(service, "convoywatch_posts_ingested_total", len(distinct) + len(INBOX_POSTS))
    assert metrics["convoywatch_posts_ingested_total[inbox_test]"] == len(INBOX_POSTS)

    check = healthcheck(service.env)
    assert check.returncode == 0, check.stdout + check.stderr

    assert stop(service) == 0, service.output()[-3000:]
    out = service.stdout.read_text()
    events = [json.loads(line)["event"] for line in out.splitlines() if line.strip()]
    assert "service.stopping" in events
    assert events[-1] == "service.stopped"

    conn = sqlite3.connect(service.db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    counts = db_counts(service.db)
    assert counts["posts"] == metrics["convoywatch_posts_ingested_total"]
    assert counts["relevant_posts"] == metrics["convoywatch_relevant_posts_total"]
    assert counts["events"] == metrics["convoywatch_events_total"]
    assert counts["incidents"] == metrics["convoywatch_incidents_total"]

    after = healthcheck(service.env)
    assert after.returncode == 1
    assert "no answer from 127.0.0.1" in after.stdout + after.stderr


def test_healthcheck_without_port(tmp_path: Path) -> None:
    """`convoywatch healthcheck` fails with a clear line when no health port is configured."""
    env = service_env(tmp_path, 1)
    del env["CONVOYWATCH_HEALTH_PORT"]
    result = healthcheck(env)
    assert result.returncode == 1
    assert "CONVOYWATCH_HEALTH_PORT" in result.stderr


SECRETS = {
    "CONVOYWATCH_API_ID": "918273645",
    "CONVOYWATCH_API_HASH": "0f9e8d7c6b5a49382716a5b4c3d2e1f0",
    "CONVOYWATCH_SESSION": "1BVtsOKABu5HiddenSessionStringQx7Zp3LmNoPqRsTuVwXyZ0123456789abcdEF==",
    "CONVOYWATCH_BOT_TOKEN": "7712345678:AAH-fakeTokenForLogLeakTest_9876543210x",
}


def run_cli(tmp_path: Path, args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    env = service_env(data, free_port(), CONVOYWATCH_LOG_LEVEL="debug", **env_extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )


def assert_no_secret(output: str, secrets: dict[str, str]) -> None:
    for name, value in secrets.items():
        assert value not in output, f"{name} leaked"
        # Long secrets must not leak in part either (a prefix or suffix of a token).
        if len(value) >= 24:
            assert value[:16] not in output, f"start of {name} leaked"
            assert value[-16:] not in output, f"end of {name} leaked"


@pytest.mark.timeout(400)
def test_secrets_never_logged(tmp_path: Path) -> None:
    """No configured secret appears in the output of config check, a replay and a full service run."""
    outputs: list[str] = []

    check = run_cli(tmp_path, ["config", "check"], SECRETS)
    assert check.returncode == 0, check.stderr
    outputs.append(check.stdout + check.stderr)

    replay = run_cli(tmp_path, ["replay", str(CONFIG / "sample" / "result.json")], SECRETS)
    assert replay.returncode == 0, replay.stderr
    outputs.append(replay.stdout + replay.stderr)

    # The service without api id/hash (they would start the live source) but with the bot
    # token and session configured and a console sender: the whole replay path, at debug level.
    offline = {
        key: value
        for key, value in SECRETS.items()
        if key not in {"CONVOYWATCH_API_ID", "CONVOYWATCH_API_HASH"}
    }
    once = run_cli(tmp_path, ["run", "--once"], {**offline, "CONVOYWATCH_SENDER": "console"})
    assert once.returncode == 0, once.stderr[-3000:]
    assert "service.stopped" in once.stdout
    outputs.append(once.stdout + once.stderr)

    bad = run_cli(
        tmp_path, ["config", "check"], {**SECRETS, "CONVOYWATCH_API_ID": SECRETS["CONVOYWATCH_API_HASH"]}
    )
    assert bad.returncode == 2
    assert "api_id" in bad.stderr
    outputs.append(bad.stdout + bad.stderr)

    for output in outputs:
        assert_no_secret(output, SECRETS)
