"""The gazetteer: places convoy reports name, with their governorate codes (pycountry).

``config/gazetteer/*.csv`` lists each place once with its English and Arabic spellings,
kind, country, governorate and coordinates. Governorate (admin1) codes are not typed in
the CSV: each governorate row is matched to its ISO 3166-2 subdivision in pycountry by
name at load time, and every other row inherits the code of its governorate.

Every spelling becomes a ``TermEntry`` of concept ``place:<id>`` for the shared matcher.
Latin spellings are exact (no English inflections: "Hit" must not match "hits"); Arabic
ones tolerate proclitics (بالديوانية) unless the name is flagged ambiguous, when only the
bare word matches (so بلد does not match البلد "the country").

An Arabic variant may carry the English name posts give the place when they write it so:
``الحمزة=Hamzah`` (the short name of الحمزة الشرقي, "Hamzah al-Sharqi", is "Hamzah").
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pycountry

from bot.errors import ConfigError
from bot.rules.matcher import TermEntry, term_words

PLACE_PREFIX = "place:"

#: Kinds from least to most specific; an event's place is the most specific one named.
KIND_RANK: Mapping[str, int] = {
    "governorate": 0,
    "road": 1,
    "city": 2,
    "valley": 2,
    "town": 3,
    "district": 3,
    "crossing": 3,
    "base": 3,
    "junction": 4,
}
#: The rank of a road that lies in one governorate ("Baghdad airport road"): a site in its city.
LOCAL_ROAD_RANK = 3
COLUMNS = (
    "id",
    "name_en",
    "variants_en",
    "name_ar",
    "variants_ar",
    "kind",
    "country",
    "governorate",
    "lat",
    "lon",
    "source",
    "geonameid",
    "ambiguous",
    "notes",
)
_SCRIPTS = frozenset(("ar", "en"))


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer entry; ``admin1`` is its ISO 3166-2 governorate code."""

    id: str
    name: str
    name_ar: str | None
    kind: str
    country: str
    admin1: str | None
    lat: float | None = None
    lon: float | None = None
    #: Scripts ("ar", "en") whose spellings are also common words or person names.
    ambiguous: frozenset[str] = frozenset()
    #: A city named like its governorate (Baghdad, Basra): posts often mean the governorate.
    namesake: bool = False
    #: (spelling, English name) for spellings that name the place by another name: "الحمزة" is
    #: "Hamzah", where the full name "الحمزة الشرقي" is "Hamzah al-Sharqi"; the local name
    #: "Tuwairij" is the town reports call "Hindiyah".
    written: tuple[tuple[str, str], ...] = ()

    @property
    def concept(self) -> str:
        return PLACE_PREFIX + self.id

    @property
    def rank(self) -> int:
        """How specific the place is: a road within one governorate (Baghdad's airport road)
        is as specific as a district, a road across several less than a city."""
        if self.kind == "road" and self.admin1 is not None:
            return LOCAL_ROAD_RANK
        return KIND_RANK[self.kind]

    @property
    def is_governorate(self) -> bool:
        return self.kind == "governorate"

    def name_for(self, term: str) -> str:
        """The English name of the place as a spelling (a matcher term) names it."""
        return self.given_name(term) or self.name

    def given_name(self, term: str) -> str | None:
        """The English name a spelling is listed with ("Tuwairij=Hindiyah"), or None."""
        for spelling, english in self.written:
            if spelling == term:
                return english
        return None


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Places by id and the matcher terms that find them."""

    places: Mapping[str, Place]
    entries: tuple[TermEntry, ...]
    governorates: Mapping[str, Place] = field(default_factory=dict)

    def place(self, concept: str) -> Place | None:
        """The place a matcher concept names, or None for another kind of concept."""
        if not concept.startswith(PLACE_PREFIX):
            return None
        return self.places.get(concept[len(PLACE_PREFIX) :])


def _ascii_key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = re.sub(r"\b(governorate|province|muhafazat|region)\b", " ", text)
    text = re.sub(r"[^a-z ]+", " ", text)
    words = [word for word in text.split() if word]
    if words and words[0] in ("al", "an", "ar", "as", "ad", "at", "az", "el"):
        words = words[1:]
    return "".join(words)


def _subdivisions(country: str) -> dict[str, str]:
    """pycountry's subdivisions of a country: ascii key of the name -> ISO 3166-2 code."""
    database: Any = pycountry.subdivisions
    found = database.get(country_code=country) or ()
    return {_ascii_key(subdivision.name): subdivision.code for subdivision in found}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def _float(value: str, name: str, file: str, line: int) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} {value!r} is not a number", file=file, line=line) from None


def _is_arabic(term: str) -> bool:
    return any("\u0600" <= char <= "\u06ff" for char in term)


