"""Channel references from settings and the channel key convention."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.sources.telegram_refs import bare_id, channel_key, marked_id, parse_channel_ref, parse_channel_refs


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("@ConvoyNews", "convoynews"),
        ("ConvoyNews", "convoynews"),
        ("https://t.me/ConvoyNews", "convoynews"),
        ("t.me/ConvoyNews/1234", "convoynews"),
        ("https://t.me/s/ConvoyNews", "convoynews"),
        ("https://telegram.me/ConvoyNews?single", "convoynews"),
        ("-1001234567890", "1234567890"),
        ("1234567890", "1234567890"),
        ("https://t.me/c/1234567890/55", "1234567890"),
    ],
)
def test_references_resolve_to_the_channel_key(text: str, key: str) -> None:
    """Every accepted way of naming a channel gives the same key as Post.channel uses."""
    assert parse_channel_ref(text).key == key


@pytest.mark.parametrize(
    "text",
    ["", "https://t.me/+AbCdEf123", "https://t.me/joinchat/AbCdEf", "-123456", "@ab", "@bad-name!", "t.me/"],
)
def test_unusable_references_are_config_errors(text: str) -> None:
    """Invite links, group ids and malformed names are rejected with the setting's name."""
    with pytest.raises(ConfigError, match="channels"):
        parse_channel_ref(text)


def test_duplicates_collapse_to_one_channel() -> None:
    """The same channel written three ways is watched once."""
    refs = parse_channel_refs(["@ConvoyNews", "https://t.me/convoynews", "IraqWatch"])
    assert [ref.key for ref in refs] == ["convoynews", "iraqwatch"]


def test_marked_and_bare_ids_round_trip() -> None:
    """A channel id and its marked -100 form convert both ways; usernames win in keys."""
    assert marked_id(1234567890) == -1001234567890
    assert bare_id(-1001234567890) == 1234567890 == bare_id(1234567890)
    assert channel_key("ConvoyNews", 1) == "convoynews"
    assert channel_key(None, 1001) == "1001" == channel_key(None, marked_id(1001))
