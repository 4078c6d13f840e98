"""
``run_aggregator_service``: turn the stale-row queue into aggregation tasks.

Run by cron (one pass over the queue), or with ``--follow`` as a long-running service that
keeps the queue short (issue 20; docs/operations.rst, ADR 0017).
"""
from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...api.exceptions import LockHeld
from ...batch import CycleReport, ServiceSummary, follow, run_service
from ...conf import get_setting


def _positive_int(value: str) -> int:
    """An argparse type: the message names the expected form, not this function."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


#: What ``signal.signal`` takes and returns.
_SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

#: The longest pause between batches (a day); longer is surely a typo.
MAX_DELAY_SECONDS = 86400.0


def _delay_seconds(value: str) -> float:
    """
    An argparse type: a finite number of seconds from 0 to a day.

    (``time.sleep`` refuses NaN and overflows.)
    """
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (0.0 <= seconds <= MAX_DELAY_SECONDS):  # also False for NaN
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds from 0 to {MAX_DELAY_SECONDS:.0f}, got {value!r}"
        )
    return seconds


class Command(BaseCommand):
    """Dispatch the work of unresolved stale rows, once or continuously (``--follow``, ADR 0017)."""

    help = (
        "Read unresolved StaleCompletion rows in id order and enqueue aggregation tasks, "
        "one per course and chunk of learners."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the arguments and options that ``--help`` lists."""
        parser.add_argument(
            "--batch-size",
            type=_positive_int,
            default=None,
            help="stale rows read per batch (default: COMPLETION_AGGREGATOR_SERVICE_BATCH_SIZE, 1000)",
        )
        parser.add_argument(
            "--delay-between-batches",
            type=_delay_seconds,
            default=0.0,
            help="seconds to sleep between batches (0 to 86400)",
        )
        parser.add_argument(
            "--limit", type=_positive_int, default=500000, help="stop after this many stale rows (default 500000)"
        )
        parser.add_argument("--routing-key", default=None, help="Celery routing key of the enqueued tasks")
        parser.add_argument(
            "--follow",
            action="store_true",
            help="keep running: dispatch new stale rows in short cycles until SIGTERM or Ctrl-C "
            "(COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS, COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE)",
        )
        parser.add_argument(
            "--cycles", type=_positive_int, default=None, help="with --follow: stop after this many cycles"
        )

    def handle(self, *args: str, **options: Any) -> None:
        """Run the command with the parsed ``options``."""
        delay = options["delay_between_batches"]
        if not (0.0 <= float(delay) <= MAX_DELAY_SECONDS):  # call_command's keywords skip argparse's type
            raise CommandError(
                "--delay-between-batches: expected a number of seconds from 0 to "
                f"{MAX_DELAY_SECONDS:.0f}, got {delay!r}"
            )
        tty = sys.stdout.isatty() and options["verbosity"] > 0
        if options["cycles"] and not options["follow"]:
            raise CommandError("--cycles needs --follow")
        if options["follow"]:
            if options["delay_between_batches"] or options["batch_size"] or options["limit"] != 500000:
                raise CommandError(
                    "--batch-size, --limit and --delay-between-batches are for a single run; with --follow use "
                    "COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE and COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS"
                )
            self._follow(options, tty)
            return

        def progress(summary: ServiceSummary) -> None:
            if tty:
                self.stdout.write(f"\r{summary.stale_rows} stale rows read, {summary.tasks} tasks enqueued", ending="")
                self.stdout.flush()

        try:
            summary = run_service(
                batch_size=options["batch_size"] or int(get_setting("COMPLETION_AGGREGATOR_SERVICE_BATCH_SIZE")),
                delay_between_batches=options["delay_between_batches"],
                limit=options["limit"],
                routing_key=options["routing_key"],
                progress=progress,
            )
        except LockHeld as exc:
            raise CommandError(f"another run_aggregator_service is running ({exc}); try again later") from exc
        if tty:
            self.stdout.write("")
        if options["verbosity"] > 0:
            self.stdout.write(
                f"stale rows read: {summary.stale_rows}; learners: {summary.learner_count}; "
                f"courses: {summary.courses}; tasks enqueued: {summary.tasks}"
            )

    def _follow(self, options: dict[str, Any], tty: bool) -> None:
        """Run the follower until SIGTERM/SIGINT (or ``--cycles``); the lock is released on the way out."""
        stop = threading.Event()
        previous: dict[signal.Signals, _SignalHandler] = {}

        def request_stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()  # the current cycle finishes; the sleep is cut short

        for stopping in (signal.SIGTERM, signal.SIGINT):
            previous[stopping] = signal.signal(stopping, request_stop)

        def report(cycle: CycleReport) -> None:
            if cycle.cycle == 1 and options["verbosity"] > 0:  # the lock is held: say so once
                self.stdout.write("following the stale-row queue; SIGTERM or Ctrl-C stops after the current cycle")
                self.stdout.flush()
            if tty:
                self.stdout.write(f"\r\033[K{cycle.line()}", ending="")
                self.stdout.flush()

        try:
            summary = follow(cycles=options["cycles"], stop=stop, routing_key=options["routing_key"], report=report)
        except LockHeld as exc:
            raise CommandError(f"another run_aggregator_service is running ({exc}); try again later") from exc
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if tty:
            self.stdout.write("")
        if summary.lock_lost:
            raise CommandError("another run_aggregator_service took the service lock over; this follower stopped")
        if options["verbosity"] > 0:
            failed = f"; failed cycles: {summary.failed_cycles}" if summary.failed_cycles else ""
            self.stdout.write(
                f"stopped after {summary.cycles} cycles: stale rows read: {summary.stale_rows}; "
                f"tasks enqueued: {summary.tasks}; resolved: {summary.resolved}{failed}"
            )