def _read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    file = str(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
            if missing:
                raise ConfigError(f"missing columns: {', '.join(missing)}", file=file, line=1)
            return [(reader.line_num, dict(row)) for row in reader]
    except OSError as error:
        raise ConfigError(f"cannot read gazetteer: {error.strerror}", file=file) from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(f"not a UTF-8 CSV file: {error}", file=file) from None


def _governorate_code(row: dict[str, str], country: str, file: str, line: int) -> str:
    table = _subdivisions(country)
    if not table:
        raise ConfigError(f"unknown country {country!r}", file=file, line=line)
    names = [row["governorate"], row["name_en"], *(spelling for spelling, _ in _english_variants(row))]
    codes = {table[key] for key in map(_ascii_key, names) if key in table}
    if len(codes) != 1:
        problem = "no" if not codes else "more than one"
        raise ConfigError(
            f"governorate {row['name_en']!r} matches {problem} ISO 3166-2 subdivision of {country}",
            file=file,
            line=line,
        )
    return codes.pop()


_ABU = re.compile(r"^(?:أبو|ابو)\s+")


def _case_forms(name: str) -> list[str]:
    """ "أبو غريب" is also written "أبي غريب" (after a preposition) and "أبا غريب"."""
    if not _ABU.match(name):
        return [name]
    rest = _ABU.sub("", name)
    return [name, f"أبي {rest}", f"أبا {rest}"]


def _variants(row: dict[str, str], column: str) -> list[tuple[str, str | None]]:
    """A variants column's spellings, each with the English name it gives or None
    ("الحمزة=Hamzah" in ``variants_ar``, "Tuwairij=Hindiyah" in ``variants_en``)."""
    found: list[tuple[str, str | None]] = []
    for variant in _split(row[column]):
        spelling, _, english = variant.partition("=")
        found.append((spelling.strip(), english.strip() or None))
    return found


def _arabic_variants(row: dict[str, str]) -> list[tuple[str, str | None]]:
    return _variants(row, "variants_ar")


def _english_variants(row: dict[str, str]) -> list[tuple[str, str | None]]:
    return _variants(row, "variants_en")


def _terms(row: dict[str, str]) -> list[str]:
    arabic = [spelling for spelling, _ in _arabic_variants(row)]
    english = [spelling for spelling, _ in _english_variants(row)]
    names = [row["name_en"], *english, row["name_ar"], *arabic]
    forms = [form for name in names if name.strip() for form in _case_forms(name.strip())]
    return list(dict.fromkeys(forms))


def load_gazetteer(paths: Iterable[Path]) -> Gazetteer:
    """Read gazetteer CSV files; raise ConfigError (file, line) on bad data."""
    rows: list[tuple[str, int, dict[str, str]]] = []
    for path in sorted(paths):
        rows.extend((str(path), line, row) for line, row in _read_rows(path))
    if not rows:
        raise ConfigError("the gazetteer is empty")
    governorates: dict[tuple[str, str], str] = {}
    for file, line, row in rows:
        if row["kind"].strip() == "governorate":
            country = row["country"].strip()
            key = (country, row["governorate"].strip() or row["name_en"].strip())
            governorates[key] = _governorate_code(row, country, file, line)
    places: dict[str, Place] = {}
    entries: list[TermEntry] = []
    owners: dict[tuple[str, ...], tuple[str, str]] = {}
    for file, line, row in rows:
        place_id = row["id"].strip()
        kind = row["kind"].strip()
        country = row["country"].strip()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", place_id):
            raise ConfigError(f"bad place id {place_id!r}", file=file, line=line)
        if place_id in places:
            raise ConfigError(f"duplicate place id {place_id!r}", file=file, line=line)
        if kind not in KIND_RANK:
            raise ConfigError(f"unknown kind {kind!r} (one of {', '.join(KIND_RANK)})", file=file, line=line)
        if not row["name_en"].strip():
            raise ConfigError("name_en is empty", file=file, line=line)
        governorate = row["governorate"].strip()
        admin1: str | None = None
        if governorate:
            admin1 = governorates.get((country, governorate))
            if admin1 is None:
                raise ConfigError(f"unknown governorate {governorate!r} for {country}", file=file, line=line)
        elif kind != "road":
            raise ConfigError("only a road may have no governorate", file=file, line=line)
        lat = _float(row["lat"], "lat", file, line)
        lon = _float(row["lon"], "lon", file, line)
        if (lat is None) != (lon is None):
            raise ConfigError("lat and lon go together", file=file, line=line)
        if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ConfigError(f"coordinates {lat}, {lon} are out of range", file=file, line=line)
        ambiguous = frozenset(_split(row["ambiguous"]))
        if not ambiguous <= _SCRIPTS:
            raise ConfigError(
                f"ambiguous must be ar, en or ar|en, got {row['ambiguous']!r}", file=file, line=line
            )
        place = Place(
            id=place_id,
            name=row["name_en"].strip(),
            name_ar=row["name_ar"].strip() or None,
            kind=kind,
            country=country,
            admin1=admin1,
            lat=lat,
            lon=lon,
            ambiguous=ambiguous,
            namesake=kind == "city"
            and bool(governorate)
            and _ascii_key(row["name_en"]).startswith(_ascii_key(governorate)),
            written=tuple(
                (form, english)
                for spelling, english in (*_arabic_variants(row), *_english_variants(row))
                if english is not None
                for form in _case_forms(spelling)
            ),
        )
        places[place_id] = place
        for term in _terms(row):
            arabic = _is_arabic(term)
            words = term_words(term)
            if not words:
                raise ConfigError(f"name {term!r} has no words", file=file, line=line)
            owner = owners.get(words)
            if owner is not None and owner[0] != place_id:
                raise ConfigError(
                    f"name {term!r} is also a name of {owner[0]!r} ({owner[1]})", file=file, line=line
                )
            owners[words] = (place_id, f"{file}:{line}")
            exact = not arabic or "ar" in ambiguous
            entries.append(TermEntry(place.concept, term, exact=exact, origin=f"{file}:{line}"))
    by_code = {place.admin1: place for place in places.values() if place.is_governorate and place.admin1}
    return Gazetteer(places, tuple(entries), by_code)
