"""Compiled course graphs, cached by structure version (one per course variant, not per learner)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django.conf import settings as django_settings

from ..completion_modes import mode_lookup
from ..conf import block_types, get_setting
from ..data import CourseStructureData
from ..engine import CourseGraph, compile_graph

_MAX_GRAPHS = 256
_lock = threading.Lock()
_graphs: OrderedDict[tuple, tuple[float, CourseGraph]] = OrderedDict()


def graph_for(structure: CourseStructureData) -> CourseGraph:
    """
    The compiled graph of a structure, compiled once per (course, version, settings).

    Raises:
        CourseGraphError: the structure has a cycle or its root is missing.
    """
    types = block_types()
    overrides = get_setting("COMPLETION_AGGREGATOR_COMPLETION_MODE_OVERRIDES") or {}
    key = (
        structure.course_key,
        structure.version,
        id(structure) if not structure.version else None,
        tuple(sorted(types)),
        tuple(sorted((str(k), str(v)) for k, v in overrides.items())),
        bool(getattr(django_settings, "MARK_LIBRARY_CONTENT_BLOCK_COMPLETE_ON_VIEW", False)),
    )
    timeout = float(get_setting("COMPLETION_AGGREGATOR_UPDATER_CACHE_TIMEOUT") or 0)
    now = time.monotonic()
    with _lock:
        hit = _graphs.get(key)
        if hit is not None and (timeout <= 0 or now - hit[0] < timeout):
            _graphs.move_to_end(key)
            return hit[1]
    graph = compile_graph(structure, mode_lookup(), types)
    with _lock:
        _graphs[key] = (now, graph)
        while len(_graphs) > _MAX_GRAPHS:
            _graphs.popitem(last=False)
    return graph


def clear_graph_cache() -> None:
    """Forget every compiled graph (tests; settings changes)."""
    with _lock:
        _graphs.clear()
