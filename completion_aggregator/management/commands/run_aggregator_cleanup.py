"""``run_aggregator_cleanup``: delete resolved stale rows (run daily by cron)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...api.exceptions import LockHeld
from ...batch import run_cleanup


class Command(BaseCommand):
    """Delete resolved StaleCompletion rows, in short batches."""

    help = __doc__

    def handle(self, *args: str, **options: Any) -> None:
        """Run the command with the parsed ``options``."""
        try:
            deleted = run_cleanup()
        except LockHeld as exc:
            raise CommandError(f"another run_aggregator_cleanup is running ({exc}); try again later") from exc
        if options["verbosity"] > 0:
            self.stdout.write(f"resolved stale rows deleted: {deleted}")
