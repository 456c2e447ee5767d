"""Replay sources: Telegram Desktop exports and JSONL corpora, streamed, with clear errors."""

from __future__ import annotations

import datetime as dt
import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from bot.errors import InputError
from bot.model import Post
from bot.sources.replay import (
    BadRecord,
    _LoneSurrogateFilter,
    clean_text,
    flatten_text,
    read_export,
    read_jsonl,
    read_posts,
)
from tests.conftest import CONFIG, SHARED


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _message(mid: int, text: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "type": "message",
        "date": "2024-02-03T08:12:00",
        "date_unixtime": "1706937120",
        "text": text,
        **extra,
    }


def test_single_chat_export(tmp_path: Path) -> None:
    """A single-channel export gives one Post per message, service messages skipped."""
    export = {
        "name": "Chan",
        "type": "public_channel",
        "id": 1618043997,
        "messages": [
            {
                "id": 1,
                "type": "service",
                "date": "2024-02-01T09:00:00",
                "date_unixtime": "1706767200",
                "action": "create_channel",
                "text": "",
            },
            _message(2, "hello"),
            _message(
                3, ["a ", {"type": "bold", "text": "b"}, {"type": "text_link", "text": "c", "href": "x"}]
            ),
        ],
    }
    posts = list(read_export(_write(tmp_path / "result.json", export)))
    assert all(isinstance(p, Post) for p in posts)
    assert [(p.channel, p.message_id, p.text) for p in posts if isinstance(p, Post)] == [
        ("1618043997", 2, "hello"),
        ("1618043997", 3, "a bc"),
    ]


def test_date_unixtime_is_the_truth(tmp_path: Path) -> None:
    """The local ``date`` string of the exporting machine is ignored when ``date_unixtime`` exists."""
    export = {"name": "C", "id": 5, "messages": [_message(2, "x", date="1999-01-01T00:00:00")]}
    (post,) = read_export(_write(tmp_path / "r.json", export))
    assert isinstance(post, Post)
    assert post.date == dt.datetime(2024, 2, 3, 5, 12, tzinfo=dt.UTC)


def test_full_account_export_reads_channels_not_private_chats(tmp_path: Path) -> None:
    """A full-account export yields posts of channels and groups, never personal chats."""
    export = {
        "about": "x",
        "chats": {
            "about": "y",
            "list": [
                {"name": "Friend", "type": "personal_chat", "id": 77, "messages": [_message(1, "private")]},
                {"name": "News", "type": "public_channel", "id": 88, "messages": [_message(9, "news")]},
            ],
        },
        "left_chats": {
            "about": "z",
            "list": [
                {"name": "Old", "type": "private_channel", "id": 99, "messages": [_message(4, "old")]},
            ],
        },
    }
    posts = [p for p in read_export(_write(tmp_path / "r.json", export)) if isinstance(p, Post)]
    assert [(p.channel, p.text) for p in posts] == [("88", "news"), ("99", "old")]


def test_media_only_and_edited_posts(tmp_path: Path) -> None:
    """A photo without caption is a post with empty text; the edit date is kept."""
    export = {
        "name": "C",
        "id": 5,
        "messages": [
            _message(2, "", photo="photos/p.jpg"),
            _message(3, "t", edited="2024-02-03T09:00:00", edited_unixtime="1706940000"),
        ],
    }
    first, second = read_export(_write(tmp_path / "r.json", export))
    assert isinstance(first, Post) and first.text == "" and first.has_media
    assert isinstance(second, Post) and second.edit_date == dt.datetime(2024, 2, 3, 6, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"name": "x", "id": 1}', "not a Telegram Desktop export"),
        ("[1, 2, 3]", "top level is not an object"),
        ('{"name": "x", "id": 1, "messages": [{"id": 1, "type": "message", "date_unix', "truncated"),
        ("not json at all", "not valid JSON"),
    ],
)
def test_files_that_are_not_exports_raise_input_error(tmp_path: Path, content: str, fragment: str) -> None:
    """A JSON file that is not an export, or a truncated one, is one clear InputError."""
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=fragment):
        list(read_export(path))


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    """A missing file names itself."""
    with pytest.raises(InputError, match="no such file"):
        list(read_posts(tmp_path / "nope.jsonl"))


