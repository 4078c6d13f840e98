"""Key parsing shared by the api functions."""
from __future__ import annotations

from typing import Union

from opaque_keys.edx.keys import CourseKey


def as_course_key(value: Union[str, CourseKey]) -> CourseKey:
    """
    A CourseKey from a key or its string form.

    Raises:
        opaque_keys.InvalidKeyError: the string is not a course key.
    """
    return value if isinstance(value, CourseKey) else CourseKey.from_string(str(value))
