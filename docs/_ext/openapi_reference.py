"""
Sphinx directive ``completion-aggregator-openapi``: the REST API reference, from the OpenAPI schema.

When the build starts, ``python manage.py spectacular`` writes the schema of the app's endpoints
(the same settings as the ``api/schema/`` view: ``completion_aggregator.rest_api.urls.SCHEMA_SETTINGS``)
to a temporary file, failing on any schema warning. The directive renders every operation (its
parameters, request body, responses and a ``curl`` example) and every component schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "http://127.0.0.1:8000"
EXAMPLE_VALUES = {
    "course_key": "course-v1:OpenedX+AggDemo+2026",
    "block_key": "block-v1:OpenedX+AggDemo+2026+type@chapter+block@chapter1",
}
METHODS = ("get", "post", "put", "patch", "delete")


def generate_schema() -> dict[str, Any]:
    """Run ``manage.py spectacular`` (validated, warnings are errors) and return the schema."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "openapi.json"
        command = [
            sys.executable,
            "manage.py",
            "spectacular",
            "--format",
            "openapi-json",
            "--file",
            str(target),
            "--fail-on-warn",
            "--validate",
            "--custom-settings",
            "completion_aggregator.rest_api.urls.SCHEMA_SETTINGS",
        ]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "devsite.settings")}
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return json.loads(target.read_text(encoding="utf-8"))


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f":ref:`{name} <openapi-schema-{name.lower()}>`"
    for combiner in ("allOf", "oneOf", "anyOf"):
        if combiner in schema:
            return " | ".join(_type(part) for part in schema[combiner])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "format" in schema:
        kind = f"{kind} ({schema['format']})"
    if "enum" in schema:
        kind += ": " + ", ".join(f"``{value}``" for value in schema["enum"])
    if schema.get("nullable"):
        kind += ", nullable"
    return kind


def _table(header: list[str], rows: list[list[str]], widths: str) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in [header, *rows]:
        lines.append(f"   * - {row[0] or ' '}")
        lines.extend(f"     - {cell or ' '}" for cell in row[1:])
    return [*lines, ""]


def _curl(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    url = path
    for name, value in EXAMPLE_VALUES.items():
        url = url.replace("{" + name + "}", value)
    parts = ["curl"]
    if method != "get":
        parts.append(f"-X {method.upper()}")
    parts.append('-H "Authorization: JWT $TOKEN"')
    if "requestBody" in operation:
        parts.append("-H 'Content-Type: application/json' -d '{...}'")
    parts.append(f'"{BASE_URL}{url}"')
    return ["   .. code-block:: console", "", f"      $ {' '.join(parts)}", ""]


def render_rst(schema: dict[str, Any]) -> list[str]:
    """The reference as reStructuredText lines."""
    lines: list[str] = []
    info = schema.get("info", {})
    lines += [f"Schema: *{info.get('title', '')}*, version {info.get('version', '')}.", ""]
    if info.get("description"):
        lines += [_one_line(info["description"]), ""]
    lines += ["Operations", "**********", ""]
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            title = f"{method.upper()} {path}"
            lines += [f".. _openapi-{operation.get('operationId', title)}:", "", title, "=" * len(title), ""]
            if operation.get("description"):
                lines += [_one_line(operation["description"]), ""]
            tags = ", ".join(operation.get("tags", []))
            security = ", ".join(name for entry in operation.get("security", []) for name in entry) or "none"
            lines += [f":Tags: {tags or '-'}", f":Authentication: {security}", ""]
            params = operation.get("parameters", [])
            if params:
                rows = [
                    [
                        f"``{p['name']}``",
                        p["in"],
                        _type(p.get("schema", {})),
                        "yes" if p.get("required") else "no",
                        _one_line(p.get("description")),
                    ]
                    for p in params
                ]
                lines += _table(["Parameter", "In", "Type", "Required", "Meaning"], rows, "20 8 17 8 47")
            body = operation.get("requestBody", {}).get("content", {})
            if body:
                media = "application/json" if "application/json" in body else next(iter(body))
                lines += [f"Request body ({', '.join(body)}): {_type(body[media].get('schema', {}))}", ""]
            rows = []
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                kind = _type(next(iter(content.values())).get("schema", {})) if content else ""
                rows.append([f"``{code}``", kind, _one_line(response.get("description"))])
            if rows:
                lines += _table(["Status", "Body", "Meaning"], rows, "10 35 55")
            lines += ["Example:", ""] + _curl(method, path, operation)
    lines += ["Schemas", "*******", ""]
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        lines += [f".. _openapi-schema-{name.lower()}:", "", name, "=" * len(name), ""]
        if component.get("description"):
            lines += [_one_line(component["description"]), ""]
        properties = component.get("properties", {})
        required = set(component.get("required", []))
        if properties:
            rows = []
            for prop, spec in properties.items():
                flags = ", ".join(
                    flag for flag, on in (("required", prop in required), ("read-only", spec.get("readOnly"))) if on
                )
                rows.append([f"``{prop}``", _type(spec), flags, _one_line(spec.get("description"))])
            lines += _table(["Field", "Type", "Flags", "Meaning"], rows, "22 30 13 35")
        else:
            lines += [f"Type: {_type(component)}", ""]
    return lines


def setup(app: Any) -> dict[str, Any]:
    """Generate the schema when the build starts; register ``completion-aggregator-openapi``."""
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    def on_builder_inited(app: Any) -> None:
        app.env.completion_aggregator_openapi = generate_schema()

    class OpenAPIReference(SphinxDirective):
        """Insert the generated REST API reference."""

        has_content = False

        def run(self) -> list[Any]:
            from docutils import nodes

            schema = getattr(self.env, "completion_aggregator_openapi", None) or generate_schema()
            node = nodes.section()
            node.document = self.state.document
            nested_parse_with_titles(self.state, StringList(render_rst(schema), source="openapi.json"), node)
            return node.children

    app.connect("builder-inited", on_builder_inited)
    app.add_directive("completion-aggregator-openapi", OpenAPIReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
