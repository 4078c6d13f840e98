"""
One parser of course keys and usage keys (issue 21, point 6).

``completion_aggregator.keys.parse_course_key`` and ``parse_usage_key`` are the only places of
the package that turn text into a key; every caller maps their one error type to its own
answer (a REST 404 body, a page's 404 or 400, a ``CommandError``, an import error, a task's
warning).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey

import completion_aggregator
from completion_aggregator.keys import InvalidCourseKey, InvalidUsageKey, parse_course_key, parse_usage_key

PACKAGE = Path(completion_aggregator.__file__).resolve().parent
#: A key class's own parser called directly: ``CourseKey.from_string(``, ``UsageKey.from_string(``,
#: ``CourseLocator.from_string(``, ``OpaqueKey.from_string(`` …
DIRECT_PARSE = re.compile(r"\b\w*(?:Key|Locator)\.from_string\(")
THE_PARSER = PACKAGE / "keys.py"


def test_only_keys_py_parses_keys():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == THE_PARSER:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if DIRECT_PARSE.search(line):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not found, "parse keys with completion_aggregator.keys.parse_course_key / parse_usage_key:\n" + "\n".join(
        found
    )


def test_the_parser_is_the_one_that_calls_from_string():
    text = THE_PARSER.read_text(encoding="utf-8")
    assert len(DIRECT_PARSE.findall(text)) == 2  # the course key's and the usage key's


def test_course_key_parses_exactly_unless_told_to_strip():
    key = parse_course_key("course-v1:org+course+run")
    assert key == CourseKey.from_string("course-v1:org+course+run")
    assert parse_course_key(key) is key
    assert parse_course_key("  course-v1:org+course+run\n", strip=True) == key
    with pytest.raises(InvalidCourseKey) as raised:
        parse_course_key(" course-v1:org+course+run")
    assert raised.value.text == " course-v1:org+course+run"


@pytest.mark.parametrize("text", ["", "not a key", "course-v1:org", "block-v1:org+course+run+type@html+block@x"])
def test_a_bad_course_key_raises_the_one_error_type(text):
    with pytest.raises(InvalidCourseKey) as raised:
        parse_course_key(text)
    error = raised.value
    # What the api raised before (opaque-keys) and what commands and imports caught before.
    assert isinstance(error, InvalidKeyError) and isinstance(error, ValueError)
    assert error.text == text
    assert str(error) == f"invalid course key {text!r}: expected course-v1:ORG+NUMBER+RUN"


def test_usage_key():
    text = "block-v1:org+course+run+type@html+block@intro"
    key = parse_usage_key(text)
    assert key == UsageKey.from_string(text)
    assert parse_usage_key(key) is key
    with pytest.raises(InvalidUsageKey) as raised:
        parse_usage_key("course-v1:org+course+run")
    assert isinstance(raised.value, InvalidKeyError) and isinstance(raised.value, ValueError)
    assert raised.value.text == "course-v1:org+course+run"
