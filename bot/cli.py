"""The command line. The only place where errors become messages and exit codes.

Exit codes: 0 ok; 1 bad input or a failed operation; 2 bad settings or rule files;
130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot import __version__
from bot.errors import ConvoywatchError, InputError
from bot.settings import Settings, load_settings

STATS_KEYS = ("channels", "posts", "relevant_posts", "events", "incidents", "digests_pending", "digests_sent")

Handler = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "db", None) is not None:
        overrides["db"] = args.db
    return load_settings(args.config, **overrides)


def _configure_logs(settings: Settings) -> None:
    from bot.logs import configure  # noqa: PLC0415 - keep `--help` fast

    secrets = [
        value.get_secret_value()
        for value in (settings.api_id, settings.api_hash, settings.session, settings.bot_token)
        if value is not None
    ]
    configure(level=settings.log_level, fmt=settings.log_format, stream=sys.stderr, secrets=secrets)


def _service_logs(settings: Settings) -> None:
    from bot.logs import configure  # noqa: PLC0415

    secrets = [
        value.get_secret_value()
        for value in (settings.api_id, settings.api_hash, settings.session, settings.bot_token)
        if value is not None
    ]
    configure(level=settings.log_level, fmt=settings.log_format, stream=sys.stdout, secrets=secrets)


# ---------------------------------------------------------------------------------- commands
async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import run_service  # noqa: PLC0415

    _service_logs(settings)
    return await run_service(settings, once=args.once)


def _progress(stream: Any) -> Callable[[str, int], None] | None:
    if not stream.isatty():
        return None

    def show(name: str, count: int) -> None:
        stream.write(f"\r{name}: {count:,} posts")
        stream.flush()

    return show


async def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_analyser, replay_files  # noqa: PLC0415
    from bot.pipeline import Pipeline  # noqa: PLC0415
    from bot.store import Store  # noqa: PLC0415

    _configure_logs(settings)
    analyser = build_analyser(settings)
    async with await Store.open(settings.db) as store:
        pipeline = Pipeline(store, analyser)
        progress = _progress(sys.stderr)
        summary = await replay_files(pipeline, args.paths, progress=progress)
        if progress:
            sys.stderr.write("\n")
    for bad in summary.bad:
        print(f"error: {bad}", file=sys.stderr)
    print(summary.line(pipeline))
    return 1 if summary.bad else 0


async def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_analyser  # noqa: PLC0415
    from bot.sources.replay import BadRecord, read_jsonl  # noqa: PLC0415

    analyser = build_analyser(settings)
    bad = 0
    out = sys.stdout
    for item in read_jsonl(args.path):
        if isinstance(item, BadRecord):
            print(f"error: {item}", file=sys.stderr)
            bad += 1
            continue
        analysis = analyser.analyse(item)
        record = {
            "id": item.corpus_id or f"{item.channel}/{item.message_id}",
            "relevant": analysis.relevant,
            "events": [event.to_json() for event in analysis.events],
            "score": round(analysis.classification.score, 3),
            "rules": list(analysis.classification.rule_names),
            "labels": dict(analysis.classification.labels),
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 1 if bad else 0


async def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store import Store  # noqa: PLC0415

    if not settings.db.exists():
        raise InputError(f"{settings.db}: no database yet (run `convoywatch replay` or `run` first)")
    async with await Store.open(settings.db) as store:
        stats = await store.posts.stats()
    if args.json:
        print(json.dumps({key: stats[key] for key in STATS_KEYS}))
    else:
        width = max(len(key) for key in STATS_KEYS)
        for key in STATS_KEYS:
            print(f"{key.replace('_', ' '):<{width}}  {stats[key]:>10,}")
    return 0


async def cmd_incidents(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as dt  # noqa: PLC0415

    from bot.durations import parse_duration  # noqa: PLC0415
    from bot.incident_export import render_incidents  # noqa: PLC0415
    from bot.store import Store  # noqa: PLC0415

    since = None
    if args.since is not None:
        try:
            since = dt.datetime.now(dt.UTC) - parse_duration(args.since)
        except ValueError as error:
            raise InputError(f"--since: {error}") from None
    if not settings.db.exists():
        raise InputError(f"{settings.db}: no database yet (run `convoywatch replay` or `run` first)")
    async with await Store.open(settings.db) as store:
        incidents = await store.posts.incidents(since)
    sys.stdout.write(render_incidents(incidents, args.format))
    return 0


def _rules_dir(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.rules) if getattr(args, "rules", None) is not None else settings.rules_dir


async def cmd_rules_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.rules.check import check_rules, speed_notes  # noqa: PLC0415

    directory = _rules_dir(args, settings)
    problems = check_rules(directory)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {directory}", file=sys.stderr)
        return 2
    for note in speed_notes(directory):
        print(note)
    print(f"rules ok ({directory})")
    return 0


async def cmd_rules_explain(args: argparse.Namespace, settings: Settings) -> int:
    from bot.rules.engine import load_ruleset  # noqa: PLC0415
    from bot.rules.explain import ANSI_MARK, PLAIN_MARK, explain  # noqa: PLC0415

    ruleset = load_ruleset(_rules_dir(args, settings))
    text = sys.stdin.read() if args.text == "-" else args.text
    mark = ANSI_MARK if sys.stdout.isatty() else PLAIN_MARK
    print("\n".join(explain(ruleset, text, mark)))
    return 0


async def cmd_rules_test(args: argparse.Namespace, settings: Settings) -> int:
    from bot.rules.engine import load_ruleset  # noqa: PLC0415
    from bot.rules.evaluate import evaluate_records, format_report  # noqa: PLC0415

    ruleset = load_ruleset(_rules_dir(args, settings))
    records: list[dict[str, Any]] = []
    try:
        with args.corpus.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise InputError(f"{args.corpus}:{number}: not JSON: {error.msg}") from None
    except OSError as error:
        raise InputError(f"{args.corpus}: {error.strerror or error}") from None
    print("\n".join(format_report(evaluate_records(ruleset, records))))
    return 0


async def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.digest.service import digest_command, sender_kind  # noqa: PLC0415
    from bot.durations import parse_duration  # noqa: PLC0415
    from bot.store import Store  # noqa: PLC0415

    _configure_logs(settings)
    try:
        since = parse_duration(args.since) if args.since else None
    except ValueError as error:
        raise InputError(f"--since: {error}") from None
    if not settings.db.exists():
        raise InputError(f"{settings.db}: no database yet (run `convoywatch replay` or `run` first)")
    async with await Store.open(settings.db) as store:
        composed, report = await digest_command(settings, store, since=since, send=args.send)
    if composed is None:
        return 0
    if not args.send or report is None or sender_kind(settings) != "console":
        print(composed.plain)
    for path in composed.files:
        print(f"wrote {path}", file=sys.stderr)
    if args.send and report is None:
        print("queued: the running convoywatch service delivers it", file=sys.stderr)
    if report is not None and report.pending:
        for chat, reason in sorted(report.failed_chats.items()):
            print(f"error: chat {chat}: {reason}", file=sys.stderr)
        print(f"convoywatch: {report.pending} message(s) still pending (see stats)", file=sys.stderr)
        return 1
    return 0


async def cmd_login(args: argparse.Namespace, settings: Settings) -> int:
    import getpass  # noqa: PLC0415

    from bot.sources.telegram_session import login  # noqa: PLC0415

    _configure_logs(settings)
    await login(
        settings, prompt=input, secret_prompt=getpass.getpass, out=sys.stdout, print_string=args.string
    )
    return 0


async def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import Shutdown, build_analyser  # noqa: PLC0415
    from bot.pipeline import Pipeline  # noqa: PLC0415
    from bot.sources.telegram import run_backfill  # noqa: PLC0415
    from bot.sources.telegram_refs import parse_since  # noqa: PLC0415
    from bot.store import Store  # noqa: PLC0415

    _configure_logs(settings)
    try:
        since = parse_since(args.since)
    except ValueError as error:
        raise InputError(f"--since: {error}") from None
    analyser = build_analyser(settings)
    shutdown = Shutdown()
    shutdown.install()  # SIGTERM/SIGINT stop at the next post; the same command resumes
    progress = _progress(sys.stderr)
    async with await Store.open(settings.db) as store:
        pipeline = Pipeline(store, analyser)
        worker = asyncio.create_task(pipeline.run(), name="pipeline")
        try:
            result = await run_backfill(
                settings,
                store,
                pipeline,
                pipeline.metrics,
                since,
                only=args.channel,
                progress=progress,
                stop=shutdown.stop,
            )
        finally:
            await pipeline.close()
            await worker
            if progress:
                sys.stderr.write("\n")
    for key, count in sorted(result.posts.items()):
        print(f"{key}: {count} posts")
    for key, reason in sorted(result.skipped.items()):
        print(f"convoywatch: {key}: skipped ({reason})", file=sys.stderr)
    if result.interrupted:
        print("convoywatch: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    return 1 if result.skipped else 0


async def cmd_healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when the running service's /healthz answers 200, else 1 (the Docker HEALTHCHECK)."""
    from bot.health import probe  # noqa: PLC0415

    if settings.health_port is None:
        print("convoywatch: healthcheck: no health port (set CONVOYWATCH_HEALTH_PORT)", file=sys.stderr)
        return 1
    result = await asyncio.to_thread(probe, settings.health_host, settings.health_port, timeout=args.timeout)
    print(f"{'healthy' if result.healthy else 'unhealthy'}: {result.detail}")
    return 0 if result.healthy else 1


