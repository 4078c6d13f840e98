"""
The write path's plan (ADR 0025) against a naive oracle, on random course graphs and chunks.

The oracle recomputes every learner from scratch (all their completions, the full engine) and
diffs the result against all their stored rows; it knows nothing of path-only reads. The plan
gets what the write path reads: for learners updated along their changed paths (ADR 0018),
only the path's rows and leaves. Pure: no database.

Path-only learners draw exact completion values (0, quarters, 1, out of range), for which the
path's sums equal the full ones exactly (``tests/engine/test_path_only.py`` covers the others
within float rounding); the other learners draw any value.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from completion_aggregator.data import AggregateData, BlockData, CourseStructureData
from completion_aggregator.engine import aggregate, compile_graph
from completion_aggregator.path_only import aggregate_path, graph_digest, plan_path
from completion_aggregator.write_plan import ChangeSet, ChunkSnapshot, LearnerRead, RowWrite, plan_chunk
from tests.engine.test_engine_properties import (
    AGGREGATOR_TYPES,
    PROPERTY_SETTINGS,
    completable_keys,
    course_structures,
    mode_of,
)
from tests.engine.test_path_only import as_rows, store

T0 = datetime(2025, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(minutes=5000)
EXACT = st.sampled_from((0.0, 0.25, 0.5, 0.75, 1.0, 1.0, -1.0, 2.0))
ANY = st.one_of(EXACT, st.floats(0.0, 1.0, allow_nan=False), st.floats(-2.0, 3.0, allow_nan=False))
KINDS = ("fresh", "kept", "kept", "kept", "forced", "garbage", "hidden")


def minutes(start: int, end: int):
    return st.integers(start, end).map(lambda m: T0 + timedelta(minutes=m))


class Learner:
    """One drawn learner: all their completions and stored rows, their mark, their queued changes."""

    def __init__(self, user_id, graph, completions, stored, mark, changed=(), forced=False):
        self.user_id, self.username = user_id, f"learner-{user_id}"
        self.graph, self.completions, self.stored, self.mark = graph, completions, stored, mark
        self.changed, self.forced = list(changed), forced


@st.composite
def learners(draw, user_id, graph, leaves):
    """A learner of one of :data:`KINDS` (hidden: the course is hidden from them, no graph)."""
    kind = draw(st.sampled_from(KINDS), label=f"kind of {user_id}")
    mark = draw(st.sampled_from([None, "0" * 40, graph_digest(graph)]), label="mark")
    if kind == "hidden":
        return Learner(user_id, None, {}, {}, mark)
    if kind in ("fresh", "garbage"):
        completions = {key: (draw(ANY), draw(minutes(0, 2999))) for key in leaves if draw(st.booleans())}
        stored = draw(garbage_rows(graph)) if kind == "garbage" else {}
        return Learner(user_id, graph, completions, stored, None if mark == graph_digest(graph) else mark)
    # Rows a full computation stored (at minutes 1000 and 2000, some completions deleted in
    # between), marked with the graph's digest, then changes queued (ADR 0018).
    old = {key: (draw(EXACT), draw(minutes(0, 999))) for key in leaves if draw(st.booleans())}
    stored = store(aggregate(graph, as_rows(old)), {}, T0 + timedelta(minutes=1000))
    for key in [key for key in old if draw(st.integers(0, 4)) == 0]:
        del old[key]
    stored = store(aggregate(graph, as_rows(old)), stored, T0 + timedelta(minutes=2000))
    changed = draw(st.lists(st.sampled_from(leaves), max_size=4, unique=True), label="changed") if leaves else []
    new = dict(old)
    for key in changed:
        change = draw(st.integers(0, 4))
        if change == 0:
            new.pop(key, None)
        else:
            new[key] = (draw(EXACT), draw(minutes(0 if change == 1 else 2001, 2999)))
    return Learner(user_id, graph, new, stored, graph_digest(graph), changed, forced=kind == "forced")


@st.composite
def garbage_rows(draw, graph):
    """Stored rows that no computation against ``graph`` stored: other values, types and blocks."""
    keys = draw(st.lists(st.sampled_from([*graph.aggregator_keys, "ghost-row", "chapter-99"]), unique=True))
    return {
        key: AggregateData(
            key,
            draw(st.sampled_from(sorted(AGGREGATOR_TYPES))),
            draw(ANY),
            draw(st.sampled_from([0.0, 1.0, 2.0, 3.0])),
            draw(st.floats(0.0, 1.0)),
            last_modified=draw(minutes(0, 2999)),
        )
        for key in keys
    }


def read(learner: Learner, row_ids) -> LearnerRead:
    """What the write path reads of a learner (api/chunk_read.py): the path's rows and leaves, or everything."""
    if learner.graph is None:
        return LearnerRead(learner.user_id, learner.username, mark=learner.mark)
    plan = None
    if learner.changed and not learner.forced and learner.mark == graph_digest(learner.graph):
        plan = plan_path(learner.graph, learner.changed)
    if plan is not None:
        path = LearnerRead(
            learner.user_id,
            learner.username,
            learner.graph,
            learner.mark,
            plan,
            [row for row in as_rows(learner.completions) if row[0] in plan.leaf_keys],
            {key: row for key, row in learner.stored.items() if key in plan.row_keys},
        )
        if path.values is not None:
            return path
    return LearnerRead(
        learner.user_id,
        learner.username,
        learner.graph,
        learner.mark,
        None,
        as_rows(learner.completions),
        learner.stored,
    )


