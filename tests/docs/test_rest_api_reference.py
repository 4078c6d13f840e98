"""The REST API reference is generated from the live OpenAPI schema and covers every operation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import openapi_reference  # noqa: E402


@pytest.fixture(scope="module")
def schema():
    return openapi_reference.generate_schema()


def test_every_operation_is_rendered_with_a_curl_example(schema):
    text = "\n".join(openapi_reference.render_rst(schema))
    operations = [
        (method, path)
        for path, item in schema["paths"].items()
        for method in openapi_reference.METHODS
        if method in item
    ]
    assert operations
    for method, path in operations:
        assert f"{method.upper()} {path}\n" in text
    assert text.count("$ curl") == len(operations)
    curls = [line for line in text.splitlines() if "$ curl" in line]
    assert not [line for line in curls if "{course_key}" in line or "{block_key}" in line]


def test_every_schema_component_has_an_anchor(schema):
    text = "\n".join(openapi_reference.render_rst(schema))
    for name in schema["components"]["schemas"]:
        assert f".. _openapi-schema-{name.lower()}:" in text
