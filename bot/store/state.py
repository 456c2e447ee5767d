"""Small key/value state that must survive restarts (last digest time, backfill checkpoints)."""

from __future__ import annotations

from bot.store.db import Database


class StateRepo:
    """Text values by key."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        row = await self.db.read_one("SELECT value FROM state WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def set(self, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO state (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def delete(self, key: str) -> None:
        await self.db.execute("DELETE FROM state WHERE key = ?", (key,))
