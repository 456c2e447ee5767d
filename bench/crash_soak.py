"""Crash soak (``make soak``): SIGKILL ``convoywatch replay`` at random points, restart, compare.

1. Generates an export (bench/generate.py) and replays it once, undisturbed, into
   ``clean.db``.
2. Replays the same export into ``crash.db``, killing the ``convoywatch replay`` process
   with SIGKILL ``--kills`` times: mostly at a random moment after it has committed new
   posts past what the previous run had stored (so kills land in the middle of real work:
   analysing, inside a write transaction, between batches), some at a random moment from
   its start (start-up, migrations, the re-pass over stored posts). After every kill the
   database must pass ``PRAGMA integrity_check``.
3. Lets a last run finish, then compares the two databases by content: every post, edit,
   classification, event and incident exactly once, and the same (ids and timestamps are
   not compared; incidents are compared by their details and their member events).
4. With ``--digest-kills N`` (default 50): runs ``convoywatch digest --send`` with the file
   sink on the crash database, killing it N times, mostly right after the sink journalled a
   write (so kills land between a part reaching the sink and being marked sent), and checks
   every digest part against the sink two ways: files per message key and copies per body
   text (duplicated, lost, wrong), plus the sink's write journal (resends the key absorbed).

    python -m bench.crash_soak --posts 20000 --kills 50
    python -m bench.crash_soak --posts 4000 --kills 0 --digest-kills 50   # the digest part
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.generate import Spec, write_export, write_jsonl
from bot.digest.senders import FileSender, key_tag
from bot.store.outbox import part_key

ROOT = Path(__file__).resolve().parent.parent

_EVENT_FIELDS = (
    "date, country, admin1, place, place_ar, lat, lon, attack_type, target, claimed_by, killed, injured"
)

Snapshot = dict[str, Counter[Any]]


def replay_command(paths: Sequence[Path], db: Path) -> list[str]:
    """The real CLI, as an operator runs it."""
    return [sys.executable, "-m", "bot", "replay", *map(str, paths), "--db", str(db)]


#: Where the CLI runs from: the working tree, or with ``--freeze`` a copy of ``bot/`` and
#: ``config/`` taken at the start, so edits made to the tree during a long soak do not make
#: the restarted runs differ from the clean one.
_code = ROOT


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVOYWATCH_")}
    env["CONVOYWATCH_LOG_LEVEL"] = "error"
    if _code != ROOT:
        env["PYTHONPATH"] = str(_code)
    return env


def freeze(workdir: Path) -> Path:
    """Copy the code and configuration the soak runs, and run every child from the copy."""
    global _code  # noqa: PLW0603 - one switch for every child started by this script
    target = workdir / "code"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT / "bot", target / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "config", target / "config")
    _code = target
    return target


def integrity(db: Path) -> str:
    """``PRAGMA integrity_check`` of a database file (opened the way a restart opens it)."""
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("PRAGMA integrity_check").fetchone()
        return str(row[0]) if row else "no answer"
    finally:
        conn.close()


def stored_posts(db: Path) -> int:
    """Posts committed so far (0 when the database or table does not exist yet)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return 0
    try:
        row = conn.execute("SELECT COUNT(*) FROM posts").fetchone()
        return int(row[0]) if row else 0
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def snapshot(db: Path) -> Snapshot:
    """Everything stored, as multisets of content (no row ids, no wall-clock stamps)."""
    conn = sqlite3.connect(db)
    try:
        fields = ", ".join("e." + name.strip() for name in _EVENT_FIELDS.split(","))
        member_rows = conn.execute(
            "SELECT e.incident_id, p.channel, p.message_id, e.seq"
            " FROM events e JOIN posts p ON p.id = e.post_id WHERE e.incident_id IS NOT NULL"
            " ORDER BY p.channel, p.message_id, e.seq"
        ).fetchall()
        members: dict[int, list[tuple[str, int, int]]] = {}
        for incident_id, channel, message_id, seq in member_rows:
            members.setdefault(int(incident_id), []).append((channel, int(message_id), int(seq)))
        snap: Snapshot = {
            "posts": Counter(
                conn.execute(
                    "SELECT channel, message_id, date, edit_date, text, fwd_channel, fwd_message_id,"
                    " grouped_id, has_media, lang, corpus_id, deleted, error FROM posts"
                ).fetchall()
            ),
            "post_edits": Counter(
                conn.execute(
                    "SELECT p.channel, p.message_id, x.version, x.text, x.edit_date FROM post_edits x"
                    " JOIN posts p ON p.id = x.post_id"
                ).fetchall()
            ),
            "classifications": Counter(
                conn.execute(
                    "SELECT p.channel, p.message_id, c.relevant, c.score, c.rules, c.labels"
                    " FROM classifications c JOIN posts p ON p.id = c.post_id"
                ).fetchall()
            ),
            "events": Counter(
                (*row[:-1], tuple(members.get(row[-1], ())) if row[-1] is not None else None)
                for row in conn.execute(
                    f"SELECT p.channel, p.message_id, e.seq, {fields}, e.incident_id FROM events e"
                    " JOIN posts p ON p.id = e.post_id"
                ).fetchall()
            ),
            "incidents": Counter(
                (tuple(members.get(int(row[0]), ())), *row[1:])
                for row in conn.execute(f"SELECT id, {_EVENT_FIELDS}, first_seen FROM incidents").fetchall()
            ),
            "channels": Counter(conn.execute("SELECT key, title, cursor FROM channels").fetchall()),
        }
    finally:
        conn.close()
    return snap


