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


async def cmd_config_check(args: argparse.Namespace, settings: Settings) -> int:
    print(f"settings ok{f' ({args.config})' if args.config else ''}")
    return 0


# ---------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    # --config/--db work before or after the command; SUPPRESS keeps a subcommand's
    # absent option from overwriting one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML settings file")
    common.add_argument(
        "--db", type=Path, default=argparse.SUPPRESS, help="SQLite database (default data/convoywatch.db)"
    )

    parser = argparse.ArgumentParser(
        prog="convoywatch",
        description="Telegram channel monitor for attacks on convoys.",
        parents=[common],
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

    classify = commands.add_parser("classify", parents=[common], help="classify JSONL posts to stdout (no DB)")
    classify.add_argument("path", type=Path, metavar="PATH")
    classify.set_defaults(handler=cmd_classify)

    stats = commands.add_parser("stats", parents=[common], help="counts of what is stored")
    stats.add_argument("--json", action="store_true", help="one JSON line")
    stats.set_defaults(handler=cmd_stats)

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
