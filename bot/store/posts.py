"""Posts, their classifications, events and incidents: idempotent writes on (channel, message_id).

A batch of posts is written, and its events grouped into incidents, by one synchronous
function run in the database thread (``Database.run``): one round trip and one
transaction per batch, all or nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sqlite3
from collections import Counter, OrderedDict
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

Row = sqlite3.Row  # aiosqlite.Row is the same class


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


def _event_from_row(row: Row) -> Event:
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


Item = tuple[Post, Analysis | None, str | None]


class Members:
    """The member events of recently refreshed incidents, each as of its stamp (version,
    updated_at): a refresh that only adds events to an incident reads its stamp, not all its
    members again. A stamp that does not match (a rolled-back batch, another writer) means a
    re-read. Used only inside write jobs, which the database thread runs one at a time."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[int, tuple[tuple[int, str], list[EventRecord]]] = OrderedDict()

    def get(self, incident_id: int, stamp: tuple[int, str]) -> list[EventRecord] | None:
        entry = self._entries.get(incident_id)
        if entry is None or entry[0] != stamp:
            return None
        self._entries.move_to_end(incident_id)
        return entry[1]

    def put(self, incident_id: int, stamp: tuple[int, str], members: list[EventRecord]) -> None:
        self._entries[incident_id] = (stamp, members)
        self._entries.move_to_end(incident_id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def drop(self, incident_id: int) -> None:
        self._entries.pop(incident_id, None)


class PostRepo:
    """Everything about posts. Writes are one ``Database.run`` job each (one transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._members = Members()

    # ------------------------------------------------------------------ writes
    async def save(self, post: Post, analysis: Analysis | None, error: str | None = None) -> SaveOutcome:
        """Store a new or edited post with its analysis; the same post twice changes nothing."""
        outcomes = await self.save_many([(post, analysis, error)])
        return outcomes[0]

    async def save_many(self, items: Sequence[Item]) -> list[SaveOutcome]:
        """Store many posts, their events and incidents in one transaction; all or nothing.

        One round trip to the database thread (``Database.run``), whatever the batch holds."""
        batch = list(items)
        return await self.db.run(lambda conn: save_batch(conn, batch, now_iso(), self._members))

    async def mark_deleted(self, channel: str, message_ids: Sequence[int]) -> int:
        """Mark posts deleted (they stay in the record); returns how many changed."""
        if not message_ids:
            return 0
        ids = list(message_ids)
        return await self.db.run(lambda conn: mark_deleted(conn, channel, ids, now_iso(), self._members))

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


def _record_from_row(row: Row) -> EventRecord:
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


# ---------------------------------------------------------------------------- the write job
# Everything below runs in the database thread, inside the transaction ``Database.run`` opened.

_DAYS_SELECT = (
    "SELECT incident_id, date, stated FROM incident_days WHERE country IS ? AND date BETWEEN ? AND ?"
)
_INSERT_DAY = "INSERT INTO incident_days (incident_id, country, date, stated) VALUES (?, ?, ?, ?)"
#: ``state`` key: the highest id of an incident dropped (left without events); never reused.
_DROPPED_INCIDENT = "incidents.highest_dropped_id"


def save_batch(
    conn: sqlite3.Connection, items: Sequence[Item], now: str, members: Members | None = None
) -> list[SaveOutcome]:
    """Store posts in order, with their events and incidents (inside a write transaction).

    The common cases go in bulk: every channel touch in one ``executemany``; one lookup of
    which posts exist; posts stored unchanged answered from it; new posts without events
    (most of them) inserted with their classifications in two ``executemany``. The rest
    (edits, posts with events, a post twice in the batch) go one by one, in order, through
    ``save_post``. Posts without events never take part in incident grouping, so storing
    them first changes nothing."""
    if len(items) == 1:
        post, analysis, error = items[0]
        return [save_post(conn, post, analysis, error, now, members=members)]
    conn.executemany(_TOUCH_CHANNEL, [_touch_values(post, now) for post, _a, _e in items])
    keys = Counter((post.channel, post.message_id) for post, _a, _e in items)
    existing = _existing(conn, list(keys))
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
        conn.executemany(_INSERT_POST, [_post_values(items[i][0], items[i][2], now) for i in bulk])
        conn.executemany(
            _INSERT_CLASSIFICATION_BY_KEY,
            [
                _classification_values(analysis, post)
                for post, analysis, _error in (items[i] for i in bulk)
                if analysis is not None
            ],
        )
        for i in bulk:
            analysis = items[i][1]
            outcomes[i] = SaveOutcome(SaveResult.NEW, relevant=analysis.relevant if analysis else False)
    for index, (post, analysis, error) in enumerate(items):
        if outcomes[index] is None:
            outcomes[index] = save_post(conn, post, analysis, error, now, touch=False, members=members)
    return [outcome for outcome in outcomes if outcome is not None]


def _existing(
    conn: sqlite3.Connection, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], tuple[str, str | None]]:
    """``(channel, message_id) -> (text, error)`` of the stored posts among ``keys``."""
    found: dict[tuple[str, int], tuple[str, str | None]] = {}
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        rows = conn.execute(
            # CROSS JOIN keeps the key list outermost, so each key is one lookup in the
            # (channel, message_id) index ("IN (VALUES ...)" would scan the whole table).
            "SELECT p.channel, p.message_id, p.text, p.error"
            f" FROM (VALUES {', '.join(['(?, ?)'] * len(chunk))})"
            " AS k CROSS JOIN posts p ON p.channel = k.column1 AND p.message_id = k.column2",
            [value for key in chunk for value in key],
        ).fetchall()
        for row in rows:
            found[(row[0], int(row[1]))] = (row[2], row[3])
    return found


def save_post(
    conn: sqlite3.Connection,
    post: Post,
    analysis: Analysis | None,
    error: str | None,
    now: str,
    *,
    touch: bool = True,
    members: Members | None = None,
) -> SaveOutcome:
    """Store one new or edited post, group its events (inside a write transaction)."""
    if touch:
        conn.execute(_TOUCH_CHANNEL, _touch_values(post, now))
    existing = conn.execute(
        "SELECT id, text, deleted, error, edit_date FROM posts WHERE channel = ? AND message_id = ?",
        (post.channel, post.message_id),
    ).fetchone()
    if existing is not None and existing["text"] == post.text and existing["error"] == error:
        return SaveOutcome(SaveResult.UNCHANGED)
    if existing is not None and _older_version(post, existing["edit_date"]):
        # A replay (or a late duplicate) of a version older than the one stored.
        return SaveOutcome(SaveResult.UNCHANGED)
    forward = post.forward
    if existing is None:
        post_id = int(conn.execute(_INSERT_POST, _post_values(post, error, now)).lastrowid or 0)
        result = SaveResult.NEW
        changed: set[int] = set()
        deleted = False
    else:
        post_id = int(existing["id"])
        version_row = conn.execute("SELECT COUNT(*) FROM post_edits WHERE post_id = ?", (post_id,)).fetchone()
        version = int(version_row[0]) if version_row else 0
        edit_date = iso(post.edit_date) if post.edit_date else None
        if existing["text"] != post.text:
            conn.execute(
                "INSERT INTO post_edits (post_id, version, text, edit_date, replaced_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (post_id, version + 1, existing["text"], edit_date, now),
            )
        conn.execute(
            "UPDATE posts SET text = ?, edit_date = ?, error = ?, updated_at = ?, has_media = ? WHERE id = ?",
            (post.text, edit_date, error, now, int(post.has_media), post_id),
        )
        changed = _drop_events(conn, post_id)
        deleted = bool(existing["deleted"])
        for lost in changed:
            # Grouping the new version must not see what the old one stated.
            _write_days(conn, lost, _members(conn, lost))
        conn.execute("DELETE FROM classifications WHERE post_id = ?", (post_id,))
        result = SaveResult.EDITED
    dropped = set(changed)  # incidents that lost events: re-read
    if analysis is None:
        _refresh_incidents(conn, changed, now, members)
        return SaveOutcome(result, changed_incidents=tuple(sorted(changed)))
    conn.execute(
        "INSERT INTO classifications (post_id, relevant, score, rules, labels) VALUES (?, ?, ?, ?, ?)",
        (post_id, *_classification_values(analysis)),
    )
    created: list[int] = []
    taken: set[int] = set()  # an incident never holds two events of one post
    added: dict[int, list[EventRecord]] = {}
    for seq, event in enumerate(analysis.events):
        record = EventRecord(0, event, post.channel, post.message_id, post.date, forward)
        incident_id = _group(conn, record, taken)
        if incident_id is None:
            incident_id = _new_incident(conn, event, post.date, now)
            created.append(incident_id)
        event_id = conn.execute(
            f"INSERT INTO events (post_id, seq, incident_id, {_EVENT_COLUMNS})"
            f" VALUES (?, ?, ?, {_EVENT_MARKS})",
            (post_id, seq, incident_id, *_event_values(event)),
        ).lastrowid
        added.setdefault(incident_id, []).append(
            EventRecord(
                int(event_id or 0),
                event,
                post.channel,
                post.message_id,
                post.date,
                forward,
                incident_id,
                deleted,
            )
        )
        taken.add(incident_id)
        changed.add(incident_id)
    _refresh_incidents(conn, changed, now, members, added=added, dropped=dropped)
    return SaveOutcome(
        result,
        relevant=analysis.relevant,
        events=len(analysis.events),
        new_incidents=tuple(created),
        changed_incidents=tuple(sorted(changed - set(created))),
    )


def _drop_events(conn: sqlite3.Connection, post_id: int) -> set[int]:
    rows = conn.execute(
        "SELECT DISTINCT incident_id FROM events WHERE post_id = ? AND incident_id IS NOT NULL", (post_id,)
    ).fetchall()
    conn.execute("DELETE FROM events WHERE post_id = ?", (post_id,))
    return {int(row[0]) for row in rows}


def _group(conn: sqlite3.Connection, record: EventRecord, taken: set[int]) -> int | None:
    """The incident ``record`` joins (None: a new one), from one row per incident and day of
    the window plus the events related by forwarding: nothing is left out, and the cost
    does not grow with how many reports the incidents in the window already have."""
    event = record.event
    low, high = (day.isoformat() for day in grouping.window(event.date))
    stated: dict[int, list[Event]] = {}
    for incident_id, day, facts in conn.execute(_DAYS_SELECT, (event.country, low, high)):
        date = dt.date.fromisoformat(day)
        stated.setdefault(int(incident_id), []).extend(
            Event(
                date=date,
                country=event.country,
                admin1=admin1,
                place=place,
                lat=lat,
                lon=lon,
                attack_type=attack_type,
                target=target,
            )
            for admin1, place, lat, lon, attack_type, target in json.loads(facts)
        )
    candidates = [grouping.Candidate(i, tuple(events)) for i, events in sorted(stated.items())]
    return grouping.find_incident(record, candidates, _forwards(conn, record, low, high), taken)


def _forwards(conn: sqlite3.Connection, record: EventRecord, low: str, high: str) -> list[EventRecord]:
    """Grouped events related to ``record`` by forwarding: of the post it forwards and of
    the other forwards of that post; for a post that is not a forward, of the posts that
    forward it (within the window, as they arrive among the window's candidates)."""
    forward = record.forward
    if forward is None:
        sql = (
            _MEMBER_SELECT + " WHERE p.fwd_channel = ? AND p.fwd_message_id = ? AND e.incident_id IS NOT NULL"
            " AND e.country IS ? AND e.date BETWEEN ? AND ? ORDER BY e.id"
        )
        params: tuple[Any, ...] = (record.channel, record.message_id, record.event.country, low, high)
    else:
        sql = (
            _MEMBER_SELECT + " WHERE p.channel = ? AND p.message_id = ? AND e.incident_id IS NOT NULL"
            " UNION " + _MEMBER_SELECT + " WHERE p.fwd_channel = ? AND p.fwd_message_id = ?"
            " AND e.incident_id IS NOT NULL ORDER BY 1"
        )
        params = (forward.channel, forward.message_id, forward.channel, forward.message_id)
    return [_record_from_row(row) for row in conn.execute(sql, params)]


def _refresh_incidents(
    conn: sqlite3.Connection,
    incident_ids: set[int],
    now: str,
    cache: Members | None = None,
    *,
    added: dict[int, list[EventRecord]] | None = None,
    dropped: set[int] | None = None,
) -> None:
    """Recompute each incident's best details and its ``incident_days`` from its members;
    drop incidents left empty. ``added``: events just added to an incident (when that is all
    that changed, ``cache`` may hold the others)."""
    for incident_id in sorted(incident_ids):
        members = None
        fresh = (added or {}).get(incident_id)
        if cache is not None and fresh is not None and incident_id not in (dropped or set()):
            stamp = conn.execute(
                "SELECT version, updated_at FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()
            known = cache.get(incident_id, (int(stamp[0]), stamp[1])) if stamp is not None else None
            if known is not None:
                members = [*known, *fresh]
        if members is None:
            members = _members(conn, incident_id)
        _write_days(conn, incident_id, members)
        if not members:
            if cache is not None:
                cache.drop(incident_id)
            conn.execute("DELETE FROM incident_notices WHERE incident_id = ?", (incident_id,))
            conn.execute("DELETE FROM incidents WHERE id = ?", (incident_id,))
            conn.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                " SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                (_DROPPED_INCIDENT, str(incident_id)),
            )
            continue
        best = grouping.summarise(members)
        first_seen = min(member.posted_at for member in members)
        version = conn.execute(
            "UPDATE incidents SET date = ?, country = ?, admin1 = ?, place = ?, place_ar = ?, lat = ?,"
            " lon = ?, attack_type = ?, target = ?, claimed_by = ?, killed = ?, injured = ?,"
            " first_seen = ?, updated_at = ?, version = version + 1 WHERE id = ? RETURNING version",
            (*_event_values(best), iso(first_seen), now, incident_id),
        ).fetchone()
        if cache is not None and version is not None:
            cache.put(incident_id, (int(version[0]), now), members)


def _new_incident(conn: sqlite3.Connection, event: Event, posted_at: dt.datetime, now: str) -> int:
    """Store a new incident under an id never used before: SQLite would give a new row the id of
    a dropped newest one, and alert keys (``alert:<id>:...``) name incidents by id."""
    newest = conn.execute("SELECT MAX(id) FROM incidents").fetchone()[0]
    dropped = conn.execute("SELECT value FROM state WHERE key = ?", (_DROPPED_INCIDENT,)).fetchone()
    incident_id = max(int(newest or 0), int(dropped[0]) if dropped else 0) + 1
    conn.execute(
        f"INSERT INTO incidents (id, {_EVENT_COLUMNS}, first_seen, updated_at)"
        f" VALUES (?, {_EVENT_MARKS}, ?, ?)",
        (incident_id, *_event_values(event), iso(posted_at), now),
    )
    return incident_id


def _members(conn: sqlite3.Connection, incident_id: int) -> list[EventRecord]:
    rows = conn.execute(_MEMBER_SELECT + " WHERE e.incident_id = ? ORDER BY e.id", (incident_id,))
    return [_record_from_row(row) for row in rows]


def _write_days(conn: sqlite3.Connection, incident_id: int, members: Sequence[EventRecord]) -> None:
    """Replace an incident's ``incident_days`` rows with what ``members`` state."""
    conn.execute("DELETE FROM incident_days WHERE incident_id = ?", (incident_id,))
    conn.executemany(_INSERT_DAY, _day_rows(incident_id, members))


def _day_rows(incident_id: int, members: Sequence[EventRecord]) -> list[tuple[Any, ...]]:
    """``incident_days`` rows: what the members state, per country and day (migration 2's
    JSON shape: ``[admin1, place, lat, lon, attack_type, target]`` lists)."""
    days: dict[tuple[str | None, str], list[list[Any]]] = {}
    for fact in grouping.stated(members):
        days.setdefault((fact.country, fact.date.isoformat()), []).append(
            [fact.admin1, fact.place, fact.lat, fact.lon, fact.attack_type, fact.target]
        )
    return [
        (incident_id, country, day, json.dumps(facts, ensure_ascii=False, separators=(",", ":")))
        for (country, day), facts in days.items()
    ]


def mark_deleted(
    conn: sqlite3.Connection,
    channel: str,
    message_ids: Sequence[int],
    now: str,
    members: Members | None = None,
) -> int:
    """Mark posts deleted and refresh their incidents (inside a write transaction)."""
    changed = 0
    for message_id in message_ids:
        row = conn.execute(
            "UPDATE posts SET deleted = 1, deleted_at = ?, updated_at = ?"
            " WHERE channel = ? AND message_id = ? AND deleted = 0 RETURNING id",
            (now, now, channel, message_id),
        ).fetchone()
        if row is None:
            continue
        changed += 1
        rows = conn.execute(
            "SELECT DISTINCT incident_id FROM events WHERE post_id = ? AND incident_id IS NOT NULL",
            (int(row[0]),),
        ).fetchall()
        _refresh_incidents(conn, {int(r[0]) for r in rows}, now, members)
    return changed
