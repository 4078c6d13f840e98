"""Key parsing shared by the api functions."""
from __future__ import annotations

from opaque_keys.edx.keys import CourseKey

from ..keys import plain_key


def as_course_key(value: str | CourseKey) -> CourseKey:
    """
    A CourseKey from a key or its string form, without a modulestore branch or version.

    (``keys.plain_key``: a branch-qualified key would read the draft branch's structure.)

    Raises:
        opaque_keys.InvalidKeyError: the string is not a course key.
    """
    key = value if isinstance(value, CourseKey) else CourseKey.from_string(str(value))
    return plain_key(key)
