"""
Pure completion arithmetic over a compiled course graph.

No ORM, cache or settings here: callers pass a course structure, a completion-mode lookup
and the aggregation names (the block types that get rows). :func:`compile_graph` does the per-course work
once; :func:`aggregate` is then a single pass over one learner's completions.

The graph and its compilation live in :mod:`completion_aggregator.course_graph` (importable
from here too). The arithmetic, the same for every caller:

* COMPLETABLE blocks are leaves: earned = their completion (0.0 if none), possible = 1.0,
  whatever children they have. Optional leaves feed the ``optional_*`` sums instead.
* AGGREGATOR blocks sum their children; only the types in ``aggregation_names`` get results,
  the others just pass their sums up.
* EXCLUDED blocks, and blocks of unknown type, contribute nothing, nor does their subtree
  (unless a block is also reachable through a non-excluded parent).
* A block reachable along several paths counts once per aggregator (set semantics).
* percent = earned / possible, 1.0 when possible is 0.
* A *locked* block (the host keeps it but the learner may not open it, ``BlockData.locked``)
  counts like any other (ADR 0011); a leaf is locked when it, or every aggregator above it,
  is. :func:`locked_figures` sums the locked leaves separately.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from .course_graph import CourseGraph, CourseGraphError, ModeLookup, compile_graph
from .data import AggregateData, LockedData, ratio

# (block_key, completion value, modified) — the shape read from the database.
CompletionRow = tuple[str, float, datetime | None]

__all__ = [
    "CompletionRow",
    "CourseGraph",
    "CourseGraphError",
    "ModeLookup",
    "aggregate",
    "aggregate_changed",
    "aggregate_value",
    "compile_graph",
    "locked_figures",
]


def aggregate(graph: CourseGraph, completions: Iterable[CompletionRow]) -> list[AggregateData]:
    """
    Compute every stored aggregator of ``graph`` for one learner.

    ``completions`` yields ``(block_key, value, modified)``; blocks outside the graph are
    ignored and values are clamped to [0, 1].
    """
    return _aggregate(graph, completions, None)


def aggregate_changed(
    graph: CourseGraph,
    completions: Iterable[CompletionRow],
    changed_blocks: Collection[str],
    stored: Mapping[str, AggregateData],
) -> list[AggregateData]:
    """
    Recompute only the aggregators above ``changed_blocks``; take the others from ``stored``.

    Falls back to a full computation when a changed block is not in the graph or a needed
    stored value is missing, so the result always equals :func:`aggregate`'s.
    """
    affected: set[int] = set()
    for key in changed_blocks:
        ancestors = graph.block_ancestors.get(key)
        if ancestors is None:
            return aggregate(graph, completions)
        affected.update(ancestors)
    for index, key in enumerate(graph.aggregator_keys):
        if index not in affected and key not in stored:
            return aggregate(graph, completions)
    computed = _aggregate(graph, completions, frozenset(affected))
    result = []
    for index, value in enumerate(computed):
        result.append(value if index in affected else stored[graph.aggregator_keys[index]])
    return result


def _aggregate(
    graph: CourseGraph, completions: Iterable[CompletionRow], only: frozenset[int] | None
) -> list[AggregateData]:
    size = len(graph.aggregator_keys)
    earned = [0.0] * size
    optional_earned = [0.0] * size
    last_modified: list[datetime | None] = [None] * size
    leaf_index = graph.leaf_index
    for block_key, value, modified in completions:
        leaf = leaf_index.get(block_key)
        if leaf is None:
            continue
        value = float(value) if value == value else 0.0  # NaN counts as nothing
        value = 0.0 if value < 0.0 else 1.0 if value > 1.0 else value
        target = optional_earned if graph.leaf_optional[leaf] else earned
        for index in graph.leaf_ancestors[leaf]:
            if only is not None and index not in only:
                continue
            target[index] += value
            if modified is not None:
                current = last_modified[index]
                if current is None or modified > current:
                    last_modified[index] = modified
    return [
        aggregate_value(graph, index, earned[index], optional_earned[index], last_modified[index])
        for index in range(size)
    ]


def aggregate_value(
    graph: CourseGraph,
    index: int,
    earned: float,
    optional_earned: float,
    last_modified: datetime | None,
) -> AggregateData:
    """
    The stored value of aggregator ``index`` of ``graph`` from its summed completions.

    ``earned`` and ``optional_earned`` are sums of completion values (each in [0, 1]) of the
    aggregator's required and optional leaves; each is capped at the aggregator's possible and
    ``percent`` is ``earned / possible`` (1.0 when nothing is possible: ``data.ratio``, the
    arithmetic's one rule for it). Used by the full and the path-only computations alike.
    """
    possible = graph.possible[index]
    optional_possible = graph.optional_possible[index]
    main = min(earned, possible)
    optional = min(optional_earned, optional_possible)
    return AggregateData(
        block_key=graph.aggregator_keys[index],
        aggregation_name=graph.aggregation_names[index],
        earned=main,
        possible=possible,
        percent=ratio(main, possible),
        optional_earned=optional,
        optional_possible=optional_possible,
        optional_percent=ratio(optional, optional_possible),
        last_modified=last_modified,
    )


def locked_figures(graph: CourseGraph, completions: Iterable[CompletionRow], top: str | None = None) -> LockedData:
    """
    The learner's figures over the locked, non-optional leaves at or below ``top``.

    ``top`` is the root when None or not a stored aggregator. ``possible`` = how many, ``earned`` = the sum of
    their completions (clamped to [0, 1]), ``percent`` = ``ratio(earned, possible)``.

    The learner's figures over what they can open are then ``earned - locked.earned`` of
    ``possible - locked.possible`` (the platform's progress page counts locked units apart).
    """
    index = graph.index_of(top) if top is not None else None
    chosen: set[int] = {
        leaf
        for leaf, (is_locked, optional) in enumerate(zip(graph.leaf_locked, graph.leaf_optional, strict=True))
        if is_locked and not optional and (index is None or index in graph.leaf_ancestors[leaf])
    }
    earned = 0.0
    if chosen:
        for block_key, value, _modified in completions:
            leaf = graph.leaf_index.get(block_key)
            if leaf is None or leaf not in chosen:
                continue
            value = float(value) if value == value else 0.0
            earned += 0.0 if value < 0.0 else 1.0 if value > 1.0 else value
    possible = float(len(chosen))
    earned = min(earned, possible)
    return LockedData(earned=earned, possible=possible, percent=ratio(earned, possible))
