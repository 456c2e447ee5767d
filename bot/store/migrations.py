"""Ordered, named schema migrations; each runs in the same transaction as its bookkeeping row.

Append new steps at the end with the next number; never edit a step that has shipped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial",
        """
        CREATE TABLE channels (
            key TEXT PRIMARY KEY,
            peer_id INTEGER,
            access_hash INTEGER,
            username TEXT,
            title TEXT,
            status TEXT NOT NULL DEFAULT 'ok',
            reason TEXT,
            cursor INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            message_id INTEGER NOT NULL,
            date TEXT NOT NULL,
            edit_date TEXT,
            text TEXT NOT NULL,
            fwd_channel TEXT,
            fwd_message_id INTEGER,
            grouped_id INTEGER,
            has_media INTEGER NOT NULL DEFAULT 0,
            lang TEXT,
            corpus_id TEXT,
            deleted INTEGER NOT NULL DEFAULT 0,
            deleted_at TEXT,
            error TEXT,
            first_seen TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (channel, message_id)
        );
        CREATE INDEX posts_forward ON posts (fwd_channel, fwd_message_id) WHERE fwd_channel IS NOT NULL;

        -- every earlier text of an edited post, oldest first
        CREATE TABLE post_edits (
            post_id INTEGER NOT NULL REFERENCES posts (id),
            version INTEGER NOT NULL,
            text TEXT NOT NULL,
            edit_date TEXT,
            replaced_at TEXT NOT NULL,
            PRIMARY KEY (post_id, version)
        );

        CREATE TABLE classifications (
            post_id INTEGER PRIMARY KEY REFERENCES posts (id),
            relevant INTEGER NOT NULL,
            score REAL NOT NULL,
            rules TEXT NOT NULL,
            labels TEXT NOT NULL
        );
        CREATE INDEX classifications_relevant ON classifications (relevant);

        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            date TEXT NOT NULL,
            country TEXT,
            admin1 TEXT,
            place TEXT,
            place_ar TEXT,
            lat REAL,
            lon REAL,
            attack_type TEXT NOT NULL,
            target TEXT NOT NULL,
            claimed_by TEXT,
            killed INTEGER,
            injured INTEGER,
            first_seen TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX incidents_date ON incidents (date);
        CREATE INDEX incidents_updated ON incidents (updated_at);

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            post_id INTEGER NOT NULL REFERENCES posts (id),
            seq INTEGER NOT NULL,
            date TEXT NOT NULL,
            country TEXT,
            admin1 TEXT,
            place TEXT,
            place_ar TEXT,
            lat REAL,
            lon REAL,
            attack_type TEXT NOT NULL,
            target TEXT NOT NULL,
            claimed_by TEXT,
            killed INTEGER,
            injured INTEGER,
            incident_id INTEGER REFERENCES incidents (id),
            UNIQUE (post_id, seq)
        );
        CREATE INDEX events_window ON events (country, date);
        CREATE INDEX events_incident ON events (incident_id);

        -- an incident's sources: every post with an event grouped into it
        CREATE VIEW incident_sources AS
            SELECT e.incident_id, p.channel, p.message_id, p.date AS posted_at, p.deleted, e.id AS event_id
            FROM events e JOIN posts p ON p.id = e.post_id
            WHERE e.incident_id IS NOT NULL;

        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            key TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            period_start TEXT,
            period_end TEXT,
            incident_ids TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE digest_parts (
            id INTEGER PRIMARY KEY,
            digest_id INTEGER NOT NULL REFERENCES digests (id),
            chat_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            body TEXT NOT NULL,
            attachment BLOB,
            sent_at TEXT,
            telegram_message_id TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            UNIQUE (digest_id, chat_id, seq)
        );
        CREATE INDEX digest_parts_unsent ON digest_parts (digest_id, seq) WHERE sent_at IS NULL;
        CREATE TABLE incident_notices (
            incident_id INTEGER NOT NULL,
            chat_id TEXT NOT NULL,
            digest_id INTEGER NOT NULL,
            version TEXT NOT NULL,
            PRIMARY KEY (incident_id, chat_id, digest_id)
        );

        CREATE TABLE state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    ),
    Migration(
        2,
        "incident_days",
        """
        -- what an incident's members state per country and day (bot.incidents.stated, as JSON
        -- [admin1, place, lat, lon, attack_type, target] lists): grouping reads one row per
        -- incident and day of the window instead of every member event
        CREATE TABLE incident_days (
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            country TEXT,
            date TEXT NOT NULL,
            stated TEXT NOT NULL
        );
        CREATE INDEX incident_days_window ON incident_days (country, date);
        CREATE INDEX incident_days_incident ON incident_days (incident_id);
        INSERT INTO incident_days (incident_id, country, date, stated)
            SELECT incident_id, country, date,
                   json_group_array(json_array(admin1, place, lat, lon, attack_type, target))
            FROM (SELECT DISTINCT incident_id, country, date, admin1, place, lat, lon, attack_type, target
                  FROM events WHERE incident_id IS NOT NULL)
            GROUP BY incident_id, country, date;
        """,
    ),
)

#: The schema version this code writes; a database from a newer one is refused.
SCHEMA_VERSION = MIGRATIONS[-1].version
