"""Iraq's governorates: ISO 3166-2 code, English and Arabic names, an approximate centre (pure data).

The centres are the approximate centroids (+-0.5 degrees) of the ``manual`` governorate rows of
``/work/shared/reference/iraq_gazetteer.csv``; they place labels on the digest chart, nothing
more. ``IRAQ_OUTLINE`` is a hand-drawn, approximate border (about 0.2 degrees) for the same chart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Governorate:
    """One governorate: its code, names and the point the chart labels it at."""

    code: str
    name: str
    name_ar: str
    lat: float
    lon: float


_ROWS: tuple[Governorate, ...] = (
    Governorate("IQ-AN", "Anbar", "الأنبار", 33.0, 41.9),
    Governorate("IQ-AR", "Erbil", "أربيل", 36.35, 44.2),
    Governorate("IQ-BA", "Basra", "البصرة", 30.45, 47.35),
    Governorate("IQ-BB", "Babil", "بابل", 32.55, 44.5),
    Governorate("IQ-BG", "Baghdad", "بغداد", 33.35, 44.4),
    Governorate("IQ-DA", "Duhok", "دهوك", 37.0, 43.25),
    Governorate("IQ-DI", "Diyala", "ديالى", 34.0, 45.0),
    Governorate("IQ-DQ", "Dhi Qar", "ذي قار", 31.1, 46.3),
    Governorate("IQ-KA", "Karbala", "كربلاء", 32.6, 43.7),
    Governorate("IQ-KI", "Kirkuk", "كركوك", 35.4, 44.15),
    Governorate("IQ-MA", "Maysan", "ميسان", 31.9, 47.1),
    Governorate("IQ-MU", "Al-Muthanna", "المثنى", 30.4, 45.3),
    Governorate("IQ-NA", "Najaf", "النجف", 31.0, 43.8),
    Governorate("IQ-NI", "Nineveh", "نينوى", 36.0, 42.5),
    Governorate("IQ-QA", "Al-Qadisiyah", "القادسية", 31.85, 45.05),
    Governorate("IQ-SD", "Salah al-Din", "صلاح الدين", 34.5, 43.7),
    Governorate("IQ-SU", "Sulaymaniyah", "السليمانية", 35.55, 45.4),
    Governorate("IQ-WA", "Wasit", "واسط", 32.6, 45.75),
)

GOVERNORATES: Mapping[str, Governorate] = {row.code: row for row in _ROWS}

#: (lon, lat) vertices of Iraq's border, approximate, clockwise from the Syria-Turkey tripoint.
IRAQ_OUTLINE: tuple[tuple[float, float], ...] = (
    (42.36, 37.11),
    (43.2, 37.35),
    (44.3, 37.05),
    (44.79, 37.14),
    (45.0, 36.7),
    (45.35, 36.0),
    (46.1, 35.7),
    (45.9, 35.1),
    (45.65, 34.55),
    (45.5, 33.95),
    (46.15, 33.2),
    (47.4, 32.45),
    (47.85, 31.75),
    (47.7, 31.0),
    (48.0, 30.45),
    (48.55, 29.95),
    (47.95, 29.98),
    (47.7, 30.1),
    (47.1, 29.35),
    (46.55, 29.1),
    (44.7, 29.2),
    (42.1, 31.1),
    (40.4, 31.95),
    (39.2, 32.16),
    (39.3, 32.35),
    (38.79, 33.38),
    (41.0, 34.42),
    (41.2, 34.8),
    (41.3, 35.6),
    (41.4, 36.5),
    (42.35, 37.1),
)


def governorate_name(code: str | None) -> str:
    """The English name for a governorate code; the code itself when unknown."""
    if code is None:
        return "Unknown governorate"
    row = GOVERNORATES.get(code)
    return row.name if row else code


def find_governorate(query: str) -> Governorate | None:
    """A governorate by code (``IQ-BG``, ``BG``), English or Arabic name, case-insensitive."""
    wanted = query.strip().casefold().replace("_", " ")
    for row in _ROWS:
        names = {
            row.code.casefold(),
            row.code.casefold().removeprefix("iq-"),
            row.name.casefold(),
            row.name_ar,
        }
        names |= {name.replace("-", " ") for name in names}
        if wanted in names or wanted.replace("-", " ") in names:
            return row
    return None
