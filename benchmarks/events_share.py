#!/usr/bin/env python
"""
What the tracking events cost a backfill: ``store all`` with events sent three ways, in one run.

    python benchmarks/events_share.py [--db sqlite|mysql] [--learners 1000] [--rounds 5] [--cpu]

Builds the dataset of ``benchmarks/run.py`` (same arguments, same seed), measures its write
floors, then runs ``store all`` (every learner into an empty table) once per variant and
round, interleaved, so that load on a shared machine falls on every variant alike:

* ``as now``: the app as it is (``completion_aggregator.events.emit_events``, ADR 0021);
* ``tracker.emit``: each event through ``eventtracking.tracker.emit`` with a plain ``dict``
  payload, as the code before ADR 0021 sent them;
* ``none``: ``COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES`` empty.

Events go to the LMS's default backends (``benchmarks/tracking.py``). Prints each variant's
median and its ratio to the bare-cursor write floor measured in the same run. ``--cpu``
times the process's CPU instead of the wall clock: steadier on a loaded machine, and the
whole work on SQLite (not on MariaDB, whose server does the writing).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import run  # noqa: E402

VARIANTS = ("tracker.emit", "as now", "none")


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "mysql"), default="sqlite")
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--breadth", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu", action="store_true", help="time the process's CPU, not the wall clock")
    parser.add_argument("--mysql-database", default="completion_aggregator_bench_events")
    args = parser.parse_args(argv)
    bench_args = run.parse_args(
        ["--db", args.db, "--learners", str(args.learners), "--breadth", str(args.breadth)]
        + ["--mysql-database", args.mysql_database]
    )
    return args, bench_args


def _select(variant: str) -> None:
    """Make ``store all`` send its events the way ``variant`` names."""
    from django.conf import settings
    from eventtracking import tracker

    from completion_aggregator import events

    def through_emit(batch) -> int:
        for name, data in batch:
            tracker.emit(name, dict(data))
        return 0

    events.emit_events = through_emit if variant == "tracker.emit" else _SEND
    settings.COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES = set() if variant == "none" else set(events.EVENT_TYPES)


def main(argv: list[str] | None = None) -> int:
    args, bench_args = parse_args(argv)
    if args.cpu:
        run.time.perf_counter = time.process_time  # every timing of the run, floors included
    cleanup = run.configure_environment(bench_args)
    try:
        _measure(args, bench_args)
    finally:
        cleanup()
    return 0


def _measure(args: argparse.Namespace, bench_args: argparse.Namespace) -> None:
    global _SEND
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    from benchmarks import dataset, tracking
    from completion_aggregator import events

    _SEND = events.emit_events
    override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True).enable()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    call_command("migrate", verbosity=0, interactive=False)
    log = tracking.install()
    course = dataset.publish_course(bench_args.breadth)
    learners = dataset.create_learners(course, bench_args.learners)
    dataset.create_completions(course, learners, bench_args.seed, bench_args.density)
    phases: dict = {}
    bench = run.Bench(course, learners, bench_args, phases)
    bench.tracking_log = log
    bench.write_floor()
    seconds: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for _round in range(args.rounds):
        for variant in VARIANTS:
            run._empty_aggregators()
            dataset.queue_everyone(course, learners)
            _select(variant)
            bench.store_all()
            seconds[variant].append(phases["store_all"]["seconds"])
    _select("as now")
    bench.write_floor()  # the faster of the first and last measurement is kept
    floor = phases["write_floor"]
    raw = floor["raw_cursor_seconds"]
    print(f"{'cpu' if args.cpu else 'wall'} seconds, {floor['rows']} rows; bare-cursor write floor {raw:.3f} s")
    for variant, runs in seconds.items():
        median = statistics.median(runs)
        rate = floor["rows"] / median
        print(f"  store all, events {variant:13} {median:8.3f} s  {median / raw:5.2f} x raw  {rate:8.0f} rows/s")


_SEND = None

if __name__ == "__main__":
    sys.exit(main())
