"""Replay sources: Telegram Desktop exports (``result.json``) and JSONL corpora.

Both are streamed, an export message by message (in a full-account export too, whatever
the size of one chat): a million-post file never sits in memory whole. A record that cannot be
read becomes a ``BadRecord`` (with its line number for JSONL) and the rest goes on; a file
that is not in either format at all raises ``InputError``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson

from bot.errors import InputError
from bot.model import ForwardOrigin, Post

#: How deep an entity list may nest before the rest is dropped (hostile exports).
MAX_ENTITY_DEPTH = 32
#: Chat types of a full-account export that are not channels or groups.
_PRIVATE_CHATS = {"personal_chat", "bot_chat", "saved_messages", "private_group"}


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that could not be read; ``line`` is set for JSONL."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


Item = Post | BadRecord


def clean_text(text: str) -> str:
    """Text safe to store: valid surrogate pairs joined, lone surrogates replaced, NULs dropped."""
    if text.isascii():
        return text.replace("\x00", "")
    fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return fixed.replace("\x00", "")


def flatten_text(value: Any) -> str:
    """A Desktop export ``text`` field (a string or a list of strings and entities) as plain text."""
    parts: list[str] = []
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, list) and depth < MAX_ENTITY_DEPTH:
            stack.extend((child, depth + 1) for child in reversed(item))
        elif isinstance(item, dict) and depth < MAX_ENTITY_DEPTH:
            stack.append((item.get("text", ""), depth + 1))
    return clean_text("".join(parts))


def _unix(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _iso_date(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _peer_key(value: Any) -> str | None:
    """``channel1234`` / ``user55`` / 1234 as a channel key (the bare id)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(abs(value))
    if isinstance(value, str):
        digits = value.removeprefix("channel").removeprefix("chat").removeprefix("user")
        if digits.lstrip("-").isdigit():
            return str(abs(int(digits)))
    return None


def _channel_key(chat: dict[str, Any]) -> str | None:
    username = chat.get("username")
    if isinstance(username, str) and username.strip("@ "):
        return username.strip("@ ").lower()
    return _peer_key(chat.get("id"))


def _export_post(message: dict[str, Any], channel: str, title: str | None, path: str) -> Item | None:
    """One export message as a Post; None for service messages."""
    if message.get("type", "message") != "message":
        return None
    message_id = message.get("id")
    if not isinstance(message_id, int) or isinstance(message_id, bool) or not 0 <= message_id < 2**63:
        return BadRecord(path, None, f"message without a valid id: {str(message_id)[:40]!r}")
    # date_unixtime is the truth; "date" is local time of the exporting machine.
    date = _unix(message.get("date_unixtime")) or _iso_date(message.get("date"))
    if date is None:
        return BadRecord(path, None, f"message {message_id} has no readable date")
    edited = _unix(message.get("edited_unixtime")) or _iso_date(message.get("edited"))
    forward = None
    forward_key = _peer_key(message.get("forwarded_from_id"))
    forward_id = message.get("forwarded_message_id")
    if forward_key and isinstance(forward_id, int):
        forward = ForwardOrigin(forward_key, forward_id)
    has_media = any(key in message for key in ("photo", "file", "media_type", "poll", "location_information"))
    return Post(
        channel=channel,
        message_id=message_id,
        date=date,
        text=flatten_text(message.get("text", "")),
        edit_date=edited,
        forward=forward,
        has_media=has_media,
        channel_title=title,
    )


def _is_private(chat: dict[str, Any]) -> bool:
    kind = chat.get("type")
    return isinstance(kind, str) and kind in _PRIVATE_CHATS


def _no_id(chat: dict[str, Any], path: str) -> BadRecord:
    return BadRecord(path, None, f"chat {str(chat.get('name'))[:40]!r} has no id")


