"""Settings: sources, precedence and one-line errors that name the setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import Settings, load_settings
from tests.conftest import CONFIG


def test_defaults_load_without_any_configuration(tmp_path: Path) -> None:
    """With no file and no environment the defaults are valid and Telegram is off."""
    settings = load_settings(None)
    assert settings.db == Path("data/convoywatch.db")
    assert not settings.telegram_configured


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CONVOYWATCH_* variables win over the TOML file; lists may be comma-separated."""
    config = tmp_path / "c.toml"
    config.write_text('health_port = 9000\nchannels = ["@a"]\n')
    monkeypatch.setenv("CONVOYWATCH_HEALTH_PORT", "8080")
    monkeypatch.setenv("CONVOYWATCH_CHAT_IDS", "-100123, 42")
    settings = load_settings(config)
    assert settings.health_port == 8080
    assert settings.channels == ["@a"]
    assert settings.chat_ids == ["-100123", "42"]


def test_cli_override_wins_over_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An explicit override (``--db``) beats the environment."""
    monkeypatch.setenv("CONVOYWATCH_DB", str(tmp_path / "env.db"))
    assert load_settings(None, db=tmp_path / "flag.db").db == tmp_path / "flag.db"


@pytest.mark.parametrize(
    ("toml", "env", "fragment"),
    [
        ("bogus = 1\n", {}, "setting 'bogus': unknown setting"),
        ("", {"CONVOYWATCH_BOGUS": "1"}, "CONVOYWATCH_BOGUS: unknown setting"),
        ('timezone = "Mars/Olympus"\n', {}, "setting 'timezone': unknown time zone"),
        ("health_port = 70000\n", {}, "setting 'health_port'"),
        ('digest_times = ["7 o\'clock"]\n', {}, "setting 'digest_times'"),
        ("api_id = 12\n", {}, "api_hash must be set"),
        ('api_id = "abc"\napi_hash = "x"\n', {}, "api_id must be a number"),
        ('sender = "bot"\n', {}, "needs bot_token"),
        ("db = \n", {}, "not valid TOML"),
    ],
)
def test_bad_settings_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, env: dict[str, str], fragment: str
) -> None:
    """Every bad setting gives a ConfigError of one line naming what is wrong."""
    config = tmp_path / "c.toml"
    config.write_text(toml)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    """A --config that does not exist is reported, not silently ignored."""
    with pytest.raises(ConfigError, match="settings file not found"):
        load_settings(tmp_path / "nope.toml")


def test_secrets_do_not_appear_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram credentials and the bot token are masked in any rendering of the settings."""
    monkeypatch.setenv("CONVOYWATCH_API_ID", "7654321")
    monkeypatch.setenv("CONVOYWATCH_API_HASH", "deadbeefcafef00d")
    monkeypatch.setenv("CONVOYWATCH_BOT_TOKEN", "999:SECRETTOKEN")
    settings = load_settings(None)
    rendered = repr(settings) + str(settings.model_dump())
    for secret in ("7654321", "deadbeefcafef00d", "999:SECRETTOKEN"):
        assert secret not in rendered


def test_example_file_documents_every_setting() -> None:
    """config/convoywatch.toml names every setting, and uncommented it is valid."""
    text = (CONFIG / "convoywatch.toml").read_text()
    documented = set(re.findall(r"^# (\w+) = ", text, flags=re.MULTILINE))
    assert documented == set(Settings.model_fields)


def test_uncommented_example_is_valid(tmp_path: Path) -> None:
    """Uncommenting every example line yields a settings file that loads."""
    lines = []
    for line in (CONFIG / "convoywatch.toml").read_text().splitlines():
        if re.match(r"^# \w+ = ", line):
            lines.append(line[2:])
    config = tmp_path / "all.toml"
    config.write_text("\n".join(lines) + "\n")
    settings = load_settings(config)
    assert settings.telegram_configured
    assert settings.health_port == 8080