def compare(clean: Snapshot, crashed: Snapshot) -> list[str]:
    """What differs, one line per table (empty when the two are the same)."""
    problems: list[str] = []
    for table in clean:
        want, got = clean[table], crashed.get(table, Counter())
        duplicated = sum(count - 1 for count in got.values() if count > 1)
        if want == got and not duplicated:
            continue
        missing = sum((want - got).values())
        extra = sum((got - want).values())
        problems.append(
            f"{table}: {sum(got.values())} stored vs {sum(want.values())} in the clean run;"
            f" {missing} missing, {extra} extra, {duplicated} duplicated"
        )
    return problems


def empty_incidents(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT COUNT(*) FROM incidents i"
            " WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.incident_id = i.id)"
        ).fetchone()
        return int(row[0]) if row else 0
    finally:
        conn.close()


@dataclass(slots=True)
class KillLog:
    """What the kill loop did."""

    kills: int = 0
    completed_runs: int = 0
    failed_runs: list[str] = field(default_factory=list)
    integrity_failures: list[str] = field(default_factory=list)
    stored_at_kill: list[int] = field(default_factory=list)


def run_to_end(command: list[str], *, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=_code, env=child_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def kill_loop(
    command: list[str],
    db: Path,
    *,
    kills: int,
    rng: random.Random,
    total_posts: int,
    log: KillLog | None = None,
    from_start_share: float = 0.2,
    max_delay: float = 10.0,
    settle: float = 0.3,
    verbose: bool = False,
) -> KillLog:
    """Start ``command`` and SIGKILL it at random points until it was killed ``kills`` times."""
    log = log or KillLog()
    frontier = stored_posts(db)
    gap = max(total_posts // max(kills, 1), 1)
    while log.kills < kills:
        # Once everything is stored no new commit will come: kill the re-pass at random.
        from_start = rng.random() < from_start_share or frontier >= total_posts
        target = frontier + rng.randint(1, 2 * gap)
        delay = rng.uniform(0.0, max_delay)
        extra = rng.uniform(0.0, settle)  # after a commit: kill within the next batch's work
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=_code, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        killed = False
        while process.poll() is None:
            elapsed = time.monotonic() - started
            if from_start and elapsed >= delay:
                break
            if not from_start and (stored_posts(db) >= target or elapsed > 120):
                time.sleep(extra)
                break
            time.sleep(0.02)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed = True
        _out, err = process.communicate()
        if killed and process.returncode == -signal.SIGKILL:
            log.kills += 1
            frontier = stored_posts(db)
            log.stored_at_kill.append(frontier)
            check = integrity(db) if db.exists() else "ok"
            if check != "ok":
                log.integrity_failures.append(f"after kill {log.kills}: {check}")
            if verbose:
                how = f"{delay:.2f}s from start" if from_start else f"past {target} posts"
                print(
                    f"kill {log.kills:3d} ({how}): {frontier} posts stored, integrity {check}",
                    file=sys.stderr,
                )
        elif process.returncode == 0:
            log.completed_runs += 1
            frontier = stored_posts(db)
            if frontier >= total_posts and not from_start:
                # Everything is stored: later kills land in the re-pass; keep them coming from start.
                from_start_share = 1.0
        else:
            log.failed_runs.append(f"exit {process.returncode}: {err.strip()[-500:]}")
            if len(log.failed_runs) > 3:
                raise RuntimeError(
                    "replay keeps failing without being killed:\n" + "\n".join(log.failed_runs)
                )
    return log


# ---------------------------------------------------------------------------------- digest phase
def digest_env(data_dir: Path) -> dict[str, str]:
    """The file sink: every delivered message becomes a file under ``data_dir/sent``."""
    env = child_env()
    env.update(CONVOYWATCH_SENDER="file", CONVOYWATCH_DATA_DIR=str(data_dir))
    return env


def digest_command(db: Path) -> list[str]:
    """Compose a digest of everything and deliver every pending part (the file sink)."""
    return [sys.executable, "-m", "bot", "digest", "--since", "3650d", "--send", "--db", str(db)]


@dataclass(slots=True)
class DigestLog:
    kills: int = 0
    kills_in_delivery: int = 0
    completed_runs: int = 0
    failed_runs: list[str] = field(default_factory=list)


def _journal_size(sink: Path) -> int:
    """Bytes in the sink's write journal: it grows with every write attempt, resends included."""
    try:
        return (sink / FileSender.JOURNAL).stat().st_size
    except FileNotFoundError:
        return 0


def _sink_messages(sink: Path) -> int:
    """Messages in the sink: grows when a new message's file is renamed into place."""
    try:
        return sum(1 for entry in os.scandir(sink) if entry.name.endswith(".html"))
    except FileNotFoundError:
        return 0


def digest_kill_loop(
    db: Path,
    data_dir: Path,
    *,
    kills: int,
    rng: random.Random,
    verbose: bool,
    from_start_share: float = 0.3,
    on_message_share: float = 0.5,
    settle: float = 0.005,
    deepest: int = 10,
) -> DigestLog:
    """Run ``digest --send`` and SIGKILL it ``kills`` times: mostly 0 to ``settle`` seconds
    after the sink saw its 1st to ``deepest``-th write attempt (the part is being written) or
    new message (the part is written and about to be marked sent: the window a resend comes
    from) of the run, the rest at a random moment from its start (composing, committing).
    Each run commits one more digest and delivers every pending part."""
    log = DigestLog()
    sink = data_dir / "sent"
    longest = 3.0
    while log.kills < kills:
        from_start = rng.random() < from_start_share
        on_message = rng.random() < on_message_share
        delay = rng.uniform(0.0, longest)
        extra = rng.uniform(0.0, settle)
        watch = _sink_messages if on_message else _journal_size
        last = watch(sink)
        nth, seen = rng.randint(1, deepest), 0
        started = time.monotonic()
        process = subprocess.Popen(
            digest_command(db), cwd=_code, env=digest_env(data_dir), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        while process.poll() is None:
            if from_start and time.monotonic() - started >= delay:
                break
            if not from_start and (now := watch(sink)) != last:
                last, seen = now, seen + 1
                if seen >= nth:
                    time.sleep(extra)
                    break
            time.sleep(0.0005)
        killed = False
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed = True
        _out, err = process.communicate()
        if killed and process.returncode == -signal.SIGKILL:
            log.kills += 1
            log.kills_in_delivery += not from_start
            if verbose:
                what = f"new message #{nth}" if on_message else f"write attempt #{nth}"
                how = f"{delay:.2f}s from start" if from_start else f"{extra * 1000:.1f} ms after {what}"
                print(f"digest kill {log.kills:3d} ({how}): {sent_parts(db)[1]} parts sent", file=sys.stderr)
        elif process.returncode == 0:
            log.completed_runs += 1
            longest = max(longest, time.monotonic() - started)
        else:
            log.failed_runs.append(f"exit {process.returncode}: {err.strip()[-500:]}")
            if len(log.failed_runs) > 3:
                raise RuntimeError(
                    "digest keeps failing without being killed:\n" + "\n".join(log.failed_runs)
                )
    return log


@dataclass(frozen=True, slots=True)
class StoredPart:
    """One outbox part as the database holds it."""

    key: str
    body: str
    sent: bool


def stored_parts(db: Path) -> list[StoredPart]:
    """Every digest part with its message key (digest key, chat, seq), as the sender got it."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT d.key, p.chat_id, p.seq, p.body, p.sent_at FROM digest_parts p"
            " JOIN digests d ON d.id = p.digest_id"
        ).fetchall()
    finally:
        conn.close()
    return [StoredPart(part_key(str(r[0]), str(r[1]), int(r[2])), str(r[3]), r[4] is not None) for r in rows]


def sent_parts(db: Path) -> tuple[int, int, list[str]]:
    """(parts, parts marked sent, bodies of the parts marked sent)."""
    parts = stored_parts(db)
    return len(parts), sum(part.sent for part in parts), [part.body for part in parts if part.sent]


_SINK_NAME = re.compile(r"(?P<chat>.+)-(?P<n>\d+)-(?P<tag>[0-9a-f]{16})\.html")


@dataclass(slots=True)
class SinkCheck:
    """Every digest part against the file sink, counted by message key and by content."""

    parts: int = 0
    sent: int = 0
    messages: int = 0  # .html files in the sink
    delivered_once: int = 0  # parts whose key has exactly one file, holding the part's body
    duplicated: int = 0  # extra files for a key, plus extra copies of a body beyond its parts
    lost: int = 0  # parts marked sent with no file (by key, or by content)
    wrong: int = 0  # files whose name is not a part's key, or whose text is not the part's body
    write_attempts: int = 0  # journal lines: every write, resends included
    resent_keys: int = 0  # keys written more than once: a kill interrupted them in flight
    rewrites: int = 0  # writes that found the key's message already there: duplicates absorbed
    leftover_temp_files: int = 0  # temp files of a write killed before its rename (never a message)
    problems: list[str] = field(default_factory=list)


def check_sink(db: Path, sink: Path) -> SinkCheck:
    """Count duplicates and losses two independent ways: files per message key (the name's
    tag) and copies per body text (a multiset, blind to names), and read the write journal
    so resends are seen even though the sink absorbed them."""
    parts = stored_parts(db)
    check = SinkCheck(parts=len(parts), sent=sum(part.sent for part in parts))
    by_tag = {key_tag(part.key): part for part in parts}
    files: dict[str, list[str]] = {}
    texts: Counter[str] = Counter()
    if sink.exists():
        for path in sink.iterdir():
            if path.name.endswith(".tmp"):
                check.leftover_temp_files += 1
                continue
            if path.suffix != ".html":
                continue
            check.messages += 1
            text = path.read_text(encoding="utf-8")
            texts[text] += 1
            named = _SINK_NAME.fullmatch(path.name)
            if named is None or named["tag"] not in by_tag:
                check.wrong += 1
                continue
            files.setdefault(named["tag"], []).append(text)
    for tag, part in by_tag.items():
        found = files.get(tag, [])
        if len(found) > 1:
            check.duplicated += len(found) - 1
        if not found:
            check.lost += part.sent
        elif any(text != part.body for text in found):
            check.wrong += 1
        elif len(found) == 1:
            check.delivered_once += 1
    sent_bodies = Counter(part.body for part in parts if part.sent)
    all_bodies = Counter(part.body for part in parts)
    # by content: a body in the sink more often than parts hold it is a duplicate, whatever its name
    check.duplicated = max(check.duplicated, sum((texts - all_bodies).values()))
    check.lost = max(check.lost, sum((sent_bodies - texts).values()))
    journal = sink / FileSender.JOURNAL
    attempts: Counter[str] = Counter()
    if journal.exists():
        for line in journal.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            attempts[str(entry["key"])] += 1
            check.rewrites += bool(entry["rewrite"])
    check.write_attempts = sum(attempts.values())
    check.resent_keys = sum(1 for count in attempts.values() if count > 1)
    if unknown := set(attempts) - {part.key for part in parts}:
        check.problems.append(f"digest parts: {len(unknown)} journalled keys are no part's key")
    if check.sent != check.parts:
        check.problems.append(f"digest parts: {check.parts - check.sent} of {check.parts} never marked sent")
    if check.lost:
        check.problems.append(f"digest parts: {check.lost} marked sent but not in the sink (lost)")
    if check.duplicated:
        check.problems.append(f"digest parts: {check.duplicated} delivered more than once")
    if check.wrong:
        check.problems.append(f"digest parts: {check.wrong} sink files that are not exactly a part")
    if check.messages != check.sent:
        check.problems.append(f"digest parts: {check.messages} messages in the sink for {check.sent} sent")
    return check


def digests_count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT COUNT(*) FROM digests").fetchone()
        return int(row[0]) if row else 0
    finally:
        conn.close()


def delivery_problems(db: Path, sink: Path) -> list[str]:
    """Every part marked sent and found in the sink exactly once; nothing else in the sink."""
    return check_sink(db, sink).problems


# ---------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="convoywatch crash soak: SIGKILL replay, restart, compare")
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=("export", "jsonl"), default="export")
    parser.add_argument("--relevant-share", type=float, default=0.05)
    parser.add_argument("--posts-per-day", type=int, default=300, help="lower: more days, more incidents")
    parser.add_argument("--digest-kills", type=int, default=50, help="kills during digest delivery (0: skip)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-freeze", action="store_true", help="run the working tree, not a copy of it")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cw-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if not args.no_freeze:
        freeze(workdir)
    spec = Spec(
        args.posts,
        args.channels,
        args.seed,
        posts_per_day=args.posts_per_day,
        relevant_share=args.relevant_share,
    )
    source = workdir / ("result.json" if args.format == "export" else "posts.jsonl")
    with source.open("w", encoding="utf-8") as out:
        (write_export if args.format == "export" else write_jsonl)(spec, out)
    clean, crash = workdir / "clean.db", workdir / "crash.db"
    for stale in [*workdir.glob("clean.db*"), *workdir.glob("crash.db*")]:
        stale.unlink()

    started = time.monotonic()
    done = run_to_end(replay_command([source], clean))
    clean_seconds = time.monotonic() - started
    print(f"clean run: {clean_seconds:.1f} s, exit {done.returncode}: {done.stdout.strip()}", file=sys.stderr)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return 1
    total = stored_posts(clean)

    rng = random.Random(args.seed)
    log = kill_loop(
        replay_command([source], crash),
        crash,
        kills=args.kills,
        rng=rng,
        total_posts=total,
        max_delay=clean_seconds,
        verbose=True,
    )
    final = run_to_end(replay_command([source], crash))
    problems = compare(snapshot(clean), snapshot(crash))
    if final.returncode != 0:
        problems.append(f"final run exited {final.returncode}: {final.stderr.strip()[-300:]}")
    problems += log.integrity_failures
    if (check := integrity(crash)) != "ok":
        problems.append(f"final integrity_check: {check}")
    if (orphans := empty_incidents(crash)) != 0:
        problems.append(f"{orphans} incidents without events")
    digest_log: DigestLog | None = None
    sink_check: SinkCheck | None = None
    if args.digest_kills > 0:
        data_dir = workdir / "digest-data"
        digest_log = digest_kill_loop(crash, data_dir, kills=args.digest_kills, rng=rng, verbose=True)
        last = subprocess.run(
            digest_command(crash), cwd=_code, env=digest_env(data_dir), capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        if last.returncode != 0:
            problems.append(f"final digest run exited {last.returncode}: {last.stderr.strip()[-300:]}")
        sink_check = check_sink(crash, data_dir / "sent")
        problems += sink_check.problems
        problems += digest_log.failed_runs
        if (check := integrity(crash)) != "ok":
            problems.append(f"integrity_check after the digest phase: {check}")
    result: dict[str, Any] = {
        "posts": args.posts,
        "format": args.format,
        "stored_posts": total,
        "kills": log.kills,
        "completed_runs_in_loop": log.completed_runs,
        "failed_runs": log.failed_runs,
        "clean_run_s": round(clean_seconds, 1),
        "soak_s": round(time.monotonic() - started, 1),
        "clean": {table: sum(counter.values()) for table, counter in snapshot(clean).items()},
        "digest_kills": digest_log.kills if digest_log else 0,
        "digest_kills_in_delivery": digest_log.kills_in_delivery if digest_log else 0,
        "digest_runs_completed": digest_log.completed_runs if digest_log else 0,
        "digests": digests_count(crash),
        "digest_sink": (
            {name: value for name, value in asdict(sink_check).items() if name != "problems"}
            if sink_check
            else None
        ),
        "problems": problems,
    }
    print(json.dumps(result, indent=1))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print("PASS" if not problems else "FAIL", file=sys.stderr)
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
