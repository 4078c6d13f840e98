"""Key parsing shared by the api functions."""
from __future__ import annotations

from opaque_keys.edx.keys import CourseKey

from ..keys import parse_course_key, plain_key


def as_course_key(value: str | CourseKey) -> CourseKey:
    """
    A CourseKey from a key or its string form, without a modulestore branch or version.

    (``keys.plain_key``: a branch-qualified key would read the draft branch's structure.)

    Raises:
        completion_aggregator.keys.InvalidCourseKey: the string is not a course key (an
            ``opaque_keys.InvalidKeyError``).
    """
    return plain_key(parse_course_key(value))
