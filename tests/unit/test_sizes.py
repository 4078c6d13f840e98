"""
Sizes a reader can hold in their head (issue 21 point 6).

No function of the package over 60 lines (from its ``def`` to its last line, decorators
excluded; management commands and migrations included) and no module over 400 lines but
generated migrations. A function that grows past the bound is split into named steps, not
squeezed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import completion_aggregator

PACKAGE = Path(completion_aggregator.__file__).resolve().parent
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400


def _sources(migrations: bool = False) -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if migrations or "migrations" not in path.relative_to(PACKAGE).parts
    )


def _label(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def test_the_package_has_sources_to_measure() -> None:
    assert len(_sources()) > 50


@pytest.mark.parametrize("path", _sources(), ids=_label)
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_label(path)} has {lines} lines; split it by concern"


@pytest.mark.parametrize("path", _sources(migrations=True), ids=_label)
def test_no_function_is_over_60_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines, from line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{_label(path)}: " + "; ".join(long)
