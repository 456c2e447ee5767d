"""Property tests for the replay sources: any JSON, any bytes, any text never escapes as a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import InputError
from bot.model import Post
from bot.sources.replay import MAX_ENTITY_DEPTH, BadRecord, flatten_text, jsonl_post, read_export, read_jsonl

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _json(ints: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | ints | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
        max_leaves=30,
    )


json_values = _json(st.integers())
# ijson's C parser (yajl) rejects integers beyond 64 bits: an export holding one is refused whole
# with an InputError (test_export_with_a_huge_integer_is_a_clear_error), so export fields stay in range.
json_values64 = _json(st.integers(min_value=-(2**62), max_value=2**62))
# Values a hostile record would put in the fields the parser reads.
field_values = st.one_of(
    json_values,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(["", "2024-02-31T00:00:00", "2024-02-03T05:00:00+03:00", "@", "@ ", "channel-100123"]),
)
int64_values = st.one_of(
    json_values64,
    st.integers(min_value=-(2**62), max_value=2**62),
    st.sampled_from(["", "2024-02-31T00:00:00", "1706937120", "-5", "99999999999999999999"]),
)
record_keys = st.sampled_from(
    ["id", "channel", "message_id", "date", "edit_date", "text", "lang", "forward", "junk"]
)


def _storable(text: str) -> bool:
    """Text that SQLite and every JSON encoder accept: valid UTF-8, no NULs."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@FUZZ
@given(json_values)
def test_flatten_text_takes_any_json(value: Any) -> None:
    """Any JSON value as an export ``text`` field flattens to storable text."""
    assert _storable(flatten_text(value))


def test_flatten_text_survives_deep_nesting() -> None:
    """An entity list nested far deeper than the limit neither recurses nor hangs."""
    value: Any = "deep"
    for _ in range(100_000):
        value = [value, {"type": "bold", "text": "x"}]
    text = flatten_text(value)
    assert _storable(text) and 0 < text.count("x") <= MAX_ENTITY_DEPTH
    assert "deep" not in text  # the part below the depth limit is dropped


@FUZZ
@given(st.dictionaries(record_keys, field_values, max_size=9))
def test_jsonl_record_is_a_post_or_a_bad_record(record: dict[str, Any]) -> None:
    """Any JSON object is either a valid Post with storable text or a BadRecord saying why."""
    item = jsonl_post(record)
    assert isinstance(item, Post | BadRecord)
    if isinstance(item, Post):
        assert _storable(item.text) and item.channel and item.message_id >= 0
    else:
        assert item.message


@pytest.mark.parametrize(
    "escape", ["\\ud83d", "\\udc00", "\\ud83d\\ud83d", "\\u0000", "\\ud83d\\ude00", "\\u202e\\u200f"]
)
def test_lone_surrogates_in_jsonl_are_repaired(tmp_path: Path, escape: str) -> None:
    """Lone surrogates and NULs escaped in JSON become storable text; pairs stay joined."""
    path = tmp_path / "posts.jsonl"
    path.write_text(
        '{"channel": "c", "message_id": 1, "date": "2024-02-03T05:00:00+00:00", "text": "a'
        + escape
        + 'b"}\n',
        encoding="ascii",
    )
    (item,) = list(read_jsonl(path))
    assert isinstance(item, Post) and _storable(item.text)
    assert item.text.startswith("a") and item.text.endswith("b")
    if escape == "\\ud83d\\ude00":
        assert item.text == "a😀b"


