"""Bad files given to the real CLI: a clear error, a non-zero exit, and nothing already stored lost.

Truncated and wrongly shaped exports, a rule file with every kind of mistake, a settings
file with unknown keys, a database from a newer schema, a read-only and a full disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.crash_soak import integrity
from bench.generate import Spec, write_export
from bot.cli import main
from bot.store.migrations import SCHEMA_VERSION
from tests.conftest import CONFIG, ROOT

SAMPLE = CONFIG / "sample" / "result.json"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _stats(capsys: pytest.CaptureFixture[str], db: Path) -> dict[str, int]:
    code, out, err = _run(capsys, "stats", "--json", "--db", str(db))
    assert code == 0, err
    return dict(json.loads(out))


def _clear(err: str) -> bool:
    """An expected failure: messages only, one of them prefixed ``convoywatch:``, no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    return "Traceback" not in err and any(line.startswith("convoywatch: ") for line in lines)


@pytest.fixture
def stored(capsys: pytest.CaptureFixture[str], db_path: Path) -> dict[str, int]:
    """A database holding the sample channel; returns its stats."""
    code, _out, err = _run(capsys, "replay", str(SAMPLE), "--db", str(db_path))
    assert code == 0, err
    stats = _stats(capsys, db_path)
    assert stats["posts"] > 10 and stats["incidents"] > 0
    return stats


# ---------------------------------------------------------------------------------- inputs
@pytest.mark.parametrize("cut", [0.3, 0.97])
def test_truncated_export(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_path: Path, stored: dict[str, int], cut: float
) -> None:
    """A truncated export fails with one line naming the file; earlier posts stay stored."""
    whole = (tmp_path / "big.json").open("w", encoding="utf-8")
    with whole:
        write_export(Spec(1500, 3, seed=4), whole)
    text = (tmp_path / "big.json").read_text(encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text(text[: int(len(text) * cut)], encoding="utf-8")
    code, _out, err = _run(capsys, "replay", str(broken), "--db", str(db_path))
    assert code == 1 and _clear(err)
    assert "truncated or invalid JSON" in err and str(broken) in err
    after = _stats(capsys, db_path)
    assert after["posts"] >= stored["posts"] and after["incidents"] >= stored["incidents"]
    assert integrity(db_path) == "ok"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2, 3]", "top level is not an object"),
        ('{"about": "x", "list": []}', "not a Telegram Desktop export"),
        ('{"name": "x", "messages": []}', "no chat id"),
        ("", "not valid JSON"),
        ("\x00\x01\x02 binary", "not valid JSON"),
    ],
    ids=["array", "no-messages", "no-chat-id", "empty", "binary"],
)
def test_wrong_json_shape(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    db_path: Path,
    stored: dict[str, int],
    content: str,
    message: str,
) -> None:
    """A JSON file that is not an export fails with one clear line and changes nothing stored."""
    path = tmp_path / "result.json"
    path.write_text(content, encoding="utf-8")
    code, _out, err = _run(capsys, "replay", str(path), "--db", str(db_path))
    assert code == 1 and _clear(err) and message in err
    assert _stats(capsys, db_path) == stored


def test_jsonl_with_bad_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_path: Path, stored: dict[str, int]
) -> None:
    """Malformed JSONL lines are reported with their line numbers; the good lines are stored."""
    good = {"channel": "c", "message_id": 1, "date": "2024-02-03T05:00:00+00:00", "text": "fine"}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({**good, "message_id": -1}),
        json.dumps({**good, "date": "31 February"}),
        json.dumps({**good, "message_id": 2}),
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(capsys, "replay", str(path), "--db", str(db_path))
    assert code == 1 and "Traceback" not in err
    for number in (2, 3, 4, 5):
        assert f"{path}:{number}:" in err
    assert "2 new" in out
    assert _stats(capsys, db_path)["posts"] == stored["posts"] + 2


# ---------------------------------------------------------------------------------- rule files
BROKEN_RULES = """\
concepts:
  empty_one: []
  dupes:
    - convoy
    - convoy
  bad_regex:
    - "re:(unclosed"
  no_words:
    - "..."
categories:
  colour:
    values: [red]
    default: blue
    threshold: 1
    shade: dark
rules:
  - name: dup-rule
    category: relevant
    weight: 1
    all: [no_such_concept]
  - name: dup-rule
    category: relevant
    weight: 0
    any: [dupes]
  - name: wrong-category
    category: no_such_category
    weight: 1
    any: [dupes]
  - name: wrong-value
    category: attack_type
    value: catapult
    weight: 2
    any: [dupes]
  - name: never-within
    category: relevant
    weight: 1
    all: [dupes, bad_regex]
    within: 0
  - name: misspelt
    category: relevant
    wieght: 1
    any: [dupes]
"""


def _rules_dir(tmp_path: Path, extra: str) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(CONFIG / "rules", rules)
    (rules / "zz_broken.yaml").write_text(extra, encoding="utf-8")
    return rules


def _config(tmp_path: Path, rules: Path) -> Path:
    config = tmp_path / "convoywatch.toml"
    config.write_text(f'rules_dir = "{rules}"\n', encoding="utf-8")
    return config


