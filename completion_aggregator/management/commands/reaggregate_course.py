"""``reaggregate_course``: force a full recompute of every active enrollment of courses."""
from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from ... import api
from ..course_keys import add_course_arguments, course_keys


class Command(BaseCommand):
    """Queue a forced recompute of every active enrollment of the given courses (or --all)."""

    help = __doc__

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Declare the arguments and options that ``--help`` lists."""
        add_course_arguments(parser)
        parser.add_argument("--routing-key", default=None, help="Celery routing key of the queued work")

    def handle(self, *args: str, **options: Any) -> None:
        """Run the command with the parsed ``options``."""
        keys = course_keys(options)
        total = 0
        for key in keys:
            total += api.reaggregate_course(key, routing_key=options["routing_key"])
        if options["verbosity"] > 0:
            self.stdout.write(f"courses: {len(keys)}; enrollments queued: {total}")
