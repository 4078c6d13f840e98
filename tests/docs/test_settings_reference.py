"""
The settings reference (docs/settings.rst) lists exactly the settings the code reads.

Three sets must agree:

* the names passed to ``get_setting("…")`` anywhere in the package (found by parsing the
  source, so a setting read only on a rare path still counts);
* the keys of ``DEFAULTS`` in ``completion_aggregator/settings/common.py``;
* the entries of the generated reference (``docs/_ext/settings_reference.py``).

Settings whose documented meaning starts with "Accepted for compatibility" are kept for the
older package's configurations and must *not* be read.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "completion_aggregator"
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import settings_reference  # noqa: E402

from completion_aggregator.settings.common import DEFAULTS  # noqa: E402

# Defined and documented, but not read by any code yet. Each entry is a known gap: the test
# for it is expected to fail (strict), so fixing the gap forces removing the entry.
KNOWN_UNREAD: dict[str, str] = {}


def _reads() -> dict[str, list[str]]:
    """Setting name → places (``path:line``) that call ``get_setting`` with it."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name != "get_setting":
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            assert node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str), (
                f"{where}: get_setting() must be called with a string literal, so that the docs can be checked"
            )
            found.setdefault(node.args[0].value, []).append(where)
    return found


READS = _reads()
REFERENCE = settings_reference.collect_settings()
COMPATIBILITY_ONLY = {setting.name for setting in REFERENCE if setting.compatibility_only}


def test_the_scan_finds_the_reads():
    assert "COMPLETION_AGGREGATOR_ASYNC_AGGREGATION" in READS
    assert len(READS) >= 10


def test_every_setting_read_has_a_default():
    assert sorted(set(READS) - set(DEFAULTS)) == [], "read with get_setting() but missing from DEFAULTS"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_UNREAD[name]))
        if name in KNOWN_UNREAD
        else name
        for name in DEFAULTS
        if name not in COMPATIBILITY_ONLY
    ],
)
def test_every_default_is_read(name):
    assert name in READS, f"{name} is in DEFAULTS (and documented) but no code reads it"


@pytest.mark.parametrize("name", sorted(COMPATIBILITY_ONLY))
def test_compatibility_only_settings_are_not_read(name):
    assert name not in READS, f"{name} is documented as not read, but {READS.get(name)} read it: fix its comment"


def test_known_gaps_are_real_settings():
    assert set(KNOWN_UNREAD) <= set(DEFAULTS)


def test_the_reference_lists_exactly_the_defaults_in_order():
    assert [setting.name for setting in REFERENCE] == list(DEFAULTS)


def test_every_setting_has_a_meaning_and_its_real_default():
    for setting in REFERENCE:
        assert setting.meaning, f"{setting.name}: add a comment above it in settings/common.py"
        assert setting.default == DEFAULTS[setting.name]


def test_the_rendered_reference_has_one_entry_per_setting():
    lines = settings_reference.render_rst(REFERENCE)
    entries = [line.split("::", 1)[1].strip() for line in lines if line.startswith(".. setting::")]
    assert entries == list(DEFAULTS)
    text = "\n".join(lines)
    for setting in REFERENCE:
        assert setting.default_literal().splitlines()[0] in text


def test_the_settings_page_uses_the_generated_reference():
    page = (ROOT / "docs" / "settings.rst").read_text(encoding="utf-8")
    assert ".. completion-aggregator-settings::" in page


def test_comments_are_attributed_to_the_right_setting(tmp_path):
    source = tmp_path / "common.py"
    source.write_text(
        "DEFAULTS = {\n"
        "    # First meaning,\n"
        "    # on two lines.\n"
        '    "COMPLETION_AGGREGATOR_BLOCK_TYPES": set(),\n'
        '    "COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES": set(),  # trailing comments are ignored\n'
        "    # Second meaning.\n"
        '    "COMPLETION_AGGREGATOR_ASYNC_AGGREGATION": False,\n'
        "}\n",
        encoding="utf-8",
    )
    found = {setting.name: setting.meaning for setting in settings_reference.collect_settings(source)}
    assert found == {
        "COMPLETION_AGGREGATOR_BLOCK_TYPES": "First meaning, on two lines.",
        "COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES": "First meaning, on two lines.",
        "COMPLETION_AGGREGATOR_ASYNC_AGGREGATION": "Second meaning.",
    }
