"""``unenroll_learners COURSE_KEY USERNAME...``."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...enrollment import EnrollmentError, unenroll_learners


class Command(BaseCommand):
    """Deactivate enrollments in a standalone course, keeping the learners' aggregates."""

    help = (
        "Deactivate users' enrollments in a course of the standalone host (their aggregates are kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the arguments and options that ``--help`` lists."""
        parser.add_argument("course_key", help="a course-v1: key with a published structure")
        parser.add_argument("usernames", nargs="+", metavar="USERNAME")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the command with the parsed ``options``."""
        try:
            result = unenroll_learners(options["course_key"], options["usernames"])
        except EnrollmentError as exc:
            raise CommandError(str(exc)) from None
        lines = [f"{result.course_key}: unenrolled {len(result.unenrolled)}, not enrolled {len(result.not_enrolled)}"]
        if result.unenrolled:
            lines.append(f"  unenrolled: {', '.join(result.unenrolled)}")
        if result.not_enrolled:
            lines.append(f"  not enrolled: {', '.join(result.not_enrolled)}")
        self.stdout.write("\n".join(lines))
