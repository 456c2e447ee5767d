"""Durations as people type them: ``90m``, ``6h``, ``2d``, ``1w`` (pure)."""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(text: str) -> dt.timedelta:
    """``"6h"`` -> 6 hours; several parts add up (``"1d12h"``). Raises ValueError otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(f"{text!r} is not a duration like 30m, 6h, 2d or 1w")
    total = dt.timedelta()
    for amount, unit in _PART.findall(cleaned):
        total += dt.timedelta(**{_UNITS[unit]: float(amount)})
    if total <= dt.timedelta():
        raise ValueError(f"{text!r} must be longer than zero")
    return total
