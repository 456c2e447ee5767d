"""Health verdicts, the store check, the heartbeat and the /healthz + /metrics HTTP server."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.health import (
    HealthServer,
    HealthSnapshot,
    HealthState,
    SourceState,
    check_store,
    client_host,
    evaluate,
    heartbeat,
    probe,
    run_heartbeat,
)
from bot.metrics import Metrics


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def snapshot(
    source: SourceState = SourceState.REPLAYING,
    store_problem: str | None = None,
    store_checked: bool = True,
    last_heartbeat: float | None = 100.0,
) -> HealthSnapshot:
    return HealthSnapshot(
        source=source,
        store_problem=store_problem,
        store_checked=store_checked,
        last_heartbeat=last_heartbeat,
        heartbeat_seconds=15.0,
        started=0.0,
    )


@pytest.mark.parametrize(
    ("snap", "now", "healthy", "reason"),
    [
        (snapshot(), 110.0, True, None),
        (snapshot(source=SourceState.CONNECTED), 110.0, True, None),
        (snapshot(), 160.0, True, None),
        (snapshot(), 160.5, False, "last heartbeat 60s ago (limit 60s)"),
        (snapshot(source=SourceState.DISCONNECTED), 110.0, False, "source disconnected"),
        (snapshot(source=SourceState.STARTING), 110.0, False, "source starting"),
        (snapshot(source=SourceState.STOPPING), 110.0, False, "source stopping"),
        (snapshot(store_problem="disk is full"), 110.0, False, "store not writable: disk is full"),
        (snapshot(store_checked=False), 110.0, False, "store not checked yet"),
        (snapshot(last_heartbeat=None), 110.0, False, "no heartbeat yet"),
    ],
)
def test_evaluate(snap: HealthSnapshot, now: float, healthy: bool, reason: str | None) -> None:
    """Healthy only when the source is connected/replaying, the store writable and the beat recent."""
    report = evaluate(snap, now)
    assert report.healthy is healthy
    assert report.reasons == (() if reason is None else (reason,))


def test_evaluate_lists_every_reason() -> None:
    """An unhealthy verdict names every problem, not just the first."""
    report = evaluate(snapshot(source=SourceState.DISCONNECTED, store_problem="x", last_heartbeat=None), 5.0)
    assert report.reasons == ("source disconnected", "store not writable: x", "no heartbeat yet")
    body = json.loads(report.as_json())
    assert body == {
        "status": "unhealthy",
        "source": "disconnected",
        "heartbeat_age_seconds": None,
        "reasons": ["source disconnected", "store not writable: x", "no heartbeat yet"],
    }


def test_state_goes_stale_without_beats() -> None:
    """A state that was healthy turns unhealthy once four heartbeats are missed."""
    clock = FakeClock()
    state = HealthState(heartbeat_seconds=10.0, clock=clock)
    assert state.report().reasons == ("source starting", "store not checked yet", "no heartbeat yet")
    state.set_source(SourceState.REPLAYING)
    state.beat(None)
    assert state.report().healthy
    clock.now += 40.0
    assert state.report().healthy
    clock.now += 1.0
    assert state.report().reasons == ("last heartbeat 41s ago (limit 40s)",)
    state.beat("folder data is read-only for this user")
    assert state.report().reasons == ("store not writable: folder data is read-only for this user",)


def test_state_exports_metrics() -> None:
    """Source state, store writability and heartbeats appear on /metrics."""
    metrics = Metrics()
    state = HealthState(heartbeat_seconds=10.0, metrics=metrics, clock=FakeClock())
    state.set_source(SourceState.CONNECTED)
    state.beat(None)
    state.beat("disk is full")
    text = metrics.exposition().decode()
    assert 'convoywatch_source_state{state="connected"} 1.0' in text
    assert 'convoywatch_source_state{state="starting"} 0.0' in text
    assert "convoywatch_store_writable 0.0" in text
    assert "convoywatch_heartbeats_total 2.0" in text


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    conn.close()
    return path


def test_check_store_ok(db: Path) -> None:
    """A writable database with room and a free write lock passes, and nothing is written."""
    assert check_store(db) is None
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def test_check_store_missing(tmp_path: Path) -> None:
    """A missing database is a problem and the check does not create it."""
    path = tmp_path / "nope.db"
    assert check_store(path) == f"database {path} does not exist"
    assert not path.exists()


def test_check_store_full_disk(db: Path) -> None:
    """Too little free space on the database's disk is reported."""
    problem = check_store(db, min_free=1 << 62)
    assert problem is not None
    assert problem.startswith("only ")
    assert problem.endswith("KiB free on the database's disk")


