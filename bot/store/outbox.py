"""The outbox: digests and alerts are committed first, then sent part by part.

A digest (kind ``periodic``, ``daily``, ``manual`` or ``alert``) is one row keyed by a
natural key (``periodic:2026-11-21T07:00+03:00``, ``alert:17:claim``): enqueueing the same
key twice does nothing. Its parts, per chat and in order, are committed in the same
transaction together with the *notices* (which version of which incident each chat is
being told). A part is marked sent only after the sender returned.

Each part has a stable *message key* (``part_key``: digest key, chat, seq, the part's
natural key) that is handed to the sender, so a sender that can (the file sink) turns the
resend of a part after a crash into an overwrite instead of a second message.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.store.db import Database, iso, now_iso, parse_iso


def part_key(digest_key: str, chat_id: str, seq: int) -> str:
    """The idempotency key of one outbox message: the same part gets the same key in every run."""
    if not digest_key:
        raise ValueError("a message key needs the digest's key")
    return f"{digest_key}|{chat_id}|{seq}"


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One message of a digest for one chat (``seq`` orders them within the chat)."""

    chat_id: str
    seq: int
    body: str
    attachment: bytes | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A chat is told ``version`` of an incident by this digest."""

    incident_id: int
    chat_id: str
    version: str


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
    kind: str = ""
    key: str = ""
    last_error: str | None = None

    @property
    def message_key(self) -> str:
        """This part's idempotency key for the sender (see ``part_key``)."""
        return part_key(self.key, self.chat_id, self.seq)


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """Parts waiting and parts delivered, and when the last one went out."""

    pending_parts: int
    sent_parts: int
    pending_digests: int
    last_sent_at: dt.datetime | None


class OutboxRepo:
    """Digests with their parts per chat; a part is marked sent only after delivery."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        *,
        kind: str,
        key: str,
        messages: Sequence[OutMessage],
        notices: Iterable[Notice] = (),
        incident_ids: Sequence[int] = (),
        period_start: dt.datetime | None = None,
        period_end: dt.datetime | None = None,
    ) -> int | None:
        """Commit a digest, all its messages and notices at once; None when ``key`` exists."""
        async with self.db.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO digests (kind, key, created_at, period_start, period_end, incident_ids)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id",
                (
                    kind,
                    key,
                    now_iso(),
                    iso(period_start) if period_start else None,
                    iso(period_end) if period_end else None,
                    json.dumps(sorted(set(incident_ids))),
                ),
            )
            row = await cursor.fetchone()
            await cursor.close()
            if row is None:
                return None
            digest_id = int(row[0])
            await conn.executemany(
                "INSERT INTO digest_parts (digest_id, chat_id, seq, body, attachment) VALUES (?, ?, ?, ?, ?)",
                [(digest_id, m.chat_id, m.seq, m.body, m.attachment) for m in messages],
            )
            await conn.executemany(
                "INSERT OR REPLACE INTO incident_notices (incident_id, chat_id, digest_id, version)"
                " VALUES (?, ?, ?, ?)",
                [(n.incident_id, n.chat_id, digest_id, n.version) for n in notices],
            )
            return digest_id

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
        """The same parts to every chat (the first carrying ``attachment``); see ``add``."""
        messages = [
            OutMessage(chat, seq, body, attachment if seq == 0 else None)
            for chat in chats
            for seq, body in enumerate(parts)
        ]
        return await self.add(
            kind=kind,
            key=key,
            messages=messages,
            incident_ids=incident_ids,
            period_start=parse_iso(period[0]) if period[0] else None,
            period_end=parse_iso(period[1]) if period[1] else None,
        )

    async def exists(self, key: str) -> bool:
        """Whether a digest with this key was ever enqueued."""
        return await self.db.read_one("SELECT 1 FROM digests WHERE key = ?", (key,)) is not None

    async def pending(self) -> list[PendingPart]:
        """Unsent parts, oldest digest first, in order within each chat."""
        rows = await self.db.read(
            "SELECT p.id, p.digest_id, p.chat_id, p.seq, p.body, p.attachment, p.attempts, p.last_error,"
            " d.kind, d.key FROM digest_parts p JOIN digests d ON d.id = p.digest_id"
            " WHERE p.sent_at IS NULL ORDER BY p.digest_id, p.chat_id, p.seq"
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
                kind=r["kind"],
                key=r["key"],
                last_error=r["last_error"],
            )
            for r in rows
        ]

    async def mark_sent(self, part_id: int, telegram_message_id: str | None) -> bool:
        """Record a delivered part; False if it was already marked (nothing changes then)."""
        async with self.db.write() as conn:
            cursor = await conn.execute(
                "UPDATE digest_parts SET sent_at = ?, telegram_message_id = ?, attempts = attempts + 1,"
                " last_error = NULL WHERE id = ? AND sent_at IS NULL",
                (now_iso(), telegram_message_id, part_id),
            )
            changed = cursor.rowcount
            await cursor.close()
            return changed == 1

    async def mark_failed(self, part_id: int, error: str) -> None:
        """Count a failed attempt and keep its error; the part stays pending."""
        async with self.db.write() as conn:
            await conn.execute(
                "UPDATE digest_parts SET attempts = attempts + 1, last_error = ?"
                " WHERE id = ? AND sent_at IS NULL",
                (error[:500], part_id),
            )

    async def told(self, chat_id: str, incident_ids: Sequence[int]) -> dict[int, str]:
        """The version of each incident this chat was last told (absent: never told)."""
        told: dict[int, str] = {}
        ids = sorted(set(incident_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self.db.read(
                "SELECT incident_id, version FROM incident_notices WHERE chat_id = ?"
                f" AND incident_id IN ({marks}) ORDER BY digest_id",
                (chat_id, *chunk),
            )
            for row in rows:
                told[int(row["incident_id"])] = row["version"]
        return told

    async def alerted_reasons(self, incident_id: int) -> set[str]:
        """Every alert reason already enqueued for an incident (from the alert keys)."""
        prefix = f"alert:{incident_id}:"
        rows = await self.db.read(
            "SELECT key FROM digests WHERE kind = 'alert' AND substr(key, 1, ?) = ?", (len(prefix), prefix)
        )
        return {reason for row in rows for reason in str(row["key"])[len(prefix) :].split("+") if reason}

    async def last_created(self, kind: str) -> dt.datetime | None:
        """When the newest digest of ``kind`` was committed (store time), or None."""
        row = await self.db.read_one("SELECT MAX(created_at) FROM digests WHERE kind = ?", (kind,))
        return parse_iso(row[0]) if row and row[0] else None

    async def counts(self) -> OutboxCounts:
        """Pending and sent parts, digests with a pending part, the last delivery time."""
        row = await self.db.read_one(
            "SELECT"
            " (SELECT COUNT(*) FROM digest_parts WHERE sent_at IS NULL),"
            " (SELECT COUNT(*) FROM digest_parts WHERE sent_at IS NOT NULL),"
            " (SELECT COUNT(DISTINCT digest_id) FROM digest_parts WHERE sent_at IS NULL),"
            " (SELECT MAX(sent_at) FROM digest_parts)"
        )
        assert row is not None  # an aggregate query always answers one row
        return OutboxCounts(
            pending_parts=int(row[0]),
            sent_parts=int(row[1]),
            pending_digests=int(row[2]),
            last_sent_at=parse_iso(row[3]) if row[3] else None,
        )
