"""Channel references from settings (``@name``, ``t.me`` links, numeric ids) and channel keys.

Pure: no Telethon, no I/O. The live source resolves a reference once and caches the result.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.errors import ConfigError

#: Telethon's "marked" id of a channel is -(10**12 + channel id), e.g. -1001234567890.
_CHANNEL_MARK = 10**12

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_LINK = re.compile(r"^(?:https?://)?(?:www\.)?(?:t|telegram)\.(?:me|dog)/(?P<path>.+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """One configured channel: a public username, or a numeric channel id (bare, unmarked)."""

    text: str
    username: str | None = None
    channel_id: int | None = None

    def __post_init__(self) -> None:
        if (self.username is None) == (self.channel_id is None):
            raise ValueError("a channel reference is either a username or an id")

    @property
    def key(self) -> str:
        """The channel key (``Post.channel``): the username lowercased, else the bare channel id."""
        if self.username is not None:
            return self.username.lower()
        assert self.channel_id is not None
        return channel_key(None, self.channel_id)


def marked_id(channel_id: int) -> int:
    """The marked peer id Telegram clients show for a channel (``-100`` followed by the id)."""
    return -(_CHANNEL_MARK + channel_id)


def bare_id(peer_id: int) -> int:
    """The bare channel id from a marked (``-100...``) or bare id."""
    return -peer_id - _CHANNEL_MARK if peer_id < 0 else peer_id


def channel_key(username: str | None, channel_id: int) -> str:
    """The channel key convention: username lowercased without ``@``, else the bare channel id
    (as Desktop exports and ``model.post_link``'s ``/c/<id>/`` links use it)."""
    if username:
        return username.lower()
    return str(bare_id(channel_id))


def parse_channel_ref(text: str) -> ChannelRef:
    """Read ``@name``, ``name``, ``https://t.me/name[/123]``, ``t.me/s/name``, ``-100…`` or a bare id."""
    value = text.strip()
    if not value:
        raise ConfigError("setting 'channels': empty channel reference")
    if re.fullmatch(r"-?\d+", value):
        number = int(value)
        if number < 0 and not value.startswith("-100"):
            raise ConfigError(f"setting 'channels': {value!r} is a group or user id, not a channel id")
        channel_id = bare_id(number)
        if channel_id <= 0:
            raise ConfigError(f"setting 'channels': {value!r} is not a channel id")
        return ChannelRef(text=value, channel_id=channel_id)
    link = _LINK.match(value)
    if link:
        parts = [part for part in link.group("path").split("?")[0].split("/") if part]
        if parts and parts[0] == "s":
            parts = parts[1:]
        if parts and parts[0] == "c" and len(parts) >= 2 and parts[1].isdigit():
            return ChannelRef(text=value, channel_id=int(parts[1]))
        if not parts or parts[0].startswith("+") or parts[0] == "joinchat":
            raise ConfigError(
                f"setting 'channels': {value!r} is an invite link; join the channel and use its id instead"
            )
        value = parts[0]
    name = value.removeprefix("@")
    if not _USERNAME.fullmatch(name):
        raise ConfigError(f"setting 'channels': {text.strip()!r} is not a channel username, link or id")
    return ChannelRef(text=text.strip(), username=name)


def parse_channel_refs(values: list[str]) -> list[ChannelRef]:
    """Every configured channel, without duplicates (same key), in the configured order."""
    seen: dict[str, ChannelRef] = {}
    for value in values:
        ref = parse_channel_ref(value)
        seen.setdefault(ref.key, ref)
    return list(seen.values())


def parse_since(text: str) -> dt.datetime:
    """A backfill start: ``2026-03-01`` (midnight UTC) or an ISO date-time (UTC unless it has a zone)."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-03-01 or 2026-03-01T06:00+03:00") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
