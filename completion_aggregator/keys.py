"""Parsing keys typed by people (commands, imports). Pure: opaque-keys only."""
from __future__ import annotations

from typing import TypeVar

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


KeyT = TypeVar("KeyT")


def plain_key(key: KeyT) -> KeyT:
    """
    ``key`` without a modulestore branch or version (a course key or a usage key), as stored.

    Split-mongo sends branch-qualified keys in some signals (``SignalHandler.item_deleted``
    sends ``location.for_branch(branch)``; edx-platform's own receivers start with
    ``usage_key.for_branch(None)``; ``xmodule.modulestore.split_mongo``). Our tables and the
    platform's enrollments hold plain keys, so a branched key would match nothing. Keys
    without branches (old-mongo, other key types) are returned unchanged.
    """
    strip_version = getattr(key, "version_agnostic", None)
    if strip_version is not None:
        key = strip_version()
    strip_branch = getattr(key, "for_branch", None)
    if strip_branch is not None:
        key = strip_branch(None)
    return key
