"""Parsing analyst-chat commands and matching chat ids and governorates."""

from __future__ import annotations

import pytest

from bot.digest.commands import Command, normalise_chat, parse_command
from bot.digest.governorates import GOVERNORATES, find_governorate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/status", Command("status")),
        ("/digest 6h", Command("digest", ("6h",))),
        ("  /Incidents  Dhi Qar   3 ", Command("incidents", ("Dhi", "Qar", "3"))),
        ("/digest@convoy_bot 12h", Command("digest", ("12h",))),
        ("/digest@other_bot 12h", None),
        ("status", None),
        ("hello /status", None),
        ("", None),
    ],
)
def test_parse_command(text: str, expected: Command | None) -> None:
    """Commands with arguments and a bot mention parse; text and other bots' commands do not."""
    assert parse_command(text, "convoy_bot") == expected


@pytest.mark.parametrize(
    ("a", "b"), [("-1001234567890", -1001234567890), ("+4242", "4242"), ("@Analysts", "analysts")]
)
def test_chat_ids_compare_in_one_form(a: str, b: str | int) -> None:
    """Configured ids and Telegram's chat ids compare equal whatever their spelling."""
    assert normalise_chat(a) == normalise_chat(b)


@pytest.mark.parametrize(
    ("query", "code"),
    [("IQ-BG", "IQ-BG"), ("bg", "IQ-BG"), ("baghdad", "IQ-BG"), ("Dhi Qar", "IQ-DQ"), ("dhi-qar", "IQ-DQ"),
     ("salah_al-din", "IQ-SD"), ("الأنبار", "IQ-AN"), ("Atlantis", None)],
)  # fmt: skip
def test_find_governorate(query: str, code: str | None) -> None:
    """Governorates are found by ISO code, English or Arabic name."""
    found = find_governorate(query)
    assert (found.code if found else None) == code


def test_every_governorate_has_both_names_and_a_point_in_iraq() -> None:
    """All 18 ISO governorates carry English and Arabic names and a point inside Iraq's box."""
    assert len(GOVERNORATES) == 18
    for row in GOVERNORATES.values():
        assert row.name and row.name_ar
        assert 29 <= row.lat <= 37.5 and 38.5 <= row.lon <= 48.8
