"""
Path-only recomputation over a compiled course graph (issue 20, point 3; ADR 0018).

Pure, like :mod:`completion_aggregator.engine`: no ORM, cache or settings. When some leaves of
a learner changed, only the stored aggregators above them (the *path*) can change. Each of them
is the sum of its *parts*: the stored aggregators right below it (its children at the next
stored level) and the leaves directly under it (those with no stored aggregator in between).
So :func:`plan_path` names what to read — the stored rows of the path's aggregators and of
their parts (the siblings at each level), and the completions of the path's direct leaves
(in a regular course, the leaves of the changed vertical) — and :func:`aggregate_path`
composes the path's new values from them, bottom-up. That is O(depth × breadth) rows; a full
computation (:func:`~completion_aggregator.engine.aggregate`) reads every completion of the
learner and every stored row.

The result equals the full computation's when the stored rows beside the path are what a full
computation against the same graph stored, with every later completion change still queued:
the caller checks that with the digest of :func:`graph_digest` it recorded after the last full
computation. Where the result could differ, :func:`plan_path` or :func:`aggregate_path`
answers None and the caller computes in full:

* a changed key that is not a completable leaf of the graph;
* an aggregator on the path whose leaves its parts do not partition (a block shared by two
  parts would count twice in a sum of rows);
* a stored row that is missing, or whose block type or possible counts are not the graph's;
* a ``last_modified`` the rows cannot decide. A row with nothing earned (at most 1e-9, the
  difference below which the write path keeps a stored value) may carry the time it was
  written rather than a completion's (the write path keeps a timestamp on a row with no
  completion below it); when such a row is later than everything known under an aggregator,
  the aggregator's latest completion time is unknown.

Sums are composed in another order than the full computation adds them, from stored values
that the write path keeps while they are within 1e-9 of the computed ones: equal for the
usual completion values (0, 1 and quarters are exact in binary), else within float rounding
(far below 1e-9 for real completion values).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from .data import AggregateData
from .engine import CompletionRow, CourseGraph, aggregate_value

#: Bumped when the meaning of the digest changes, so that every recorded digest stops matching.
DIGEST_FORMAT = "path-only/1"
#: The difference below which the write path keeps a stored value (``AggregateData.same_values``).
UNCHANGED = 1e-9


@dataclass(frozen=True)
class GraphParts:
    """
    The parts of every stored aggregator of a graph (indices as in ``CourseGraph.aggregator_keys``).

    ``below[i]``: the stored aggregators right below aggregator ``i``; ``direct[i]``: the leaf
    numbers directly under it; ``partitioned[i]``: those parts hold each of its leaves exactly
    once; ``leaf_keys``: the key of each leaf number.
    """

    below: tuple[tuple[int, ...], ...]
    direct: tuple[tuple[int, ...], ...]
    partitioned: tuple[bool, ...]
    leaf_keys: tuple[str, ...]


@dataclass(frozen=True)
class PathPlan:
    """
    What a path-only recomputation of one learner reads and computes.

    ``aggregators``: the stored aggregators at or above the changed leaves, bottom-up (each
    after every aggregator below it); ``row_keys``: the stored rows to read (those aggregators
    and their parts); ``leaf_keys``: the leaves whose completions to read.
    """

    aggregators: tuple[int, ...]
    row_keys: tuple[str, ...]
    leaf_keys: tuple[str, ...]


def graph_parts(graph: CourseGraph) -> GraphParts:
    """The parts of every stored aggregator of ``graph`` (computed once per graph)."""
    return graph.memo("path_parts", _build_parts)


def graph_digest(graph: CourseGraph) -> str:
    """
    A digest (40 hex characters) of what a graph's stored rows mean, computed once per graph.

    It covers every stored aggregator's key and type and every leaf's key, optional flag and
    the aggregators above it: two graphs with the same digest give every stored row the same
    leaves and possible counts. Locked flags are left out (no stored row depends on them).
    """
    return graph.memo("path_digest", _build_digest)


def plan_path(graph: CourseGraph, changed: Collection[str]) -> PathPlan | None:
    """
    The plan of a path-only recomputation of the changed leaves ``changed``.

    None when it cannot equal a full computation: a changed key is not a completable leaf of
    the graph, or an aggregator on the path is not partitioned by its parts.
    """
    parts = graph_parts(graph)
    affected: set[int] = set()
    for key in changed:
        if key not in graph.leaf_index:
            return None
        affected.update(graph.block_ancestors[key])
    rows: set[int] = set()
    leaves: set[int] = set()
    for index in affected:
        if not parts.partitioned[index]:
            return None
        rows.add(index)
        rows.update(parts.below[index])
        leaves.update(parts.direct[index])
    return PathPlan(
        aggregators=tuple(sorted(affected, reverse=True)),  # topological numbering: children have higher numbers
        row_keys=tuple(sorted(graph.aggregator_keys[index] for index in rows)),
        leaf_keys=tuple(sorted(parts.leaf_keys[leaf] for leaf in leaves)),
    )


def aggregate_path(
    graph: CourseGraph,
    plan: PathPlan,
    completions: Iterable[CompletionRow],
    stored: Mapping[str, AggregateData],
) -> list[AggregateData] | None:
    """
    The new values of ``plan.aggregators``, in course order; None when they cannot be told exactly.

    ``completions``: the learner's ``(block_key, value, modified)`` of (at least) the plan's
    leaves, as read from the database (every row has its ``modified``); other keys are ignored.
    ``stored``: the learner's stored rows by block key, (at least) those of ``plan.row_keys``.
    Each value is what :func:`~completion_aggregator.engine.aggregate` gives for that
    aggregator, ``last_modified`` included (None when no completion is below it).
    """
    wanted = {graph.leaf_index[key] for key in plan.leaf_keys}
    leaf_rows: dict[int, list[tuple[float, datetime | None]]] = {}
    for block_key, value, modified in completions:
        leaf = graph.leaf_index.get(block_key)
        if leaf is not None and leaf in wanted:
            leaf_rows.setdefault(leaf, []).append((_clamp(value), modified))
    parts = graph_parts(graph)
    computed: dict[int, AggregateData] = {}
    for index in plan.aggregators:
        before = stored.get(graph.aggregator_keys[index])
        if before is None or not _matches(graph, index, before):
            return None
        found = _compose(graph, parts, index, computed, stored, leaf_rows)
        if found is None:
            return None
        computed[index] = found
    return [computed[index] for index in sorted(computed)]


def _compose(
    graph: CourseGraph,
    parts: GraphParts,
    index: int,
    computed: Mapping[int, AggregateData],
    stored: Mapping[str, AggregateData],
    leaf_rows: Mapping[int, list[tuple[float, datetime | None]]],
) -> AggregateData | None:
    """Aggregator ``index`` from its parts; None when a part is missing or its time is undecidable."""
    earned = optional_earned = 0.0
    latest: datetime | None = None  # the latest completion time known for sure
    unsure: datetime | None = None  # the latest time of rows with nothing earned (maybe not a completion's)
    for below in parts.below[index]:
        part = computed.get(below)
        if part is None:
            part = stored.get(graph.aggregator_keys[below])
            if part is None or not _matches(graph, below, part):
                return None
            if part.earned <= UNCHANGED and part.optional_earned <= UNCHANGED:
                # Nothing earned (or less than the write path tells from nothing: such a row is
                # kept when its last completion goes): maybe no completion below it any more.
                unsure = _later(unsure, part.last_modified)
            else:
                latest = _later(latest, part.last_modified)
        else:
            latest = _later(latest, part.last_modified)
        earned += part.earned
        optional_earned += part.optional_earned
    for leaf in parts.direct[index]:
        for value, modified in leaf_rows.get(leaf, ()):
            if graph.leaf_optional[leaf]:
                optional_earned += value
            else:
                earned += value
            latest = _later(latest, modified)
    if unsure is not None and (latest is None or unsure > latest):
        return None
    return aggregate_value(graph, index, earned, optional_earned, latest)


def _matches(graph: CourseGraph, index: int, row: AggregateData) -> bool:
    """The stored row is one of this graph's aggregator ``index`` (type and possible counts)."""
    return (
        row.aggregation_name == graph.aggregation_names[index]
        and row.possible == graph.possible[index]
        and row.optional_possible == graph.optional_possible[index]
    )


