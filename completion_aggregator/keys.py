"""
The one parser of course keys and usage keys, and the plain form of a key. Pure: opaque-keys only.

Every place that turns text into a key calls :func:`parse_course_key` or
:func:`parse_usage_key` (``tests/unit/test_one_key_parser.py`` checks it) and maps their one
error type to its own answer at the delivery edge: a REST 404 body, a page's 404 or 400, a
``CommandError``, an import error, a task's warning.
"""
from __future__ import annotations

from typing import TypeVar

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey


class InvalidCourseKey(InvalidKeyError, ValueError):
    """
    A text that is not a course key.

    ``text`` is the value as given (before any blanks were stripped); ``str(error)`` says what
    to fix. A subclass of ``opaque_keys.InvalidKeyError`` (what the api raised before) and of
    ``ValueError`` (what the commands and imports caught).
    """

    def __init__(self, text: object) -> None:
        Exception.__init__(self, f"invalid course key {text!r}: expected course-v1:ORG+NUMBER+RUN")
        self.text = text


class InvalidUsageKey(InvalidKeyError, ValueError):
    """A text that is not a usage key (block key); ``text`` is the value as given."""

    def __init__(self, text: object) -> None:
        Exception.__init__(self, f"invalid usage key {text!r}: expected block-v1:ORG+NUMBER+RUN+type@TYPE+block@ID")
        self.text = text


def parse_course_key(value: str | CourseKey, *, strip: bool = False) -> CourseKey:
    """
    The CourseKey ``value`` names (a CourseKey is returned as it is).

    ``strip``: ignore surrounding blanks (keys typed by people: commands, imports, enrollments);
    otherwise (URLs, task arguments, stored keys) a blank makes the key invalid.

    Raises:
        InvalidCourseKey: the text is not a course key.
    """
    if isinstance(value, CourseKey):
        return value
    text = str(value)
    try:
        return CourseKey.from_string(text.strip() if strip else text)
    except InvalidKeyError:
        raise InvalidCourseKey(value) from None


def parse_usage_key(value: str | UsageKey) -> UsageKey:
    """
    The UsageKey ``value`` names, exactly as given (a UsageKey is returned as it is).

    Raises:
        InvalidUsageKey: the text is not a usage key.
    """
    if isinstance(value, UsageKey):
        return value
    try:
        return UsageKey.from_string(str(value))
    except InvalidKeyError:
        raise InvalidUsageKey(value) from None


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
