"""Channels: resolved identity (cached so usernames are resolved once), status, cursor."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.store.db import Database, now_iso


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """A channel as stored. ``cursor`` is the last message id stored (0 when none)."""

    key: str
    peer_id: int | None
    access_hash: int | None
    username: str | None
    title: str | None
    status: str
    reason: str | None
    cursor: int
    updated_at: str


def _row(row: aiosqlite.Row) -> ChannelRow:
    return ChannelRow(
        key=row["key"],
        peer_id=row["peer_id"],
        access_hash=row["access_hash"],
        username=row["username"],
        title=row["title"],
        status=row["status"],
        reason=row["reason"],
        cursor=int(row["cursor"]),
        updated_at=row["updated_at"],
    )


class ChannelRepo:
    """Channel rows; every write is an upsert on the channel key."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(
        self,
        key: str,
        *,
        peer_id: int | None = None,
        access_hash: int | None = None,
        username: str | None = None,
        title: str | None = None,
    ) -> None:
        """Create or update a channel; None leaves a stored value as it is."""
        await self.db.execute(
            "INSERT INTO channels (key, peer_id, access_hash, username, title, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
            " peer_id = COALESCE(excluded.peer_id, peer_id),"
            " access_hash = COALESCE(excluded.access_hash, access_hash),"
            " username = COALESCE(excluded.username, username),"
            " title = COALESCE(excluded.title, title), updated_at = excluded.updated_at",
            (key, peer_id, access_hash, username, title, now_iso()),
        )

    async def get(self, key: str) -> ChannelRow | None:
        row = await self.db.read_one("SELECT * FROM channels WHERE key = ?", (key,))
        return _row(row) if row else None

    async def by_peer(self, peer_id: int) -> ChannelRow | None:
        row = await self.db.read_one("SELECT * FROM channels WHERE peer_id = ?", (peer_id,))
        return _row(row) if row else None

    async def all(self) -> list[ChannelRow]:
        return [_row(row) for row in await self.db.read("SELECT * FROM channels ORDER BY key")]

    async def set_status(self, key: str, status: str, reason: str | None = None) -> None:
        """Record a channel's state: ok, paused, private, gone, banned."""
        await self.db.execute(
            "INSERT INTO channels (key, status, reason, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET status = excluded.status, reason = excluded.reason,"
            " updated_at = excluded.updated_at",
            (key, status, reason, now_iso()),
        )

    async def cursor(self, key: str) -> int:
        """The last message id stored for a channel (0 when none)."""
        row = await self.db.read_one("SELECT cursor FROM channels WHERE key = ?", (key,))
        return int(row[0]) if row else 0

    async def advance_cursor(self, key: str, message_id: int) -> None:
        """Move the cursor forward (never back)."""
        await self.db.execute(
            "INSERT INTO channels (key, cursor, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET cursor = MAX(cursor, excluded.cursor)",
            (key, message_id, now_iso()),
        )
