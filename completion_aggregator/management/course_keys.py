"""The course arguments shared by the commands that act on courses: COURSE_KEY… or --all."""
from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from .. import api


def add_course_arguments(parser: ArgumentParser) -> None:
    """Add the positional ``COURSE_KEY``s and ``--all``."""
    parser.add_argument("course_keys", nargs="*", metavar="COURSE_KEY")
    parser.add_argument("--all", action="store_true", help="every course with enrollments or aggregates")


def course_keys(options: dict[str, Any]) -> list[CourseKey]:
    """
    The courses the options name: the given keys, or every known course with ``--all``.

    Raises:
        CommandError: neither or both were given, or a key does not parse (before anything runs).
    """
    if bool(options["course_keys"]) == bool(options["all"]):
        raise CommandError("give one or more COURSE_KEYs, or --all (not both)")
    keys = []
    for value in options["course_keys"]:
        try:
            keys.append(CourseKey.from_string(value))
        except InvalidKeyError:
            raise CommandError(f"Invalid course key: {value!r} (expected e.g. course-v1:edX+DemoX+2026)") from None
    return api.known_course_keys() if options["all"] else keys
