"""
Parsing and validation of the REST API's inputs.

Bad input becomes a 400 or 404 whose ``detail`` names the bad value, never a 500.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from opaque_keys.edx.keys import CourseKey, UsageKey
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound

from .. import keys
from ..api.exceptions import BlockNotInCourse
from ..conf import aggregation_names

MEAN = "mean"
USERNAME = "username"
#: ``requested_fields=locked``: the learner entry's figures over the blocks they may not open (ADR 0011).
LOCKED = "locked"
#: The largest id a database row can have (a signed 64-bit integer): larger "ids" are refused
#: (sqlite cannot even bind them, which would answer 500).
MAX_ID = 2**63 - 1


class BadRequest(APIException):
    """A 400 answered as ``{"detail": "..."}``."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."
    default_code = "bad_request"


def requestable_aggregation_names() -> list[str]:
    """The aggregation names that ``requested_fields`` may list (the stored ones but ``course``)."""
    return sorted(name for name in aggregation_names() if name != "course")


def parse_course_key(raw: str) -> CourseKey:
    """
    The course key ``raw`` names.

    Raises:
        NotFound: ``Invalid course key: '…'.``
    """
    try:
        return keys.parse_course_key(raw)
    except keys.InvalidCourseKey:
        raise NotFound(f"Invalid course key: '{raw}'.") from None


#: A decimal number as a form field or JSON string carries it (no ``nan``, ``inf``, hex, ``_``).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_completion(raw: Any) -> float:
    """
    The ``completion`` of the v0 block POST, in [0.0, 1.0].

    A JSON number, or a decimal numeric string (what form-encoded and multipart bodies carry,
    and what some JSON clients send).

    Raises BadRequest naming the accepted range for anything else: a missing value, NaN,
    infinities (``1e999`` included), booleans, other strings, values outside [0.0, 1.0].
    Source: the contract's v0 block endpoint ({"completion": 0.0–1.0}); issue 17, point 3.
    """
    value: float | None = None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str) and _DECIMAL.fullmatch(raw.strip()):
        value = float(raw.strip())
    if value is None or not math.isfinite(value) or not 0.0 <= value <= 1.0:
        shown = "" if raw is None else raw
        raise BadRequest(f"Invalid completion: '{shown}' (expected a number between 0.0 and 1.0).")
    return value


def parse_block_key(raw: str, course_key: CourseKey) -> UsageKey:
    """
    A block key from the v0 block URL, in the course of ``course_key``.

    Old-Mongo keys (``i4x://org/course/type/name``, also with the slashes merged to ``i4x:/``
    by a proxy) carry no run: for an old-style course (``org/course/run``) they are mapped
    onto its run as edx-platform does (``block_key.replace(course_key=course_key)``), when
    their org and course are the course's.

    Raises:
        NotFound: ``Invalid block key: '…'.``
        BlockNotInCourse: an ``i4x://`` key of another org or course.
    """
    text = raw
    if text.startswith("i4x:/") and not text.startswith("i4x://"):
        text = "i4x://" + text[len("i4x:/") :]
    try:
        block = keys.parse_usage_key(text)
    except keys.InvalidUsageKey:
        raise NotFound(f"Invalid block key: '{raw}'.") from None
    if course_key.deprecated and getattr(block, "run", "") is None:  # an old-Mongo key without its run
        if (block.course_key.org, block.course_key.course) != (course_key.org, course_key.course):
            raise BlockNotInCourse(f"{text} is not in course {course_key}")
        block = block.replace(course_key=course_key)
    return block


def parse_usage_key(raw: Any, name: str = "root_block") -> UsageKey | None:
    """
    The usage key ``raw`` names, or None for an absent value.

    Raises:
        NotFound: ``Invalid root_block: '…'.`` (``name`` in place of root_block).
    """
    if raw is None or raw == "":
        return None
    try:
        return keys.parse_usage_key(str(raw))
    except keys.InvalidUsageKey:
        raise NotFound(f"Invalid {name}: '{raw}'.") from None


def _items(raw: Any, name: str, separators: str = ",") -> list[str]:
    """A comma string (GET) or a list (POST) as a list of stripped, non-empty strings."""
    if raw is None:
        return []
    if isinstance(raw, str):
        parts: Iterable[Any] = re.split(f"[{re.escape(separators)}]", raw)
    elif isinstance(raw, (list, tuple)):
        parts = raw
    else:
        raise BadRequest(f"Invalid {name}: '{raw}' (expected a list).")
    items = []
    for part in parts:
        if not isinstance(part, (str, int)) or isinstance(part, bool):
            raise BadRequest(f"Invalid {name}: '{part}'.")
        text = str(part).strip()
        if text:
            items.append(text)
    return items


def parse_requested_fields(raw: Any, allowed: Iterable[str]) -> list[str]:
    """
    The requested field names, in request order without repeats.

    Raises BadRequest naming every value not in ``allowed``.
    """
    allowed = set(allowed)
    names = list(dict.fromkeys(_items(raw, "requested_fields")))
    invalid = [name for name in names if name not in allowed]
    if invalid:
        listed = ", ".join(f"'{name}'" for name in invalid)
        raise BadRequest(f"Invalid requested_fields: {listed}. Valid values are: {', '.join(sorted(allowed))}.")
    return names


def parse_user_ids(raw: Any) -> list[int] | None:
    """
    Integers from ``1,2.3`` (GET: comma- or period-separated) or ``[1, 2, 3]`` (POST).

    None when absent. Raises BadRequest naming the values that are not integers.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = [raw]  # a bare integer (POST), validated like a list: negative ids are refused too
    values = _items(raw, "user_ids", ",.")
    invalid = [value for value in values if not _is_id(value)]
    if invalid:
        listed = ", ".join(f"'{value}'" for value in invalid)
        raise BadRequest(f"Invalid user_ids: {listed} (expected integers).")
    return [int(value) for value in values]


def _is_id(text: str) -> bool:
    """A non-negative integer a database id can hold."""
    return re.fullmatch(r"[0-9]+", text) is not None and int(text) <= MAX_ID


def parse_cohort(raw: Any) -> int | None:
    """A cohort id or None. Raises BadRequest: ``Invalid cohorts: '…'``."""
    if raw is None or str(raw).strip() == "":
        return None
    text = str(raw).strip()
    if not _is_id(text):
        raise BadRequest(f"Invalid cohorts: '{raw}' (expected an integer cohort id).")
    return int(text)


def parse_roles(raw: Any) -> list[str]:
    """A comma list of role names."""
    return list(dict.fromkeys(_items(raw, "exclude_roles")))


def parse_flag(raw: Any, name: str) -> bool:
    """
    ``true`` in any case (GET strings) or a JSON boolean (POST) is True; absent is False.

    Raises BadRequest for a POST value that is neither a boolean nor a string.
    """
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        return raw.strip().lower() == "true"
    raise BadRequest(f"Invalid {name}: '{raw}' (expected true or false).")


def parse_username(raw: Any) -> str | None:
    """A username, or None when absent or empty."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadRequest(f"Invalid username: '{raw}'.")
    return raw.strip() or None
