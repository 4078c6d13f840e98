"""``enroll_learners COURSE_KEY USERNAME... [--create-users] [--mode MODE]``."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...enrollment import EnrollmentError, enroll_learners


class Command(BaseCommand):
    """Enroll users in a course of the standalone host (re-activating inactive enrollments)."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the arguments and options that ``--help`` lists."""
        parser.add_argument("course_key", help="a course-v1: key with a published structure")
        parser.add_argument("usernames", nargs="+", metavar="USERNAME")
        parser.add_argument("--create-users", action="store_true", help="create unknown users (no usable password)")
        parser.add_argument("--mode", default="audit", help="enrollment mode (default audit)")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the command with the parsed ``options``."""
        try:
            result = enroll_learners(
                options["course_key"], options["usernames"], create_users=options["create_users"], mode=options["mode"]
            )
        except EnrollmentError as exc:
            raise CommandError(str(exc)) from None
        lines = [
            f"{result.course_key}: enrolled {len(result.enrolled)}, mode changed {len(result.updated)}, "
            f"already enrolled {len(result.unchanged)}, users created {len(result.created_users)}"
        ]
        for label, names in (
            ("enrolled", result.enrolled),
            ("mode changed", result.updated),
            ("already enrolled", result.unchanged),
            ("created users", result.created_users),
        ):
            if names:
                lines.append(f"  {label}: {', '.join(names)}")
        self.stdout.write("\n".join(lines))
