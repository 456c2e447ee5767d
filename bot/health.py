"""The operational surface: ``/healthz`` and ``/metrics`` over a tiny stdlib HTTP server.

``HealthState`` holds what the service knows about itself (source state, store check, last
heartbeat); ``evaluate`` turns a snapshot of it into a verdict (pure, the clock is passed
in). ``HealthServer`` answers HTTP on ``health_host:health_port`` with asyncio streams;
``probe`` is the client side that ``convoywatch healthcheck`` (the Docker HEALTHCHECK) uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import http.client
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import structlog

from bot.metrics import Metrics

log = structlog.get_logger("bot.health")

#: The heartbeat is stale after this many missed beats.
MISSED_BEATS: Final = 4
#: Below this much free space the store is reported as not writable.
MIN_FREE_BYTES: Final = 16 * 1024 * 1024
#: Longest wait for SQLite's write lock when probing the store.
STORE_LOCK_TIMEOUT: Final = 5.0
#: Limits on what a client may send: health checks are one short GET.
MAX_REQUEST_BYTES: Final = 8192
REQUEST_TIMEOUT: Final = 5.0
#: The classic text exposition format, which every Prometheus version scrapes (our metric
#: names are plain ASCII, so it is the same bytes as prometheus-client's newer 1.0.0 format).
PROMETHEUS_TEXT: Final = "text/plain; version=0.0.4; charset=utf-8"


class SourceState(enum.StrEnum):
    """Where the post source is. Only ``connected`` and ``replaying`` are healthy."""

    STARTING = "starting"
    CONNECTED = "connected"
    REPLAYING = "replaying"
    DISCONNECTED = "disconnected"
    STOPPING = "stopping"


HEALTHY_SOURCES: Final = frozenset({SourceState.CONNECTED, SourceState.REPLAYING})


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """What the service knows about itself at one moment (monotonic seconds)."""

    source: SourceState
    store_problem: str | None
    store_checked: bool
    last_heartbeat: float | None
    heartbeat_seconds: float
    started: float


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The verdict on a snapshot: healthy or not, and every reason why not."""

    healthy: bool
    reasons: tuple[str, ...]
    source: SourceState
    heartbeat_age: float | None

    def as_json(self) -> bytes:
        """The body of ``/healthz``."""
        body = {
            "status": "ok" if self.healthy else "unhealthy",
            "source": str(self.source),
            "heartbeat_age_seconds": None if self.heartbeat_age is None else round(self.heartbeat_age, 3),
            "reasons": list(self.reasons),
        }
        return json.dumps(body, ensure_ascii=False).encode()


def evaluate(snapshot: HealthSnapshot, now: float) -> HealthReport:
    """Healthy when the source is connected or replaying, the store writable, the heartbeat recent."""
    reasons: list[str] = []
    if snapshot.source not in HEALTHY_SOURCES:
        reasons.append(f"source {snapshot.source}")
    if snapshot.store_problem is not None:
        reasons.append(f"store not writable: {snapshot.store_problem}")
    elif not snapshot.store_checked:
        reasons.append("store not checked yet")
    limit = MISSED_BEATS * snapshot.heartbeat_seconds
    age = None if snapshot.last_heartbeat is None else max(0.0, now - snapshot.last_heartbeat)
    if age is None:
        reasons.append("no heartbeat yet")
    elif age > limit:
        reasons.append(f"last heartbeat {age:.0f}s ago (limit {limit:.0f}s)")
    return HealthReport(
        healthy=not reasons, reasons=tuple(reasons), source=snapshot.source, heartbeat_age=age
    )


