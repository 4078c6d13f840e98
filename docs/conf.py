"""Sphinx configuration of the completion_aggregator documentation (``make docs``)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devsite.settings")

project = "completion_aggregator"
author = "completion_aggregator contributors"
copyright = "2026, completion_aggregator contributors"
release = re.search(
    r'^__version__ = "([^"]+)"', (ROOT / "completion_aggregator" / "__init__.py").read_text(encoding="utf-8"), re.M
).group(1)
version = release

# Local extensions (docs/_ext): the settings reference and the REST API reference are
# generated from the code at build time.
extensions = [
    "settings_reference",
    "openapi_reference",
]
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
root_doc = "index"
nitpicky = False
suppress_warnings: list[str] = []

html_theme = "sphinx_book_theme"
html_title = f"completion_aggregator {release}"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
}
html_static_path: list[str] = []
html_last_updated_fmt = None

# Pages written alongside this one (by other changes) join the table of contents when they
# exist: index.rst has one placeholder line per group, replaced here before parsing.
OPTIONAL_PAGES = {
    "@install-pages@": ["install", "install_lms"],
    "@integrator-pages@": ["events", "pages"],
    "@start-pages@": ["standalone"],
}


def _fill_toctree(app, docname, source):
    if docname != "index":
        return
    for marker, names in OPTIONAL_PAGES.items():
        present = [name for name in names if (DOCS / f"{name}.rst").exists()]
        source[0] = source[0].replace(f"   {marker}\n", "".join(f"   {name}\n" for name in present))


def _always_reread(app, env, added, changed, removed):
    # The index depends on which pages exist, the API reference on the whole REST package:
    # re-read both on every build, so an incremental build never shows stale content.
    return [name for name in ("index", "rest_api") if name not in added]


def setup(app):
    """Connect the table-of-contents hook."""
    app.connect("source-read", _fill_toctree)
    app.connect("env-get-outdated", _always_reread)
