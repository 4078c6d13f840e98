"""
Sphinx directive ``completion-aggregator-settings``: the settings reference, read from the code.

Every entry of ``DEFAULTS`` in ``completion_aggregator/settings/common.py`` becomes one entry of
the reference: its name, its default (the value in ``DEFAULTS``) and its meaning (the comment
block above the entry; entries with no comment of their own share the comment of the entry
before them). Nothing is written by hand, so the page cannot drift from the code.
``tests/docs/test_settings_reference.py`` checks that the reference lists exactly the settings
the code reads.
"""

from __future__ import annotations

import ast
import importlib
import io
import pprint
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SETTINGS_MODULE = "completion_aggregator.settings.common"
SETTINGS_FILE = Path(__file__).resolve().parents[2] / "completion_aggregator" / "settings" / "common.py"
#: A meaning that starts with this marks a setting the code accepts but does not read.
COMPATIBILITY_MARKER = "accepted for compatibility"


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    name: str
    default: Any
    meaning: str

    @property
    def compatibility_only(self) -> bool:
        """True when the setting is accepted (for the peer's configurations) but not read."""
        return self.meaning.lower().startswith(COMPATIBILITY_MARKER)

    def default_literal(self) -> str:
        """The default as a Python literal (sets sorted, so the page is stable)."""
        value = self.default
        if isinstance(value, (set, frozenset)):
            return "{" + ", ".join(repr(item) for item in sorted(value)) + "}" if value else "set()"
        return pprint.pformat(value, width=100)


def _comments(source: str) -> dict[int, str]:
    """Line number → text of the comment that fills that line (a line that is only a comment)."""
    found: dict[int, str] = {}
    code_lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string.lstrip("#").strip()
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            code_lines.update(range(token.start[0], token.end[0] + 1))
    return {line: text for line, text in found.items() if line not in code_lines}


def _defaults_node(tree: ast.Module) -> ast.Dict:
    for node in tree.body:
        target = getattr(node, "target", None) or (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "DEFAULTS" and isinstance(node.value, ast.Dict):
            return node.value
    raise LookupError(f"no DEFAULTS = {{...}} literal in {SETTINGS_FILE}")


def collect_settings(path: Path = SETTINGS_FILE) -> list[Setting]:
    """Every setting of ``DEFAULTS``, in source order, with its default and meaning."""
    source = path.read_text(encoding="utf-8")
    comments = _comments(source)
    defaults = importlib.import_module(SETTINGS_MODULE).DEFAULTS
    settings: list[Setting] = []
    meaning = ""
    for key in _defaults_node(ast.parse(source)).keys:
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise ValueError(f"{path}:{getattr(key, 'lineno', '?')}: DEFAULTS keys must be string literals")
        block: list[str] = []
        line = key.lineno - 1
        while line in comments:
            block.insert(0, comments[line])
            line -= 1
        if block:
            meaning = " ".join(block)
        settings.append(Setting(key.value, defaults[key.value], meaning))
    return settings


def render_rst(settings: list[Setting]) -> list[str]:
    """The reference as reStructuredText lines: one definition-list entry per setting."""
    lines: list[str] = []
    for setting in settings:
        default = setting.default_literal()
        lines.append(f".. setting:: {setting.name}")
        lines.append("")
        lines.append(f"   {setting.meaning or '(undocumented)'}")
        lines.append("")
        if setting.compatibility_only:
            lines.append("   *Not read by this package.*")
            lines.append("")
        if "\n" in default:
            lines.append("   Default:")
            lines.append("")
            lines.append("   .. code-block:: python")
            lines.append("")
            lines.extend(f"      {part}" for part in default.splitlines())
        else:
            lines.append(f"   Default: ``{default}``")
        lines.append("")
    return lines


def setup(app: Any) -> dict[str, Any]:
    """Register the ``setting`` object type and the ``completion-aggregator-settings`` directive."""
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class SettingsReference(SphinxDirective):
        """Insert the generated settings reference."""

        has_content = False

        def run(self) -> list[Any]:
            from docutils import nodes

            self.env.note_dependency(str(SETTINGS_FILE))
            node = nodes.section()
            node.document = self.state.document
            content = StringList(render_rst(collect_settings()), source=str(SETTINGS_FILE))
            nested_parse_with_titles(self.state, content, node)
            return node.children

    app.add_object_type("setting", "setting", indextemplate="pair: %s; setting")
    app.add_directive("completion-aggregator-settings", SettingsReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
