"""
The statistics' totals in shards (ADR 0020): each chunk adds its changes to the shard of its
learner-id range, readers sum the shards, and the totals stay exact, also when a chunk fails
after adding to its shard. The MariaDB side (two chunks at once) is tests/api/test_parallel_workers.py.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from completion_aggregator import api, upsert
from completion_aggregator.api import kept_sums, totals
from completion_aggregator.api.course_lock import MAX_SHARDS, claim_shard, ensure_course, shard_for
from completion_aggregator.models import BlockTotal, CourseTotal, StaleCompletion, TotalShard
from tests.helpers import build_course, complete, learner

pytestmark = pytest.mark.django_db

CHUNK = 3


@override_settings(COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=CHUNK, COMPLETION_AGGREGATOR_TOTALS_SHARDS=4)
def test_consecutive_learner_id_ranges_fall_on_consecutive_shards():
    assert [shard_for(range(start, start + CHUNK)) for start in range(0, 6 * CHUNK, CHUNK)] == [0, 1, 2, 3, 0, 1]
    assert shard_for([7, 2, 5]) == shard_for([2]) == 0  # the lowest id decides
    assert shard_for([]) == 0


@pytest.mark.parametrize(("setting", "most"), [(0, 1), (-3, 1), (10**6, MAX_SHARDS)])
def test_the_number_of_shards_is_kept_between_one_and_its_bound(setting, most):
    with override_settings(COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=1, COMPLETION_AGGREGATOR_TOTALS_SHARDS=setting):
        assert {shard_for([user_id]) for user_id in range(2 * MAX_SHARDS)} == set(range(most))


@pytest.fixture
def course():
    """Two chunks' worth of learners with completions, counted in built totals, no rows yet."""
    course_key, leaves = build_course(shape=(2, 1, 2, 2))
    users = sorted((learner(f"learner{index}", course_key) for index in range(2 * CHUNK)), key=lambda user: user.pk)
    for index, user in enumerate(users):
        for leaf in leaves[index % 3 :: 2]:
            complete(user, leaf)
    totals.rebuild(course_key)
    return course_key, leaves, users


def _shards(course_key):
    return set(BlockTotal.objects.filter(course_key=course_key).values_list("shard", flat=True))