def test_check_store_locked(db: Path) -> None:
    """A write lock held elsewhere longer than the timeout is reported."""
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        problem = check_store(db, lock_timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert problem == "cannot take the write lock: database is locked"


async def test_heartbeat_beats_until_stopped(tmp_path: Path) -> None:
    """The heartbeat checks the store on every beat and returns once stop is set."""
    clock = FakeClock()
    state = HealthState(heartbeat_seconds=0.01, clock=clock)
    stop = asyncio.Event()
    seen: list[Path] = []

    def check(path: Path) -> str | None:
        seen.append(path)
        clock.now += 1.0
        if len(seen) == 3:
            stop.set()
        return "broken" if len(seen) == 2 else None

    await asyncio.wait_for(run_heartbeat(state, tmp_path / "x.db", stop, check=check), timeout=10)
    assert seen == [tmp_path / "x.db"] * 3
    assert state.store_problem is None
    assert state.last_heartbeat == clock.now


@pytest.fixture
async def server() -> AsyncIterator[HealthServer]:
    clock = FakeClock()
    metrics = Metrics()
    state = HealthState(heartbeat_seconds=15.0, metrics=metrics, clock=clock)
    async with HealthServer(state, metrics, "127.0.0.1", 0) as running:
        yield running


async def fetch(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


async def test_healthz_503_then_200(server: HealthServer) -> None:
    """/healthz answers 503 with the reasons while starting, 200 once replaying and beating."""
    assert server.bound_port is not None
    status, headers, body = await fetch(server.bound_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 503
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["reasons"] == ["source starting", "store not checked yet", "no heartbeat yet"]
    server.state.set_source(SourceState.REPLAYING)
    server.state.beat(None)
    status, _, body = await fetch(server.bound_port, b"GET /healthz?verbose=1 HTTP/1.0\r\n\r\n")
    assert status == 200
    assert json.loads(body) == {
        "status": "ok",
        "source": "replaying",
        "heartbeat_age_seconds": 0.0,
        "reasons": [],
    }


async def test_metrics_endpoint(server: HealthServer) -> None:
    """/metrics serves the Prometheus text format of the instance's registry."""
    assert server.bound_port is not None
    server.metrics.posts_ingested.labels(channel="sample").inc(3)
    status, headers, body = await fetch(server.bound_port, b"GET /metrics HTTP/1.1\r\n\r\n")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert 'convoywatch_posts_ingested_total{channel="sample"} 3.0' in body.decode()
    assert int(headers["Content-Length"]) == len(body)


@pytest.mark.parametrize(
    ("request_bytes", "status", "has_body"),
    [
        (b"GET /nope HTTP/1.1\r\n\r\n", 404, True),
        (b"POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, True),
        (b"HEAD /metrics HTTP/1.1\r\n\r\n", 200, False),
        (b"hello\r\n\r\n", 400, True),
        (b"GET /healthz HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 9000 + b"\r\n\r\n", 400, True),
    ],
)
async def test_other_requests(
    server: HealthServer, request_bytes: bytes, status: int, has_body: bool
) -> None:
    """Unknown paths, other methods, HEAD and garbage get the right status and no crash."""
    assert server.bound_port is not None
    got, headers, body = await fetch(server.bound_port, request_bytes)
    assert got == status
    assert bool(body) is has_body
    assert int(headers["Content-Length"]) > 0


async def test_probe_follows_healthz(server: HealthServer) -> None:
    """The healthcheck client is healthy exactly when /healthz answers 200, and says why not."""
    assert server.bound_port is not None
    result = await asyncio.to_thread(probe, "0.0.0.0", server.bound_port)
    assert not result.healthy
    assert (
        result.detail
        == "503 unhealthy (source starting): source starting; store not checked yet; no heartbeat yet"
    )
    server.state.set_source(SourceState.CONNECTED)
    server.state.beat(None)
    result = await asyncio.to_thread(probe, "127.0.0.1", server.bound_port)
    assert result.healthy
    assert result.detail == "200 ok (source connected)"


async def test_probe_without_server() -> None:
    """No server listening is unhealthy with a message naming the address."""
    probe_server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe_server.sockets[0].getsockname()[1]
    probe_server.close()
    await probe_server.wait_closed()
    result = await asyncio.to_thread(probe, "127.0.0.1", port, timeout=2.0)
    assert not result.healthy
    assert result.detail.startswith(f"no answer from 127.0.0.1:{port}: ")


@pytest.mark.parametrize(
    ("bind", "target"),
    [("0.0.0.0", "127.0.0.1"), ("", "127.0.0.1"), ("::", "::1"), ("10.1.2.3", "10.1.2.3")],
)
def test_client_host(bind: str, target: str) -> None:
    """A bind-all address is reached through loopback; a specific address as is."""
    assert client_host(bind) == target


class BrokenMetrics(Metrics):
    """Metrics whose exposition fails, as a bug would."""

    def exposition(self) -> bytes:
        raise RuntimeError("boom")


async def test_internal_error_is_500_and_server_survives() -> None:
    """A failure while answering is a 500, logged, and the next request is still served."""
    metrics = BrokenMetrics()
    state = HealthState(heartbeat_seconds=15.0, metrics=metrics, clock=FakeClock())
    async with HealthServer(state, metrics, "127.0.0.1", 0) as running:
        assert running.bound_port is not None
        status, _, body = await fetch(running.bound_port, b"GET /metrics HTTP/1.1\r\n\r\n")
        assert (status, body) == (500, b"internal error\n")
        status, _, _ = await fetch(running.bound_port, b"GET /healthz HTTP/1.1\r\n\r\n")
        assert status == 503


def test_state_follows_a_source_probe() -> None:
    """A followed source is asked on every check, and stopping wins over what it says."""
    connected = [True]
    state = HealthState(heartbeat_seconds=10.0, clock=FakeClock())
    state.follow_source(lambda: SourceState.CONNECTED if connected[0] else SourceState.DISCONNECTED)
    state.beat(None)
    assert state.report().healthy
    connected[0] = False
    assert state.report().reasons == ("source disconnected",)
    connected[0] = True
    assert state.report().healthy
    state.set_source(SourceState.STOPPING)
    assert state.report().reasons == ("source stopping",)


async def test_heartbeat_context_survives_a_failing_check(tmp_path: Path) -> None:
    """A check that raises makes the store unhealthy with the error; the context stops the beat."""
    clock = FakeClock()
    state = HealthState(heartbeat_seconds=0.01, clock=clock)
    calls: list[int] = []
    beaten = asyncio.Event()

    def check(path: Path) -> str | None:
        calls.append(1)
        if len(calls) >= 2:
            beaten.set()
        raise OSError("folder vanished")

    async with heartbeat(state, tmp_path / "x.db", check=check):
        await asyncio.wait_for(beaten.wait(), timeout=10)
    count = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == count
    assert state.store_problem == "store check failed: OSError('folder vanished')"
