"""
Property tests: the engine against a deliberately naive oracle of the contract.

The oracle walks the raw structure recursively and collects, for every stored aggregator, the
SET of completable leaves below it; it shares no code with the engine. Pure: no database, no
Django settings.
"""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from completion_aggregator.data import BlockData, CompletionMode, CourseStructureData
from completion_aggregator.engine import aggregate, aggregate_changed, compile_graph

AGGREGATOR_TYPES = frozenset({"course", "chapter", "sequential", "vertical"})

MODES = {
    "course": CompletionMode.AGGREGATOR,
    "chapter": CompletionMode.AGGREGATOR,
    "sequential": CompletionMode.AGGREGATOR,
    "vertical": CompletionMode.AGGREGATOR,
    "split_test": CompletionMode.AGGREGATOR,  # not registered: passes sums up, no row
    "html": CompletionMode.COMPLETABLE,
    "problem": CompletionMode.COMPLETABLE,
    "discussion": CompletionMode.EXCLUDED,
    # "mystery" is unknown: the lookup answers EXCLUDED.
}

CHILD_TYPES = [
    "chapter",
    "sequential",
    "vertical",
    "chapter",
    "sequential",
    "vertical",
    "split_test",
    "html",
    "problem",
    "html",
    "problem",
    "discussion",
    "mystery",
]
ROOT_TYPES = ["course"] * 8 + ["chapter", "split_test", "html", "discussion", "mystery"]

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,  # no example database: every run starts afresh
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def mode_of(block_type: str) -> CompletionMode:
    return MODES.get(block_type, CompletionMode.EXCLUDED)


@st.composite
def course_structures(draw):
    """
    A random DAG: a tree built level by level, plus shared edges from an earlier node (in
    creation order, which is a topological order) to a later one, so there is no cycle.
    """
    depth = draw(st.sampled_from([1, 2, 3, 4, 5, 3, 4, 5]))  # deep courses are the interesting ones
    max_nodes = 45
    types = [draw(st.sampled_from(ROOT_TYPES))]
    children: list[list[int]] = [[]]
    level = [0]
    for _ in range(depth):
        next_level = []
        for parent in level:
            # The root always has content; other blocks may be empty.
            for _ in range(draw(st.integers(1 if parent == 0 else 0, 4))):
                if len(types) >= max_nodes:
                    break
                index = len(types)
                types.append(draw(st.sampled_from(CHILD_TYPES)))
                children.append([])
                children[parent].append(index)
                next_level.append(index)
        if not next_level:
            break
        level = next_level
    count = len(types)
    # Shared edges mostly start at containers (so that they matter), sometimes anywhere.
    containers = [i for i, t in enumerate(types) if t not in ("html", "problem")] or [0]
    for _ in range(draw(st.integers(0, 8)) if count > 1 else 0):
        if draw(st.integers(0, 3)):
            first = draw(st.sampled_from(containers))  # often the root: a shared top-level block
        else:
            first = draw(st.integers(0, count - 1))
        if first < count - 1:
            # Appended: the child gets a further parent that is earlier in creation order,
            # which is a topological order, so no cycle.
            children[first].append(draw(st.integers(first + 1, count - 1)))
    optional = [draw(st.booleans()) if draw(st.integers(0, 3)) == 0 else False for _ in range(count)]
    keys = [f"{block_type}-{index}" for index, block_type in enumerate(types)]
    ghost_children = draw(st.lists(st.integers(0, count - 1), max_size=2))
    blocks = {}
    for index, key in enumerate(keys):
        kids = tuple(keys[child] for child in children[index])
        if index in ghost_children:
            kids += (f"ghost-{index}",)  # a child missing from the structure
        blocks[key] = BlockData(key=key, block_type=types[index], children=kids, optional=optional[index])
    return CourseStructureData(course_key="course-v1:Prop+Erty+Test", root=keys[0], blocks=blocks)


values = st.one_of(
    st.floats(0.0, 1.0, allow_nan=False),
    st.sampled_from([0.0, 1.0, 0.5]),
    st.floats(-2.0, 3.0, allow_nan=False),  # out of range: clamped
)
modified = st.one_of(st.none(), st.integers(0, 100_000).map(lambda minutes: T0 + timedelta(minutes=minutes)))


