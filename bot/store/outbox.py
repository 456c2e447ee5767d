"""The outbox: digests and alerts are committed first, then sent part by part.

(First version by the lead; the delivery module owns and extends it.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.db import Database, now_iso


@dataclass(frozen=True, slots=True)
class PendingPart:
    """One message still to send."""

    part_id: int
    digest_id: int
    chat_id: str
    seq: int
    body: str
    attachment: bytes | None
    attempts: int


class OutboxRepo:
    """Digests with their parts per chat; a part is marked sent only after delivery."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(
        self,
        *,
        kind: str,
        key: str,
        chats: Sequence[str],
        parts: Sequence[str],
        attachment: bytes | None = None,
        incident_ids: Sequence[int] = (),
        period: tuple[str | None, str | None] = (None, None),
    ) -> int | None:
        """Commit a digest and all its parts; None when ``key`` was enqueued before."""
        async with self.db.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO digests (kind, key, created_at, period_start, period_end, incident_ids)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id",
                (kind, key, now_iso(), period[0], period[1], json.dumps(list(incident_ids))),
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            digest_id = int(row[0])
            for chat in chats:
                for seq, body in enumerate(parts):
                    await conn.execute(
                        "INSERT INTO digest_parts (digest_id, chat_id, seq, body, attachment) VALUES (?, ?, ?, ?, ?)",
                        (digest_id, chat, seq, body, attachment if seq == 0 else None),
                    )
            return digest_id

    async def pending(self) -> list[PendingPart]:
        """Unsent parts, oldest digest first, in order within each chat."""
        rows = await self.db.read(
            "SELECT id, digest_id, chat_id, seq, body, attachment, attempts FROM digest_parts"
            " WHERE sent_at IS NULL ORDER BY digest_id, chat_id, seq"
        )
        return [
            PendingPart(
                part_id=int(r["id"]),
                digest_id=int(r["digest_id"]),
                chat_id=r["chat_id"],
                seq=int(r["seq"]),
                body=r["body"],
                attachment=r["attachment"],
                attempts=int(r["attempts"]),
            )
            for r in rows
        ]

    async def mark_sent(self, part_id: int, telegram_message_id: str | None) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                "UPDATE digest_parts SET sent_at = ?, telegram_message_id = ?, attempts = attempts + 1"
                " WHERE id = ? AND sent_at IS NULL",
                (now_iso(), telegram_message_id, part_id),
            )

    async def mark_failed(self, part_id: int, error: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                "UPDATE digest_parts SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error, part_id),
            )
