"""Incident export: aligned table, spreadsheet-ready CSV, JSON and valid GeoJSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from bot.incident_export import CSV_COLUMNS, FORMATS, render_incidents, to_csv, to_geojson, to_json, to_table
from bot.model import Incident, Source

SEEN = dt.datetime(2021, 6, 10, 6, 0, tzinfo=dt.UTC)


def incident(incident_id: int, **changes: object) -> Incident:
    values: dict[str, object] = {
        "incident_id": incident_id,
        "date": dt.date(2021, 6, 10),
        "country": "IQ",
        "admin1": "IQ-BB",
        "place": "Jisr al-Mahaweel",
        "attack_type": "ied",
        "target": "us_coalition",
        "claimed_by": "Ashab al-Kahf",
        "killed": None,
        "injured": 2,
        "lat": 32.66,
        "lon": 44.41,
        "first_seen": SEEN,
        "sources": (
            Source("sabereen_news", 10, SEEN, "https://t.me/sabereen_news/10"),
            Source("iraq_monitor_en", 20, SEEN + dt.timedelta(minutes=30), "https://t.me/iraq_monitor_en/20"),
            Source(
                "sabereen_news",
                11,
                SEEN + dt.timedelta(hours=1),
                "https://t.me/sabereen_news/11",
                deleted=True,
            ),
        ),
        "place_ar": "جسر المحاويل",
    }
    values.update(changes)
    return Incident(**values)  # type: ignore[arg-type]


INCIDENTS = [
    incident(1),
    incident(2, place=None, place_ar=None, lat=None, lon=None, admin1=None, claimed_by="=HYPERLINK(1)"),
]


def test_csv_opens_in_a_spreadsheet() -> None:
    """BOM, header of ACLED-like columns, one row per incident, blanks for nulls, formulas defused."""
    text = to_csv(INCIDENTS)
    assert text.startswith("\ufeff")
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 2
    first = rows[0]
    assert (first["date"], first["admin1"], first["place"], first["place_ar"]) == (
        "2021-06-10",
        "IQ-BB",
        "Jisr al-Mahaweel",
        "جسر المحاويل",
    )
    assert (first["lat"], first["lon"], first["killed"], first["injured"]) == ("32.66", "44.41", "", "2")
    assert first["corroboration"] == "2"
    assert first["sources"].split() == [source.link for source in INCIDENTS[0].sources]
    assert first["first_seen"] == "2021-06-10T06:00:00Z"
    assert rows[1]["claimant"] == "'=HYPERLINK(1)"


def test_geojson_is_a_valid_feature_collection() -> None:
    """A FeatureCollection with a [lon, lat] Point for every incident that has coordinates."""
    data = json.loads(to_geojson(INCIDENTS))
    assert data["type"] == "FeatureCollection"
    assert isinstance(data["features"], list)
    assert len(data["features"]) == 1
    feature = data["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [44.41, 32.66]}
    lon, lat = feature["geometry"]["coordinates"]
    assert -180 <= lon <= 180 and -90 <= lat <= 90
    assert isinstance(feature["properties"], dict)
    assert feature["properties"]["claimant"] == "Ashab al-Kahf"
    assert feature["properties"]["sources"][0] == "https://t.me/sabereen_news/10"


def test_json_keeps_every_incident_and_source() -> None:
    """The JSON export lists all incidents, with each source's link and deleted flag."""
    data = json.loads(to_json(INCIDENTS))
    assert [item["incident_id"] for item in data] == [1, 2]
    assert data[1]["lat"] is None
    assert [source["deleted"] for source in data[0]["sources"]] == [False, False, True]


def test_table_is_aligned() -> None:
    """Every line of the table has the header's column starts; nulls show as '-'."""
    lines = to_table(INCIDENTS).splitlines()
    assert lines[0].startswith("id")
    assert len(lines) == 4
    place_column = lines[0].index("place")
    assert lines[2][place_column:].startswith("Jisr al-Mahaweel")
    assert lines[3][place_column:].startswith("-")


def test_no_incidents() -> None:
    """Empty exports are still valid in every format."""
    assert to_table([]) == "no incidents\n"
    assert json.loads(to_geojson([])) == {"type": "FeatureCollection", "features": []}
    assert json.loads(to_json([])) == []
    assert to_csv([]).removeprefix("\ufeff").strip() == ",".join(CSV_COLUMNS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_dispatches_by_format(fmt: str) -> None:
    """Each format name renders; the output is non-empty text."""
    assert render_incidents(INCIDENTS, fmt).strip()


def test_unknown_format_is_rejected() -> None:
    """A format that is not offered is a ValueError naming the choices."""
    with pytest.raises(ValueError, match="one of table, csv, json, geojson"):
        render_incidents(INCIDENTS, "xlsx")
