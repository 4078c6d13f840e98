"""
Path-only recomputation (ADR 0018) equals the full computation, on random course graphs.

Pure: no database. The stored rows are simulated with the write path's own rule (a row keeps
its time when nothing below it has one, and a new row with no completion gets the write time),
because that rule is what makes some timestamps undecidable from rows alone.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from completion_aggregator.data import AggregateData, BlockData, CourseStructureData
from completion_aggregator.engine import aggregate, compile_graph
from completion_aggregator.path_only import aggregate_path, graph_digest, graph_parts, plan_path
from tests.engine.test_engine_properties import (
    AGGREGATOR_TYPES,
    NUMERIC_FIELDS,
    PROPERTY_SETTINGS,
    completable_keys,
    course_structures,
    mode_of,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
EXACT_VALUES = (0.0, 0.25, 0.5, 0.75, 1.0)
values = st.one_of(
    st.sampled_from(EXACT_VALUES),
    st.sampled_from(EXACT_VALUES),
    st.floats(0.0, 1.0, allow_nan=False),
    st.floats(-2.0, 3.0, allow_nan=False),  # out of range: clamped
)


def minutes(start: int, end: int):
    return st.integers(start, end).map(lambda m: T0 + timedelta(minutes=m))


def store(results, previous, now):
    """What the write path stores for ``results`` over the rows ``previous`` (write_plan.plan_chunk)."""
    rows = {}
    for value in results:
        before = previous.get(value.block_key)
        if before is not None and before.aggregation_name == value.aggregation_name and before.same_values(value):
            rows[value.block_key] = before
            continue
        last = value.last_modified or (before.last_modified if before is not None else None) or now
        rows[value.block_key] = dataclasses.replace(value, last_modified=last)
    return rows


def as_rows(completion_map):
    return [(key, value, when) for key, (value, when) in completion_map.items()]


def exact(completion_map) -> bool:
    return all(value in EXACT_VALUES or value < 0 or value > 1 for value, _when in completion_map.values())


def same(got: AggregateData, want: AggregateData, exactly: bool, leaves: int) -> bool:
    """
    Equal, numbers exactly for exact values; else within 1e-9 per leaf.

    The write path keeps a stored value while it is within 1e-9 of the computed one (a
    completion of 1e-10 deleted leaves its rows as they were), and a path-only sum adds such
    rows: each may be that far off.
    """
    if got.block_key != want.block_key or got.aggregation_name != want.aggregation_name or got.last_modified != want.last_modified:
        return False
    for name in NUMERIC_FIELDS:
        left, right = getattr(got, name), getattr(want, name)
        if (left != right) if exactly else not math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9 * (leaves + 1)):
            return False
    return True


@PROPERTY_SETTINGS
@given(st.data())
def test_path_only_equals_the_full_computation(data):
    structure = data.draw(course_structures(), label="structure")
    graph = compile_graph(structure, mode_of, AGGREGATOR_TYPES)
    leaves = [key for key in completable_keys(structure) if key in graph.leaf_index]
    assume(leaves)

    # History: completions, a full computation stored at minute 1000, some completions deleted
    # and another full computation stored at minute 2000 (rows that keep an old time).
    old = {key: (data.draw(values), data.draw(minutes(0, 999))) for key in leaves if data.draw(st.booleans())}
    stored = store(aggregate(graph, as_rows(old)), {}, T0 + timedelta(minutes=1000))
    first = dict(old)  # (rows keep values within 1e-9 of a new one: exactness depends on every value seen)
    for key in [key for key in old if data.draw(st.integers(0, 4), label=f"delete {key} early?") == 0]:
        del old[key]
    stored = store(aggregate(graph, as_rows(old)), stored, T0 + timedelta(minutes=2000))

    # The queued changes: new or changed completions (later than every write, as clocks go,
    # or sometimes earlier) and deletions.
    changed = data.draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=4, unique=True), label="changed")
    new = dict(old)
    monotonic = True
    for key in changed:
        kind = data.draw(st.integers(0, 5), label=f"change {key}")
        if kind == 0:
            new.pop(key, None)
            monotonic = False
        elif kind == 1:
            new[key] = (data.draw(values), data.draw(minutes(0, 2999)))
            monotonic = False
        else:
            new[key] = (data.draw(values), data.draw(minutes(2001, 2999)))
    full = {value.block_key: value for value in aggregate(graph, as_rows(new))}

    plan = plan_path(graph, changed)
    parts = graph_parts(graph)
    path_aggregators = {index for key in changed for index in graph.block_ancestors[key]}
    if not all(parts.partitioned[index] for index in path_aggregators):
        assert plan is None  # a block shared by two parts would count twice in a sum of rows
        return
    assert plan is not None
    assert set(plan.aggregators) == path_aggregators
    # What the caller reads: the plan's rows and completions, sometimes all of them (ignored).
    read_rows = {key: stored[key] for key in plan.row_keys}
    if data.draw(st.booleans(), label="read every completion?"):
        read_completions = as_rows(new)
    else:
        read_completions = [row for row in as_rows(new) if row[0] in plan.leaf_keys]
    result = aggregate_path(graph, plan, read_completions, read_rows)

    if monotonic:  # the only undecidable case is a time older than a row written with no completion
        assert result is not None
    if result is None:
        return
    assert [value.block_key for value in result] == [graph.aggregator_keys[i] for i in sorted(plan.aggregators)]
    exactly = exact(new) and exact(first)
    for value in result:
        assert same(value, full[value.block_key], exactly, graph.leaf_count), (value, full[value.block_key])
    # Every other aggregator is unchanged: the full computation would write nothing else.
    recomputed = {value.block_key for value in result}
    for key, value in full.items():
        if key not in recomputed:
            assert stored[key].same_values(value), (stored[key], value)


def test_a_block_shared_by_two_parts_is_planned_in_full():
    blocks = {
        "course": BlockData("course", "course", ("ch0", "ch1")),
        "ch0": BlockData("ch0", "chapter", ("shared",)),
        "ch1": BlockData("ch1", "chapter", ("shared", "own")),
        "shared": BlockData("shared", "html"),
        "own": BlockData("own", "html"),
    }
    graph = compile_graph(CourseStructureData("course-v1:A+B+C", "course", blocks), mode_of, AGGREGATOR_TYPES)
    assert plan_path(graph, ["own"]) is None  # the course's parts count "shared" twice
    assert plan_path(graph, ["ghost"]) is None  # not a leaf of the graph
    assert plan_path(graph, ["ch0"]) is None  # an aggregator: not a leaf


def test_the_digest_follows_what_stored_rows_mean():
    def graph(leaf_type="html", optional=False, locked=False, extra=()):
        blocks = {
            "course": BlockData("course", "course", ("ch0", *extra)),
            "ch0": BlockData("ch0", "chapter", ("a", "b")),
            "a": BlockData("a", leaf_type, optional=optional),
            "b": BlockData("b", "html", locked=locked),
        }
        blocks.update({key: BlockData(key, "html") for key in extra})
        return compile_graph(
            CourseStructureData("course-v1:A+B+C", "course", blocks, version="1"), mode_of, AGGREGATOR_TYPES
        )

    digest = graph_digest(graph())
    assert len(digest) == 40 and digest == graph_digest(graph())
    assert graph_digest(graph(locked=True)) == digest  # no stored row depends on locked flags
    assert graph_digest(graph(optional=True)) != digest
    assert graph_digest(graph(extra=("c",))) != digest
    assert graph_digest(graph(leaf_type="discussion")) != digest  # excluded: one leaf fewer


def test_a_row_kept_at_a_deleted_tiny_value_does_not_count_as_a_completion_time():
    """
    Found by the property test: a completion of 5e-324 is deleted; the write path keeps the
    rows above it (within 1e-9 of the new 0), with its time. Composing the course from them
    must not take that time as a completion's (the full computation has none).
    """
    blocks = {
        "course": BlockData("course", "course", ("ch0", "own")),
        "ch0": BlockData("ch0", "chapter", ("tiny",)),
        "tiny": BlockData("tiny", "html"),
        "own": BlockData("own", "html"),
    }
    graph = compile_graph(CourseStructureData("course-v1:A+B+C", "course", blocks), mode_of, AGGREGATOR_TYPES)
    stored = store(aggregate(graph, [("tiny", 5e-324, T0)]), {}, T0 + timedelta(minutes=1000))
    stored = store(aggregate(graph, []), stored, T0 + timedelta(minutes=2000))
    assert stored["ch0"].earned == 5e-324 and stored["ch0"].last_modified == T0  # kept: "unchanged"
    plan = plan_path(graph, ["own"])  # a change of "own" that left no completion (deleted)
    result = aggregate_path(graph, plan, [], {key: stored[key] for key in plan.row_keys})
    full = {value.block_key: value for value in aggregate(graph, [])}
    assert result is None or all(same(value, full[value.block_key], False, graph.leaf_count) for value in result)