def oracle(chunk: list[Learner], row_ids, stale_ids, course_found: bool, path_learners: int) -> ChangeSet:
    """Every learner recomputed from all their completions, diffed against all their stored rows."""
    usernames = {learner.user_id: learner.username for learner in chunk}
    if not course_found:
        return ChangeSet(stale_ids, NOW, unmarked=tuple(usernames), usernames=usernames)
    upserts, written, deletes, deleted, marks, unmarked = [], [], [], [], {}, []
    for learner in chunk:
        if learner.graph is None:
            unmarked += [learner.user_id] if learner.mark is not None else []
            continue
        values = aggregate(learner.graph, as_rows(learner.completions))
        for value in values:
            before = learner.stored.get(value.block_key)
            if before is None or before.aggregation_name != value.aggregation_name or not before.same_values(value):
                last = value.last_modified or (before.last_modified if before else None) or NOW
                upserts.append(RowWrite(row_ids.get((learner.user_id, value.block_key)), learner.user_id, value, last))
                written.append((learner.user_id, value, before))
        for key, before in learner.stored.items():
            if key not in {value.block_key for value in values}:
                deletes.append(row_ids[(learner.user_id, key)])
                deleted.append((learner.user_id, None, before))
        if graph_digest(learner.graph) != learner.mark:
            marks[learner.user_id] = graph_digest(learner.graph)
    return ChangeSet(
        stale_ids,
        NOW,
        tuple(upserts),
        tuple(written),
        tuple(deletes),
        tuple(deleted),
        marks,
        tuple(unmarked),
        usernames,
        learner_count=sum(1 for learner in chunk if learner.graph is not None),
        path_learner_count=path_learners,
    )


@PROPERTY_SETTINGS
@given(st.data())
def test_the_plan_equals_a_full_recompute_diffed_against_the_stored_rows(data):
    structure = data.draw(course_structures(), label="structure")
    graph = compile_graph(structure, mode_of, AGGREGATOR_TYPES)
    leaves = [key for key in completable_keys(structure) if key in graph.leaf_index]
    count = data.draw(st.integers(1, 4), label="learners")
    chunk = [data.draw(learners(user_id, graph, leaves)) for user_id in range(10, 10 + count)]
    row_ids = {}
    for learner in chunk:
        for key in learner.stored:
            row_ids[(learner.user_id, key)] = 1000 + len(row_ids)
    reads = tuple(read(learner, row_ids) for learner in chunk)
    course_found = data.draw(st.integers(0, 9), label="course found?") > 0
    if not course_found:  # nothing of the learners is read
        reads = tuple(LearnerRead(learner.user_id, learner.username) for learner in chunk)
    stale_ids = tuple(data.draw(st.lists(st.integers(1, 500), min_size=1, unique=True), label="stale ids"))
    snapshot = ChunkSnapshot(stale_ids, NOW, reads, row_ids, course_found=course_found)

    planned = plan_chunk(snapshot)

    path_learners = sum(1 for learner in reads if learner.path is not None) if course_found else 0
    assert planned == oracle(chunk, row_ids, stale_ids, course_found, path_learners)
    assert planned.writes_anything == bool(planned.upserts or planned.deletes or planned.marks or planned.unmarked)
    assert planned.row_changes == [*planned.written, *planned.deleted]
    assert plan_chunk(snapshot) == planned  # pure: the same snapshot, the same plan


def test_a_path_read_the_rows_cannot_decide_is_refused():
    """The reader reads such a learner in full (api/chunk_read.py); handed one, the plan refuses it."""
    blocks = {
        "course": BlockData("course", "course", ("ch0",)),
        "ch0": BlockData("ch0", "chapter", ("a", "b")),
        "a": BlockData("a", "html"),
        "b": BlockData("b", "html"),
    }
    graph = compile_graph(CourseStructureData("course-v1:A+B+C", "course", blocks), mode_of, AGGREGATOR_TYPES)
    plan = plan_path(graph, ["a"])
    assert plan is not None and aggregate_path(graph, plan, [], {}) is None  # no stored rows
    learner = LearnerRead(7, "seven", graph, graph_digest(graph), plan)
    with pytest.raises(ValueError, match="learner 7"):
        plan_chunk(ChunkSnapshot((1,), NOW, (learner,)))


def test_a_chunk_with_no_known_learner_only_resolves_its_stale_rows():
    planned = plan_chunk(ChunkSnapshot((3, 1, 2), NOW, unknown_users=("ghost",)))
    assert planned == ChangeSet((3, 1, 2), NOW)
    assert not planned.writes_anything and planned.row_changes == []