def test_jsonl_bad_lines_are_reported_with_numbers_and_the_rest_read(tmp_path: Path) -> None:
    """A malformed JSONL line becomes a BadRecord with its line number; other lines still come."""
    good = {"id": "a", "channel": "@Chan", "message_id": 1, "date": "2021-01-23T07:41:00+00:00", "text": "x"}
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps(good)
        + "\n{not json\n\n"
        + json.dumps({**good, "message_id": "x"})
        + "\n"
        + json.dumps({**good, "id": "b", "message_id": 2})
        + "\n"
    )
    items = list(read_jsonl(path))
    assert [type(i).__name__ for i in items] == ["Post", "BadRecord", "BadRecord", "Post"]
    bad = [i for i in items if isinstance(i, BadRecord)]
    assert [b.line for b in bad] == [2, 4]
    assert str(bad[0]).startswith(f"{path}:2: not JSON")
    post = items[0]
    assert isinstance(post, Post) and post.channel == "chan" and post.corpus_id == "a"


def test_dev_corpus_reads_completely() -> None:
    """Every record of the shared dev corpus is a valid Post."""
    items = list(read_jsonl(SHARED / "eval" / "dev.jsonl"))
    assert len(items) == 160
    assert all(isinstance(item, Post) for item in items)


def test_bundled_sample_is_a_valid_export() -> None:
    """The embedded default's sample export reads without a single bad record."""
    items = list(read_posts(CONFIG / "sample" / "result.json"))
    assert len(items) >= 24
    assert all(isinstance(item, Post) for item in items)


def test_lone_surrogates_and_nuls_are_cleaned() -> None:
    """Text that SQLite/UTF-8 cannot store is repaired, valid pairs kept."""
    assert clean_text("a\ud800b\x00c") == "a\ufffdbc"
    assert clean_text("\ud83d\ude00") == "\U0001f600"


def test_deeply_nested_entities_do_not_recurse_forever() -> None:
    """A hostile entity list nested thousands deep flattens without RecursionError."""
    value: Any = "core"
    for _ in range(5000):
        value = [value, {"type": "bold", "text": "x"}]
    text = flatten_text(value)
    assert "x" in text


def test_message_ids_beyond_64_bits_are_bad_records(tmp_path: Path) -> None:
    """A message id SQLite cannot store is a BadRecord, not a failed batch."""
    path = tmp_path / "c.jsonl"
    record = {"channel": "c", "message_id": 2**63, "date": "2024-02-03T05:00:00+00:00", "text": "x"}
    path.write_text(json.dumps(record) + "\n")
    (item,) = read_jsonl(path)
    assert isinstance(item, BadRecord)
    assert "message_id" in item.message


@pytest.mark.parametrize("size", range(1, 16))
def test_surrogate_filter_never_cuts_an_escape(size: int) -> None:
    """Lone surrogate escapes become U+FFFD whatever the read size; pairs and escaped
    backslashes stay as they are."""
    source = rb'{"t": "a\udfffb \\udfff \ud83d\ude00 \ud800 \\ud83d", "u": "\\\\"}'
    stream = _LoneSurrogateFilter(io.BytesIO(source))
    out = b""
    while chunk := stream.read(size):
        out += chunk
    assert out == rb'{"t": "a\ufffdb \\udfff \ud83d\ude00 \ufffd \\ud83d", "u": "\\\\"}'
    assert json.loads(out)["t"] == "a\ufffdb \\udfff \U0001f600 \ufffd \\ud83d"


