"""The course arguments shared by the commands that act on courses: COURSE_KEY… or --all."""
from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from opaque_keys.edx.keys import CourseKey

from .. import api
from ..keys import InvalidCourseKey, parse_course_key


def add_course_arguments(parser: ArgumentParser) -> None:
    """Add the positional ``COURSE_KEY``s and ``--all``."""
    parser.add_argument("course_keys", nargs="*", metavar="COURSE_KEY")
    parser.add_argument("--all", action="store_true", help="every course with enrollments or aggregates")


def course_keys(options: dict[str, Any]) -> list[CourseKey]:
    """
    The courses the options name: the given keys, or every known course with ``--all``.

    A given key must be known: the host has the course, or aggregates of it are stored (the
    courses ``--all`` covers).

    Raises:
        CommandError: neither or both were given, a key does not parse (the wording of
            :func:`completion_aggregator.keys.parse_course_key`, shared by every command), or no
            site knows a key (all of them named) — before anything runs.
    """
    if bool(options["course_keys"]) == bool(options["all"]):
        raise CommandError("give one or more COURSE_KEYs, or --all (not both)")
    if options["all"]:
        return api.known_course_keys()
    keys = []
    for value in options["course_keys"]:
        try:
            keys.append(parse_course_key(value, strip=True))
        except InvalidCourseKey as exc:
            raise CommandError(str(exc)) from None
    known = {str(key) for key in api.known_course_keys()}
    unknown = [str(key) for key in keys if str(key) not in known]
    if unknown:
        raise CommandError(
            f"unknown course: {', '.join(unknown)} (no site of this LMS has it and no aggregates of it are stored)"
        )
    return keys
