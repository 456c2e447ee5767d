"""One aiosqlite connection: WAL, busy timeout, ``BEGIN IMMEDIATE`` writes, migrations at open."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StoreError
from bot.store.migrations import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 10_000


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
        with contextlib.suppress(sqlite3.Error):  # closing must not fail over an optimisation hint
            await self.conn.execute("PRAGMA optimize")
        await self.conn.close()


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