def test_lone_surrogates_in_an_export_are_repaired(tmp_path: Path) -> None:
    """A lone surrogate in one export message neither fails the file nor reaches the store."""
    path = tmp_path / "result.json"
    messages = [
        '{"id": 1, "type": "message", "date_unixtime": "1706937120", "text": "a\\ud83d b"}',
        '{"id": 2, "type": "message", "date_unixtime": "1706937120",'
        ' "text": ["x", {"type": "bold", "text": "\\udfff"}]}',
        '{"id": 3, "type": "message", "date_unixtime": "1706937120", "text": "ok"}',
    ]
    path.write_text(
        '{"name": "c", "type": "public_channel", "id": 5, "messages": [' + ",".join(messages) + "]}",
        encoding="ascii",
    )
    items = list(read_export(path))
    assert [item.message_id for item in items if isinstance(item, Post)] == [1, 2, 3]
    assert all(_storable(item.text) for item in items if isinstance(item, Post))


@FUZZ
@given(st.lists(st.binary(max_size=80) | json_values.map(json.dumps).map(str.encode), max_size=8))
def test_jsonl_file_of_any_bytes(tmp_path: Path, lines: list[bytes]) -> None:
    """A JSONL file of arbitrary bytes yields one Post or BadRecord per non-empty line, never raises."""
    path = tmp_path / "any.jsonl"
    path.write_bytes(b"\n".join(line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines))
    items = list(read_jsonl(path))
    assert all(isinstance(item, Post | BadRecord) for item in items)
    assert len(items) <= len(lines)


@FUZZ
@given(json_values)
def test_export_file_of_any_json(tmp_path: Path, document: Any) -> None:
    """Any JSON document given as an export yields posts/bad records or raises InputError only."""
    path = tmp_path / "result.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    items: list[Post | BadRecord] = []
    failure: InputError | None = None
    try:
        items.extend(read_export(path))
    except InputError as error:
        failure = error
    assert failure is None or str(failure).startswith(str(path))
    assert all(isinstance(item, Post | BadRecord) for item in items)


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {"id": int64_values, "type": st.sampled_from(["message", "service", 7]), "text": json_values64},
            optional={"date_unixtime": int64_values, "date": int64_values, "edited_unixtime": int64_values,
                      "forwarded_from_id": int64_values, "forwarded_message_id": int64_values},
        ),
        max_size=6,
    )
)  # fmt: skip
def test_export_messages_with_hostile_fields(tmp_path: Path, messages: list[dict[str, Any]]) -> None:
    """Hostile values in a real export's messages become bad records; the rest are valid posts."""
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "c", "type": "public_channel", "id": 5, "messages": messages}))
    items = list(read_export(path))
    assert len(items) <= len(messages)
    for item in items:
        assert isinstance(item, Post | BadRecord)
        if isinstance(item, Post):
            assert _storable(item.text) and item.date.tzinfo is not None


def test_export_with_a_huge_integer_is_a_clear_error(tmp_path: Path) -> None:
    """An integer beyond 64 bits in an export is refused with an InputError naming the file."""
    path = tmp_path / "result.json"
    path.write_text(
        '{"name": "c", "type": "public_channel", "id": 5, "messages": ['
        '{"id": 1, "type": "message", "date_unixtime": "1706937120", "text": "ok"},'
        '{"id": 99999999999999999999999, "type": "message", "date_unixtime": "1706937120", "text": "x"}]}'
    )
    with pytest.raises(InputError, match=str(path)):
        list(read_export(path))


@pytest.mark.parametrize("cut", [1, 10, 100, 0.5, -3])
def test_truncated_export_raises_input_error(tmp_path: Path, cut: float) -> None:
    """An export cut off anywhere raises InputError after yielding what came before the cut."""
    whole = json.dumps(
        {
            "name": "c",
            "type": "public_channel",
            "id": 5,
            "messages": [
                {"id": i, "type": "message", "date_unixtime": "1706937120", "text": f"post {i}"}
                for i in range(1, 30)
            ],
        }
    )
    end = int(len(whole) * cut) if isinstance(cut, float) else cut
    path = tmp_path / "result.json"
    path.write_text(whole[:end])
    seen: list[Post | BadRecord] = []
    with pytest.raises(InputError, match=r"truncated|not valid JSON|not a Telegram"):
        seen.extend(read_export(path))
    assert all(isinstance(item, Post) for item in seen)