def _later(current: datetime | None, other: datetime | None) -> datetime | None:
    if other is None:
        return current
    return other if current is None or other > current else current


def _clamp(value: float) -> float:
    """A completion value as the engine counts it: NaN as 0, clamped to [0, 1]."""
    value = float(value) if value == value else 0.0
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


def _build_parts(graph: CourseGraph) -> GraphParts:
    position = {key: index for index, key in enumerate(graph.aggregator_keys)}
    leaf_keys = [""] * graph.leaf_count
    for key, leaf in graph.leaf_index.items():
        leaf_keys[leaf] = key
    below: list[tuple[int, ...]] = []
    direct: list[tuple[int, ...]] = []
    partitioned: list[bool] = []
    for index, key in enumerate(graph.aggregator_keys):
        found_below, found_direct = _parts_of(graph, key, position)
        below.append(tuple(sorted(found_below)))
        direct.append(tuple(sorted(found_direct)))
        # The parts cover every leaf of the aggregator; they partition it when their sizes add up.
        size = sum(graph.possible[b] + graph.optional_possible[b] for b in found_below) + len(found_direct)
        partitioned.append(size == graph.possible[index] + graph.optional_possible[index])
    return GraphParts(tuple(below), tuple(direct), tuple(partitioned), tuple(leaf_keys))


def _parts_of(graph: CourseGraph, key: str, position: Mapping[str, int]) -> tuple[set[int], set[int]]:
    """The stored aggregators right below ``key`` and its direct leaves (through unstored aggregator blocks)."""
    below: set[int] = set()
    direct: set[int] = set()
    seen = {key}
    stack = list(graph.children.get(key, ()))
    while stack:
        child = stack.pop()
        if child in seen:
            continue
        seen.add(child)
        if child in position:
            below.add(position[child])
        elif child in graph.leaf_index:
            direct.add(graph.leaf_index[child])
        else:
            stack.extend(graph.children.get(child, ()))
    return below, direct


def _build_digest(graph: CourseGraph) -> str:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(DIGEST_FORMAT.encode())
    for key, block_type in zip(graph.aggregator_keys, graph.aggregation_names, strict=True):
        digest.update(repr(("a", block_type, key)).encode())
    for leaf, key in enumerate(graph_parts(graph).leaf_keys):
        digest.update(repr(("l", key, graph.leaf_optional[leaf], graph.leaf_ancestors[leaf])).encode())
    return digest.hexdigest()