def _account_export(path: Path, messages: int) -> Path:
    """A full-account export: a personal chat, a channel of ``messages`` posts, a left channel."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"about": "x", "chats": {"about": "y", "list": [')
        out.write(
            json.dumps({"name": "F", "type": "personal_chat", "id": 7, "messages": [_message(1, "hi")]})
        )
        out.write(', {"name": "Big", "type": "public_channel", "id": 88, "messages": [')
        for number in range(1, messages + 1):
            text = ["IED hit a convoy near ", {"type": "bold", "text": f"Kut {number}"}]
            message = _message(number, text) if number % 50 else {**_message(number, ""), "type": "service"}
            out.write((", " if number > 1 else "") + json.dumps(message))
        out.write("]}]}, ")
        out.write('"left_chats": {"list": [')
        out.write(
            json.dumps({"name": "Old", "type": "private_channel", "id": 99, "messages": [_message(4, "o")]})
        )
        out.write("]}}")
    return path


def _peak_reading(path: Path, messages: int) -> int:
    """Peak traced memory while reading an export, checking its posts as they come, keeping none."""
    expected = iter([("88", n) for n in range(1, messages + 1) if n % 50] + [("99", 4)])
    tracemalloc.start()
    try:
        for item in read_export(path):
            assert isinstance(item, Post) and (item.channel, item.message_id) == next(expected)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert next(expected, None) is None
    return peak


def test_full_account_export_is_read_message_by_message(tmp_path: Path) -> None:
    """A chat eight times longer (2,500 -> 20,000 messages) needs no more memory to read: one
    message at a time, not the whole chat (which takes several times the file)."""
    small = _account_export(tmp_path / "small.json", 2_500)
    large = _account_export(tmp_path / "large.json", 20_000)
    grown = _peak_reading(large, 20_000) - _peak_reading(small, 2_500)
    assert grown < (large.stat().st_size - small.stat().st_size) / 8


def test_full_account_chat_with_its_id_after_its_messages(tmp_path: Path) -> None:
    """A chat whose messages come before its id and type (not as Desktop writes it) still reads."""
    export = {
        "chats": {
            "list": [
                {"messages": [_message(1, "first")], "name": "A", "type": "public_channel", "id": 3},
                {"messages": [_message(2, "private")], "name": "F", "type": "personal_chat", "id": 4},
                {"name": "B", "type": "public_channel", "messages": [_message(5, "b")], "username": "@Bee"},
                {"name": "C", "type": "public_channel", "id": None, "messages": [_message(6, "no id")]},
                {"name": "D", "type": "public_channel", "id": 9, "messages": "none"},
            ]
        }
    }
    items = list(read_export(_write(tmp_path / "result.json", export)))
    posts = [(p.channel, p.text, p.channel_title) for p in items if isinstance(p, Post)]
    assert posts == [("3", "first", "A"), ("bee", "b", "B")]
    assert [str(item).split(": ", 1)[1] for item in items if isinstance(item, BadRecord)] == [
        "chat 'C' has no id",
        "chat 'D' has no messages list",
    ]


def test_left_chats_before_chats_still_come_after(tmp_path: Path) -> None:
    """Chats are read before left chats, whatever order the file holds them in."""
    export = {
        "left_chats": {
            "list": [{"name": "L", "type": "private_channel", "id": 2, "messages": [_message(1, "l")]}]
        },
        "chats": {"list": [{"name": "C", "type": "public_channel", "id": 1, "messages": [_message(2, "c")]}]},
    }
    posts = [p for p in read_export(_write(tmp_path / "result.json", export)) if isinstance(p, Post)]
    assert [(p.channel, p.text) for p in posts] == [("1", "c"), ("2", "l")]


def test_truncated_full_account_export_yields_what_came_before(tmp_path: Path) -> None:
    """A full-account export cut inside its big chat gives the posts before the cut, then InputError."""
    whole = _account_export(tmp_path / "whole.json", 400).read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(whole[: len(whole) // 2])
    items = read_export(path)
    posts = [next(items) for _ in range(150)]
    with pytest.raises(InputError, match="truncated or invalid JSON"):
        posts.extend(items)
    assert [p.message_id for p in posts[:2] if isinstance(p, Post)] == [1, 2]
    assert 150 < len(posts) < 300 and all(isinstance(p, Post) for p in posts)
