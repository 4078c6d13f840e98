"""``rebuild_completion_totals``: build, or check, the statistics' running totals of courses."""
from django.core.management.base import BaseCommand, CommandError
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from ... import api
from ...api import totals


class Command(BaseCommand):
    help = (
        "Build the statistics totals of the given courses (or --all) from their enrollments and stored "
        "rows; with --check, only report where the kept totals differ (exit status 1 if they do)."
    )

    def add_arguments(self, parser):
        parser.add_argument("course_keys", nargs="*", metavar="COURSE_KEY")
        parser.add_argument("--all", action="store_true", help="every course with enrollments or aggregates")
        parser.add_argument(
            "--check", action="store_true", help="compare the kept totals with the rows; change nothing"
        )

    def handle(self, *args, **options):
        if bool(options["course_keys"]) == bool(options["all"]):
            raise CommandError("give one or more COURSE_KEYs, or --all (not both)")
        keys = []
        for value in options["course_keys"]:
            try:
                keys.append(CourseKey.from_string(value))
            except InvalidKeyError:
                raise CommandError(f"Invalid course key: {value!r} (expected e.g. course-v1:edX+DemoX+2026)") from None
        if options["all"]:
            keys = api.known_course_keys()
        if options["check"]:
            problems = [problem for key in keys for problem in totals.check(key)]
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
            learners += totals.rebuild(key).learners
        if options["verbosity"] > 0:
            self.stdout.write(f"courses: {len(keys)}; learners counted: {learners}")
