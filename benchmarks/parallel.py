#!/usr/bin/env python
"""
Backfill of one course by one worker process and by two at once, on MariaDB/MySQL (issue 20, point 5).

    python benchmarks/parallel.py [--learners 1000] [--breadth 4 | --shape C,S,V,L] [--workers 1,2]
                                  [--rounds 3] [--chunk 200] [--mysql-database NAME] [--json PATH]

One run builds a fresh database with the benchmark's dataset (benchmarks/dataset.py), then, for
each round and worker count (the order alternates between rounds), empties the aggregate
table, builds the statistics' totals (every learner counted, no rows), and lets that many
worker processes aggregate the whole course: chunks of consecutive learner ids
(as ``dispatch.chunk_by_learner_id`` dispatches them) taken from one queue, as Celery workers
take tasks. Each figure is compared with one worker's in the same run (benchmarks/README.rst).
The script runs the code it is checked out with (``sys.path`` starts at its repository), so a
copy placed in an older checkout measures that code.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import configure_environment, log  # noqa: E402

DATABASE = "completion_aggregator_bench_parallel"
POLL_SECONDS = 0.5  # how often the lock waits of the benchmark's database are sampled


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=1000, help="enrolled learners (default 1000)")
    parser.add_argument("--breadth", type=int, default=4, help="children per level: breadth**4 leaves (default 4)")
    parser.add_argument("--shape", default=None, help="chapters,sequentials,verticals,leaves instead of --breadth")
    parser.add_argument("--density", type=float, default=0.4, help="share of leaves each learner completed")
    parser.add_argument("--seed", type=int, default=1, help="dataset seed (default 1)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare, the first is the baseline")
    parser.add_argument("--rounds", type=int, default=3, help="backfills per worker count (the median is reported)")
    parser.add_argument("--chunk", type=int, default=200, help="learners per chunk (TASK_CHUNK_SIZE's default)")
    parser.add_argument("--mysql-database", default=DATABASE, help=f"the database to drop and create ({DATABASE})")
    parser.add_argument("--json", default="bench-parallel.json", help="where to write the results")
    parser.add_argument(
        "--celery", action="store_true", help="a real Celery worker (solo/prefork) per round (parallel_celery.py)"
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/4", help="--celery's broker, emptied (Redis db 4)")
    parser.add_argument("--cache", default="redis://127.0.0.1:6379/5", help="--celery's cache, emptied (Redis db 5)")
    args = parser.parse_args(argv)
    try:
        args.workers = [int(part) for part in args.workers.split(",")]
        args.shape = tuple(int(part) for part in args.shape.split(",")) if args.shape else None
    except ValueError:
        parser.error("--workers and --shape take comma-separated integers")
    if not args.workers or min(args.workers) < 1 or (args.shape and (len(args.shape) != 4 or min(args.shape) < 1)):
        parser.error("--workers takes counts of at least 1; --shape four positive integers")
    if args.learners < 2 or args.rounds < 1 or args.chunk < 1 or args.breadth < 1:
        parser.error("--learners must be at least 2; --rounds, --chunk and --breadth at least 1")
    args.db = "mysql"
    return args


# ----------------------------------------------------------------------------------------
# A worker process
# ----------------------------------------------------------------------------------------
class LockClock:
    """
    An ``execute_wrapper`` timing the course-lock statements (and the totals-shard claim).

    ``waited``: seconds spent in them (waiting for another transaction's lock, mostly).
    ``writes``: per chunk, (lock granted, commit) in ``time.monotonic()`` seconds: the chunk's
    write phase, from the course lock to the commit (an ``on_commit`` callback registered
    before the tracking events', so their emission is not counted).
    """

    def __init__(self) -> None:
        self.waited = 0.0
        self.writes: list[tuple[float, float]] = []
        self._granted: float | None = None

    def __call__(self, execute, sql, params, many, context):
        from django.db import transaction

        upper = sql.upper()
        locking = upper.endswith("FOR UPDATE") or upper.endswith("SHARE MODE") or "SKIP LOCKED" in upper
        if not locking or ("_COURSETOTAL" not in upper and "_TOTALSHARD" not in upper):
            return execute(sql, params, many, context)
        began = time.monotonic()
        result = execute(sql, params, many, context)
        self.waited += time.monotonic() - began
        if self._granted is None and "_COURSETOTAL" in upper:
            self._granted = time.monotonic()
            transaction.on_commit(self._committed)
        return result

    def _committed(self) -> None:
        if self._granted is not None:
            self.writes.append((self._granted, time.monotonic()))
        self._granted = None


def worker(course_key: str, chunk: int, first_user: int, todo: Any, ready: Any, start: Any, done: Any) -> None:
    """Aggregate chunks from ``todo`` until a None; report (finish time, CPU seconds, chunks, errors) to ``done``."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import override_settings

    from completion_aggregator import api

    settings.CELERY_TASK_ALWAYS_EAGER = True  # (a built course queues no task; never a broker)
    override_settings(
        COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True, COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=chunk
    ).enable()
    api.compute_course_progress(get_user_model().objects.get(pk=first_user), course_key)  # structure and graph cached
    ready.put(os.getpid())
    start.wait()
    cpu, chunks, errors, clock = time.process_time(), 0, [], LockClock()
    with connection.execute_wrapper(clock):
        while True:
            names = todo.get()
            if names is None:
                break
            try:
                api.aggregate_learners(course_key, names)
            except Exception as exc:  # reported: a deadlock or lock wait timeout would show here
                errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
            chunks += 1
    done.put((time.monotonic(), time.process_time() - cpu, chunks, errors, clock.waited, clock.writes))


# ----------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_environment(args)
    started = time.time()
    results = run(args)
    results["meta"]["wall_seconds"] = round(time.time() - started, 1)
    print_table(results)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults written to {args.json}")
    return 0 if results["meta"]["all_correct"] else 1


def run(args: argparse.Namespace) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    from benchmarks import dataset

    override_settings(
        COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True, COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=args.chunk
    ).enable()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    log("migrating a fresh database …")
    call_command("migrate", verbosity=0, interactive=False)
    course = dataset.publish_course(args.shape or args.breadth)
    learners = dataset.create_learners(course, args.learners)
    completions = dataset.create_completions(course, learners, args.seed, args.density)
    dataset.queue_everyone(course, learners)
    meta = _meta(args, course, learners, completions)
    rounds: dict[str, list[dict]] = {str(count): [] for count in args.workers}
    for number in range(args.rounds):
        order = args.workers if number % 2 == 0 else list(reversed(args.workers))
        for count in order:
            if args.celery:
                from benchmarks import parallel_celery

                record = parallel_celery.backfill(course, learners, count, args.chunk, args.broker, args.cache)
            else:
                record = backfill(course, learners, count, args.chunk)
            log(
                f"round {number + 1}, {count} worker(s): {record['wall_seconds']:.2f} s, errors {len(record['errors'])}"
            )
            rounds[str(count)].append(record)
    summary = _summary(rounds, args.workers[0], len(learners) * course.aggregators)
    meta["all_correct"] = all(record["correct"] for records in rounds.values() for record in records)
    return {"meta": meta, "by_workers": summary, "rounds": rounds}


def _meta(args: argparse.Namespace, course: Any, learners: list, completions: int) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("select version()")
        version = str(cursor.fetchone()[0])
    return {
        "db_version": version,
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(value, 2) for value in os.getloadavg()],
        "breadth": args.breadth,
        "shape": list(args.shape) if args.shape else None,
        "leaves": len(course.leaves),
        "aggregators": course.aggregators,
        "learners": len(learners),
        "completions": completions,
        "chunk_size": args.chunk,
        "rounds": args.rounds,
        "workers": args.workers,
        "celery": args.celery,
        "totals_shards": _setting("COMPLETION_AGGREGATOR_TOTALS_SHARDS"),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _setting(name: str) -> Any:
    """A setting's value; None where the code measured has no such setting (an older checkout)."""
    from completion_aggregator.conf import get_setting

    try:
        return get_setting(name)
    except KeyError:
        return None


def backfill(course: Any, learners: list, count: int, chunk: int) -> dict:
    """Empty the table, build the totals, and time ``count`` workers aggregating every learner."""
    from django.db import close_old_connections, connection

    _reset(course)
    context = multiprocessing.get_context("spawn")
    todo, ready, done, start = context.Queue(), context.Queue(), context.Queue(), context.Event()
    ordered = [learner.username for learner in sorted(learners, key=lambda learner: learner.user_id)]
    for first in range(0, len(ordered), chunk):  # what dispatch.chunk_by_learner_id dispatches
        todo.put(ordered[first : first + chunk])
    for _ in range(count):
        todo.put(None)
    connection.close()  # (the children open their own)
    args = (str(course.key), chunk, learners[0].user_id, todo, ready, start, done)
    processes = [context.Process(target=worker, args=args) for _ in range(count)]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=600)
    close_old_connections()
    began = time.monotonic()
    start.set()
    samples = waiting = 0
    reports: list[tuple] = []
    while len(reports) < count:
        waiting += 1 if _lock_waits() else 0
        samples += 1
        try:
            reports.append(done.get(timeout=POLL_SECONDS))
        except Exception:  # queue.Empty: still working
            continue
    for process in processes:
        process.join(60)
    wall = max(report[0] for report in reports) - began
    return _round_record(course, learners, count, wall, reports, samples, waiting)


def _reset(course: Any) -> None:
    """An empty aggregate table, every stale row unresolved, the totals built (learners counted, no rows)."""
    from django.db import connection

    from completion_aggregator.api import totals
    from completion_aggregator.models import Aggregator, StaleCompletion

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE TABLE {connection.ops.quote_name(Aggregator._meta.db_table)}")
    StaleCompletion.objects.filter(course_key=course.key).update(resolved=False)
    totals.rebuild(course.key)


def _lock_waits() -> int:
    """Transactions of this database waiting for a row lock now (INNODB_TRX)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX t"
            " JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id"
            " WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()"
        )
        return int(cursor.fetchone()[0])


def _round_record(
    course: Any, learners: list, count: int, wall: float, reports: list, samples: int, waiting: int
) -> dict:
    from completion_aggregator.api import totals
    from completion_aggregator.models import Aggregator, StaleCompletion

    rows = Aggregator.objects.filter(course_key=course.key).count()
    unresolved = StaleCompletion.objects.filter(course_key=course.key, resolved=False).count()
    problems = totals.check(course.key)
    errors = [error for report in reports for error in report[3]]
    writes = [interval for report in reports for interval in report[5]]
    return {
        "workers": count,
        "loadavg_after": [round(value, 2) for value in os.getloadavg()],
        "wall_seconds": round(wall, 3),
        "worker_cpu_seconds": round(sum(report[1] for report in reports), 3),
        "chunks_per_worker": [report[2] for report in reports],
        "rows": rows,
        "rows_per_s": round(rows / wall, 1) if wall else None,
        "course_lock_seconds": round(sum(report[4] for report in reports), 3),
        "write_phase_seconds": round(sum(end - begin for begin, end in writes), 3),
        "writes_overlapping_seconds": round(_overlap(writes), 3),
        "lock_wait_samples": waiting,
        "samples": samples,
        "errors": errors,
        "unresolved": unresolved,
        "totals_problems": problems[:5],
        "correct": not errors and not unresolved and not problems and rows == len(learners) * course.aggregators,
    }


def _overlap(intervals: list[tuple[float, float]]) -> float:
    """Seconds during which at least two of ``intervals`` were open at once."""
    events = sorted([(begin, 1) for begin, _end in intervals] + [(end, -1) for _begin, end in intervals])
    open_now, since, total = 0, 0.0, 0.0
    for moment, step in events:
        if open_now >= 2:
            total += moment - since
        open_now += step
        since = moment
    return total


def _summary(rounds: dict[str, list[dict]], baseline: int, rows: int) -> dict:
    base = statistics.median(record["wall_seconds"] for record in rounds[str(baseline)])
    summary = {}
    for count, records in rounds.items():
        wall = statistics.median(record["wall_seconds"] for record in records)
        summary[count] = {
            "median_wall_seconds": round(wall, 3),
            "rows_per_s": round(rows / wall, 1) if wall else None,
            "median_worker_cpu_seconds": round(statistics.median(r["worker_cpu_seconds"] for r in records), 3),
            "median_course_lock_seconds": round(statistics.median(r["course_lock_seconds"] for r in records), 3),
            "median_write_phase_seconds": round(statistics.median(r["write_phase_seconds"] for r in records), 3),
            "median_writes_overlapping_seconds": round(
                statistics.median(r["writes_overlapping_seconds"] for r in records), 3
            ),
            "lock_wait_samples": sum(record["lock_wait_samples"] for record in records),
            "samples": sum(record["samples"] for record in records),
            "errors": sum(len(record["errors"]) for record in records),
            "speedup": round(base / wall, 3) if wall else None,
            "all_correct": all(record["correct"] for record in records),
        }
    return summary


def print_table(results: dict) -> None:
    meta = results["meta"]
    shape = f"shape {','.join(map(str, meta['shape']))}" if meta["shape"] else f"breadth {meta['breadth']}"
    print(
        f"parallel backfill — mysql {meta['db_version']}, {meta['cpus']} CPUs (load {meta['loadavg_at_start']}), "
        f"{shape} ({meta['leaves']} leaves, {meta['aggregators']} aggregators), {meta['learners']} learners, "
        f"chunks of {meta['chunk_size']}, {meta['totals_shards']} totals shards, median of {meta['rounds']} rounds\n"
    )
    header = (
        "workers",
        "wall s",
        "rows/s",
        "worker CPU s",
        "course lock s",
        "writes s",
        "overlapping s",
        "lock-wait samples",
        "errors",
        "correct",
        f"× {meta['workers'][0]} worker",
    )
    lines = [header]
    for count, figures in results["by_workers"].items():
        lines.append(
            (
                count,
                f"{figures['median_wall_seconds']:.2f}",
                f"{figures['rows_per_s']:,.0f}",
                f"{figures['median_worker_cpu_seconds']:.2f}",
                f"{figures['median_course_lock_seconds']:.2f}",
                f"{figures['median_write_phase_seconds']:.2f}",
                f"{figures['median_writes_overlapping_seconds']:.2f}",
                f"{figures['lock_wait_samples']}/{figures['samples']}",
                str(figures["errors"]),
                "yes" if figures["all_correct"] else "NO",
                f"{figures['speedup']:.3f}",
            )
        )
    widths = [max(len(str(line[index])) for line in lines) for index in range(len(header))]
    for line in lines:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(line, widths, strict=True)))
    print(
        f"\n× {meta['workers'][0]} worker: that many workers' backfill speed over the baseline's, same run."
        "\ncourse lock s: time in the course-lock and shard-claim statements; writes s: chunks' lock-to-commit"
        " time; overlapping s: time two chunks were between lock and commit at once (all workers summed)."
    )


if __name__ == "__main__":
    sys.exit(main())
