"""``rebuild_completion_totals``: build, or check, the statistics' running totals of courses."""
from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ... import api
from ..course_keys import add_course_arguments, course_keys


class Command(BaseCommand):
    """Build or check the running totals behind the statistics (ADR 0009)."""

    help = (
        'Build the statistics totals of the given courses (or --all) from their enrollments and stored '
        'rows; with --check, only report where the kept totals differ (exit status 1 if they do).'
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Declare the arguments and options that ``--help`` lists."""
        add_course_arguments(parser)
        parser.add_argument(
            "--check", action="store_true", help="compare the kept totals with the rows; change nothing"
        )

    def handle(self, *args: str, **options: Any) -> None:
        """Run the command with the parsed ``options``."""
        keys = course_keys(options)
        if options["check"]:
            problems = [problem for key in keys for problem in api.check_statistics_totals(key)]
            for problem in problems:
                self.stdout.write(problem)
            if problems:
                raise CommandError(
                    f"{len(problems)} difference(s) found; run rebuild_completion_totals without --check to rebuild"
                )
            if options["verbosity"] > 0:
                self.stdout.write(f"courses checked: {len(keys)}; the kept totals agree with the rows")
            return
        learners = 0
        for key in keys:
            learners += api.rebuild_statistics_totals(key).learners
        if options["verbosity"] > 0:
            self.stdout.write(f"courses: {len(keys)}; learners counted: {learners}")
