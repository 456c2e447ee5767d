"""Posts, their classifications, events and incidents: idempotent writes on (channel, message_id)."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot import incidents as grouping
from bot.model import Analysis, Event, EventRecord, ForwardOrigin, Incident, Post, Source, post_link
from bot.store.db import Database, iso, now_iso, parse_iso


class SaveResult(enum.Enum):
    """What saving a post did."""

    NEW = "new"
    EDITED = "edited"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """The result of saving one post, with the incidents it created or changed."""

    result: SaveResult
    relevant: bool = False
    events: int = 0
    new_incidents: tuple[int, ...] = ()
    changed_incidents: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredPost:
    """A post as stored, with its edit history (oldest first) and deleted flag."""

    post: Post
    deleted: bool
    history: tuple[str, ...]
    relevant: bool | None
    rules: tuple[str, ...]
    error: str | None


_EVENT_COLUMNS = (
    "date, country, admin1, place, place_ar, lat, lon, attack_type, target, claimed_by, killed, injured"
)


_EVENT_MARKS = ", ".join("?" * len(_EVENT_COLUMNS.split(",")))
#: An event with the facts about its post that grouping needs (see ``_record_from_row``).
_MEMBER_SELECT = (
    "SELECT e.id, e.incident_id, "
    + ", ".join("e." + column.strip() for column in _EVENT_COLUMNS.split(","))
    + ", p.channel, p.message_id, p.date AS posted_at, p.fwd_channel, p.fwd_message_id, p.deleted"
    " FROM events e JOIN posts p ON p.id = e.post_id"
)


def _event_values(event: Event) -> tuple[Any, ...]:
    return (
        event.date.isoformat(),
        event.country,
        event.admin1,
        event.place,
        event.place_ar,
        event.lat,
        event.lon,
        event.attack_type,
        event.target,
        event.claimed_by,
        event.killed,
        event.injured,
    )


def _event_from_row(row: aiosqlite.Row) -> Event:
    return Event(
        date=dt.date.fromisoformat(row["date"]),
        country=row["country"],
        admin1=row["admin1"],
        place=row["place"],
        place_ar=row["place_ar"],
        lat=row["lat"],
        lon=row["lon"],
        attack_type=row["attack_type"],
        target=row["target"],
        claimed_by=row["claimed_by"],
        killed=row["killed"],
        injured=row["injured"],
    )


def _rules_json(analysis: Analysis) -> str:
    return json.dumps(
        [
            {
                "rule": hit.rule,
                "category": hit.category,
                "value": hit.value,
                "weight": hit.weight,
                "matches": [
                    {"concept": m.concept, "term": m.term, "start": m.start, "end": m.end, "text": m.text}
                    for m in hit.matches
                ],
            }
            for hit in analysis.classification.hits
        ],
        ensure_ascii=False,
    )


_TOUCH_CHANNEL = (
    "INSERT INTO channels (key, title, cursor, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET cursor = MAX(cursor, excluded.cursor),"
    " title = COALESCE(channels.title, excluded.title)"
)
_INSERT_POST = (
    "INSERT INTO posts (channel, message_id, date, edit_date, text, fwd_channel, fwd_message_id,"
    " grouped_id, has_media, lang, corpus_id, error, first_seen, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: The classification of a post just inserted in the same transaction, found by its key.
_INSERT_CLASSIFICATION_BY_KEY = (
    "INSERT INTO classifications (post_id, relevant, score, rules, labels)"
    " VALUES ((SELECT id FROM posts WHERE channel = ? AND message_id = ?), ?, ?, ?, ?)"
)


def _touch_values(post: Post, now: str) -> tuple[Any, ...]:
    return (post.channel, post.channel_title, post.message_id, now)


def _post_values(post: Post, error: str | None, now: str) -> tuple[Any, ...]:
    forward = post.forward
    return (
        post.channel,
        post.message_id,
        iso(post.date),
        iso(post.edit_date) if post.edit_date else None,
        post.text,
        forward.channel if forward else None,
        forward.message_id if forward else None,
        post.grouped_id,
        int(post.has_media),
        post.lang,
        post.corpus_id,
        error,
        now,
        now,
    )


def _classification_values(analysis: Analysis, post: Post | None = None) -> tuple[Any, ...]:
    """The classification columns after ``post_id`` (prefixed with the post's key when given)."""
    values = (
        int(analysis.relevant),
        analysis.classification.score,
        _rules_json(analysis),
        json.dumps(dict(analysis.classification.labels), ensure_ascii=False),
    )
    return values if post is None else (post.channel, post.message_id, *values)


class PostRepo:
    """Everything about posts. All writes go through ``Database.write`` transactions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ writes
    async def save(self, post: Post, analysis: Analysis | None, error: str | None = None) -> SaveOutcome:
        """Store a new or edited post with its analysis; the same post twice changes nothing."""
        outcomes = await self.save_many([(post, analysis, error)])
        return outcomes[0]

    async def save_many(self, items: Sequence[tuple[Post, Analysis | None, str | None]]) -> list[SaveOutcome]:
        """Store many posts in one transaction (replay batches); all or nothing.

        Each statement is a round trip to aiosqlite's thread, so the common cases go in bulk:
        every channel touch in one ``executemany``; one lookup of which posts exist; posts
        stored unchanged answered from it; new posts without events (most of them) inserted
        with their classifications in two ``executemany``. The rest (edits, posts with events,
        a post twice in the batch) go one by one, in order, through ``_save``. Posts without
        events never take part in incident grouping, so storing them first changes nothing."""
        async with self.db.write() as conn:
            if len(items) == 1:
                post, analysis, error = items[0]
                return [await self._save(conn, post, analysis, error)]
            now = now_iso()
            await conn.executemany(_TOUCH_CHANNEL, [_touch_values(post, now) for post, _a, _e in items])
            keys = Counter((post.channel, post.message_id) for post, _a, _e in items)
            existing = await self._existing(conn, list(keys))
            outcomes: list[SaveOutcome | None] = [None] * len(items)
            bulk: list[int] = []
            for index, (post, analysis, error) in enumerate(items):
                key = (post.channel, post.message_id)
                if keys[key] > 1:
                    continue
                stored = existing.get(key)
                if stored is not None:
                    if stored == (post.text, error):
                        outcomes[index] = SaveOutcome(SaveResult.UNCHANGED)
                elif analysis is None or not analysis.events:
                    bulk.append(index)
            if bulk:
                await conn.executemany(
                    _INSERT_POST, [_post_values(items[i][0], items[i][2], now) for i in bulk]
                )
                await conn.executemany(
                    _INSERT_CLASSIFICATION_BY_KEY,
                    [
                        _classification_values(analysis, post)
                        for post, analysis, _error in (items[i] for i in bulk)
                        if analysis is not None
                    ],
                )
                for i in bulk:
                    analysis = items[i][1]
                    outcomes[i] = SaveOutcome(
                        SaveResult.NEW, relevant=analysis.relevant if analysis else False
                    )
            for index, (post, analysis, error) in enumerate(items):
                if outcomes[index] is None:
                    outcomes[index] = await self._save(conn, post, analysis, error, touch=False)
            return [outcome for outcome in outcomes if outcome is not None]

    async def _existing(
        self, conn: aiosqlite.Connection, keys: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], tuple[str, str | None]]:
        """``(channel, message_id) -> (text, error)`` of the stored posts among ``keys``."""
        found: dict[tuple[str, int], tuple[str, str | None]] = {}
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            rows = await conn.execute_fetchall(
                # CROSS JOIN keeps the key list outermost, so each key is one lookup in the
                # (channel, message_id) index ("IN (VALUES ...)" would scan the whole table).
                "SELECT p.channel, p.message_id, p.text, p.error"
                f" FROM (VALUES {', '.join(['(?, ?)'] * len(chunk))})"
                " AS k CROSS JOIN posts p ON p.channel = k.column1 AND p.message_id = k.column2",
                [value for key in chunk for value in key],
            )
            for row in rows:
                found[(row[0], int(row[1]))] = (row[2], row[3])
        return found

    async def _save(
        self,
        conn: aiosqlite.Connection,
        post: Post,
        analysis: Analysis | None,
        error: str | None,
        *,
        touch: bool = True,
    ) -> SaveOutcome:
        now = now_iso()
        if touch:
            await self._touch_channel(conn, post, now)
        cursor = await conn.execute(
            "SELECT id, text, deleted, error, edit_date FROM posts WHERE channel = ? AND message_id = ?",
            (post.channel, post.message_id),
        )
        existing = await cursor.fetchone()
        if existing is not None and existing["text"] == post.text and existing["error"] == error:
            return SaveOutcome(SaveResult.UNCHANGED)
        if existing is not None and _older_version(post, existing["edit_date"]):
            # A replay (or a late duplicate) of a version older than the one stored.
            return SaveOutcome(SaveResult.UNCHANGED)
        forward = post.forward
        if existing is None:
            cursor = await conn.execute(_INSERT_POST, _post_values(post, error, now))
            post_id = int(cursor.lastrowid or 0)
            result = SaveResult.NEW
            changed: set[int] = set()
        else:
            post_id = int(existing["id"])
            version_row = await (
                await conn.execute("SELECT COUNT(*) FROM post_edits WHERE post_id = ?", (post_id,))
            ).fetchone()
            version = int(version_row[0]) if version_row else 0
            if existing["text"] != post.text:
                await conn.execute(
                    "INSERT INTO post_edits (post_id, version, text, edit_date, replaced_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        post_id,
                        version + 1,
                        existing["text"],
                        iso(post.edit_date) if post.edit_date else None,
                        now,
                    ),
                )
            await conn.execute(
                "UPDATE posts SET text = ?, edit_date = ?, error = ?, updated_at = ?, has_media = ?"
                " WHERE id = ?",
                (
                    post.text,
                    iso(post.edit_date) if post.edit_date else None,
                    error,
                    now,
                    int(post.has_media),
                    post_id,
                ),
            )
            changed = await self._drop_events(conn, post_id)
            await conn.execute("DELETE FROM classifications WHERE post_id = ?", (post_id,))
            result = SaveResult.EDITED
        if analysis is None:
            await self._refresh_incidents(conn, changed, now)
            return SaveOutcome(result, changed_incidents=tuple(sorted(changed)))
        await conn.execute(
            "INSERT INTO classifications (post_id, relevant, score, rules, labels) VALUES (?, ?, ?, ?, ?)",
            (post_id, *_classification_values(analysis)),
        )
        created: list[int] = []
        for seq, event in enumerate(analysis.events):
            cursor = await conn.execute(
                f"INSERT INTO events (post_id, seq, {_EVENT_COLUMNS}) VALUES (?, ?, {_EVENT_MARKS})",
                (post_id, seq, *_event_values(event)),
            )
            event_id = int(cursor.lastrowid or 0)
            record = EventRecord(event_id, event, post.channel, post.message_id, post.date, forward)
            incident_id = grouping.find_incident(record, await self._candidates(conn, record))
            if incident_id is None:
                cursor = await conn.execute(
                    f"INSERT INTO incidents ({_EVENT_COLUMNS}, first_seen, updated_at)"
                    f" VALUES ({_EVENT_MARKS}, ?, ?)",
                    (*_event_values(event), iso(post.date), now),
                )
                incident_id = int(cursor.lastrowid or 0)
                created.append(incident_id)
            await conn.execute("UPDATE events SET incident_id = ? WHERE id = ?", (incident_id, event_id))
            changed.add(incident_id)
        await self._refresh_incidents(conn, changed, now)
        return SaveOutcome(
            result,
            relevant=analysis.relevant,
            events=len(analysis.events),
            new_incidents=tuple(created),
            changed_incidents=tuple(sorted(changed - set(created))),
        )

    async def _touch_channel(self, conn: aiosqlite.Connection, post: Post, now: str) -> None:
        await conn.execute(_TOUCH_CHANNEL, _touch_values(post, now))

    async def _drop_events(self, conn: aiosqlite.Connection, post_id: int) -> set[int]:
        rows = await conn.execute_fetchall(
            "SELECT DISTINCT incident_id FROM events WHERE post_id = ? AND incident_id IS NOT NULL",
            (post_id,),
        )
        await conn.execute("DELETE FROM events WHERE post_id = ?", (post_id,))
        return {int(row[0]) for row in rows}

    async def _candidates(self, conn: aiosqlite.Connection, record: EventRecord) -> list[EventRecord]:
        """Grouped events that could report the same attack: same country within the day window,
        or the same forwarded original. Bounded by the window, so cost does not grow with history."""
        day = record.event.date
        low = (day - dt.timedelta(days=grouping.MAX_DAY_GAP)).isoformat()
        high = (day + dt.timedelta(days=grouping.MAX_DAY_GAP)).isoformat()
        sql = (
            _MEMBER_SELECT + " WHERE e.incident_id IS NOT NULL AND e.country IS ? AND e.date BETWEEN ? AND ?"
        )
        params: list[Any] = [record.event.country, low, high]
        forward = record.forward
        if forward is not None:
            sql += (
                " UNION " + _MEMBER_SELECT + " WHERE e.incident_id IS NOT NULL AND"
                " ((p.channel = ? AND p.message_id = ?) OR (p.fwd_channel = ? AND p.fwd_message_id = ?))"
            )
            params += [forward.channel, forward.message_id, forward.channel, forward.message_id]
        sql += " ORDER BY 1 LIMIT 500"
        rows = await conn.execute_fetchall(sql, params)
        return [_record_from_row(row) for row in rows]

    async def _refresh_incidents(self, conn: aiosqlite.Connection, incident_ids: set[int], now: str) -> None:
        """Recompute each incident's best details from its members; drop incidents left empty."""
        for incident_id in sorted(incident_ids):
            rows = await conn.execute_fetchall(
                _MEMBER_SELECT + " WHERE e.incident_id = ? ORDER BY e.id", (incident_id,)
            )
            members = [_record_from_row(row) for row in rows]
            if not members:
                await conn.execute("DELETE FROM incident_notices WHERE incident_id = ?", (incident_id,))
                await conn.execute("DELETE FROM incidents WHERE id = ?", (incident_id,))
                continue
            best = grouping.summarise(members)
            first_seen = min(member.posted_at for member in members)
            await conn.execute(
                "UPDATE incidents SET date = ?, country = ?, admin1 = ?, place = ?, place_ar = ?, lat = ?,"
                " lon = ?, attack_type = ?, target = ?, claimed_by = ?, killed = ?, injured = ?,"
                " first_seen = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                (*_event_values(best), iso(first_seen), now, incident_id),
            )

    async def mark_deleted(self, channel: str, message_ids: Sequence[int]) -> int:
        """Mark posts deleted (they stay in the record); returns how many changed."""
        if not message_ids:
            return 0
        now = now_iso()
        changed = 0
        async with self.db.write() as conn:
            for message_id in message_ids:
                cursor = await conn.execute(
                    "UPDATE posts SET deleted = 1, deleted_at = ?, updated_at = ?"
                    " WHERE channel = ? AND message_id = ? AND deleted = 0 RETURNING id",
                    (now, now, channel, message_id),
                )
                row = await cursor.fetchone()
                if row is None:
                    continue
                changed += 1
                rows = await conn.execute_fetchall(
                    "SELECT DISTINCT incident_id FROM events WHERE post_id = ? AND incident_id IS NOT NULL",
                    (int(row[0]),),
                )
                await self._refresh_incidents(conn, {int(r[0]) for r in rows}, now)
        return changed

    # ------------------------------------------------------------------ reads
    async def get(self, channel: str, message_id: int) -> StoredPost | None:
        """A stored post with its edit history, or None."""
        row = await self.db.read_one(
            "SELECT p.*, c.relevant, c.rules FROM posts p LEFT JOIN classifications c ON c.post_id = p.id"
            " WHERE p.channel = ? AND p.message_id = ?",
            (channel, message_id),
        )
        if row is None:
            return None
        history = await self.db.read(
            "SELECT text FROM post_edits WHERE post_id = ? ORDER BY version", (row["id"],)
        )
        forward = (
            ForwardOrigin(row["fwd_channel"], int(row["fwd_message_id"])) if row["fwd_channel"] else None
        )
        post = Post(
            channel=row["channel"],
            message_id=int(row["message_id"]),
            date=parse_iso(row["date"]),
            text=row["text"],
            edit_date=parse_iso(row["edit_date"]) if row["edit_date"] else None,
            forward=forward,
            grouped_id=row["grouped_id"],
            has_media=bool(row["has_media"]),
            lang=row["lang"],
            corpus_id=row["corpus_id"],
        )
        rules = tuple(hit["rule"] for hit in json.loads(row["rules"])) if row["rules"] else ()
        return StoredPost(
            post=post,
            deleted=bool(row["deleted"]),
            history=tuple(r["text"] for r in history),
            relevant=None if row["relevant"] is None else bool(row["relevant"]),
            rules=rules,
            error=row["error"],
        )

    async def recent_ids(self, channel: str, limit: int) -> list[int]:
        """The newest stored message ids of a channel that are not deleted, newest first."""
        rows = await self.db.read(
            "SELECT message_id FROM posts WHERE channel = ? AND deleted = 0 ORDER BY message_id DESC LIMIT ?",
            (channel, limit),
        )
        return [int(row[0]) for row in rows]

    async def count(self, channel: str | None = None) -> int:
        if channel is None:
            row = await self.db.read_one("SELECT COUNT(*) FROM posts")
        else:
            row = await self.db.read_one("SELECT COUNT(*) FROM posts WHERE channel = ?", (channel,))
        return int(row[0]) if row else 0

    async def incidents(
        self, since: dt.datetime | None = None, *, changed_since: dt.datetime | None = None
    ) -> list[Incident]:
        """Incidents first reported at or after ``since`` (all if None), or changed after
        ``changed_since``; each with its sources. Ordered by date, then id."""
        where, params = [], []
        if since is not None:
            where.append("first_seen >= ?")
            params.append(iso(since))
        if changed_since is not None:
            where.append("updated_at > ?")
            params.append(iso(changed_since))
        sql = "SELECT * FROM incidents"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY date, id"
        rows = await self.db.read(sql, params)
        return await self._with_sources(rows)

    async def incident(self, incident_id: int) -> Incident | None:
        rows = await self.db.read("SELECT * FROM incidents WHERE id = ?", (incident_id,))
        found = await self._with_sources(rows)
        return found[0] if found else None

    async def _with_sources(self, rows: Sequence[aiosqlite.Row]) -> list[Incident]:
        if not rows:
            return []
        ids = [int(row["id"]) for row in rows]
        sources: dict[int, list[Source]] = {incident_id: [] for incident_id in ids}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            source_rows = await self.db.read(
                "SELECT DISTINCT incident_id, channel, message_id, posted_at, deleted FROM incident_sources"
                f" WHERE incident_id IN ({marks}) ORDER BY posted_at, channel, message_id",
                chunk,
            )
            for row in source_rows:
                sources[int(row["incident_id"])].append(
                    Source(
                        channel=row["channel"],
                        message_id=int(row["message_id"]),
                        posted_at=parse_iso(row["posted_at"]),
                        link=post_link(row["channel"], int(row["message_id"])),
                        deleted=bool(row["deleted"]),
                    )
                )
        return [
            Incident.from_event(
                int(row["id"]),
                _event_from_row(row),
                first_seen=parse_iso(row["first_seen"]),
                updated_at=parse_iso(row["updated_at"]),
                sources=tuple(sources[int(row["id"])]),
            )
            for row in rows
        ]

    async def stats(self) -> dict[str, int]:
        """The counts `convoywatch stats` prints, in its fixed key order."""
        row = await self.db.read_one(
            "SELECT"
            " (SELECT COUNT(*) FROM channels),"
            " (SELECT COUNT(*) FROM posts),"
            " (SELECT COUNT(*) FROM classifications WHERE relevant = 1),"
            " (SELECT COUNT(*) FROM events),"
            " (SELECT COUNT(*) FROM incidents),"
            " (SELECT COUNT(DISTINCT digest_id) FROM digest_parts WHERE sent_at IS NULL),"
            " (SELECT COUNT(*) FROM digests d WHERE NOT EXISTS"
            "    (SELECT 1 FROM digest_parts p WHERE p.digest_id = d.id AND p.sent_at IS NULL)"
            "    AND EXISTS (SELECT 1 FROM digest_parts p WHERE p.digest_id = d.id)),"
            " (SELECT COUNT(*) FROM posts WHERE error IS NOT NULL),"
            " (SELECT COUNT(*) FROM posts WHERE deleted = 1)"
        )
        assert row is not None
        keys = (
            "channels",
            "posts",
            "relevant_posts",
            "events",
            "incidents",
            "digests_pending",
            "digests_sent",
            "posts_failed",
            "posts_deleted",
        )
        return {key: int(value) for key, value in zip(keys, row, strict=True)}


def _older_version(post: Post, stored_edit_date: str | None) -> bool:
    """True when ``post`` is an earlier version than the stored one (by edit date)."""
    if stored_edit_date is None:
        return False
    return post.edit_date is None or post.edit_date < parse_iso(stored_edit_date)


def _record_from_row(row: aiosqlite.Row) -> EventRecord:
    forward = ForwardOrigin(row["fwd_channel"], int(row["fwd_message_id"])) if row["fwd_channel"] else None
    return EventRecord(
        event_id=int(row["id"]),
        event=_event_from_row(row),
        channel=row["channel"],
        message_id=int(row["message_id"]),
        posted_at=parse_iso(row["posted_at"]),
        forward=forward,
        incident_id=row["incident_id"],
        deleted=bool(row["deleted"]),
    )
