"""``reaggregate_course``: force a full recompute of every active enrollment of courses."""
from django.core.management.base import BaseCommand, CommandError
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from ... import api


class Command(BaseCommand):
    help = "Queue a forced recompute of every active enrollment of the given courses (or --all)."

    def add_arguments(self, parser):
        parser.add_argument("course_keys", nargs="*", metavar="COURSE_KEY")
        parser.add_argument("--all", action="store_true", help="every course with enrollments or aggregates")
        parser.add_argument("--routing-key", default=None, help="Celery routing key of the queued work")

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
        total = 0
        for key in keys:
            total += api.reaggregate_course(key, routing_key=options["routing_key"])
        if options["verbosity"] > 0:
            self.stdout.write(f"courses: {len(keys)}; enrollments queued: {total}")