async def cmd_config_check(args: argparse.Namespace, settings: Settings) -> int:
    print(f"settings ok{f' ({args.config})' if args.config else ''}")
    return 0


# ---------------------------------------------------------------------------------- parser
def _common_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML settings file")
    options.add_argument(
        "--db", type=Path, default=argparse.SUPPRESS, help="SQLite database (default data/convoywatch.db)"
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    # --config/--db work before or after the command. Each parser gets its own copies of
    # the options (argparse shares a parent's action objects), and SUPPRESS keeps an option
    # a subcommand did not see from overwriting one given before it.
    common = _common_options()

    parser = argparse.ArgumentParser(
        prog="convoywatch",
        description="Telegram channel monitor for attacks on convoys.",
        parents=[_common_options()],
    )
    parser.set_defaults(config=None, db=None)
    parser.add_argument("--version", action="version", version=f"convoywatch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", parents=[common], help="run the service")
    run.add_argument("--once", action="store_true", help="process what is there, deliver the digest, exit")
    run.set_defaults(handler=cmd_run)

    replay = commands.add_parser("replay", parents=[common], help="ingest exports/JSONL through the pipeline")
    replay.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    replay.set_defaults(handler=cmd_replay)

    classify = commands.add_parser(
        "classify", parents=[common], help="classify JSONL posts to stdout (no DB)"
    )
    classify.add_argument("path", type=Path, metavar="PATH")
    classify.set_defaults(handler=cmd_classify)

    digest = commands.add_parser("digest", parents=[common], help="render the digest now; --send delivers it")
    digest.add_argument(
        "--since", metavar="DURATION", help="cover this long back (6h, 2d); default: since the last digest"
    )
    digest.add_argument("--send", action="store_true", help="send through the configured sender (outbox)")
    digest.set_defaults(handler=cmd_digest)

    login = commands.add_parser(
        "login", parents=[common], help="log in to Telegram (phone, code, 2FA); saves the session file"
    )
    login.add_argument("--string", action="store_true", help="print a StringSession instead of saving a file")
    login.set_defaults(handler=cmd_login)

    backfill = commands.add_parser(
        "backfill", parents=[common], help="fetch channel history since a date (resumable)"
    )
    backfill.add_argument("--since", required=True, metavar="DATE", help="2026-03-01 or an ISO date-time")
    backfill.add_argument("--channel", metavar="CHANNEL", help="one channel (@name, t.me link or id)")
    backfill.set_defaults(handler=cmd_backfill)

    stats = commands.add_parser("stats", parents=[common], help="counts of what is stored")
    stats.add_argument("--json", action="store_true", help="one JSON line")
    stats.set_defaults(handler=cmd_stats)

    incidents = commands.add_parser(
        "incidents", parents=[common], help="export incidents (table, ACLED-like CSV, JSON, GeoJSON)"
    )
    incidents.add_argument(
        "--since", metavar="DURATION", help="only incidents first seen within this long (30m, 6h, 2d, 1w)"
    )
    incidents.add_argument(
        "--format", choices=("table", "csv", "json", "geojson"), default="table", help="output format"
    )
    incidents.set_defaults(handler=cmd_incidents)

    rules_options = argparse.ArgumentParser(add_help=False)
    rules_options.add_argument(
        "--rules", type=Path, metavar="DIR", help="rules directory (default: settings rules_dir)"
    )
    rules = commands.add_parser("rules", parents=[common], help="check, explain and test the rule files")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    rules_check = rules_commands.add_parser(
        "check", parents=[common, rules_options], help="report every problem as file:line: message"
    )
    rules_check.set_defaults(handler=cmd_rules_check)
    rules_explain = rules_commands.add_parser(
        "explain", parents=[common, rules_options], help="show why a text is (not) flagged"
    )
    rules_explain.add_argument("text", metavar="TEXT", help="the text ('-' reads standard input)")
    rules_explain.set_defaults(handler=cmd_rules_explain)
    rules_test = rules_commands.add_parser(
        "test", parents=[common, rules_options], help="precision/recall/F1 on a labelled JSONL corpus"
    )
    rules_test.add_argument("corpus", type=Path, metavar="CORPUS.jsonl")
    rules_test.set_defaults(handler=cmd_rules_test)

    health = commands.add_parser(
        "healthcheck", parents=[common], help="exit 0 if the running service is healthy (Docker HEALTHCHECK)"
    )
    health.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for /healthz")
    health.set_defaults(handler=cmd_healthcheck)

    config = commands.add_parser("config", parents=[common], help="settings")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_commands.add_parser("check", parents=[common], help="validate the settings and exit")
    check.set_defaults(handler=cmd_config_check)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``convoywatch`` and ``python -m bot``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
        handler: Handler = args.handler
        return asyncio.run(handler(args, settings))
    except ConvoywatchError as error:
        print(f"convoywatch: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("convoywatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
