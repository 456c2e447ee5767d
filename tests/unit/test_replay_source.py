"""Replay sources: Telegram Desktop exports and JSONL corpora, streamed, with clear errors."""

from __future__ import annotations

import datetime as dt
import io
import json
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
