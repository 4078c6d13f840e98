"""Setting values as XBlock fields read them: JSON-decoded, ints, booleans, dates (no I/O)."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from .rules import MAX_JSON_DEPTH, JsonTooDeep


def as_int(value: Any) -> int | None:
    """An int from an int or numeric string; None otherwise (``True`` is not a number)."""
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deep JSON ``text`` nests arrays and objects (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(text: str) -> Any:
    """``json.loads``, refusing values nested deeper than :data:`MAX_JSON_DEPTH` (raises ``JsonTooDeep``)."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise JsonTooDeep(f"JSON nested more than {MAX_JSON_DEPTH} deep")
    return json.loads(text)


def decode(value: Any) -> Any:
    r"""
    An attribute or policy value: JSON-decoded when it is JSON (``"\"2013-…\""``, ``true``).

    Raises:
        JsonTooDeep: the value is JSON nested deeper than :data:`MAX_JSON_DEPTH`.
    """
    for _ in range(2):
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return text
        if json_depth(text) > MAX_JSON_DEPTH:
            raise JsonTooDeep(f"JSON nested more than {MAX_JSON_DEPTH} deep")
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        if decoded == value:
            return decoded
        value = decoded
    return value


def as_text(value: Any) -> str:
    """A String field: a JSON-quoted string is unquoted, anything else is kept as written."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith('"'):
            try:
                decoded = json.loads(text)
            except ValueError:
                return value
            return decoded if isinstance(decoded, str) else value
        return value
    return str(value)


def as_bool(value: Any) -> bool | None:
    """A Boolean field (JSON-decoded first): text is True when it is ``true`` in any case; None or empty is None."""
    value = decode(value)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def as_datetime(value: Any) -> datetime | None:
    """A date as XBlock's Date field reads it (naive means UTC); raises ValueError if unreadable."""
    value = decode(value)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a date: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def later(first: datetime | None, second: datetime | None) -> datetime | None:
    """The later of two optional dates (None when both are None)."""
    if first is None:
        return second
    if second is None:
        return first
    return max(first, second)