def _chat_posts(chat: dict[str, Any], path: str) -> Iterator[Item]:
    key = _channel_key(chat)
    if key is None:
        yield _no_id(chat, path)
        return
    title = chat.get("name") if isinstance(chat.get("name"), str) else None
    messages = chat.get("messages")
    if not isinstance(messages, list):
        yield BadRecord(path, None, f"chat {title or key!r} has no messages list")
        return
    for message in messages:
        if isinstance(message, dict):
            item = _export_post(message, key, title, path)
            if item is not None:
                yield item


#: A JSON string escape: an escaped backslash (kept), a valid surrogate pair (kept), or a
#: lone surrogate (replaced: ijson's C backend cannot decode it).
_ESCAPES = re.compile(
    rb"(\\\\)|(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})|(\\u[dD][89a-fA-F][0-9a-fA-F]{2})"
)


_HIGH_AT_END = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}$")


def _fix_escape(match: re.Match[bytes]) -> bytes:
    return match.group(0) if match.group(3) is None else rb"\ufffd"


class _LoneSurrogateFilter:
    """A binary reader that rewrites lone surrogate escapes (``\\udfff``) to U+FFFD.

    An escape that may be incomplete at the end of a chunk, and a high surrogate that may
    be half of a pair, are held back for the next read, so neither is judged cut in two."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._held = b""

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks read(0) to learn whether the stream gives bytes
            return b""
        chunk = self._held + self._raw.read(size)
        if not chunk:
            return b""
        cut = len(chunk)
        tail = chunk.rfind(b"\\", max(0, len(chunk) - 6))
        if tail != -1:  # a possibly incomplete escape at the end: wait for the rest
            while tail > 0 and chunk[tail - 1 : tail] == b"\\":
                tail -= 1
            cut = tail
        if _HIGH_AT_END.search(chunk, 0, cut):  # a high surrogate waits for its partner
            cut -= 6
            while cut > 0 and chunk[cut - 1 : cut] == b"\\":  # never split a \\ pair
                cut -= 1
        if cut == 0:  # nothing but a held-back escape start: read on
            more = self._raw.read(size)
            if not more:
                self._held = b""
                return _ESCAPES.sub(_fix_escape, chunk)
            self._held = chunk + more
            return self.read(size)
        self._held = chunk[cut:]
        return _ESCAPES.sub(_fix_escape, chunk[:cut])

    def seek(self, offset: int) -> None:
        self._raw.seek(offset)
        self._held = b""


def read_export(path: Path) -> Iterator[Item]:
    """Posts of a Telegram Desktop export: a single chat or a full-account export, in file order
    (chats before left chats), each message read and turned into a post on its own."""
    name = str(path)
    with _open(path) as raw:
        handle = _LoneSurrogateFilter(raw)
        head = _peek_object_keys(handle, name)
        handle.seek(0)
        try:
            if "messages" in head:
                meta = {key: value for key, value in head.items() if key != "messages"}
                key = _channel_key(meta)
                if key is None:
                    raise InputError(f"{name}: export has no chat id")
                title = meta.get("name") if isinstance(meta.get("name"), str) else None
                for message in ijson.items(handle, "messages.item", use_float=True):
                    if isinstance(message, dict):
                        item = _export_post(message, key, title, name)
                        if item is not None:
                            yield item
            elif "chats" in head or "left_chats" in head:
                # chats first, then left chats; one pass when the file has them in that order
                both = {"chats.list.item", "left_chats.list.item"}
                passes = (
                    [both] if head.get("chats") == [] else [{"chats.list.item"}, {"left_chats.list.item"}]
                )
                for items in passes:
                    handle.seek(0)
                    yield from _account_posts(handle, items, name)
            else:
                raise InputError(
                    f"{name}: not a Telegram Desktop export (no 'messages' list and no 'chats' section)"
                )
        except ijson.JSONError as error:
            raise InputError(f"{name}: truncated or invalid JSON ({_short(error)})") from error


_OPEN = frozenset(("start_map", "start_array"))
_CLOSE = frozenset(("end_map", "end_array"))


class _Value:
    """One JSON value read from parse events: built (``ijson.ObjectBuilder``) or only skipped."""

    __slots__ = ("builder", "depth")

    def __init__(self, build: bool) -> None:
        self.builder = ijson.ObjectBuilder() if build else None
        self.depth = 0

    def feed(self, event: str, value: Any) -> bool:
        """Take one event; True when the value is complete."""
        if self.builder is not None:
            self.builder.event(event, value)
        if event in _OPEN:
            self.depth += 1
        elif event in _CLOSE:
            self.depth -= 1
        return self.depth == 0

    @property
    def value(self) -> Any:
        return self.builder.value if self.builder is not None else None


class _Chat:
    """A chat of a full-account export being read: its members other than the messages, and how
    its messages are read.

    Telegram Desktop writes a chat's ``name``, ``type`` and ``id`` before its ``messages``:
    then each message becomes a post as soon as it is read (a chat of a million messages never
    sits in memory), and members after the list are not looked at. A chat whose list comes
    before its ``type`` or ``id`` has its messages kept until the chat ends, as the whole chat
    was read before.
    """

    __slots__ = ("kept", "key", "member", "messages", "meta", "streamed", "title")

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.member: str | None = None  # the key of the member being read
        self.messages = False  # inside the messages list
        self.streamed = False  # its messages were (or are being) posted one by one
        self.key: str | None = None
        self.title: str | None = None
        self.kept: list[Any] | None = None  # messages kept until the end of the chat

    def open_messages(self, path: str) -> Iterator[Item]:
        """The messages list starts: stream it when the chat is known, else keep it."""
        self.messages = True
        if "type" not in self.meta or "id" not in self.meta:
            self.kept = []
            return
        self.streamed = True
        if _is_private(self.meta):
            return
        self.key = _channel_key(self.meta)
        if self.key is None:
            yield _no_id(self.meta, path)
            return
        self.title = self.meta.get("name") if isinstance(self.meta.get("name"), str) else None

    def wants(self, event: str) -> bool:
        """Whether the message starting with this event must be built (only objects are posts)."""
        return event == "start_map" and (self.kept is not None or self.key is not None)

    def took(self, value: Any, path: str) -> Item | None:
        """A value is complete: a message (a post when streamed) or a member of the chat."""
        if not self.messages:
            if self.member is not None:
                self.meta[self.member] = value
            return None
        if not isinstance(value, dict):
            return None
        if self.kept is not None:
            self.kept.append(value)
            return None
        return _export_post(value, self.key, self.title, path) if self.key is not None else None

    def close_messages(self) -> None:
        self.messages = False
        if self.kept is not None:
            self.meta["messages"] = self.kept
            self.kept = None

    def finish(self, path: str) -> Iterator[Item]:
        """The chat ends: the posts of a chat not streamed, as the whole chat gives them."""
        if not self.streamed and not _is_private(self.meta):
            yield from _chat_posts(self.meta, path)


def _account_posts(handle: _LoneSurrogateFilter, items: set[str], path: str) -> Iterator[Item]:
    """Posts of the chats (objects at one of the ``items`` prefixes) of a full-account export,
    message by message."""
    chat: _Chat | None = None
    value: _Value | None = None
    for prefix, event, datum in ijson.parse(handle, use_float=True):
        if value is not None:  # inside a member of the chat or a message
            if value.feed(event, datum):
                assert chat is not None
                if (item := chat.took(value.value, path)) is not None:
                    yield item
                value = None
            continue
        if chat is None:
            if event == "start_map" and prefix in items:
                chat = _Chat()
            continue
        if chat.messages:
            if event == "end_array":
                chat.close_messages()
                continue
            value = _Value(chat.wants(event))
        elif event == "map_key":
            chat.member = datum
            continue
        elif event == "end_map":
            yield from chat.finish(path)
            chat = None
            continue
        elif chat.member == "messages" and event == "start_array":
            yield from chat.open_messages(path)
            continue
        else:
            value = _Value(True)
        if value.feed(event, datum):  # a scalar: complete at once
            if (item := chat.took(value.value, path)) is not None:
                yield item
            value = None


def _peek_object_keys(handle: _LoneSurrogateFilter, name: str) -> dict[str, Any]:
    """The top-level scalar members and the names of the container members, read up to the
    first big container, so the format is known before streaming."""
    found: dict[str, Any] = {}
    try:
        for prefix, event, value in ijson.parse(handle, use_float=True):
            if prefix == "" and event == "start_map":
                continue
            if prefix == "" and event in {"start_array", "string", "number", "boolean", "null"}:
                raise InputError(f"{name}: not a Telegram Desktop export (top level is not an object)")
            if event == "map_key" and prefix == "":
                current = value
                found.setdefault(current, None)
            elif "." not in prefix and prefix and event in {"string", "number", "boolean", "null"}:
                found[prefix] = value
            elif prefix in {"messages", "chats", "left_chats"} and event in {"start_array", "start_map"}:
                found[prefix] = []
                return found
    except ijson.JSONError as error:
        raise InputError(f"{name}: not valid JSON ({_short(error)})") from error
    return found


def read_jsonl(path: Path) -> Iterator[Item]:
    """Posts of a JSONL file in the corpus format of GUIDELINES.md, one per line."""
    name = str(path)
    with _open(path) as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                yield BadRecord(name, number, f"not JSON: {error.msg} (column {error.colno})")
                continue
            yield jsonl_post(record, name, number)


def jsonl_post(record: Any, name: str = "<jsonl>", number: int | None = None) -> Item:
    """One corpus record as a Post, or a BadRecord saying what is wrong with it."""
    if not isinstance(record, dict):
        return BadRecord(name, number, "record is not a JSON object")
    text = record.get("text", "")
    if not isinstance(text, str | list):
        return BadRecord(name, number, "'text' must be a string")
    channel = record.get("channel")
    if not isinstance(channel, str | int) or isinstance(channel, bool) or not str(channel).strip("@ "):
        return BadRecord(name, number, "record has no 'channel'")
    message_id = record.get("message_id")
    if not isinstance(message_id, int) or isinstance(message_id, bool) or not 0 <= message_id < 2**63:
        return BadRecord(name, number, "record has no valid 'message_id'")
    date = _iso_date(record.get("date"))
    if date is None:
        return BadRecord(name, number, "record has no ISO 8601 'date'")
    forward = None
    fwd = record.get("forward")
    if isinstance(fwd, dict) and isinstance(fwd.get("message_id"), int) and fwd.get("channel"):
        forward = ForwardOrigin(str(fwd["channel"]).strip("@ ").lower(), int(fwd["message_id"]))
    key = str(channel).strip("@ ").lower()
    return Post(
        channel=key,
        message_id=message_id,
        date=date,
        text=flatten_text(text),
        edit_date=_iso_date(record.get("edit_date")),
        forward=forward,
        lang=record.get("lang") if isinstance(record.get("lang"), str) else None,
        corpus_id=str(record["id"]) if record.get("id") is not None else None,
    )


def _open(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except FileNotFoundError as error:
        raise InputError(f"{path}: no such file") from error
    except IsADirectoryError as error:
        raise InputError(f"{path}: is a directory") from error
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from error


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:120] if str(error) else type(error).__name__


def kind_of(path: Path) -> str:
    """``jsonl`` or ``export``, from the suffix or, failing that, the first line."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".json":
        return "export"
    with _open(path) as handle:
        first = handle.readline().decode("utf-8", "replace").strip()
    try:
        record = json.loads(first)
    except json.JSONDecodeError:
        return "export"
    return "jsonl" if isinstance(record, dict) and ("message_id" in record or "text" in record) else "export"


def expand(paths: list[Path]) -> list[Path]:
    """Files to replay: each file as given, folders searched for ``*.json``/``*.jsonl``."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix.lower() in {".json", ".jsonl", ".ndjson"})
            )
        elif path.exists():
            files.append(path)
        else:
            raise InputError(f"{path}: no such file")
    return files


def read_posts(path: Path) -> Iterator[Item]:
    """Every post of one replay file, in file order."""
    return read_jsonl(path) if kind_of(path) == "jsonl" else read_export(path)
