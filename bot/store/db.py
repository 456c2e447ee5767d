"""One aiosqlite connection: WAL, busy timeout, ``BEGIN IMMEDIATE`` writes, migrations at open.

Every statement sent through aiosqlite is a round trip to its worker thread (~50-100 us on
a busy machine). ``Database.run`` sends a whole write transaction as one function instead:
the store's hot writes (a batch of posts with its incident grouping) are one round trip.

WAL checkpoints run off the write path: SQLite's automatic checkpoint would copy the WAL
into the database file and fsync it inside whichever commit crosses 1,000 pages (10-30 ms
for a live post every second or two). Instead, once the WAL file passes ``CHECKPOINT_BYTES``
after a write, a passive checkpoint runs on a second connection in another thread while
writes go on; SQLite's own checkpoint stays as a backstop at ``BACKSTOP_PAGES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from bot.errors import StoreError
from bot.store.migrations import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 10_000
#: A background checkpoint starts after a write once the WAL file is this large.
CHECKPOINT_BYTES = 4 * 1024 * 1024
#: SQLite checkpoints inside a commit only when the WAL holds this many pages (64 MB).
BACKSTOP_PAGES = 16_384
#: After a complete checkpoint the WAL file is cut back to this size (so its size tells how
#: much is waiting to be checkpointed).
WAL_KEEP_BYTES = 1024 * 1024

T = TypeVar("T")

#: A function run in the database thread with the plain ``sqlite3`` connection.
Job = Callable[[sqlite3.Connection], T]


def now_iso() -> str:
    """The current UTC time as stored in the database."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def iso(value: dt.datetime) -> str:
    """A datetime as stored: UTC ISO 8601 with microseconds (sorts as text)."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def parse_iso(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _describe(error: BaseException, path: Path | None = None) -> str:
    text = str(error)
    if path is not None and str(path) != ":memory:" and not os.access(path.parent, os.W_OK):
        return f"its folder {path.parent} is read-only ({text})"
    if "readonly" in text or "read-only" in text:
        return f"database is read-only ({text})"
    if "disk is full" in text or "database or disk is full" in text:
        return "disk is full: the database cannot grow"
    return text


class Database:
    """The single writer connection. Writes are serialised by a lock and run in
    ``BEGIN IMMEDIATE`` transactions; a failure rolls the whole transaction back."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._wal = Path(f"{path}-wal")
        self._checkpoint: asyncio.Task[None] | None = None
        self._checkpointer: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating folders and file as needed) and migrate to the current schema."""
        try:
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            conn = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open database {path}: {_describe(error, path)}") from error
        conn.row_factory = aiosqlite.Row
        db = cls(conn, path)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA foreign_keys = ON")
            mode = await (await conn.execute("PRAGMA journal_mode = WAL")).fetchone()
            if mode is None or str(mode[0]).lower() not in {"wal", "memory"}:
                raise StoreError(f"cannot switch {path} to WAL journal mode")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
            await conn.execute(f"PRAGMA journal_size_limit = {WAL_KEEP_BYTES}")
            await db._migrate()
        except sqlite3.Error as error:
            await conn.close()
            raise StoreError(f"cannot use database {path}: {_describe(error, path)}") from error
        except BaseException:
            await conn.close()
            raise
        return db

    async def _migrate(self) -> None:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        rows = await self.conn.execute_fetchall("SELECT version FROM schema_migrations")
        applied = {int(row[0]) for row in rows}
        newest = max(applied, default=0)
        if newest > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.path} has schema version {newest}, newer than this convoywatch "
                f"understands ({SCHEMA_VERSION}); upgrade convoywatch"
            )
        for migration in MIGRATIONS:
            if migration.version in applied:
                continue
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(migration.sql):
                    await self.conn.execute(statement)
                await self.conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, now_iso()),
                )
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on error."""
        async with self._lock:
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise StoreError(f"cannot write to {self.path}: {_describe(error, self.path)}") from error
            try:
                yield self.conn
                await self.conn.execute("COMMIT")
            except sqlite3.Error as error:
                await self._rollback()
                raise StoreError(f"cannot write to {self.path}: {_describe(error, self.path)}") from error
            except BaseException:
                await self._rollback()
                raise
        self._maybe_checkpoint()

    async def run(self, job: Job[T]) -> T:
        """Run ``job`` in one write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled
        back if it raises) as a single call in the database thread. ``job`` is synchronous
        and gets the plain ``sqlite3`` connection (rows are ``sqlite3.Row``); it must not
        commit, and it runs to the end even if the caller is cancelled (the thread runs one
        call at a time, so the next write still waits for it)."""
        async with self._lock:
            try:
                result = await self._in_thread(partial(_transaction, self._raw, job))
            except sqlite3.Error as error:
                raise StoreError(f"cannot write to {self.path}: {_describe(error, self.path)}") from error
        self._maybe_checkpoint()
        return result

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own write transaction (one round trip); returns the rows changed."""
        return await self.run(lambda conn: conn.execute(sql, params).rowcount)

    @property
    def _raw(self) -> sqlite3.Connection:
        # aiosqlite has no public way to run a function in its thread; ``_conn`` and
        # ``_execute`` have been there unchanged in every version pyproject allows
        # (0.20-0.22), and tests/integration/test_store_jobs.py fails if they go.
        return self.conn._conn

    def _in_thread(self, call: Callable[[], T]) -> Awaitable[T]:
        execute = cast(Callable[[Callable[[], T]], Awaitable[T]], self.conn._execute)
        return execute(call)

    def _maybe_checkpoint(self) -> None:
        """Start a background checkpoint when the WAL has grown past ``CHECKPOINT_BYTES``."""
        if self._checkpoint is not None and not self._checkpoint.done():
            return
        try:
            size = self._wal.stat().st_size
        except OSError:  # no WAL file (":memory:", or not created yet)
            return
        if size >= CHECKPOINT_BYTES:
            self._checkpoint = asyncio.get_running_loop().create_task(self._checkpoint_in_background())

    async def _checkpoint_in_background(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._checkpoint_now)
        except sqlite3.Error:
            # Leave it to SQLite: its own checkpoint at every commit past 1,000 pages.
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self.conn.execute("PRAGMA wal_autocheckpoint = 1000")

    def _checkpoint_now(self) -> None:
        """A passive checkpoint on the second connection (runs in an executor thread)."""
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._checkpointer.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def _rollback(self) -> None:
        # SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR).
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """Rows of a query (reads see committed data and the current transaction's)."""
        return list(await self.conn.execute_fetchall(sql, params))

    async def read_one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        rows = await self.read(sql, params)
        return rows[0] if rows else None

    async def integrity_check(self) -> str:
        row = await self.read_one("PRAGMA integrity_check")
        return str(row[0]) if row else "no answer"

    async def close(self) -> None:
        if self._checkpoint is not None:
            await self._checkpoint
        if self._checkpointer is not None:
            # Closed first, so the writer is the last connection: it checkpoints all and drops the WAL.
            self._checkpointer.close()
            self._checkpointer = None
        with contextlib.suppress(sqlite3.Error):  # closing must not fail over an optimisation hint
            await self.conn.execute("PRAGMA optimize")
        await self.conn.close()


def _transaction(conn: sqlite3.Connection, job: Job[T]) -> T:
    """``job`` inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` (runs in the database thread)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = job(conn)
        conn.execute("COMMIT")
    except BaseException:
        # SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR).
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _statements(script: str) -> Iterable[str]:
    """Split a migration script into statements (``sqlite3.complete_statement`` aware)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if statement:
                yield statement
            buffer = ""
    if buffer.strip():
        yield buffer.strip()
