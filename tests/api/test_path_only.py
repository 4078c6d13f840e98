"""
Path-only updates on the store path (ADR 0018): what they read, when they are allowed, and
that they store exactly what a full recompute stores.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from completion.models import BlockCompletion
from django.db import connection

from completion_aggregator import api
from completion_aggregator.api import totals
from completion_aggregator.models import Aggregator, ComputedLearner, StaleCompletion
from tests.helpers import build_course, complete, learner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("async_aggregation")]

_TABLE = re.compile(r'\bFROM\s+[`"]?([a-z_]+)[`"]?', re.IGNORECASE)


@pytest.fixture
def async_aggregation(settings):
    """Completions only queue (the tests aggregate when they choose)."""
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True


class RowsRead:
    """
    An ``execute_wrapper`` counting the rows every SELECT returns, by table.

    Each SELECT is counted by running ``SELECT COUNT(*)`` over it right after it, in the same
    transaction (a second cursor: the first keeps its rows for the code under test).
    """

    def __init__(self) -> None:
        self.by_table: Counter[str] = Counter()
        self.statements = 0  # every statement of the code under test (not the counting ones)
        self._inside = False

    @property
    def total(self) -> int:
        return sum(self.by_table.values())

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if self._inside:
            return result
        self.statements += 1
        if sql.lstrip().upper().startswith("SELECT"):
            self._inside = True
            try:
                with context["connection"].cursor() as cursor:
                    cursor.execute(f"SELECT COUNT(*) FROM ({sql}) counted", params)
                    match = _TABLE.search(sql)
                    self.by_table[match.group(1) if match else "?"] += cursor.fetchone()[0]
            finally:
                self._inside = False
        return result


def rows_of(user):
    return {
        (str(row.block_key), row.aggregation_name): (
            row.earned,
            row.possible,
            row.percent,
            row.optional_earned,
            row.optional_possible,
            row.optional_percent,
            row.last_modified,
        )
        for row in Aggregator.objects.filter(user=user)
    }


def test_one_completion_in_a_16000_block_course_reads_fewer_than_200_rows():
    # 1 course, 10 chapters, 100 sequentials, 1,000 verticals, 15,000 leaves: 16,111 blocks.
    course_key, leaves = build_course(shape=(10, 10, 10, 15))
    alex = learner("alex", course_key)
    BlockCompletion.objects.bulk_create(  # 600 completions across the course (no signals, no stale rows)
        [
            BlockCompletion(user=alex, context_key=course_key, block_key=leaf, block_type="html", completion=1.0)
            for leaf in leaves[::25]
        ]
    )
    api.aggregate_learners(course_key, ["alex"], force=True)  # the full recompute records the mark
    totals.rebuild(course_key)  # kept statistics totals: each write updates the changed blocks' sums
    assert Aggregator.objects.filter(user=alex).count() == 1111
    assert ComputedLearner.objects.get(user=alex).graph_digest
    complete(alex, leaves[7001])  # a new completion, queued with its block key

    counter = RowsRead()
    with connection.execute_wrapper(counter):
        result = api.aggregate_learners(course_key, ["alex"])
    # candidate stale ids; the course's totals row; savepoint; stale rows locked; users;
    # structure head, roles (the blocks are cached); the mark; the path's rows; the vertical's
    # completions; the course's lock row; the upsert; the counted learners, the claim of a
    # totals shard and the upsert adding to the changed blocks' totals; resolve; release.
    assert counter.total < 200, counter.by_table
    # The path: 4 rows, and the stored aggregators right below each: 10 chapters, 10
    # sequentials, 10 verticals (the path's own included); the vertical's 15 leaves.
    assert counter.by_table["completion_aggregator_aggregator"] == 1 + 10 + 10 + 10
    assert counter.by_table["completion_blockcompletion"] == 2  # the new one, and leaf 7,000's (every 25th)
    assert counter.by_table["completion_aggregator_blocktotal"] == 0  # added to, never read (ADR 0020)
    assert counter.statements == (16 if connection.vendor == "sqlite" else 17)  # SQLite claims no shard
    assert (result.learner_count, result.path_learner_count, result.rows_written) == (1, 1, 4)

    # What a full recompute stores is what is stored.
    stored = rows_of(alex)
    assert api.aggregate_learners(course_key, ["alex"], force=True).rows_written == 0
    assert rows_of(alex) == stored
    course = stored[(str(course_key.make_usage_key("course", "course")), "course")]
    assert course[:2] == (601.0, 15000.0)


def test_rows_not_computed_in_full_against_the_current_structure_are_recomputed_in_full():
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])  # no mark yet: a full recompute, which records one
    mark = ComputedLearner.objects.get(user=alex, course_key=course_key)
    complete(alex, leaves[1])
    assert api.aggregate_learners(course_key, ["alex"]).path_learner_count == 1

    # Rows this app did not compute (the peer's, a restored backup): no mark, a full recompute.
    Aggregator.objects.filter(user=alex, aggregation_name="chapter").update(earned=0.5, percent=0.0625)
    ComputedLearner.objects.filter(user=alex).delete()
    complete(alex, leaves[2])
    result = api.aggregate_learners(course_key, ["alex"])
    assert result.path_learner_count == 0
    assert {row.earned for row in Aggregator.objects.filter(user=alex, aggregation_name="chapter")} == {3.0, 0.0}
    assert ComputedLearner.objects.get(user=alex).graph_digest == mark.graph_digest

    # A new version of the structure: the mark is another graph's, a full recompute records this one.
    build_course(shape=(2, 2, 2, 3))
    StaleCompletion.objects.update(resolved=True)  # (the publish's forced rows: the test queues its own)
    complete(alex, leaves[3])
    result = api.aggregate_learners(course_key, ["alex"])
    assert result.path_learner_count == 0
    assert ComputedLearner.objects.get(user=alex).graph_digest != mark.graph_digest
    assert Aggregator.objects.get(user=alex, aggregation_name="course").possible == 24.0


def test_a_missing_or_inconsistent_row_on_the_path_means_a_full_recompute():
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])
    # A sibling row of the path is gone (deleted by hand): recomputed in full, and written again.
    sibling = course_key.make_usage_key("vertical", "ch0_se0_ve1")
    Aggregator.objects.filter(user=alex, block_key=sibling).delete()
    complete(alex, leaves[1])
    result = api.aggregate_learners(course_key, ["alex"])
    assert (result.path_learner_count, result.rows_written) == (0, 5)
    assert Aggregator.objects.filter(user=alex).count() == 15
    # A row whose possible count is not the graph's.
    Aggregator.objects.filter(user=alex, block_key=sibling).update(possible=3.0)
    complete(alex, leaves[0], 0.5)
    result = api.aggregate_learners(course_key, ["alex"])
    assert (result.path_learner_count, result.rows_written) == (0, 5)
    assert Aggregator.objects.get(user=alex, block_key=sibling).possible == 2.0


def test_changes_resolved_without_being_applied_forget_the_mark():
    from datetime import timedelta

    from django.utils import timezone

    from completion_aggregator.standalone.models import Course

    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])
    assert ComputedLearner.objects.filter(user=alex).exists()

    def republish(**extra):
        build_course(extra=extra)
        StaleCompletion.objects.filter(force=True).update(resolved=True)  # (the publish's own forced rows)

    # The course is hidden from learners for a while (its start moved to the future): the
    # queued change is resolved without touching the rows, so the mark goes.
    republish(course={"start": timezone.now() + timedelta(days=1)})
    complete(alex, leaves[1])
    result = api.aggregate_learners(course_key, ["alex"])
    assert (result.learner_count, result.stale_rows) == (0, 1)
    assert not ComputedLearner.objects.filter(user=alex).exists()
    # Visible again with the first version's blocks (the same graph as the rows): without the
    # mark, the next change recomputes in full and counts the change resolved while hidden.
    republish()
    complete(alex, leaves[2])
    result = api.aggregate_learners(course_key, ["alex"])
    assert result.path_learner_count == 0
    assert Aggregator.objects.get(user=alex, aggregation_name="course").earned == 3.0
    assert ComputedLearner.objects.filter(user=alex).exists()

    # A course the host cannot find: the same.
    Course.objects.filter(course_key=course_key).delete()
    api.clear_graph_cache()
    complete(alex, leaves[3])
    assert api.aggregate_learners(course_key, ["alex"]).learner_count == 0
    assert not ComputedLearner.objects.filter(user=alex).exists()


# --- store level: path-only against a full recompute, on random courses and changes -----------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

VALUES = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.0, 0.3])


class Rollback(Exception):
    """Undo one run, so that the other starts from the same state."""


@st.composite
def course_specs(draw, course_key):
    """A random course: random breadth at each level, optional leaves, leaves right in a sequential, a shared leaf."""
    from completion_aggregator.standalone.publishing import BlockSpec

    specs, leaves, verticals = [], [], []

    def block(block_type, block_id, children=(), optional=False):
        key = course_key.make_usage_key(block_type, block_id)
        specs.append(BlockSpec(key=key, block_type=block_type, children=list(children), optional_completion=optional))
        return key

    def leaf(block_id):
        key = block(draw(st.sampled_from(["html", "problem"])), block_id, optional=draw(st.integers(0, 5)) == 0)
        leaves.append(key)
        return key

    chapters = []
    for c in range(draw(st.integers(1, 3))):
        sequentials = []
        for s in range(draw(st.integers(1, 3))):
            children = []
            for v in range(draw(st.integers(0, 3))):
                vertical = [leaf(f"l{c}{s}{v}{n}") for n in range(draw(st.integers(0, 3)))]
                verticals.append(vertical)
                children.append(block("vertical", f"v{c}{s}{v}", vertical))
            if draw(st.integers(0, 3)) == 0:
                children.append(leaf(f"d{c}{s}"))  # a leaf right in the sequential
            sequentials.append(block("sequential", f"s{c}{s}", children))
        chapters.append(block("chapter", f"c{c}", sequentials))
    shared = False
    if leaves and verticals and draw(st.integers(0, 4)) == 0:
        draw(st.sampled_from(verticals)).append(draw(st.sampled_from(leaves)))  # a leaf in two places
        shared = True
    root = block("course", "course", chapters)
    for spec, vertical in zip([s for s in specs if s.block_type == "vertical"], verticals, strict=True):
        spec.children = list(vertical)
    return root, specs, leaves, shared


def _rounded(value):
    """``value`` with every float rounded to 9 places: sums of fractions like 0.3 depend on their order."""
    import dataclasses

    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, (list, tuple)):
        return type(value)(_rounded(item) for item in value)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value):
        return dataclasses.replace(
            value, **{f.name: _rounded(getattr(value, f.name)) for f in dataclasses.fields(value)}
        )
    return value


def _capture(user, course_key, result, events, started):
    """What a run stored and emitted: rows, changed rows, totals, events (timestamps of the run itself masked)."""
    from datetime import datetime

    from completion_aggregator.models import BlockTotal

    def stamp(text):  # a row created by this run carries the run's own time
        return "this run" if datetime.fromisoformat(text) >= started else text

    totals = sorted(
        BlockTotal.objects.filter(course_key=course_key).values_list(
            "block_key", "learners", "earned", "possible", "percent", "completed"
        )
    )
    events = [(name, {**data, "created": stamp(data["created"]), "modified": "this run"}) for name, data in events]
    state = (rows_of(user), result.changed, result.rows_deleted, totals, events)
    return _rounded(state), ComputedLearner.objects.get(user=user).graph_digest


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_path_only_stores_what_a_full_recompute_stores(data, django_capture_on_commit_callbacks, memory_tracker):
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone
    from opaque_keys.edx.keys import CourseKey

    from completion_aggregator.adapters import get_adapter
    from completion_aggregator.api import totals
    from completion_aggregator.standalone.publishing import publish_structure

    api.clear_graph_cache()
    get_adapter().clear_cache()
    course_key = CourseKey.from_string("course-v1:Prop+Path+2026")
    root, specs, leaves, shared = data.draw(course_specs(course_key), label="course")
    try:
        with transaction.atomic():
            publish_structure(course_key, root, specs)
            alex = learner("alex", course_key)
            started = {leaf: data.draw(VALUES) for leaf in leaves if data.draw(st.booleans(), label=f"started {leaf}")}
            BlockCompletion.objects.bulk_create(
                [
                    BlockCompletion(
                        user=alex, context_key=course_key, block_key=leaf, block_type=leaf.block_type, completion=value
                    )
                    for leaf, value in started.items()
                ]
            )
            api.aggregate_learners(course_key, ["alex"], force=True)  # full: the mark
            totals.rebuild(course_key)  # kept totals: every write records its deltas
            changed = (
                data.draw(st.lists(st.sampled_from(leaves), max_size=3, unique=True), label="changed") if leaves else []
            )
            deleted = skewed = False
            for leaf in changed:
                if leaf in started and data.draw(st.integers(0, 4)) == 0:
                    BlockCompletion.objects.filter(
                        user=alex, context_key=course_key, block_key=leaf
                    ).delete()  # queued by its signal
                    deleted = True
                else:  # a different value: an unchanged one is not saved, so not queued
                    complete(alex, leaf, data.draw(VALUES.filter(lambda value, leaf=leaf: value != started.get(leaf))))
            if changed and data.draw(st.integers(0, 5)) == 0:  # a clock behind the last write
                BlockCompletion.objects.filter(user=alex, block_key__in=changed).update(
                    modified=alex.date_joined - timedelta(days=1)
                )
                skewed = True

            runs = []
            for force in (False, True):  # path-only, then a full recompute from the same state
                try:
                    with transaction.atomic():
                        before, started = len(memory_tracker()), timezone.now()
                        with django_capture_on_commit_callbacks(execute=True):
                            result = api.aggregate_learners(course_key, ["alex"], force=force)
                        events = memory_tracker()[before:]
                        runs.append((result, _capture(alex, course_key, result, events, started)))
                        raise Rollback
                except Rollback:
                    pass
            (path_run, path_state), (full_run, full_state) = runs
            assert path_state == full_state
            if changed and not (shared or deleted or skewed):
                assert path_run.path_learner_count == 1
            raise Rollback
    except Rollback:
        pass


@pytest.fixture
def memory_tracker(settings):
    """The events emitted, as ``(name, data)`` pairs (event-tracking's in-memory backend)."""
    from eventtracking import tracker
    from eventtracking.django.django_tracker import DjangoTracker

    settings.EVENT_TRACKING_BACKENDS = {"memory": {"ENGINE": "eventtracking.backends.tests.InMemoryBackend"}}
    settings.EVENT_TRACKING_PROCESSORS = []
    previous = tracker.TRACKERS.get(tracker.DEFAULT_TRACKER_NAME)
    django_tracker = DjangoTracker()
    tracker.register_tracker(django_tracker)
    backend = django_tracker.get_backend("memory")
    yield lambda: [
        (e["name"], e["data"]) for e in backend.events if e["name"].startswith("openedx.completion_aggregator.")
    ]
    if previous is not None:
        tracker.register_tracker(previous)
    else:
        tracker.TRACKERS.pop(tracker.DEFAULT_TRACKER_NAME, None)
