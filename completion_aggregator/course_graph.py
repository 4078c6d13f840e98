"""
The compiled course graph: a course structure numbered once for every learner's aggregation.

:func:`compile_graph` walks the structure from the root through AGGREGATOR blocks (parents
first, EXCLUDED blocks and their subtrees left out), numbers the aggregators that get rows,
and for every completable leaf keeps the aggregators that contain it and counts it in their
``possible``. Pure: no ORM, cache or settings (:mod:`completion_aggregator.engine`).
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TypeVar

from .data import BlockData, CompletionMode, CourseStructureData

ModeLookup = Callable[[str], CompletionMode]
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
    aggregation_names: tuple[str, ...]
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
    aggregation_names: Collection[str],
) -> CourseGraph:
    """
    Compile a course structure into a :class:`CourseGraph`.

    Raises:
        CourseGraphError: the root is not among the blocks, or the blocks form a cycle.
    """
    blocks = structure.blocks
    if structure.root not in blocks:
        raise CourseGraphError(f"root block {structure.root!r} is not in the structure")
    mode = _mode_cache(blocks, mode_of)
    order = _topological_order(structure, mode)
    parents, children = _aggregator_edges(blocks, order, mode)
    aggregator_keys = [
        key for key in order if mode(key) is CompletionMode.AGGREGATOR and blocks[key].block_type in aggregation_names
    ]
    above, locked = _above_and_locked(blocks, order, parents, {key: i for i, key in enumerate(aggregator_keys)})
    leaves = _Leaves(len(aggregator_keys))
    for key in order:
        if mode(key) is CompletionMode.COMPLETABLE:
            leaves.add(key, tuple(sorted(above[key])), blocks[key].optional, locked[key])
    return CourseGraph(
        course_key=structure.course_key,
        version=structure.version,
        root=structure.root,
        aggregator_keys=tuple(aggregator_keys),
        aggregation_names=tuple(blocks[key].block_type for key in aggregator_keys),
        possible=tuple(leaves.possible),
        optional_possible=tuple(leaves.optional_possible),
        leaf_index=leaves.index,
        leaf_ancestors=tuple(leaves.ancestors),
        leaf_optional=tuple(leaves.optional),
        block_ancestors={key: tuple(sorted(value)) for key, value in above.items()},
        children=children,
        leaf_locked=tuple(leaves.locked),
    )


def _mode_cache(blocks: Mapping[str, BlockData], mode_of: ModeLookup) -> ModeLookup:
    """``mode_of`` by block key, each block's looked up once (a key not in ``blocks`` is EXCLUDED)."""
    modes: dict[str, CompletionMode] = {}

    def mode(key: str) -> CompletionMode:
        if key not in modes:
            block = blocks.get(key)
            modes[key] = CompletionMode.EXCLUDED if block is None else mode_of(block.block_type)
        return modes[key]

    return mode


def _aggregator_edges(
    blocks: Mapping[str, BlockData], order: list[str], mode: ModeLookup
) -> tuple[dict[str, list[str]], dict[str, tuple[str, ...]]]:
    """
    ``(parents, children)`` along aggregator blocks, over the reachable blocks in ``order``.

    ``parents``: every reachable block's aggregator parents (in order); ``children``: each
    aggregator's reachable children, each once, in course order.
    """
    reachable = set(order)
    parents: dict[str, list[str]] = {key: [] for key in order}
    children: dict[str, tuple[str, ...]] = {}
    for key in order:
        if mode(key) is CompletionMode.AGGREGATOR:
            kids = tuple(dict.fromkeys(c for c in blocks[key].children if c in reachable))
            children[key] = kids
            for child in kids:
                parents[child].append(key)
    return parents, children


def _above_and_locked(
    blocks: Mapping[str, BlockData], order: list[str], parents: Mapping[str, list[str]], position: Mapping[str, int]
) -> tuple[dict[str, frozenset[int]], dict[str, bool]]:
    """
    Per block (parents first): the stored aggregators at or above it, and whether it is locked.

    A block is locked when it is, or when it has parents and every one of them is.
    """
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
    return above, locked


class _Leaves:
    """The completable leaves of a graph being compiled, and the ``possible`` sums they make."""

    def __init__(self, aggregators: int):
        self.possible = [0.0] * aggregators
        self.optional_possible = [0.0] * aggregators
        self.index: dict[str, int] = {}
        self.ancestors: list[tuple[int, ...]] = []
        self.optional: list[bool] = []
        self.locked: list[bool] = []

    def add(self, key: str, ancestors: tuple[int, ...], optional: bool, locked: bool) -> None:
        """Number the leaf ``key`` and count it once in each of its aggregators' possible."""
        self.index[key] = len(self.ancestors)
        self.ancestors.append(ancestors)
        self.optional.append(optional)
        self.locked.append(locked)
        target = self.optional_possible if optional else self.possible
        for index in ancestors:
            target[index] += 1.0


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
