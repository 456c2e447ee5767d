"""End-to-end replay and live-latency benchmark (``make bench``).

1. Generates ``--posts`` posts in ``--channels`` channels (bench/generate.py) as a Telegram
   Desktop export or JSONL (not timed).
2. Replays them in a child process pinned to one CPU core through the whole pipeline
   (parse, normalise, classify, extract, store, group incidents) into a fresh SQLite file,
   timing every block of posts so the cost per post as the database grows is visible.
3. In the same child, with the full database, feeds live posts through ``Pipeline.put`` at
   ``--rate`` posts/s (Poisson arrivals) and measures each post's latency from ``put`` to
   "stored and alert queued" (the alert hook runs before the latency is taken).
4. Prints a report (and ``--json`` writes it): posts/s by wall and CPU time, per-block cost,
   peak RSS, database size, latency p50/p90/p99/max, and the machine's load average.

The replay and the live phase run in two child processes. ``--keep-db FILE`` keeps the
replayed database (as it was before the live phase) in FILE; when FILE exists already, the
generation and the replay are skipped and the live phase runs on a fresh copy of it, so
several live runs start from the same million-post database.

    python -m bench.bench_replay --posts 100000
    python -m bench.bench_replay --posts 1000000 --json bench/results-1m.json
    python -m bench.bench_replay --posts 1000000 --format jsonl --keep-db /tmp/1m.db   # builds
    python -m bench.bench_replay --posts 1000000 --keep-db /tmp/1m.db --live-seconds 60  # reuses
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.generate import START, Spec, jsonl_records, write_export, write_jsonl

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------- child
@dataclass(slots=True)
class Clock:
    """Cumulative (posts, wall, cpu) samples taken by the replay's progress callback."""

    samples: list[tuple[int, float, float]] = field(default_factory=list)

    def sample(self, _name: str, count: int) -> None:
        self.samples.append((count, time.perf_counter(), time.process_time()))

    def blocks(self, size: int) -> list[dict[str, float]]:
        """Per-block cost: for each ``size`` posts, microseconds per post (wall and CPU)."""
        out: list[dict[str, float]] = []
        if not self.samples:
            return out
        start = self.samples[0]
        boundary = size
        for sample in self.samples[1:]:
            if sample[0] >= boundary or sample is self.samples[-1]:
                posts = sample[0] - start[0]
                if posts > 0:
                    out.append(
                        {
                            "upto": sample[0],
                            "posts": posts,
                            "wall_us_per_post": (sample[1] - start[1]) / posts * 1e6,
                            "cpu_us_per_post": (sample[2] - start[2]) / posts * 1e6,
                        }
                    )
                start = sample
                boundary = (sample[0] // size + 1) * size
        return out


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _replay(args: argparse.Namespace, result: dict[str, Any]) -> None:
    from bot.app import build_analyser, replay_files  # noqa: PLC0415 - the child only
    from bot.pipeline import Pipeline  # noqa: PLC0415
    from bot.settings import load_settings  # noqa: PLC0415
    from bot.store import Store  # noqa: PLC0415

    settings = load_settings(None, db=args.db)
    started = time.perf_counter()
    analyser = build_analyser(settings)
    result["analyser_build_s"] = round(time.perf_counter() - started, 3)
    clock = Clock()
    async with await Store.open(args.db) as store:
        pipeline = Pipeline(store, analyser)
        clock.sample("", 0)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        summary = await replay_files(pipeline, [args.input], progress=clock.sample)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        stats = await store.posts.stats()
        totals = pipeline.totals
    result["replay"] = {
        "posts_read": summary.read,
        "bad_records": len(summary.bad),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "posts_per_s_wall": round(summary.read / wall),
        "posts_per_s_cpu": round(summary.read / cpu),
        "new": totals.new,
        "edited": totals.edited,
        "failed": totals.failed,
        "blocks": clock.blocks(args.block),
        "peak_rss_mb": round(_rss_mb(), 1),
    }
    result["stats"] = stats
    db_bytes = sum(p.stat().st_size for p in args.db.parent.glob(args.db.name + "*"))
    result["db_mb"] = round(db_bytes / 1e6, 1)


async def _live(args: argparse.Namespace, result: dict[str, Any]) -> None:
    from bot.app import build_analyser  # noqa: PLC0415
    from bot.digest.compose import DigestConfig, Digester  # noqa: PLC0415
    from bot.model import Post  # noqa: PLC0415
    from bot.pipeline import Pipeline  # noqa: PLC0415
    from bot.settings import load_settings  # noqa: PLC0415
    from bot.sources.replay import jsonl_post  # noqa: PLC0415
    from bot.store import SaveOutcome, Store  # noqa: PLC0415

    settings = load_settings(None, db=args.db)
    analyser = build_analyser(settings)
    count = int(args.rate * args.live_seconds)
    with contextlib.closing(sqlite3.connect(args.db)) as conn:
        stored_max = conn.execute("SELECT MAX(message_id) FROM posts").fetchone()[0] or 0
    # Live posts are new: their ids lie past anything stored (an earlier live run included).
    offset = max(50_000_000, (int(stored_max) // 1_000_000 + 1) * 1_000_000)
    # Live traffic: the replay's mix (--live-relevant-share), another seed, ids past anything
    # replayed. Every report of the flood lands in the same few days, so the grouping window
    # fills up as the run goes on: a higher share shows how that cost grows.
    spec = Spec(max(count, 1), args.channels, args.seed + 1, relevant_share=args.live_relevant_share)
    posts: list[Post] = []
    # Dated the last day up to now, as live posts are: their incidents are recent enough to alert.
    shift = dt.datetime.now(dt.UTC) - dt.timedelta(days=spec.days) - START
    for record in jsonl_records(spec):
        record["message_id"] += offset
        record["date"] = (dt.datetime.fromisoformat(record["date"]) + shift).isoformat()
        if "edit_date" in record:
            record["edit_date"] = (dt.datetime.fromisoformat(record["edit_date"]) + shift).isoformat()
        item = jsonl_post(record)
        if isinstance(item, Post):
            posts.append(item)
        if len(posts) >= count:
            break
    latencies: list[float] = []
    relevant_latencies: list[float] = []
    # CPU time the process spent (all threads) while a post was on its way: what its latency
    # would be with a core to itself (posts rarely overlap at 100 posts/s).
    cpu_latencies: list[float] = []
    relevant_cpu_latencies: list[float] = []
    put_at: dict[tuple[str, int, str], tuple[float, float]] = {}
    alerts_queued = 0
    async with await Store.open(args.db) as store:
        digester = Digester(store, DigestConfig.from_settings(settings))

        async def alerts(pairs: Sequence[tuple[Post, SaveOutcome]]) -> None:
            nonlocal alerts_queued
            ids = {
                i for _post, outcome in pairs for i in (*outcome.new_incidents, *outcome.changed_incidents)
            }
            if ids:
                incidents = [
                    found for i in sorted(ids) if (found := await store.posts.incident(i)) is not None
                ]
                alerts_queued += len(await digester.alerts(incidents))

        async def measure(pairs: Sequence[tuple[Post, SaveOutcome]]) -> None:
            now, cpu_now = time.perf_counter(), time.process_time()
            for post, outcome in pairs:
                started = put_at.pop((post.channel, post.message_id, post.text), None)
                if started is None:
                    continue
                latencies.append(now - started[0])
                cpu_latencies.append(cpu_now - started[1])
                if outcome.relevant:
                    relevant_latencies.append(now - started[0])
                    relevant_cpu_latencies.append(cpu_now - started[1])

        pipeline = Pipeline(store, analyser, on_saved=[alerts, measure])
        # Warm up as a running service is: the analyser compiles some of its matchers on first
        # use (over a second), which is start-up, not the latency of a live post.
        for post in posts[:50]:
            pipeline.analyse(post)
        await digester.alerts([])
        gc.freeze()  # as run_service does once the analyser is built
        pauses: list[float] = []
        gc_started = [0.0]

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                gc_started[0] = time.perf_counter()
            elif info.get("generation") == 2:
                pauses.append(time.perf_counter() - gc_started[0])

        gc.callbacks.append(on_gc)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        worker = asyncio.create_task(pipeline.run())
        rng = random.Random(args.seed)
        due = time.perf_counter()
        for post in posts:
            due += rng.expovariate(args.rate)
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            put_at[(post.channel, post.message_id, post.text)] = (time.perf_counter(), time.process_time())
            await pipeline.put(post)
        await pipeline.join()
        await pipeline.close()
        await worker
        live_wall, live_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        gc.callbacks.remove(on_gc)
    result["live"] = {
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "cpu_s": round(live_cpu, 2),
        "wall_s": round(live_wall, 2),
        "full_gc_pauses": len(pauses),
        "full_gc_max_ms": round(max(pauses, default=0.0) * 1e3, 2),
        "rate_per_s": args.rate,
        "posts": len(latencies),
        "relevant_posts": len(relevant_latencies),
        "alerts_queued": alerts_queued,
        "p50_ms": round(_percentile(latencies, 0.50) * 1e3, 2),
        "p90_ms": round(_percentile(latencies, 0.90) * 1e3, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1e3, 2),
        "max_ms": round(max(latencies, default=float("nan")) * 1e3, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1e3, 2) if latencies else None,
        "relevant_p50_ms": round(_percentile(relevant_latencies, 0.50) * 1e3, 2),
        "relevant_p99_ms": round(_percentile(relevant_latencies, 0.99) * 1e3, 2),
        "relevant_max_ms": round(max(relevant_latencies, default=float("nan")) * 1e3, 2),
        "cpu_p50_ms": round(_percentile(cpu_latencies, 0.50) * 1e3, 2),
        "cpu_p99_ms": round(_percentile(cpu_latencies, 0.99) * 1e3, 2),
        "cpu_max_ms": round(max(cpu_latencies, default=float("nan")) * 1e3, 2),
        "relevant_cpu_p50_ms": round(_percentile(relevant_cpu_latencies, 0.50) * 1e3, 2),
        "relevant_cpu_p99_ms": round(_percentile(relevant_cpu_latencies, 0.99) * 1e3, 2),
    }


def child(args: argparse.Namespace) -> int:
    """Replay then live phase in this process (pinned to one core by the parent's request)."""
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    from bot.logs import configure  # noqa: PLC0415

    configure(level="error", fmt="json", stream=sys.stderr, secrets=[])
    result: dict[str, Any] = {}
    profiler = None
    if args.profile:
        import cProfile  # noqa: PLC0415

        profiler = cProfile.Profile()
        profiler.enable()
    if not args.skip_replay:
        asyncio.run(_replay(args, result))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    if args.live_seconds > 0 and not args.skip_live:
        if args.cpu is not None and hasattr(os, "sched_setaffinity"):
            # The one-core target is for the replay; a live service runs on whatever cores it has.
            os.sched_setaffinity(0, range(os.cpu_count() or 1))
        live_profiler = None
        if args.profile_live:
            import cProfile  # noqa: PLC0415

            live_profiler = cProfile.Profile()
            live_profiler.enable()
        asyncio.run(_live(args, result))
        if live_profiler is not None:
            live_profiler.disable()
            live_profiler.dump_stats(args.profile_live)
    result["peak_rss_mb_total"] = round(_rss_mb(), 1)
    print(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------------- parent
def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "platform": platform.platform(),
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        f"machine: {result['machine']['cpu']}, {result['machine']['cores']} cores, "
        f"Python {result['machine']['python']}, SQLite {result['machine']['sqlite']}",
    ]
    if "replay" in result:
        replay = result["replay"]
        lines += [
            f"input: {result['posts']:,} posts in {result['channels']} channels ({result['format']}, "
            f"{result['input_mb']} MB)",
            f"replay: {replay['posts_read']:,} posts in {replay['wall_s']} s wall / {replay['cpu_s']} s CPU"
            f" = {replay['posts_per_s_wall']:,} posts/s (wall), {replay['posts_per_s_cpu']:,} posts/s (CPU),"
            " one core",
            f"peak RSS (replay): {replay['peak_rss_mb']} MB; database: {result['db_mb']} MB",
            f"stored: {json.dumps(result['stats'])}",
            "cost per post as the database grows (us/post, wall | CPU):",
        ]
        for block in replay["blocks"]:
            lines.append(
                f"  up to {block['upto']:>9,}: {block['wall_us_per_post']:8.1f}"
                f" | {block['cpu_us_per_post']:8.1f}"
            )
        blocks = replay["blocks"]
        if len(blocks) >= 2:
            ratio = blocks[-1]["cpu_us_per_post"] / blocks[0]["cpu_us_per_post"]
            lines.append(f"  last/first block CPU cost: {ratio:.2f}x")
    if "live" in result:
        live = result["live"]
        lines.append(f"live database: {result.get('live_db', 'the replayed one')}")
        lines.append(
            f"live at {live['rate_per_s']} posts/s ({live['posts']} posts, "
            f"{live['relevant_posts']} relevant, {live['alerts_queued']} alerts queued): "
            f"p50 {live['p50_ms']} ms, p90 {live['p90_ms']} ms, p99 {live['p99_ms']} ms, "
            f"max {live['max_ms']} ms; relevant posts p50 {live['relevant_p50_ms']} ms, "
            f"p99 {live['relevant_p99_ms']} ms, max {live['relevant_max_ms']} ms;"
            f" {live['cpu_s']} s CPU in {live['wall_s']} s; load average {live['load_average']};"
            f" {live['full_gc_pauses']} full GC pauses, longest {live['full_gc_max_ms']} ms"
        )
        lines.append(
            f"  CPU time per post (process, all threads): p50 {live['cpu_p50_ms']} ms, p99 "
            f"{live['cpu_p99_ms']} ms, max {live['cpu_max_ms']} ms; relevant posts p50 "
            f"{live['relevant_cpu_p50_ms']} ms, p99 {live['relevant_cpu_p99_ms']} ms"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="convoywatch end-to-end replay and live-latency benchmark")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("export", "jsonl"), default="export")
    parser.add_argument("--block", type=int, default=0, help="posts per timing block (default posts/10)")
    parser.add_argument("--rate", type=float, default=100.0, help="live posts per second")
    parser.add_argument("--live-seconds", type=float, default=30.0, help="0 skips the live phase")
    parser.add_argument("--live-relevant-share", type=float, default=0.015)
    parser.add_argument("--cpu", type=int, default=None, help="pin the child to this core (default: last)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep input and database here")
    parser.add_argument("--input", type=Path, default=None, help="reuse an input file (skips generation)")
    parser.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the replay into this file")
    parser.add_argument(
        "--profile-live", type=Path, default=None, help="cProfile the live phase into this file"
    )
    parser.add_argument(
        "--keep-db",
        type=Path,
        default=None,
        help="keep the replayed database here; if it exists, skip the replay and run the live phase"
        " on a copy of it",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-replay", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-live", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.block <= 0:
        args.block = max(args.posts // 10, 1000)
    if args.child:
        return child(args)

    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cw-bench-")))
        workdir.mkdir(parents=True, exist_ok=True)
        db = workdir / "bench.db"
        for stale in workdir.glob("bench.db*"):
            stale.unlink()
        cpu = args.cpu if args.cpu is not None else max((os.cpu_count() or 1) - 1, 0)
        result: dict[str, Any] = {}
        reuse = args.keep_db is not None and args.keep_db.exists()
        source = args.input
        if reuse:
            print(f"copying {args.keep_db} (no replay)", file=sys.stderr)
            shutil.copyfile(args.keep_db, db)
            result["live_db"] = str(args.keep_db)
        else:
            if source is None:
                source = workdir / ("result.json" if args.format == "export" else "posts.jsonl")
                print(f"generating {args.posts:,} posts -> {source}", file=sys.stderr)
                spec = Spec(args.posts, args.channels, args.seed)
                with source.open("w", encoding="utf-8") as out:
                    (write_export if args.format == "export" else write_jsonl)(spec, out)
            print(f"replaying on core {cpu} ...", file=sys.stderr)
            done = _run_child(args, source, db, cpu, ["--skip-live"])
            if isinstance(done, int):
                return done
            result.update(done)
            if args.keep_db is not None:
                shutil.copyfile(db, args.keep_db)
        if args.live_seconds > 0:
            # Flush the database written (or copied) just now: else SQLite's first checkpoint
            # fsyncs hundreds of MB of dirty pages inside the measured window (~300 ms for a post).
            with db.open("rb+") as written:
                os.fsync(written.fileno())
            print(f"live phase: {args.rate} posts/s for {args.live_seconds} s ...", file=sys.stderr)
            done = _run_child(args, source or db, db, cpu, ["--skip-replay"])
            if isinstance(done, int):
                return done
            result.update(done)
        result.update(
            machine=machine(),
            posts=args.posts,
            channels=args.channels,
            format=args.format,
            command=" ".join(["python -m bench.bench_replay", *(argv if argv is not None else sys.argv[1:])]),
        )
        if source is not None and not reuse:
            result["input_mb"] = round(source.stat().st_size / 1e6, 1)
        print(report(result))
        if args.json is not None:
            args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


def _run_child(
    args: argparse.Namespace, source: Path, db: Path, cpu: int, extra: list[str]
) -> dict[str, Any] | int:
    """One child run (replay or live); its JSON result, or its exit code when it failed."""
    command = [
        sys.executable, "-m", "bench.bench_replay", "--child", "--input", str(source), "--db", str(db),
        "--posts", str(args.posts), "--channels", str(args.channels), "--seed", str(args.seed),
        "--block", str(args.block), "--rate", str(args.rate), "--live-seconds", str(args.live_seconds),
        "--live-relevant-share", str(args.live_relevant_share), "--cpu", str(cpu), *extra,
    ]  # fmt: skip
    if args.profile and "--skip-live" in extra:
        command += ["--profile", str(args.profile)]
    if args.profile_live and "--skip-replay" in extra:
        command += ["--profile-live", str(args.profile_live)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr[-4000:], file=sys.stderr)
        return done.returncode
    parsed: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


if __name__ == "__main__":
    raise SystemExit(main())
