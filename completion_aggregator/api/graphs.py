"""Compiled course graphs, cached by structure version (one per course variant, not per learner)."""
from __future__ import annotations

from collections.abc import Hashable

from ..bounded_cache import BoundedCache
from ..completion_modes import MODE_SETTINGS, mode_lookup
from ..conf import aggregation_names, get_setting, read_setting
from ..data import CourseStructureData
from ..engine import CourseGraph, compile_graph

_MAX_GRAPHS = 256


def _graph_timeout() -> float:
    """``COMPLETION_AGGREGATOR_UPDATER_CACHE_TIMEOUT`` in seconds (0 or less: no age limit)."""
    return float(get_setting("COMPLETION_AGGREGATOR_UPDATER_CACHE_TIMEOUT") or 0)


_graphs: BoundedCache[Hashable, CourseGraph] = BoundedCache(_MAX_GRAPHS, max_age=_graph_timeout)


def _frozen(value: object) -> Hashable:
    """A hashable, order-independent form of a setting's value (mappings, sets, lists, scalars)."""
    if isinstance(value, dict):
        return tuple(sorted((str(key), str(getattr(item, "value", item))) for key, item in value.items()))
    if isinstance(value, (set, frozenset, list, tuple)):
        return tuple(sorted(str(item) for item in value))
    return str(getattr(value, "value", value))


def mode_settings_key() -> tuple[Hashable, ...]:
    """
    The value of every setting the completion-mode lookup reads, frozen (``MODE_SETTINGS``).

    An app setting missing from Django's settings counts as its default; a host setting as None.
    """
    return tuple(_frozen(read_setting(name)) for name in MODE_SETTINGS)


def graph_for(structure: CourseStructureData) -> CourseGraph:
    """
    The compiled graph of a structure, compiled once per (course, version, settings).

    The settings: the stored aggregation names (``COMPLETION_AGGREGATOR_BLOCK_TYPES``) and
    every setting the completion-mode lookup reads (:func:`mode_settings_key`). Kept for
    ``COMPLETION_AGGREGATOR_UPDATER_CACHE_TIMEOUT`` seconds (0 or less: until evicted), at
    most 256 graphs (least recently used first out).

    Raises:
        CourseGraphError: the structure has a cycle or its root is missing.
        ImproperlyConfigured: a completion mode override names no mode.
    """
    names = aggregation_names()
    key = (
        structure.course_key,
        structure.version,
        id(structure) if not structure.version else None,
        tuple(sorted(names)),
        mode_settings_key(),
    )
    return _graphs.get_or_compute(key, lambda: compile_graph(structure, mode_lookup(), names))


def clear_graph_cache() -> None:
    """Forget every compiled graph (tests; settings changes)."""
    _graphs.clear()