@override_settings(
    COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True,
    COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=CHUNK,
    COMPLETION_AGGREGATOR_TOTALS_SHARDS=8,
)
def test_each_chunk_adds_to_its_own_shard_and_readers_sum_them(course):
    course_key, _leaves, users = course
    first, second = users[:CHUNK], users[CHUNK:]
    api.aggregate_learners(course_key, [user.username for user in first], force=True)
    api.aggregate_learners(course_key, [user.username for user in second], force=True)
    assert _shards(course_key) == {shard_for([first[0].pk]), shard_for([second[0].pk])}
    assert len(_shards(course_key)) == 2
    assert totals.check(course_key) == []
    kept = kept_sums.kept_sums(course_key, ["course"])
    assert kept is not None and kept.learner_count == 2 * CHUNK
    [course_sums] = kept.blocks.values()
    assert course_sums.rows == 2 * CHUNK  # one course row per learner, over both shards
    totals.rebuild(course_key)  # a rebuild starts again in shard 0; the other shards' rows stay, zeroed
    assert set(BlockTotal.objects.filter(course_key=course_key, learners__gt=0).values_list("shard", flat=True)) == {0}
    assert not BlockTotal.objects.filter(course_key=course_key, shard__gt=0).exclude(earned=0).exists()
    assert totals.check(course_key) == []


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True, COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=CHUNK)
def test_a_chunk_that_fails_after_adding_to_its_shard_leaves_the_totals_exact(course):
    course_key, leaves, users = course
    names = [user.username for user in users[:CHUNK]]
    api.aggregate_learners(course_key, names)
    before = kept_sums.kept_block_sums(course_key)
    for user in users[:CHUNK]:
        complete(user, leaves[-1], value=0.5)

    def fail_after_the_totals(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith(f"INSERT INTO {connection.ops.quote_name(BlockTotal._meta.db_table)}"):
            raise RuntimeError("the worker died after adding to its shard")
        return result

    with connection.execute_wrapper(fail_after_the_totals), pytest.raises(RuntimeError):
        api.aggregate_learners(course_key, names)
    assert kept_sums.kept_block_sums(course_key) == before  # rolled back with the rows
    assert StaleCompletion.objects.filter(username__in=names, resolved=False).count() == CHUNK
    assert totals.check(course_key) == []
    api.aggregate_learners(course_key, names)  # the retry counts the changes once
    assert totals.check(course_key) == []
    assert not StaleCompletion.objects.filter(username__in=names, resolved=False).exists()


def test_adding_to_the_totals_is_one_statement_without_a_read(course):
    course_key, _leaves, users = course
    deltas = {("course", str(course_key.make_usage_key("course", "course"))): [1, 2.0, 3.0, 0.5, 0]}
    with CaptureQueriesContext(connection) as queries:
        totals.apply_deltas(course_key, deltas, shard=5)
        totals.apply_deltas(course_key, deltas, shard=5)  # adds to the row the first one inserted
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["INSERT", "INSERT"]
    row = BlockTotal.objects.get(course_key=course_key, shard=5)
    assert (row.learners, row.earned, row.possible, row.percent, row.completed) == (2, 4.0, 6.0, 1.0, 0)


def test_the_fallback_adds_row_by_row(course, monkeypatch):
    course_key, _leaves, _users = course
    monkeypatch.setattr(upsert, "NATIVE_VENDORS", ())
    key = str(course_key.make_usage_key("course", "course"))
    totals.apply_deltas(course_key, {("course", key): [1, 2.0, 3.0, 0.5, 1]}, shard=3)
    totals.apply_deltas(
        course_key, {("course", key): [1, 0.5, 3.0, 0.25, 0], ("chapter", key): [1, 1.0, 1.0, 1.0, 1]}, shard=3
    )
    got = {
        (row.aggregation_name, row.learners, row.earned, row.possible, row.percent, row.completed)
        for row in BlockTotal.objects.filter(course_key=course_key, shard=3)
    }
    assert got == {("course", 2, 2.5, 6.0, 0.75, 1), ("chapter", 1, 1.0, 1.0, 1.0, 1)}


def test_the_write_path_takes_the_course_lock_in_share_mode_where_the_database_has_one(course):
    course_key, leaves, users = course
    complete(users[0], leaves[0], value=0.25)
    with CaptureQueriesContext(connection) as queries:
        api.aggregate_learners(course_key, [users[0].username])
    table = connection.ops.quote_name(CourseTotal._meta.db_table)
    locks = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and table in q["sql"]]
    expected = {"mysql": " LOCK IN SHARE MODE", "postgresql": " FOR SHARE"}.get(connection.vendor, "")
    assert len(locks) == 2  # the row ensured before the transaction, then locked inside it
    assert locks[1].endswith(expected)
    assert totals.check(course_key) == []


def test_a_course_gets_its_shard_rows_before_the_first_write_and_more_when_the_setting_grows():
    course_key, _leaves = build_course(shape=(1, 1, 1, 1))
    with override_settings(COMPLETION_AGGREGATOR_TOTALS_SHARDS=3):
        ensure_course(course_key)
        assert CourseTotal.objects.get(course_key=course_key).shards == 3
        assert sorted(TotalShard.objects.filter(course_key=course_key).values_list("shard", flat=True)) == [0, 1, 2]
        with CaptureQueriesContext(connection) as queries:
            ensure_course(course_key)
        assert len(queries.captured_queries) == 1  # the count is read; nothing to create
    with override_settings(COMPLETION_AGGREGATOR_TOTALS_SHARDS=5):
        ensure_course(course_key)
        assert CourseTotal.objects.get(course_key=course_key).shards == 5
        assert TotalShard.objects.filter(course_key=course_key).count() == 5


@pytest.mark.skipif(
    not connection.features.has_select_for_update, reason="SQLite claims nothing (one writer at a time)"
)
@override_settings(COMPLETION_AGGREGATOR_TOTALS_SHARDS=4)
def test_a_claimed_shard_is_the_preferred_one_when_free():
    course_key, _leaves = build_course(shape=(1, 1, 1, 1))
    ensure_course(course_key)
    assert claim_shard(course_key, 2) == 2  # (another transaction's claim: tests/api/test_parallel_workers.py)
