"""
Pure completion arithmetic over a compiled course graph.

No ORM, cache or settings here: callers pass a course structure, a completion-mode lookup
and the set of aggregator types that get rows. :func:`compile_graph` does the per-course work
once; :func:`aggregate` is then a single pass over one learner's completions.

The arithmetic (DESIGN.md):

* COMPLETABLE blocks are leaves: earned = their completion (0.0 if none), possible = 1.0,
  whatever children they have. Optional leaves feed the ``optional_*`` sums instead.
* AGGREGATOR blocks sum their children; only the types in ``aggregator_types`` get results,
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

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from .data import AggregateData, CompletionMode, CourseStructureData, LockedData, ratio

ModeLookup = Callable[[str], CompletionMode]
# (block_key, completion value, modified) — the shape read from the database.
CompletionRow = tuple[str, float, datetime | None]
T = TypeVar("T")


class CourseGraphError(ValueError):
    """The course structure cannot be compiled (a cycle, or a root that is not in it)."""


@dataclass(frozen=True, eq=False)
class CourseGraph:
    """
    A course structure compiled for aggregation; immutable and shared by many learners.

    Aggregators are numbered in topological order (the root first). For every completable
    leaf the graph keeps the tuple of aggregator numbers that contain it; for every reachable
    block, the aggregators at or above it.
    """

    course_key: str
    version: str
    root: str
    aggregator_keys: tuple[str, ...]
    aggregator_types: tuple[str, ...]
    possible: tuple[float, ...]
    optional_possible: tuple[float, ...]
    leaf_index: Mapping[str, int]
    leaf_ancestors: tuple[tuple[int, ...], ...]
    leaf_optional: tuple[bool, ...]
    block_ancestors: Mapping[str, tuple[int, ...]]
    children: Mapping[str, tuple[str, ...]]
    leaf_locked: tuple[bool, ...] = ()

    @property
    def has_locked(self) -> bool:
        """True when some non-optional leaf is locked."""
        return any(locked and not self.leaf_optional[leaf] for leaf, locked in enumerate(self.leaf_locked))

    @property
    def leaf_count(self) -> int:
        """How many completable leaves the course has."""
        return len(self.leaf_ancestors)

    def index_of(self, block_key: str) -> int | None:
        """The number of a stored aggregator, or None."""
        try:
            return self.aggregator_keys.index(block_key)
        except ValueError:
            return None

    def contains(self, block_key: str) -> bool:
        """True when the block is reachable (not excluded) in this graph."""
        return block_key in self.block_ancestors

    def aggregators_under(self, block_key: str) -> frozenset[int]:
        """
        The stored aggregators at or below ``block_key``.

        Raises:
            KeyError: the block is not reachable in this graph.
        """
        if block_key not in self.block_ancestors:
            raise KeyError(block_key)
        found: set[int] = set()
        stack = [block_key]
        seen: set[str] = set()
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            index = self._positions.get(key)
            if index is not None:
                found.add(index)
            stack.extend(self.children.get(key, ()))
        return frozenset(found)

    def memo(self, name: str, build: Callable[[CourseGraph], T]) -> T:
        """
        ``build(self)``, computed once per graph and kept on it under ``name``.

        For facts derived from the graph that only some callers need (the path-only parts,
        :mod:`completion_aggregator.path_only`). Two threads may both build it once; either
        result is kept (the graph is immutable, so they are equal).
        """
        found = self.__dict__.get(f"_memo_{name}")
        if found is None:
            found = build(self)
            object.__setattr__(self, f"_memo_{name}", found)
        return found

    @property
    def _positions(self) -> Mapping[str, int]:
        positions = self.__dict__.get("_positions_cache")
        if positions is None:
            positions = {key: i for i, key in enumerate(self.aggregator_keys)}
            object.__setattr__(self, "_positions_cache", positions)
        return positions


def compile_graph(
    structure: CourseStructureData,
    mode_of: ModeLookup,
    aggregator_types: Collection[str],
) -> CourseGraph:
    """
    Compile a course structure into a :class:`CourseGraph`.

    Raises:
        CourseGraphError: the root is not among the blocks, or the blocks form a cycle.
    """
    blocks = structure.blocks
    if structure.root not in blocks:
        raise CourseGraphError(f"root block {structure.root!r} is not in the structure")
    modes: dict[str, CompletionMode] = {}

    def mode(key: str) -> CompletionMode:
        if key not in modes:
            block = blocks.get(key)
            modes[key] = CompletionMode.EXCLUDED if block is None else mode_of(block.block_type)
        return modes[key]

    order = _topological_order(structure, mode)
    reachable = set(order)
    # Registered aggregators at or above each block, computed parents-first.
    parents: dict[str, list[str]] = {key: [] for key in order}
    children: dict[str, tuple[str, ...]] = {}
    for key in order:
        if mode(key) is CompletionMode.AGGREGATOR:
            kids = tuple(dict.fromkeys(c for c in blocks[key].children if c in reachable))
            children[key] = kids
            for child in kids:
                parents[child].append(key)

    aggregator_keys: list[str] = []
    aggregator_block_types: list[str] = []
    position: dict[str, int] = {}
    for key in order:
        if mode(key) is CompletionMode.AGGREGATOR and blocks[key].block_type in aggregator_types:
            position[key] = len(aggregator_keys)
            aggregator_keys.append(key)
            aggregator_block_types.append(blocks[key].block_type)

    above: dict[str, frozenset[int]] = {}
    locked: dict[str, bool] = {}
    for key in order:
        acc: set[int] = set()
        for parent in parents[key]:
            acc |= above[parent]
        if key in position:
            acc.add(position[key])
        above[key] = frozenset(acc)
        locked[key] = blocks[key].locked or (bool(parents[key]) and all(locked[parent] for parent in parents[key]))

    possible = [0.0] * len(aggregator_keys)
    optional_possible = [0.0] * len(aggregator_keys)
    leaf_index: dict[str, int] = {}
    leaf_ancestors: list[tuple[int, ...]] = []
    leaf_optional: list[bool] = []
    leaf_locked: list[bool] = []
    for key in order:
        if mode(key) is not CompletionMode.COMPLETABLE:
            continue
        ancestors = tuple(sorted(above[key]))
        optional = blocks[key].optional
        leaf_index[key] = len(leaf_ancestors)
        leaf_ancestors.append(ancestors)
        leaf_optional.append(optional)
        leaf_locked.append(locked[key])
        target = optional_possible if optional else possible
        for index in ancestors:
            target[index] += 1.0

    return CourseGraph(
        course_key=structure.course_key,
        version=structure.version,
        root=structure.root,
        aggregator_keys=tuple(aggregator_keys),
        aggregator_types=tuple(aggregator_block_types),
        possible=tuple(possible),
        optional_possible=tuple(optional_possible),
        leaf_index=leaf_index,
        leaf_ancestors=tuple(leaf_ancestors),
        leaf_optional=tuple(leaf_optional),
        block_ancestors={key: tuple(sorted(value)) for key, value in above.items()},
        children=children,
        leaf_locked=tuple(leaf_locked),
    )


def _topological_order(structure: CourseStructureData, mode: Callable[[str], CompletionMode]) -> list[str]:
    """Blocks reachable from the root through aggregator-mode blocks, parents before children."""
    blocks = structure.blocks
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    post: list[str] = []
    stack: list[tuple[str, int]] = [(structure.root, 0)]
    if mode(structure.root) is CompletionMode.EXCLUDED:
        return []
    state[structure.root] = 1
    while stack:
        key, next_child = stack[-1]
        # Children in reverse, so that the reversed post-order is the course's reading order.
        kids = blocks[key].children[::-1] if mode(key) is CompletionMode.AGGREGATOR else ()
        if next_child < len(kids):
            stack[-1] = (key, next_child + 1)
            child = kids[next_child]
            if mode(child) is CompletionMode.EXCLUDED:
                continue
            seen = state.get(child)
            if seen == 1:
                raise CourseGraphError(f"the course structure has a cycle through {child!r}")
            if seen is None:
                state[child] = 1
                stack.append((child, 0))
        else:
            stack.pop()
            state[key] = 2
            post.append(key)
    post.reverse()
    return post


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
    rule of DESIGN.md's arithmetic). Used by the full and the path-only computations alike.
    """
    possible = graph.possible[index]
    optional_possible = graph.optional_possible[index]
    main = min(earned, possible)
    optional = min(optional_earned, optional_possible)
    return AggregateData(
        block_key=graph.aggregator_keys[index],
        block_type=graph.aggregator_types[index],
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
