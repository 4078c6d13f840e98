#!/usr/bin/env python
"""
Freshness benchmark (issue 20, point 2): from a completion's commit to its learner's stored course row.

    python benchmarks/freshness.py [--learners 10000] [--rates 50,200,500] [--duration 60]
                                   [--count N] [--drain 60] [--json freshness-results.json]

MariaDB, a real Celery worker over Redis and ``run_aggregator_service --follow``, each in its
own process; a load generator (another process) commits completions through edx-completion's
``submit_completion`` at each fixed rate in turn while the driver (this process) watches the
learners' stored course rows. Per rate: the p50/p95/p99 lag and the CPU share of the
follower, the worker, the generator and the database. See benchmarks/README.rst.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import queue
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import freshness_cpu as cpu  # noqa: E402
from benchmarks import freshness_procs as procs  # noqa: E402
from benchmarks import freshness_report as report  # noqa: E402
from benchmarks.freshness_setup import DATABASE, configure_environment, flush_redis, log, prepare  # noqa: E402
from benchmarks.freshness_watch import Watcher, read_base  # noqa: E402


def _rates(text: str) -> list[float]:
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        rates = []
    if not rates or any(not math.isfinite(rate) or rate <= 0 for rate in rates):
        raise argparse.ArgumentTypeError(f"expected positive completions per second separated by commas, got {text!r}")
    return rates


OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--learners", {"type": int, "default": 10000, "help": "enrolled learners (default 10000)"}),
    (
        "--breadth",
        {"type": int, "default": 4, "help": "children per level of the course: breadth**4 leaves (default 4)"},
    ),
    ("--density", {"type": float, "default": 0.4, "help": "share of leaves completed before the run (default 0.4)"}),
    ("--seed", {"type": int, "default": 1, "help": "dataset and load seed (default 1)"}),
    (
        "--rates",
        {"type": _rates, "default": [50.0, 200.0, 500.0], "help": "completions/s, one phase each (50,200,500)"},
    ),
    ("--duration", {"type": float, "default": 60.0, "help": "the most seconds of load per rate (default 60)"}),
    ("--count", {"type": int, "default": None, "help": "the most completions per rate (default: rate × duration)"}),
    ("--drain", {"type": float, "default": 60.0, "help": "the most seconds to wait for the last rows (default 60)"}),
    ("--warmup", {"type": float, "default": 5.0, "help": "seconds of each rate left out of the steady figures (5)"}),
    ("--poll", {"type": float, "default": 0.1, "help": "seconds between the watcher's polls (default 0.1)"}),
    # Each generator waits for each commit (an fsync of the redo log, 4-16 ms on the shared machine, plus
    # five round trips): one process sends 40-70 per second there, so 200/s takes about 8 (benchmarks/README.rst).
    ("--generators", {"type": int, "default": 8, "help": "load generator processes sharing each rate (default 8)"}),
    ("--concurrency", {"type": int, "default": 2, "help": "worker processes: 1 is the solo pool, more prefork (2)"}),
    (
        "--cycle-seconds",
        {"type": float, "default": None, "help": "the follower's COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS"},
    ),
    ("--chunk-size", {"type": int, "default": None, "help": "the follower's COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE"}),
    ("--broker", {"default": "redis://127.0.0.1:6379/4", "help": "Celery broker, emptied first (default Redis db 4)"}),
    (
        "--cache",
        {"default": "redis://127.0.0.1:6379/5", "help": "the shared cache (locks), emptied first (Redis db 5)"},
    ),
    ("--mysql-database", {"default": DATABASE, "help": f"the MariaDB database, dropped and created ({DATABASE})"}),
    ("--reuse", {"action": "store_true", "help": "keep the database of an earlier run with as many learners"}),
    ("--json", {"default": "freshness-results.json", "help": "where to write the results (freshness-results.json)"}),
)


def _problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with the parsed options (empty: nothing)."""
    checks = (
        (args.learners >= 2, "--learners must be at least 2"),
        (args.breadth >= 1, "--breadth must be at least 1"),
        (0.0 <= args.density < 1.0, "--density must be from 0 to below 1 (learners need leaves left to complete)"),
        (0 < args.duration <= 3600, "--duration must be above 0 and at most 3600"),
        (0 <= args.drain <= 3600, "--drain must be from 0 to 3600"),
        (args.count is None or args.count >= 1, "--count must be at least 1"),
        (0 <= args.warmup < args.duration, "--warmup must be from 0 to below --duration"),
        (0.01 <= args.poll <= 10, "--poll must be from 0.01 to 10 seconds"),
        (1 <= args.generators <= 16, "--generators must be from 1 to 16"),
        (1 <= args.concurrency <= 64, "--concurrency must be from 1 to 64"),
        (args.cycle_seconds is None or 0 <= args.cycle_seconds <= 60, "--cycle-seconds must be from 0 to 60"),
        (args.chunk_size is None or args.chunk_size >= 1, "--chunk-size must be at least 1"),
        (args.broker.startswith("redis://"), "--broker must be a redis:// URL (the run empties that database first)"),
        (args.cache.startswith("redis://"), "--cache must be a redis:// URL (the run empties that database first)"),
    )
    return [message for ok, message in checks if not ok]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (:data:`OPTIONS`); argparse exits with status 2 and a message on bad input."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    for flag, options in OPTIONS:
        parser.add_argument(flag, **options)
    args = parser.parse_args(argv)
    for problem in _problems(args)[:1]:
        parser.error(problem)
    return args