@dataclass
class HealthState:
    """Mutable health of one service instance; components report into it, ``/healthz`` reads it."""

    heartbeat_seconds: float
    metrics: Metrics | None = None
    clock: Callable[[], float] = time.monotonic
    source: SourceState = SourceState.STARTING
    store_problem: str | None = None
    store_checked: bool = False
    last_heartbeat: float | None = None
    started: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started = self.clock()
        self._probe: Callable[[], SourceState] | None = None
        self._export_source()

    def follow_source(self, probe: Callable[[], SourceState]) -> None:
        """Ask ``probe`` for the source state on every check (e.g. the Telegram client's
        ``is_connected()``), until the service is stopping."""
        self._probe = probe

    def set_source(self, state: SourceState) -> None:
        """Record the source's state (a transition is logged once)."""
        if state is not self.source:
            log.info("health.source_changed", previous=str(self.source), state=str(state))
        self.source = state
        self._export_source()

    def beat(self, store_problem: str | None) -> None:
        """Record a heartbeat and the result of the store check that came with it."""
        if store_problem != self.store_problem:
            if store_problem is None:
                log.info("health.store_writable")
            else:
                log.warning("health.store_not_writable", problem=store_problem)
        self.store_problem = store_problem
        self.store_checked = True
        self.last_heartbeat = self.clock()
        if self.metrics is not None:
            self.metrics.store_writable.set(0 if store_problem else 1)
            self.metrics.heartbeats.inc()

    def snapshot(self) -> HealthSnapshot:
        if self._probe is not None and self.source is not SourceState.STOPPING:
            self.set_source(self._probe())
        return HealthSnapshot(
            source=self.source,
            store_problem=self.store_problem,
            store_checked=self.store_checked,
            last_heartbeat=self.last_heartbeat,
            heartbeat_seconds=self.heartbeat_seconds,
            started=self.started,
        )

    def report(self) -> HealthReport:
        """The current verdict."""
        return evaluate(self.snapshot(), self.clock())

    def _export_source(self) -> None:
        if self.metrics is None:
            return
        for state in SourceState:
            self.metrics.source_state.labels(state=str(state)).set(1 if state is self.source else 0)


def check_store(
    db: Path, *, lock_timeout: float = STORE_LOCK_TIMEOUT, min_free: int = MIN_FREE_BYTES
) -> str | None:
    """Why the SQLite store at ``db`` cannot take writes now, or ``None`` when it can.

    Blocking: call it through ``asyncio.to_thread``. Checks the file and its folder are
    writable (a read-only mount or wrong owner), that the disk has room, and that the write
    lock can be taken (``BEGIN IMMEDIATE`` then ``ROLLBACK``: nothing is written).
    """
    if not db.exists():
        return f"database {db} does not exist"
    if not os.access(db, os.W_OK):
        return f"database {db} is read-only for this user"
    folder = db.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        # SQLite creates the -wal and -shm files and the rollback journal beside the database.
        return f"folder {folder} is read-only for this user"
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    if free < min_free:
        return f"only {free // 1024} KiB free on the database's disk"
    try:
        conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=lock_timeout, isolation_level=None)
    except sqlite3.Error as error:
        return f"cannot open database: {error}"
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as error:
        return f"cannot take the write lock: {error}"
    finally:
        conn.close()
    return None


async def run_heartbeat(
    state: HealthState,
    db: Path,
    stop: asyncio.Event,
    *,
    check: Callable[[Path], str | None] = check_store,
) -> None:
    """Beat every ``state.heartbeat_seconds`` until ``stop`` is set, checking the store each time."""
    while not stop.is_set():
        try:
            problem = await asyncio.to_thread(check, db)
        except Exception as error:  # an unexpected failure is unhealthy, not a dead heartbeat
            log.exception("health.store_check_failed")
            problem = f"store check failed: {error!r}"
        state.beat(problem)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=state.heartbeat_seconds)


