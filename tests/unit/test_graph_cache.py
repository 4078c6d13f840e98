"""The compiled-graph cache: one graph per course version and per setting the compilation reads."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test.utils import override_settings
from xblock.completable import XBlockCompletionMode
from xblock.core import XBlock

from completion_aggregator import completion_modes
from completion_aggregator.api.graphs import clear_graph_cache, graph_for
from completion_aggregator.completion_modes import MODE_SETTINGS, installed_mode
from completion_aggregator.data import BlockData, CourseStructureData


class QuietHtml(XBlock):
    """An installed ``html`` class that says it is not counted (the built-in table: completable)."""

    completion_mode = XBlockCompletionMode.EXCLUDED


def _structure() -> CourseStructureData:
    blocks = {
        "c": BlockData("c", "course", ("v",)),
        "v": BlockData("v", "vertical", ("h", "p")),
        "h": BlockData("h", "html"),
        "p": BlockData("p", "problem"),
    }
    return CourseStructureData(course_key="course-v1:a+b+c", root="c", blocks=blocks, version="v1")


@pytest.fixture(autouse=True)
def _fresh():
    clear_graph_cache()
    installed_mode.cache_clear()
    yield
    clear_graph_cache()
    installed_mode.cache_clear()


@XBlock.register_temp_plugin(QuietHtml, "html")
def test_changing_use_xblock_classes_gives_another_graph():
    structure = _structure()
    with override_settings(COMPLETION_AGGREGATOR_USE_XBLOCK_CLASSES=True):
        by_class = graph_for(structure)
    with override_settings(COMPLETION_AGGREGATOR_USE_XBLOCK_CLASSES=False):
        by_table = graph_for(structure)
    assert by_class.leaf_count == 1  # the installed class excludes html
    assert by_table.leaf_count == 2  # the built-in table counts it


def test_every_setting_the_mode_lookup_reads_is_in_the_key():
    """``MODE_SETTINGS`` names every setting completion_modes.py reads (the graph key follows it)."""
    source = Path(completion_modes.__file__).read_text()
    read = set(re.findall(r'"((?:COMPLETION_AGGREGATOR|MARK)_[A-Z_]+)"', source))
    assert read == set(MODE_SETTINGS)


@pytest.mark.parametrize(
    "name, value",
    [
        ("COMPLETION_AGGREGATOR_USE_XBLOCK_CLASSES", False),
        ("COMPLETION_AGGREGATOR_COMPLETION_MODE_OVERRIDES", {"html": "excluded"}),
        ("MARK_LIBRARY_CONTENT_BLOCK_COMPLETE_ON_VIEW", True),
        ("COMPLETION_AGGREGATOR_BLOCK_TYPES", {"course"}),
    ],
)
def test_each_setting_of_the_compilation_gives_its_own_graph(name, value):
    structure = _structure()
    before = graph_for(structure)
    assert graph_for(structure) is before
    with override_settings(**{name: value}):
        assert graph_for(structure) is not before
    assert graph_for(structure) is before
