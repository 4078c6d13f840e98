"""
No test of the default suite depends on machine load (issue 19): no elapsed-time assertion
and no ``timeout=`` on a call, anywhere in ``tests/`` and ``tests_platform/`` except the tiers
that need real waits on real services (``tests/integration``, ``tests/browser``) and the
MariaDB-only lock tests, which wait for an event, never assert on how long it took.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE_THE_DEFAULT_SUITE = {"integration", "browser"}
# MariaDB-only (skipped elsewhere): they poll INNODB_TRX until a lock wait shows up.
WAITS_FOR_EVENTS = {"tests/api/test_concurrency.py", "tests/api/test_totals_concurrency.py"}
CLOCKS = {"monotonic", "perf_counter", "time", "monotonic_ns", "perf_counter_ns"}


def suite_files():
    for folder in ("tests", "tests_platform"):
        for path in sorted((ROOT / folder).rglob("test_*.py")):
            relative = path.relative_to(ROOT)
            if OUTSIDE_THE_DEFAULT_SUITE & set(relative.parts) or str(relative) in WAITS_FOR_EVENTS:
                continue
            yield relative, ast.parse(path.read_text(encoding="utf-8"))


def is_clock_call(node):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLOCKS


def elapsed_names(tree):
    """Names assigned ``clock() - something`` (an elapsed time)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp) and isinstance(node.value.op, ast.Sub):
            if is_clock_call(node.value.left):
                names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


def test_no_test_of_the_default_suite_asserts_on_elapsed_time_or_sets_a_timeout():
    problems = []
    for relative, tree in suite_files():
        elapsed = elapsed_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                used = {name.id for name in ast.walk(node.test) if isinstance(name, ast.Name)}
                if used & elapsed or any(is_clock_call(call) for call in ast.walk(node.test)):
                    problems.append(f"{relative}:{node.lineno}: asserts on elapsed time")
            if isinstance(node, ast.Call) and any(keyword.arg == "timeout" for keyword in node.keywords):
                problems.append(f"{relative}:{node.lineno}: a call with timeout=")
    assert problems == []