def all_keys(structure):
    """Every key in the structure plus a few that are not in it."""
    return sorted(structure.blocks) + ["ghost-0", "not-a-block", "course-v1:other"]


def completable_keys(structure):
    return sorted(k for k, b in structure.blocks.items() if mode_of(b.block_type) is CompletionMode.COMPLETABLE)


@st.composite
def completion_maps(draw, structure):
    """block key -> (value, modified), mostly leaves, some other blocks and unknown keys."""
    leaves = completable_keys(structure)
    chosen = [leaf for leaf in leaves if draw(st.booleans())]
    others = draw(st.lists(st.sampled_from(all_keys(structure)), unique=True, max_size=4))
    return {key: (draw(values), draw(modified)) for key in chosen + others}


def rows(completion_map):
    return [(key, value, when) for key, (value, when) in completion_map.items()]


# --- the naive oracle ---------------------------------------------------------------------


def oracle_mode(structure, key):
    block = structure.blocks.get(key)
    return CompletionMode.EXCLUDED if block is None else mode_of(block.block_type)


def leaves_below(structure, key):
    """The set of completable leaves below an aggregator-mode block (naive recursion)."""
    found = set()
    for child in structure.blocks[key].children:
        child_mode = oracle_mode(structure, child)
        if child_mode is CompletionMode.COMPLETABLE:
            found.add(child)
        elif child_mode is CompletionMode.AGGREGATOR:
            found |= leaves_below(structure, child)
    return found


def reachable_aggregators(structure):
    """Aggregator-mode blocks reachable from the root through aggregator-mode blocks."""
    if oracle_mode(structure, structure.root) is not CompletionMode.AGGREGATOR:
        return set()
    found = set()
    stack = [structure.root]
    while stack:
        key = stack.pop()
        if key in found:
            continue
        found.add(key)
        for child in structure.blocks[key].children:
            if oracle_mode(structure, child) is CompletionMode.AGGREGATOR:
                stack.append(child)
    return found


def clamp(value):
    return min(1.0, max(0.0, value))


def oracle(structure, completion_map):
    """block key -> dict of the expected fields, for every stored aggregator."""
    expected = {}
    for key in reachable_aggregators(structure):
        block = structure.blocks[key]
        if block.block_type not in AGGREGATOR_TYPES:
            continue
        leaves = leaves_below(structure, key)
        main = [leaf for leaf in leaves if not structure.blocks[leaf].optional]
        extra = [leaf for leaf in leaves if structure.blocks[leaf].optional]

        def earned_of(group):
            return sum(clamp(completion_map[leaf][0]) for leaf in group if leaf in completion_map)

        earned, possible = earned_of(main), float(len(main))
        optional_earned, optional_possible = earned_of(extra), float(len(extra))
        stamps = [completion_map[leaf][1] for leaf in leaves if leaf in completion_map]
        stamps = [stamp for stamp in stamps if stamp is not None]
        expected[key] = {
            "block_type": block.block_type,
            "earned": earned,
            "possible": possible,
            "percent": 1.0 if possible == 0 else earned / possible,
            "optional_earned": optional_earned,
            "optional_possible": optional_possible,
            "optional_percent": 1.0 if optional_possible == 0 else optional_earned / optional_possible,
            "last_modified": max(stamps) if stamps else None,
        }
    return expected


def descendants_through_aggregators(structure, key):
    """Aggregator-mode blocks strictly below ``key``, walking through aggregator-mode blocks."""
    found = set()
    stack = [
        child
        for child in structure.blocks[key].children
        if oracle_mode(structure, child) is CompletionMode.AGGREGATOR
    ]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(
            child
            for child in structure.blocks[current].children
            if oracle_mode(structure, child) is CompletionMode.AGGREGATOR
        )
    return found


NUMERIC_FIELDS = ("earned", "possible", "percent", "optional_earned", "optional_possible", "optional_percent")


def close(left, right):
    return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)


