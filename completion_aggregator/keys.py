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


def plain_key(key):
    """
    ``key`` without a modulestore branch or version (a course key or a usage key), as stored.

    Split-mongo sends branch-qualified keys in some signals (``SignalHandler.item_deleted``
    sends ``location.for_branch(branch)``; edx-platform's own receivers start with
    ``usage_key.for_branch(None)``; ``xmodule.modulestore.split_mongo``). Our tables and the
    platform's enrollments hold plain keys, so a branched key would match nothing. Keys
    without branches (old-mongo, other key types) are returned unchanged.
    """
    if getattr(key, "version_agnostic", None) is not None:
        key = key.version_agnostic()
    if getattr(key, "for_branch", None) is not None:
        key = key.for_branch(None)
    return key
