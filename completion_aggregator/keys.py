"""Parsing keys typed by people (commands, imports). Pure: opaque-keys only."""
from __future__ import annotations

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey


def parse_course_key(value: str | CourseKey) -> CourseKey:
    """
    A CourseKey from user input (surrounding blanks ignored), with a message saying what to fix.

    Raises:
        ValueError: the value is not a course key.
    """
    if isinstance(value, CourseKey):
        return value
    try:
        return CourseKey.from_string(str(value).strip())
    except InvalidKeyError:
        raise ValueError(f"invalid course key {value!r}: expected course-v1:ORG+NUMBER+RUN") from None