@contextlib.asynccontextmanager
async def heartbeat(
    state: HealthState, db: Path, *, check: Callable[[Path], str | None] = check_store
) -> AsyncIterator[None]:
    """Run ``run_heartbeat`` in the background while the block runs (for an ``AsyncExitStack``)."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_heartbeat(state, db, stop, check=check), name="health.heartbeat")
    try:
        yield
    finally:
        stop.set()
        await task


class HealthServer:
    """``GET /healthz`` (200 or 503 with the reasons as JSON) and ``GET /metrics`` (Prometheus).

    An async context manager: entering binds the port (``port=0`` picks a free one, read
    ``bound_port``), leaving closes the server and every open connection.
    """

    def __init__(self, state: HealthState, metrics: Metrics, host: str, port: int) -> None:
        self.state = state
        self.metrics = metrics
        self.host = host
        self.port = port
        self.bound_port: int | None = None
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Bind and start serving; returns the port."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port, reuse_address=True)
        sockets = self._server.sockets
        self.bound_port = int(sockets[0].getsockname()[1]) if sockets else self.port
        log.info("health.listening", host=self.host, port=self.bound_port)
        return self.bound_port

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), timeout=2.0)
        self._server = None
        log.info("health.closed")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, path = await asyncio.wait_for(_read_request(reader), timeout=REQUEST_TIMEOUT)
            status, content_type, body = self.respond(method, path)
        except (TimeoutError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            status, content_type, body = 400, "text/plain; charset=utf-8", b"bad request\n"
            method = "GET"
        except ConnectionError:
            writer.close()
            return
        except Exception:  # a bug here must not kill the server, nor pass for healthy
            log.exception("health.request_failed")
            status, content_type, body = 500, "text/plain; charset=utf-8", b"internal error\n"
            method = "GET"
        head = (
            f"HTTP/1.1 {status} {http.client.responses.get(status, '')}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n\r\n"
        ).encode("ascii")
        try:
            writer.write(head if method == "HEAD" else head + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), timeout=1.0)

    def respond(self, method: str, path: str) -> tuple[int, str, bytes]:
        """Status, content type and body for one request."""
        route = path.split("?", 1)[0]
        if route not in {"/healthz", "/metrics"}:
            return 404, "text/plain; charset=utf-8", b"not found: try /healthz or /metrics\n"
        if method not in {"GET", "HEAD"}:
            return 405, "text/plain; charset=utf-8", b"method not allowed\n"
        if route == "/metrics":
            return 200, PROMETHEUS_TEXT, self.metrics.exposition()
        report = self.state.report()
        if not report.healthy:
            log.info("health.unhealthy", reasons=list(report.reasons))
        return (200 if report.healthy else 503), "application/json", report.as_json()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    """The method and path of one HTTP/1.x request; the headers are read and ignored."""
    line = await reader.readuntil(b"\r\n")
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError("not an HTTP request line")
    total = len(line)
    while True:
        header = await reader.readuntil(b"\r\n")
        total += len(header)
        if total > MAX_REQUEST_BYTES:
            raise ValueError("request too large")
        if header == b"\r\n":
            return parts[0].upper(), parts[1]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What ``/healthz`` answered, for ``convoywatch healthcheck``."""

    healthy: bool
    detail: str


def client_host(host: str) -> str:
    """The address to reach a server bound to ``host`` from the same machine."""
    if host in {"", "0.0.0.0"}:  # noqa: S104 - a bind-all address is mapped to loopback, not bound
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def probe(host: str, port: int, *, timeout: float = 3.0) -> ProbeResult:
    """Ask ``/healthz`` on ``host:port``; healthy only on a 200 answer."""
    conn = http.client.HTTPConnection(client_host(host), port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        answer = conn.getresponse()
        raw = answer.read(MAX_REQUEST_BYTES)
    except (OSError, http.client.HTTPException) as error:
        return ProbeResult(False, f"no answer from {client_host(host)}:{port}: {error}")
    finally:
        conn.close()
    try:
        body = json.loads(raw)
        reasons = "; ".join(str(reason) for reason in body.get("reasons", []))
        detail = f"{answer.status} {body.get('status', '')} (source {body.get('source', '?')})"
        if reasons:
            detail += f": {reasons}"
    except (ValueError, AttributeError):
        detail = f"{answer.status} {raw[:200].decode('utf-8', 'replace').strip()}"
    return ProbeResult(answer.status == 200, detail)