def test_rule_file_with_every_kind_of_mistake(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_path: Path, stored: dict[str, int]
) -> None:
    """`rules check` and `replay` list every mistake with file and line, exit 2, store nothing."""
    rules = _rules_dir(tmp_path, BROKEN_RULES)
    code, out, err = _run(capsys, "rules", "check", "--config", str(_config(tmp_path, rules)))
    problems = [line for line in out.splitlines() if "zz_broken.yaml:" in line]
    assert code == 2 and "Traceback" not in err
    assert len(problems) >= 10, out
    for needle in (
        "empty",
        "duplicate",
        "regex",
        "no_such_concept",
        "no_such_category",
        "catapult",
        "within",
    ):
        assert any(needle in line for line in problems), (needle, out)
    assert all(line.split(":")[1].isdigit() for line in problems)  # file:line: message
    code, _out, err = _run(
        capsys, "replay", str(SAMPLE), "--db", str(db_path), "--config", str(_config(tmp_path, rules))
    )
    assert code == 2 and _clear(err)
    # replay refuses with exactly the problems `rules check` lists
    assert {line.removeprefix("convoywatch: ") for line in err.splitlines() if "zz_broken" in line} == set(
        problems
    )
    assert _stats(capsys, db_path) == stored


def test_rule_file_that_is_not_yaml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_path: Path, stored: dict[str, int]
) -> None:
    """A rule file that does not parse is one error with its line; exit 2; nothing stored changes."""
    rules = _rules_dir(tmp_path, "rules:\n  - name: x\n    any: [a, b\n  - oops: {\n")
    code, _out, err = _run(
        capsys, "replay", str(SAMPLE), "--db", str(db_path), "--config", str(_config(tmp_path, rules))
    )
    assert code == 2 and _clear(err) and "zz_broken.yaml:" in err
    assert _stats(capsys, db_path) == stored


# ---------------------------------------------------------------------------------- settings
def test_settings_file_with_unknown_keys(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_path: Path, stored: dict[str, int]
) -> None:
    """Unknown keys in the settings file exit 2 with a line naming the key; nothing stored changes."""
    config = tmp_path / "convoywatch.toml"
    config.write_text('log_level = "info"\ndigest_evry_hours = 6\n', encoding="utf-8")
    code, _out, err = _run(capsys, "replay", str(SAMPLE), "--db", str(db_path), "--config", str(config))
    assert code == 2 and _clear(err) and "digest_evry_hours" in err
    assert _stats(capsys, db_path) == stored


# ---------------------------------------------------------------------------------- databases
def test_database_from_a_newer_schema(
    capsys: pytest.CaptureFixture[str], db_path: Path, stored: dict[str, int]
) -> None:
    """A database written by a newer convoywatch is refused by every command and left untouched."""
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from-the-future', 'x')",
            (SCHEMA_VERSION + 1,),
        )
    conn.close()
    before = db_path.read_bytes()
    for argv in (["replay", str(SAMPLE)], ["stats", "--json"]):
        code, _out, err = _run(capsys, *argv, "--db", str(db_path))
        assert code == 1 and _clear(err) and "newer" in err, (argv, err)
    assert db_path.read_bytes() == before
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT COUNT(*) FROM posts").fetchone()[0] == stored["posts"]
    conn.close()


@contextlib.contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tiny tmpfs at ``path`` (needs root and mount(8)); skips the test when that is impossible."""
    path.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tiny tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_full_disk(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """When the disk fills, replay exits 1 with 'disk is full'; every committed post survives."""
    source = tmp_path / "big.json"
    with source.open("w", encoding="utf-8") as out:
        write_export(Spec(3000, 4, seed=9), out)
    with _tmpfs(tmp_path / "small", "1m") as disk:
        db = disk / "convoywatch.db"
        code, _out, err = _run(capsys, "replay", str(SAMPLE), "--db", str(db))
        assert code == 0, err
        before = _stats(capsys, db)
        code, _out, err = _run(capsys, "replay", str(source), "--db", str(db))
        assert code == 1 and _clear(err) and "disk is full" in err
        after = _stats(capsys, db)
        assert after["posts"] >= before["posts"] and after["incidents"] >= before["incidents"]
        assert integrity(db) == "ok"


def test_read_only_disk(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """On a read-only disk, replay exits 1 with one clear line; nothing stored is lost."""
    with _tmpfs(tmp_path / "ro", "8m") as disk:
        db = disk / "convoywatch.db"
        code, _out, err = _run(capsys, "replay", str(SAMPLE), "--db", str(db))
        assert code == 0, err
        before = _stats(capsys, db)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        try:
            code, _out, err = _run(capsys, "replay", str(ROOT / "config" / "sample"), "--db", str(db))
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        assert code == 1 and _clear(err) and str(db) in err and len(err.strip().splitlines()) == 1
        assert _stats(capsys, db) == before
        assert integrity(db) == "ok"


def test_read_only_disk_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The error on a read-only disk says that the disk or folder is read-only."""
    with _tmpfs(tmp_path / "ro", "8m") as disk:
        db = disk / "convoywatch.db"
        code, _out, err = _run(capsys, "replay", str(SAMPLE), "--db", str(db))
        assert code == 0, err
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        try:
            code, _out, err = _run(capsys, "replay", str(SAMPLE), "--db", str(db))
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        assert code == 1 and "read-only" in err
