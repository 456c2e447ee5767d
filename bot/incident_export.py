"""Incidents rendered for people and tools: an aligned table, CSV, JSON, GeoJSON (pure).

The CSV has ACLED-like columns (one row per incident) and opens in a spreadsheet: UTF-8
with a byte-order mark (so Arabic shows right in Excel), CRLF rows, text cells that a
spreadsheet would run as a formula are quoted with a leading apostrophe. The GeoJSON is an
RFC 7946 FeatureCollection with a Point ``[lon, lat]`` for every incident that has
coordinates (incidents without any are left out of it; the other formats keep them).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

from bot.model import Incident

FORMATS = ("table", "csv", "json", "geojson")
CSV_COLUMNS = (
    "incident_id",
    "date",
    "country",
    "admin1",
    "place",
    "place_ar",
    "lat",
    "lon",
    "attack_type",
    "target",
    "claimant",
    "killed",
    "injured",
    "sources",
    "corroboration",
    "first_seen",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def incident_record(incident: Incident) -> dict[str, Any]:
    """One incident as a JSON-ready mapping (sources listed with their links)."""
    return {
        "incident_id": incident.incident_id,
        "date": incident.date.isoformat(),
        "country": incident.country,
        "admin1": incident.admin1,
        "place": incident.place,
        "place_ar": incident.place_ar,
        "lat": incident.lat,
        "lon": incident.lon,
        "attack_type": incident.attack_type,
        "target": incident.target,
        "claimant": incident.claimed_by,
        "killed": incident.killed,
        "injured": incident.injured,
        "corroboration": incident.corroboration,
        "first_seen": _iso(incident.first_seen),
        "sources": [
            {
                "channel": source.channel,
                "message_id": source.message_id,
                "posted_at": _iso(source.posted_at),
                "link": source.link,
                "deleted": source.deleted,
            }
            for source in incident.sources
        ],
    }


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def to_csv(incidents: Sequence[Incident]) -> str:
    """ACLED-like CSV, one row per incident; ``sources`` holds the post links, space-separated."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for incident in incidents:
        record = incident_record(incident)
        record["sources"] = " ".join(source.link for source in incident.sources)
        writer.writerow([_cell(record[column]) for column in CSV_COLUMNS])
    return "\ufeff" + buffer.getvalue()


def to_json(incidents: Sequence[Incident]) -> str:
    """A JSON array of incidents, each with its sources."""
    return (
        json.dumps([incident_record(incident) for incident in incidents], ensure_ascii=False, indent=2) + "\n"
    )


def to_geojson(incidents: Sequence[Incident]) -> str:
    """A GeoJSON FeatureCollection: a Point feature for every incident with coordinates."""
    features = []
    for incident in incidents:
        if incident.lat is None or incident.lon is None:
            continue
        properties = incident_record(incident)
        properties["sources"] = [source["link"] for source in properties["sources"]]
        features.append(
            {
                "type": "Feature",
                "id": incident.incident_id,
                "geometry": {"type": "Point", "coordinates": [incident.lon, incident.lat]},
                "properties": properties,
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, indent=2) + "\n"


_TABLE_COLUMNS: tuple[tuple[str, Callable[[Incident], str]], ...] = (
    ("id", lambda i: str(i.incident_id)),
    ("date", lambda i: i.date.isoformat()),
    ("admin1", lambda i: i.admin1 or "-"),
    ("place", lambda i: i.place or "-"),
    ("type", lambda i: i.attack_type),
    ("target", lambda i: i.target),
    ("claimant", lambda i: i.claimed_by or "-"),
    ("killed", lambda i: "-" if i.killed is None else str(i.killed)),
    ("injured", lambda i: "-" if i.injured is None else str(i.injured)),
    ("sources", lambda i: str(len(i.sources))),
    ("channels", lambda i: str(i.corroboration)),
    ("first seen (UTC)", lambda i: i.first_seen.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")),
)
_NUMERIC = frozenset(("id", "killed", "injured", "sources", "channels"))


def to_table(incidents: Sequence[Incident]) -> str:
    """An aligned plain-text table, one line per incident (numbers right-aligned)."""
    if not incidents:
        return "no incidents\n"
    rows = [[render(incident) for _, render in _TABLE_COLUMNS] for incident in incidents]
    headers = [name for name, _ in _TABLE_COLUMNS]
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if name in _NUMERIC else cell.ljust(width)
            for cell, width, name in zip(cells, widths, headers, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * width for width in widths])]
    out.extend(line(row) for row in rows)
    return "\n".join(out) + "\n"


def render_incidents(incidents: Sequence[Incident], fmt: str) -> str:
    """Render incidents in one of ``FORMATS``; ValueError for another format."""
    renderers: dict[str, Callable[[Sequence[Incident]], str]] = {
        "table": to_table,
        "csv": to_csv,
        "json": to_json,
        "geojson": to_geojson,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return renderers[fmt](incidents)