# --- properties ---------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(st.data())
def test_aggregate_matches_the_naive_oracle(data):
    structure = data.draw(course_structures(), label="structure")
    completion_map = data.draw(completion_maps(structure), label="completions")
    graph = compile_graph(structure, mode_of, AGGREGATOR_TYPES)

    results = aggregate(graph, rows(completion_map))
    expected = oracle(structure, completion_map)

    keys = [result.block_key for result in results]
    assert len(keys) == len(set(keys)), "an aggregator has two rows"
    assert set(keys) == set(expected), "rows for exactly the reachable registered aggregators"
    for result in results:
        want = expected[result.block_key]
        assert result.aggregation_name == want["block_type"]
        for field in NUMERIC_FIELDS:
            assert close(getattr(result, field), want[field]), (result.block_key, field, getattr(result, field), want)
        assert result.last_modified == want["last_modified"], result.block_key
        assert 0.0 <= result.percent <= 1.0
        assert 0.0 <= result.optional_percent <= 1.0
        assert result.earned <= result.possible + 1e-9

    # Course order: the root first, every aggregator before the aggregators below it.
    if keys:
        if structure.blocks[structure.root].block_type in AGGREGATOR_TYPES:
            assert keys[0] == structure.root
        position = {key: index for index, key in enumerate(keys)}
        for key in keys:
            for below in descendants_through_aggregators(structure, key) & set(keys):
                assert position[key] < position[below], (key, below)


@PROPERTY_SETTINGS
@given(st.data())
def test_aggregators_under_and_contains_match_the_oracle(data):
    structure = data.draw(course_structures(), label="structure")
    graph = compile_graph(structure, mode_of, AGGREGATOR_TYPES)
    reachable = reachable_aggregators(structure)
    for key in sorted(reachable):
        under = {graph.aggregator_keys[index] for index in graph.aggregators_under(key)}
        expected = {
            other
            for other in descendants_through_aggregators(structure, key) | {key}
            if structure.blocks[other].block_type in AGGREGATOR_TYPES
        }
        assert under == expected, key
    # Reachable: the root unless excluded, the aggregator-mode blocks reachable through
    # aggregator-mode blocks, and their non-excluded children.
    reachable_blocks = set(reachable)
    if oracle_mode(structure, structure.root) is not CompletionMode.EXCLUDED:
        reachable_blocks.add(structure.root)
    for key in reachable:
        reachable_blocks.update(
            child
            for child in structure.blocks[key].children
            if oracle_mode(structure, child) is not CompletionMode.EXCLUDED
        )
    for key in all_keys(structure):
        assert graph.contains(key) == (key in reachable_blocks), key


@PROPERTY_SETTINGS
@given(st.data())
def test_aggregate_changed_equals_full_aggregate(data):
    structure = data.draw(course_structures(), label="structure")
    graph = compile_graph(structure, mode_of, AGGREGATOR_TYPES)
    old_map = data.draw(completion_maps(structure), label="old completions")
    before = aggregate(graph, rows(old_map))

    # Change (set, alter or delete) the completions of a random set of the graph's leaves.
    # (A changed block outside the graph forces a full computation: see ``extra`` below.)
    leaves = [key for key in completable_keys(structure) if graph.contains(key)]
    changed = [leaf for leaf in leaves if data.draw(st.booleans(), label=f"change {leaf}?")]
    new_map = dict(old_map)
    for key in changed:
        if data.draw(st.integers(0, 4), label=f"delete {key}?") == 0:
            new_map.pop(key, None)
        else:
            new_map[key] = (data.draw(values, label=f"value {key}"), data.draw(modified, label=f"modified {key}"))

    stored = {result.block_key: result for result in before}
    # Sometimes some stored rows are missing (never computed, or deleted): still the same answer.
    if stored and data.draw(st.integers(0, 3), label="drop stored rows?") == 0:
        for key in data.draw(st.lists(st.sampled_from(sorted(stored)), unique=True, max_size=2), label="missing"):
            del stored[key]
    # Sometimes the changed set names a block outside the graph: a full computation.
    extra = []
    if data.draw(st.integers(0, 3), label="extra changed?") == 0:
        extra.append(data.draw(st.sampled_from(all_keys(structure)), label="extra changed"))

    incremental = aggregate_changed(graph, rows(new_map), changed + extra, stored)
    full = aggregate(graph, rows(new_map))

    assert [result.block_key for result in incremental] == [result.block_key for result in full]
    for got, want in zip(incremental, full, strict=True):
        assert got.aggregation_name == want.aggregation_name
        for field in NUMERIC_FIELDS:
            assert close(getattr(got, field), getattr(want, field)), (got.block_key, field, got, want)
        # Untouched aggregators have no changed leaf below them, so even the timestamp agrees.
        assert got.last_modified == want.last_modified, got.block_key
