"""Settings: environment (``CONVOYWATCH_*``), an optional ``.env``, and a TOML file.

Precedence, highest first: explicit overrides (CLI flags), environment variables, ``.env``,
the TOML settings file, defaults. Secrets are ``SecretStr`` and never logged.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from bot.errors import ConfigError

#: Where ``--config`` points by default; a missing default file is not an error.
DEFAULT_CONFIG = Path("config/convoywatch.toml")
CONFIG_ENV = "CONVOYWATCH_CONFIG"


class Settings(BaseSettings):
    """Every setting convoywatch reads. ``config/convoywatch.toml`` documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="CONVOYWATCH_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        validate_default=True,
    )

    # --- storage -------------------------------------------------------------------
    db: Path = Field(Path("data/convoywatch.db"), description="SQLite database file")
    data_dir: Path = Field(Path("data"), description="digest text/PNG output and other state")
    inbox: Path = Field(Path("data/inbox"), description="folder watched for export/JSONL files")
    inbox_poll_seconds: float = Field(2.0, gt=0, description="how often the inbox is scanned")

    # --- rules and extraction ------------------------------------------------------
    rules_dir: Path = Field(Path("config/rules"), description="YAML rule files")
    gazetteer_dir: Path = Field(Path("config/gazetteer"), description="gazetteer CSV files")
    groups_file: Path = Field(Path("config/groups.yaml"), description="claimant groups")
    sample: Path = Field(
        Path("config/sample/result.json"), description="export replayed when no Telegram is configured"
    )

    # --- Telegram (user client that reads channels) ---------------------------------
    api_id: SecretStr | None = Field(None, description="Telegram api_id from my.telegram.org")
    api_hash: SecretStr | None = Field(None, description="Telegram api_hash")
    session: SecretStr | None = Field(
        None, description="a StringSession string; if unset, session_file is used"
    )
    session_file: Path = Field(Path("data/convoywatch.session"), description="Telethon session file")
    channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="channels to watch: @username, t.me/... links or numeric ids"
    )
    join_channels: bool = Field(False, description="join channels that are not joined yet")
    catch_up_interval_seconds: float = Field(300.0, gt=0, description="periodic fetch after the cursor")
    recheck_window: int = Field(
        200, ge=0, description="recent posts per channel re-checked for edits/deletes"
    )
    recheck_interval_seconds: float = Field(
        900.0, gt=0, description="how often the recent window is re-checked"
    )
    flood_max_wait_seconds: float = Field(
        300.0, ge=0, description="longest flood wait slept through; longer pauses the channel"
    )
    reconnect_max_backoff_seconds: float = Field(300.0, gt=0, description="cap on reconnect backoff")

    # --- delivery -----------------------------------------------------------------------
    bot_token: SecretStr | None = Field(None, description="Telegram bot token used to send digests")
    chat_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="analyst chat ids that receive digests"
    )
    sender: Literal["auto", "bot", "user", "console", "file"] = Field(
        "auto", description="auto: bot if bot_token, else console (file too, under data_dir)"
    )
    timezone: str = Field("Asia/Baghdad", description="zone for digest times and grouping by day")
    digest_every_hours: float | None = Field(
        None, gt=0, description="periodic digest every N hours (instead of digest_times)"
    )
    digest_times: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["07:00", "19:00"], description="local times of the periodic digest"
    )
    daily_summary_time: str | None = Field("07:00", description="local time of the daily summary; empty: off")
    send_empty: bool = Field(False, description="send 'no new incidents' when there is nothing new")
    alert_min_sources: int = Field(
        2, ge=1, description="alert at once when corroborated by this many channels"
    )
    alert_min_casualties: int = Field(
        1, ge=0, description="alert at once at this many killed + injured (0: off)"
    )
    alert_on_claim: bool = Field(True, description="alert at once when a group claims the attack")
    alert_governorates: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="alert at once for incidents in these ISO 3166-2 codes"
    )

    # --- operations -----------------------------------------------------------------
    health_port: int | None = Field(None, ge=1, le=65535, description="HTTP /healthz and /metrics port")
    health_host: str = Field("127.0.0.1", description="address the health server binds")
    heartbeat_seconds: float = Field(15.0, gt=0, description="heartbeat period; 4 missed = unhealthy")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="log level")
    log_format: Literal["auto", "json", "console"] = Field("auto", description="auto: JSON unless a TTY")

    _toml_file: ClassVar[Path | None] = None

    @field_validator("api_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("digest_times")
    @classmethod
    def _clock_times(cls, values: list[str]) -> list[str]:
        for value in values:
            _parse_clock(value)
        return values

    @field_validator("daily_summary_time")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value:
            _parse_clock(value)
            return value
        return None

    @field_validator("channels", "chat_ids", "alert_governorates", "digest_times", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, int):
            return [str(value)]
        return value

    @field_validator("chat_ids", mode="before")
    @classmethod
    def _chat_ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(item) for item in value]
        return value

    @model_validator(mode="after")
    def _telegram_pair(self) -> Settings:
        if (self.api_id is None) != (self.api_hash is None):
            missing = "api_hash" if self.api_hash is None else "api_id"
            raise ValueError(f"{missing} must be set together with the other Telegram credential")
        if self.api_id is not None and not self.api_id.get_secret_value().strip().isdigit():
            raise ValueError("api_id must be a number")
        if self.sender == "bot" and self.bot_token is None:
            raise ValueError("sender 'bot' needs bot_token")
        if self.sender in {"bot", "user"} and not self.chat_ids:
            raise ValueError(f"sender {self.sender!r} needs chat_ids")
        return self

    @property
    def telegram_configured(self) -> bool:
        """True when the live source can run (api id and hash set)."""
        return self.api_id is not None and self.api_hash is not None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if cls._toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_file))
        sources.append(file_secret_settings)
        return tuple(sources)


def _parse_clock(value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a time of day like 07:00") from error


def parse_clock(value: str) -> dt.time:
    """A ``HH:MM`` setting as a time of day."""
    return _parse_clock(value)


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Load settings, turning any problem into a one-line ``ConfigError`` naming the setting."""
    explicit = config is not None or CONFIG_ENV in os.environ
    path = config or Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG))
    toml_file: Path | None = None
    if path.exists():
        try:
            with path.open("rb") as handle:
                tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"not valid TOML: {error}", file=str(path)) from error
        except OSError as error:
            raise ConfigError(f"cannot read settings file: {error.strerror}", file=str(path)) from error
        toml_file = path
    elif explicit:
        raise ConfigError("settings file not found", file=str(path))
    known = {f"CONVOYWATCH_{name.upper()}" for name in Settings.model_fields} | {CONFIG_ENV}
    unknown = sorted(name for name in os.environ if name.startswith("CONVOYWATCH_") and name not in known)
    if unknown:
        raise ConfigError(f"environment variable {unknown[0]}: unknown setting")
    Settings._toml_file = toml_file
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except SettingsError as error:
        raise ConfigError(str(error)) from error
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "settings"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown setting"
        source = f" (in {toml_file})" if toml_file else ""
        raise ConfigError(f"setting {name!r}: {message}{source}") from error
    finally:
        Settings._toml_file = None