def _take_lines(generators: procs.Generators, watcher: Watcher, done: list[tuple[int, float, float]]) -> None:
    """
    Pass the generators' new completions to the watcher; append each ``done`` line's figures
    (sent, seconds, lateness) to ``done``.

    Raises:
        RuntimeError: a generator ended (its output closed) in the middle of a phase.
    """
    while True:
        try:
            line = generators.lines.get_nowait()
        except queue.Empty:
            return
        if line is None:
            raise RuntimeError(generators.failed())
        if line.startswith("c "):
            _, user_id, k, commit = line.split()
            watcher.record(int(user_id), int(k), float(commit))
        elif line.startswith("done "):
            sent, seconds, late = line.split()[1:]
            done.append((int(sent), float(seconds), float(late)))


def _follow_load(args: argparse.Namespace, generators: procs.Generators, watcher: Watcher, pids: dict, marks: dict):
    """
    Feed the completions to the watcher and poll every ``--poll`` seconds until every generator
    is done and every completion was seen (or ``--drain`` seconds after the load).

    Returns (completions sent, seconds of load, the worst lateness); adds the CPU snapshots
    ``loaded`` and ``drained`` to ``marks``. Raises RuntimeError if a generator ended early.
    """
    from django.db import connection

    from completion_aggregator.models import Aggregator

    table = Aggregator._meta.db_table
    done: list[tuple[int, float, float]] = []
    deadline = math.inf
    while True:
        tick = time.monotonic()
        _take_lines(generators, watcher, done)
        if len(done) == len(generators.procs) and "loaded" not in marks:
            marks["loaded"] = cpu.snapshot(pids, time.monotonic())
            deadline = time.monotonic() + args.drain
        watcher.poll(connection, table, time.time)
        if "loaded" in marks and (not watcher.pending or time.monotonic() >= deadline):
            marks["drained"] = cpu.snapshot(pids, time.monotonic())
            return sum(d[0] for d in done), max(d[1] for d in done), max(d[2] for d in done)
        time.sleep(max(0.0, watcher.interval(args.poll) - (time.monotonic() - tick)))


def run_phase(
    rate: float, args: argparse.Namespace, generator: procs.Generators, watcher: Watcher, pids: dict, log_dir: Path
) -> dict[str, Any]:
    """One rate: load, then drain; returns the phase's figures (lags, CPU shares, tasks, cycles)."""
    count = args.count or max(1, math.ceil(rate * args.duration))
    offsets = {name: procs.log_size(log_dir / name) for name in ("worker.log", "follower.log")}
    first_sample, first_poll = len(watcher.samples), watcher.polls
    marks = {"start": cpu.snapshot(pids, time.monotonic())}
    start = time.time()
    generator.start_phase(rate, count, args.duration)
    sent, seconds, late = _follow_load(args, generator, watcher, pids, marks)
    used = {name: (marks["drained"].processes[name] or 0) - (marks["start"].processes[name] or 0) for name in pids}
    phase = {
        "rate": rate,
        "sent": sent,
        "load_seconds": round(seconds, 3),
        "sent_per_s": round(sent / seconds, 1) if seconds else None,
        "generator_late_max_s": late,
        "drain_seconds": round(marks["drained"].wall - marks["loaded"].wall, 2),
        "lag": report.lag_figures(watcher.samples[first_sample:], start, args.warmup),
        "cpu_share": cpu.shares(marks["start"], marks["loaded"]),
        "cpu_share_with_drain": cpu.shares(marks["start"], marks["drained"]),
        "cpu_ms_per_completion": {
            name: round(1000 * value / sent, 3) if sent else None for name, value in used.items()
        },
        "watcher_mean_poll_interval_s": round(
            (marks["drained"].wall - marks["start"].wall) / (watcher.polls - first_poll), 3
        ),
        "worker_tasks": procs.task_figures(log_dir / "worker.log", offsets["worker.log"]),
        "follower_cycles": procs.cycle_figures(log_dir / "follower.log", offsets["follower.log"]),
    }
    report.add_derived(phase)
    return phase


