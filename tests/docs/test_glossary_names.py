"""
One name per concept (docs/architecture.rst, "Glossary"): the retired names stay out of the code.

The glossary lists which identifiers carry each concept; this test checks the code against the
names it retires: an aggregation name is never ``aggregator_types``, ``aggregations`` or
``block_types`` (the setting ``COMPLETION_AGGREGATOR_BLOCK_TYPES`` and its default keep theirs),
and ``learners`` is never a count (``learner_count``).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "completion_aggregator"
RETIRED = {"aggregator_types", "aggregations", "block_types", "AGGREGATIONS"}
COUNT_ANNOTATIONS = {"int", "float"}


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(), str(path))


def _identifiers(tree):
    """Every name the module defines or reads: variables, attributes, arguments, functions, classes."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id, node.lineno
        elif isinstance(node, ast.Attribute):
            yield node.attr, node.lineno
        elif isinstance(node, ast.arg):
            yield node.arg, node.lineno
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name, node.lineno
        elif isinstance(node, ast.keyword) and node.arg:
            yield node.arg, node.value.lineno


def test_no_retired_name_of_the_aggregation_name():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path, tree in _sources()
        for name, line in _identifiers(tree)
        if name in RETIRED
    ]
    assert found == []


def test_learners_is_never_a_count():
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            annotated = isinstance(node, (ast.AnnAssign, ast.arg)) and (
                node.annotation is not None and ast.unparse(node.annotation) in COUNT_ANNOTATIONS
            )
            target = node.target if isinstance(node, ast.AnnAssign) else node
            name = getattr(target, "id", None) or getattr(target, "arg", None) or getattr(target, "attr", None)
            if annotated and name in {"learners", "path_learners"}:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert found == []
