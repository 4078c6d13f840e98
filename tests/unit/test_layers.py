"""
The layers of the package and the direction of its imports (issue 21 point 1, ADR 0023).

The import-linter contracts of ``setup.cfg`` are the rule (``make quality`` runs
``lint-imports``); these tests check the same rules that matter most with the standard
library only, so that ``make test`` catches a breach without the quality requirements.
"""

from __future__ import annotations

import ast
import configparser
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

import completion_aggregator

PACKAGE = Path(completion_aggregator.__file__).resolve().parent
ROOT = PACKAGE.parent
NAME = "completion_aggregator"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


@cache
def _imports() -> dict[str, frozenset[str]]:
    """``{module: the modules of ours it imports}``, relative imports resolved, migrations left out."""
    found: dict[str, frozenset[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                source = ".".join([*base, *([node.module] if node.module else [])])
                imported.add(source)
                imported.update(f"{source}.{a.name}" for a in node.names if _is_module(f"{source}.{a.name}"))
        found[name] = frozenset(i for i in imported if i == NAME or i.startswith(NAME + "."))
    return found


def _breaches(importers: str, rule) -> list[str]:
    return sorted(
        f"{module} imports {imported}"
        for module, imported_set in _imports().items()
        if rule(module)
        for imported in imported_set
        if importers(imported)
    )


def test_the_import_map_sees_relative_imports():
    assert "completion_aggregator.api" in _imports()["completion_aggregator.tasks.aggregation_tasks"]
    assert "completion_aggregator.models" in _imports()["completion_aggregator.api.queue"]


def test_the_core_never_imports_the_standalone_host():
    host = f"{NAME}.standalone"
    breaches = _breaches(
        lambda imported: imported == host or imported.startswith(host + "."),
        lambda module: not (module == host or module.startswith(host + ".")),
    )
    assert breaches == []


def test_the_api_never_imports_tasks_or_delivery():
    delivery = tuple(
        f"{NAME}.{name}" for name in ("tasks", "receivers", "platform_receivers", "batch", "rest_api", "views")
    )
    breaches = _breaches(
        lambda imported: imported.startswith(delivery),
        lambda module: module == f"{NAME}.api" or module.startswith(f"{NAME}.api."),
    )
    assert breaches == []


def test_the_contract_protects_every_api_submodule_but_exceptions():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    protected = config["importlinter:contract:api-surface"]["protected_modules"].split()
    submodules = sorted(f"{NAME}.api.{path.stem}" for path in (PACKAGE / "api").glob("*.py") if path.stem != "__init__")
    assert protected == [name for name in submodules if name != f"{NAME}.api.exceptions"]


def test_the_api_package_is_entered_only_through_its_surface():
    """Outside ``api``, only ``completion_aggregator.api`` and ``completion_aggregator.api.exceptions``."""
    public = {f"{NAME}.api", f"{NAME}.api.exceptions"}
    breaches = _breaches(
        lambda imported: imported.startswith(f"{NAME}.api.") and imported not in public,
        lambda module: not module.startswith(f"{NAME}.api"),
    )
    assert breaches == []


def test_the_import_contracts_are_kept():
    """The import-linter contracts of setup.cfg (installed with requirements/quality.txt)."""
    pytest.importorskip("importlinter.cli")
    # In a process of its own: the linter reconfigures logging (dictConfig disables existing loggers).
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