def check_rows(watcher: Watcher, course_key: str) -> dict[str, Any]:
    """After the run: each learner's course row holds its earned before the run plus its completions; nothing stale."""
    from django.db import connection

    from completion_aggregator.models import Aggregator, StaleCompletion

    sent: dict[int, int] = {}
    for sample in watcher.samples:
        sent[sample.user_id] = max(sent.get(sample.user_id, 0), sample.k)
    now = read_base(connection, Aggregator._meta.db_table, course_key)
    wrong = [user for user, k in sent.items() if abs(now.get(user, 0.0) - watcher.base.get(user, 0.0) - k) > 1e-6]
    return {
        "learners_with_completions": len(sent),
        "rows_not_matching": len(wrong),
        "unresolved_stale_rows": StaleCompletion.objects.filter(resolved=False).count(),
    }


def measure(args: argparse.Namespace, course_key: str, log_dir: Path) -> dict[str, Any]:
    """Start the worker, the follower and the generator, run every rate, stop them; returns the results."""
    from django.db import connection

    from completion_aggregator.models import Aggregator

    settings = {
        "COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS": args.cycle_seconds,
        "COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE": args.chunk_size,
    }
    env = procs.child_env(
        args.mysql_database, args.broker, args.cache, log_dir, {k: str(v) for k, v in settings.items() if v is not None}
    )
    flush_redis(args.broker, args.cache)
    watcher = Watcher(course_key, read_base(connection, Aggregator._meta.db_table, course_key))
    worker = follower = generator = None
    phases = []
    try:
        worker = procs.start_worker(env, log_dir, args.concurrency)
        follower = procs.start_follower(env, log_dir)
        log("loading the generator (the learners and their completed leaves) …")
        generator = procs.Generators(env, course_key, args.seed, log_dir, args.generators)
        pids = {"follower": follower.pid, "worker": worker.pid, "generator": generator.pids,
                "database": cpu.find_process(), "watcher": os.getpid()}  # fmt: skip
        for rate in args.rates:
            log(f"{rate:g} completions/s …")
            phases.append(run_phase(rate, args, generator, watcher, pids, log_dir))
            steady = phases[-1]["lag"]["steady"]
            log(
                f"  sent {phases[-1]['sent']} at {phases[-1]['sent_per_s']}/s; "
                f"lag p50 {steady['p50']} p99 {steady['p99']} s"
            )
    finally:
        exits = {
            "generator": generator.close() if generator else None,
            "follower": procs.stop(follower),  # SIGTERM: a clean stop, status 0
            "worker": procs.stop(worker),
        }
    return {
        "phases": phases,
        "exit_status": exits,
        "check": check_rows(watcher, course_key),
        "watcher_polls": watcher.polls,
    }


def _meta(args: argparse.Namespace, course_key: str, log_dir: Path) -> dict[str, Any]:
    from django.db import connection

    from completion_aggregator.conf import get_setting

    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        version = cursor.fetchone()[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "course_key": course_key,
        "learners": args.learners,
        "breadth": args.breadth,
        "density": args.density,
        "seed": args.seed,
        "rates": args.rates,
        "duration_seconds": args.duration,
        "count": args.count,
        "drain_seconds": args.drain,
        "warmup_seconds": args.warmup,
        "poll_seconds": args.poll,
        "concurrency": args.concurrency,
        "cycle_seconds": args.cycle_seconds or get_setting("COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS"),
        "chunk_size": args.chunk_size or get_setting("COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE"),
        "db_version": version,
        "cpus": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "commit": commit or None,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "log_dir": str(log_dir),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints the table and writes ``--json``. Exit status 1 if a check failed."""
    args = parse_args(argv)
    configure_environment(args)
    started = time.monotonic()
    course_key = prepare(args)
    log_dir = Path(tempfile.mkdtemp(prefix="ca-freshness-"))
    meta = _meta(args, course_key, log_dir)
    results = {"meta": meta, **measure(args, course_key, log_dir)}
    meta["wall_seconds"] = round(time.monotonic() - started, 1)
    lines = report.table(results)
    results["table"] = lines
    results["verdict"] = report.verdict(results)
    Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\ncompletion_aggregator freshness — MariaDB {meta['db_version']}, {meta['cpus']} CPUs, "
          f"{args.learners} learners, "
          f"worker concurrency {args.concurrency}, cycle {meta['cycle_seconds']} s, chunk {meta['chunk_size']}, "
          f"load average at start {meta['load_average_at_start'][0]:.2f}\n")  # fmt: skip
    print("\n".join(lines))
    print(
        f"\nlags in seconds (steady: after the first {args.warmup:g} s of each rate); CPU shares in cores over the load"
    )
    print(f"{results['verdict']}\ncheck: {results['check']}; logs in {log_dir}\nresults written to {args.json}")
    check = results["check"]
    return (
        1
        if check["rows_not_matching"] or check["unresolved_stale_rows"] or results["exit_status"]["follower"] != 0
        else 0
    )


if __name__ == "__main__":
    sys.exit(main())
