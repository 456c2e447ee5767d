"""The gazetteer CSV: ISO 3166-2 codes from pycountry, names, kinds, coordinates, bad data."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.extract.gazetteer import COLUMNS, KIND_RANK, Gazetteer, load_gazetteer

GAZETTEER = Path("config/gazetteer")
# Generous bounding boxes (lat_min, lat_max, lon_min, lon_max).
BOXES = {"IQ": (29.0, 37.5, 38.7, 48.8), "SY": (32.3, 37.4, 35.6, 42.5)}


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer(GAZETTEER.glob("*.csv"))


@pytest.mark.parametrize(
    ("place_id", "code"),
    [
        ("iq-al-qadisiyyah-gov", "IQ-QA"),
        ("iq-al-muthanna-gov", "IQ-MU"),
        ("iq-salah-al-din-gov", "IQ-SD"),
        ("iq-babil-gov", "IQ-BB"),
        ("iq-dhi-qar-gov", "IQ-DQ"),
        ("iq-baghdad-gov", "IQ-BG"),
        ("iq-nineveh-gov", "IQ-NI"),
        ("iq-erbil-gov", "IQ-AR"),
        ("iq-duhok-gov", "IQ-DA"),
        ("sy-hasakah-gov", "SY-HA"),
        ("sy-deir-ez-zor-gov", "SY-DY"),
        ("sy-raqqa-gov", "SY-RA"),
        ("sy-aleppo-gov", "SY-HL"),
    ],
)
def test_governorate_codes_come_from_pycountry(gazetteer: Gazetteer, place_id: str, code: str) -> None:
    """Governorate rows get the ISO 3166-2 codes GUIDELINES.md lists."""
    assert gazetteer.places[place_id].admin1 == code


def test_every_iraqi_governorate_is_listed(gazetteer: Gazetteer) -> None:
    """All 18 ISO governorates of Iraq have a row (the Kurdistan Region is not a governorate)."""
    codes = {
        place.admin1 for place in gazetteer.places.values() if place.is_governorate and place.country == "IQ"
    }
    assert len(codes) == 18


@pytest.mark.parametrize(
    ("place_id", "code"),
    [
        ("iq-nasiriyah", "IQ-DQ"),
        ("iq-abu-ghraib", "IQ-BG"),
        ("iq-samawah", "IQ-MU"),
        ("iq-diwaniyah", "IQ-QA"),
        ("iq-jableh", "IQ-BB"),
        ("sy-shaddadi", "SY-HA"),
        ("sy-albu-kamal", "SY-DY"),
    ],
)
def test_places_inherit_their_governorate_code(gazetteer: Gazetteer, place_id: str, code: str) -> None:
    """A city's admin1 is its governorate's code (Nasiriyah -> IQ-DQ)."""
    assert gazetteer.places[place_id].admin1 == code


@pytest.mark.parametrize(
    ("place_id", "code"),
    [
        ("iq-madain", "IQ-BG"),
        ("iq-saidiya", "IQ-BG"),
        ("iq-daquq", "IQ-KI"),
        ("iq-qara-hanjir", "IQ-KI"),
        ("iq-baaj", "IQ-NI"),
        ("iq-hatra", "IQ-NI"),
        ("iq-degala", "IQ-AR"),
        ("iq-koya", "IQ-AR"),
        ("iq-faysh-khabur", "IQ-DA"),
        ("iq-kalar", "IQ-SU"),
        ("iq-chamchamal", "IQ-SU"),
        ("iq-kifri", "IQ-DI"),
        ("iq-balad-ruz", "IQ-DI"),
        ("iq-kubaisa", "IQ-AN"),
        ("iq-ubaydi", "IQ-AN"),
        ("iq-dhuluiya", "IQ-SD"),
        ("iq-amerli", "IQ-SD"),
        ("iq-haswa", "IQ-BB"),
        ("iq-sheikh-saad", "IQ-WA"),
        ("iq-majar-al-kabir", "IQ-MA"),
        ("iq-chibayish", "IQ-DQ"),
        ("iq-suwair", "IQ-MU"),
        ("iq-sudair", "IQ-QA"),
        ("iq-hira", "IQ-NA"),
        ("iq-ukhaidir", "IQ-KA"),
        ("iq-rumaila", "IQ-BA"),
        ("sy-sour", "SY-DY"),
        ("sy-tayyana", "SY-DY"),
        ("sy-malikiyah", "SY-HA"),
        ("sy-ain-issa", "SY-RA"),
    ],
)
def test_districts_towns_and_fields_have_their_governorate(
    gazetteer: Gazetteer, place_id: str, code: str
) -> None:
    """Districts, sub-districts, towns and fields off the main routes resolve to their governorate."""
    assert gazetteer.places[place_id].admin1 == code


def test_every_governorate_has_its_districts(gazetteer: Gazetteer) -> None:
    """Each Iraqi governorate and each north-east Syrian province has at least five places below it."""
    below: dict[str, int] = {}
    for place in gazetteer.places.values():
        if place.admin1 and not place.is_governorate:
            below[place.admin1] = below.get(place.admin1, 0) + 1
    iraqi = {
        place.admin1
        for place in gazetteer.places.values()
        if place.admin1 and place.is_governorate and place.country == "IQ"
    }
    short = {code: below.get(code, 0) for code in iraqi | {"SY-HA", "SY-DY"} if below.get(code, 0) < 5}
    assert short == {}


def test_coordinates_are_inside_their_country(gazetteer: Gazetteer) -> None:
    """Every point lies in a box around its country (catches swapped or mistyped coordinates)."""
    for place in gazetteer.places.values():
        if place.lat is None or place.lon is None:
            assert place.kind == "road", place.id
            continue
        lat_min, lat_max, lon_min, lon_max = BOXES[place.country]
        assert lat_min <= place.lat <= lat_max and lon_min <= place.lon <= lon_max, place.id


def test_every_place_has_english_and_arabic_names(gazetteer: Gazetteer) -> None:
    """Reports come in both languages, so every place needs both spellings."""
    for place in gazetteer.places.values():
        assert place.name and place.name_ar, place.id


def test_latin_names_are_exact_and_ambiguous_arabic_names_too(gazetteer: Gazetteer) -> None:
    """'Hit' must not match 'hits'; بلد must not match البلد; other Arabic names take proclitics."""
    by_term = {(entry.concept, entry.term): entry.exact for entry in gazetteer.entries}
    assert by_term[("place:iq-hit", "Hit")] is True
    assert by_term[("place:iq-balad", "بلد")] is True
    assert by_term[("place:iq-diwaniyah", "الديوانية")] is False


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in COLUMNS})
    return path


GOV = {
    "id": "iq-babil-gov",
    "name_en": "Babil",
    "name_ar": "بابل",
    "kind": "governorate",
    "country": "IQ",
    "governorate": "Babil",
    "lat": "32.5",
    "lon": "44.5",
}
TOWN = {
    "id": "iq-hillah",
    "name_en": "Hillah",
    "name_ar": "الحلة",
    "kind": "city",
    "country": "IQ",
    "governorate": "Babil",
    "lat": "32.46",
    "lon": "44.42",
}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([GOV, {**TOWN, "kind": "metropolis"}], "unknown kind"),
        ([GOV, {**TOWN, "governorate": "Atlantis"}], "unknown governorate"),
        ([{**GOV, "name_en": "Narnia", "governorate": "Narnia"}], "matches no ISO 3166-2"),
        ([GOV, {**TOWN, "lat": "north"}], "not a number"),
        ([GOV, {**TOWN, "lat": "132.0"}], "out of range"),
        ([GOV, TOWN, {**TOWN, "id": "iq-hillah-2"}], "is also a name of"),
        ([GOV, TOWN, TOWN], "duplicate place id"),
        ([GOV, {**TOWN, "ambiguous": "fr"}], "ambiguous must be"),
        ([GOV, {**TOWN, "governorate": ""}], "only a road"),
    ],
)
def test_bad_rows_are_config_errors_with_a_line(
    tmp_path: Path, rows: list[dict[str, str]], message: str
) -> None:
    """Bad gazetteer data is one ConfigError naming the file and line."""
    path = _write(tmp_path / "places.csv", rows)
    with pytest.raises(ConfigError, match=message) as caught:
        load_gazetteer([path])
    assert caught.value.file == str(path)
    assert caught.value.line is not None and caught.value.line >= 2


def test_missing_columns_are_reported(tmp_path: Path) -> None:
    """A CSV without the expected header is rejected up front."""
    path = tmp_path / "places.csv"
    path.write_text("id,name\nx,y\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="missing columns"):
        load_gazetteer([path])


def test_kinds_are_ranked() -> None:
    """A junction is more specific than a town, a town than a city, a city than a governorate."""
    assert KIND_RANK["junction"] > KIND_RANK["town"] > KIND_RANK["city"] > KIND_RANK["governorate"]
