"""``run_aggregator_service``: turn the stale-row queue into aggregation tasks (run by cron)."""
import argparse
import math
import sys

from django.core.management.base import BaseCommand, CommandError

from ...batch import run_service
from ...conf import get_setting
from ...locks import LockHeld


def _positive_int(value):
    """An argparse type: the message names the expected form, not this function."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


#: The longest pause between batches (a day); longer is surely a typo.
MAX_DELAY_SECONDS = 86400.0


def _delay_seconds(value):
    """An argparse type: a finite number of seconds from 0 to a day (``time.sleep`` refuses NaN and overflows)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (0.0 <= seconds <= MAX_DELAY_SECONDS):  # also False for NaN
        raise argparse.ArgumentTypeError(f"expected a number of seconds from 0 to {MAX_DELAY_SECONDS:.0f}, got {value!r}")
    return seconds


class Command(BaseCommand):
    help = "Read unresolved StaleCompletion rows in id order and enqueue aggregation tasks, one per course and chunk of learners."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=_positive_int,
            default=None,
            help="stale rows read per batch (default: COMPLETION_AGGREGATOR_SERVICE_BATCH_SIZE, 1000)",
        )
        parser.add_argument(
            "--delay-between-batches", type=_delay_seconds, default=0.0, help="seconds to sleep between batches (0 to 86400)"
        )
        parser.add_argument("--limit", type=_positive_int, default=500000, help="stop after this many stale rows (default 500000)")
        parser.add_argument("--routing-key", default=None, help="Celery routing key of the enqueued tasks")

    def handle(self, *args, **options):
        delay = options["delay_between_batches"]
        if not (0.0 <= float(delay) <= MAX_DELAY_SECONDS):  # call_command's keywords skip argparse's type
            raise CommandError(
                f"--delay-between-batches: expected a number of seconds from 0 to {MAX_DELAY_SECONDS:.0f}, got {delay!r}"
            )
        tty = sys.stdout.isatty() and options["verbosity"] > 0

        def progress(summary):
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
                f"stale rows read: {summary.stale_rows}; learners: {summary.learners}; "
                f"courses: {summary.courses}; tasks enqueued: {summary.tasks}"
            )
