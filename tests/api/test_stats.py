"""api.stats and api.row_sums: the statistics' queries, their plans on each database, and batching of learner ids."""
import pytest
from django.db import connection
from django.db.models import Count, Sum

from completion_aggregator import api
from completion_aggregator.api import row_sums, totals
from completion_aggregator.models import Aggregator
from tests.helpers import build_course, complete, learner

pytestmark = pytest.mark.django_db

PERCENT_INDEX = "aggr_name_course_block_per_idx"


@pytest.fixture
def stored_course():
    """Six learners with stored rows (course, 2 chapters, 4 sequentials, 8 verticals each)."""
    course_key, leaves = build_course()
    users = [learner(f"learner{index}", course_key) for index in range(6)]
    for index, user in enumerate(users):
        for leaf in leaves[: 2 * index + 1]:
            complete(user, leaf)
    api.aggregate_learners(course_key, [user.username for user in users])
    return course_key, users


def _plan(queryset) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # tiny tables: make the planner show its index plan
            # (with a handful of rows, a bitmap heap scan or a sequential scan costs about the
            # same as the index-only scan, and the choice follows whatever the planner's
            # statistics hold after the tests that ran before)
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
    return queryset.explain()


def test_stored_aggregation_names_lists_each_block_once(stored_course):
    course_key, _users = stored_course
    found = row_sums.stored_aggregation_names(course_key, ["course", "chapter"])
    assert found == {
        str(course_key.make_usage_key("course", "course")): "course",
        str(course_key.make_usage_key("chapter", "ch0")): "chapter",
        str(course_key.make_usage_key("chapter", "ch1")): "chapter",
    }


def test_stored_aggregation_names_leaves_out_keys_that_do_not_parse(stored_course, caplog):
    course_key, users = stored_course
    table = connection.ops.quote_name(Aggregator._meta.db_table)
    with connection.cursor() as cursor:  # the key field would refuse the string
        cursor.execute(
            f"UPDATE {table} SET block_key = %s WHERE user_id = %s AND block_key = %s",
            ["not a usage key", users[0].pk, str(course_key.make_usage_key("chapter", "ch0"))],
        )
    found = row_sums.stored_aggregation_names(course_key, ["chapter"])
    assert "not a usage key" not in found and len(found) == 2
    assert "does not parse" in caplog.text


def test_percent_sums_are_read_from_an_index_only(stored_course):
    """The mean and the histogram: ``percent`` is in aggr_name_course_block_per_idx, no row is read."""
    course_key, _users = stored_course
    keys = sorted(row_sums.stored_aggregation_names(course_key, ["course"]))
    plan = _plan(row_sums.block_sums_query(course_key, keys, None, ["course"], total=Sum("percent")))
    assert PERCENT_INDEX in plan, plan
    if connection.vendor == "mysql":
        assert "Using index" in plan, plan
    elif connection.vendor == "sqlite":
        assert f"COVERING INDEX {PERCENT_INDEX}" in plan, plan
    else:
        assert f"Index Only Scan using {PERCENT_INDEX}" in plan, plan


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite has no loose index scan")
def test_the_block_keys_are_read_from_an_index_only(stored_course):
    course_key, _users = stored_course
    plan = _plan(row_sums.stored_aggregation_names_query(course_key, ["course", "chapter"]))
    if connection.vendor == "mysql":
        assert "aggr_name_course_block_per_idx" in plan and "Using index" in plan, plan
    else:
        assert "Index Only Scan" in plan, plan


def test_sums_add_up_across_batches_of_ids(stored_course):
    """More ids than one SQLite statement may carry (about 32,000): batched, then added up."""
    course_key, users = stored_course
    keys = sorted(row_sums.stored_aggregation_names(course_key, ["course", "chapter"]))
    real = [user.pk for user in users]
    many = sorted(set(range(1, 70001)) | set(real))  # ids without rows count for nothing
    aggregates = {"earned": Sum("earned"), "rows": Count("id")}
    assert row_sums.block_sums(course_key, keys, many, **aggregates) == row_sums.block_sums(
        course_key, keys, real, **aggregates
    )
    expected = {
        str(key): {"earned": sum_earned, "rows": rows}
        for key, sum_earned, rows in Aggregator.objects.filter(course_key=course_key, block_key__in=keys)
        .values_list("block_key")
        .annotate(Sum("earned"), Count("id"))
        .order_by()
    }
    assert row_sums.block_sums(course_key, keys, real, **aggregates) == expected


def test_learners_no_longer_enrolled_are_not_counted(stored_course):
    course_key, users = stored_course
    before = api.get_course_stats(course_key, aggregation_names=["chapter"])
    users[-1].standalone_enrollments.update(is_active=False)
    after = api.get_course_stats(course_key, aggregation_names=["chapter"])
    assert (before.learner_count, after.learner_count) == (6, 5)
    stored_earned = Aggregator.objects.filter(course_key=course_key, aggregation_name="course", user__in=users[:-1])
    assert after.mean_completion.earned == pytest.approx(sum(row.earned for row in stored_earned) / 5)


@pytest.mark.parametrize("count", [2, 12])
@pytest.mark.parametrize("built", [False, True], ids=["from-rows", "kept-totals"])
def test_statistics_cost_the_same_queries_at_any_enrollment(count, built, django_assert_num_queries):
    course_key, leaves = build_course()
    users = [learner(f"many{index}", course_key) for index in range(count)]
    for user in users:
        complete(user, leaves[0])
    if built:
        totals.rebuild(course_key)
    api.aggregate_learners(course_key, [user.username for user in users])
    api.get_course_stats(course_key, aggregation_names=["chapter"])  # warm the graph cache
    if built:
        # the totals' course row, the block totals, the first counted learner, the structure's
        # head and its course roles (that learner's view)
        expected = 5
    else:
        # the totals' course row (absent), enrolled ids, the representative learner, the
        # structure's head, its course roles, the block keys, the learners with rows, the sums
        expected = 8
    with django_assert_num_queries(expected):
        result = api.get_course_stats(course_key, aggregation_names=["chapter", "sequential"])
    assert result.learner_count == count
    assert result.mean_completion.earned == pytest.approx(1.0)


@pytest.mark.parametrize("count", [2, 12])
@pytest.mark.parametrize("built", [False, True], ids=["from-rows", "kept-totals"])
def test_a_deleted_courses_statistics_cost_the_same_queries_at_any_enrollment(
    count, built, django_assert_num_queries
):
    """A course whose structure is gone answers from its rows (issue 17, point 5): no query per learner."""
    from django.core.cache import cache

    from completion_aggregator.adapters import get_adapter
    from completion_aggregator.standalone.models import CourseStructure

    course_key, leaves = build_course()
    users = [learner(f"many{index}", course_key) for index in range(count)]
    for user in users[1:]:  # the first learner has no rows: counted with the largest stored possible
        complete(user, leaves[0])
    if built:
        totals.rebuild(course_key)
    api.aggregate_learners(course_key, [user.username for user in users])
    CourseStructure.objects.filter(course__course_key=course_key).delete()
    get_adapter().clear_cache()
    cache.clear()
    if built:
        # the totals' course row, the block totals, the first counted learner, the (missing)
        # structure's head, the largest stored possible per block
        expected = 5
    else:
        # the totals' course row (absent), enrolled ids, the representative learner, the
        # (missing) structure's head, the largest stored possible per block, the block keys,
        # the learners with rows, the sums
        expected = 8
    with django_assert_num_queries(expected):
        result = api.get_course_stats(course_key, aggregation_names=["chapter", "sequential"])
    assert result.learner_count == count
    assert result.mean_completion.earned == pytest.approx((count - 1) / count)
    assert result.mean_completion.possible == 16.0
    assert [block.block_key for block in result.blocks] == sorted(block.block_key for block in result.blocks)
    assert len(result.blocks) == 6


def test_a_deleted_course_without_learners_or_viewer_answers_from_rows_or_is_not_found():
    from completion_aggregator.adapters import get_adapter
    from completion_aggregator.adapters.base import CourseNotFound
    from completion_aggregator.standalone.models import CourseStructure

    course_key, leaves = build_course()
    former = learner("former", course_key)
    complete(former, leaves[0])
    api.aggregate_learners(course_key, ["former"])
    former.standalone_enrollments.update(is_active=False)  # nobody is enrolled any more
    CourseStructure.objects.filter(course__course_key=course_key).delete()
    get_adapter().clear_cache()
    result = api.get_course_stats(course_key)
    assert (result.learner_count, result.mean_completion.possible) == (0, 16.0)
    with pytest.raises(CourseNotFound):
        api.get_course_stats(course_key.replace(course="Never"))  # neither a structure nor rows


def _oracle(course_key, user_ids, block_key):
    rows = list(Aggregator.objects.filter(course_key=course_key, block_key=block_key, user_id__in=user_ids))
    return sum(row.earned for row in rows), sum(row.possible for row in rows), len(rows)


def test_both_ways_of_summing_match_a_row_by_row_oracle(stored_course):
    """Most learners counted: every row minus the others'; few counted: the counted learners' rows."""
    course_key, users = stored_course
    keys = sorted(row_sums.stored_aggregation_names(course_key, ["course", "chapter"]))
    aggregates = {"earned": Sum("earned"), "possible": Sum("possible"), "rows": Count("id")}
    for counted in ([user.pk for user in users[1:]], [users[2].pk]):  # subtraction, then direct
        sums = row_sums.counted_sums(course_key, keys, counted, **aggregates)
        for key in keys:
            earned, possible, rows = _oracle(course_key, counted, key)
            found = sums.get(key, {"earned": 0.0, "possible": 0.0, "rows": 0})
            assert (found["earned"], found["possible"], found["rows"]) == pytest.approx((earned, possible, rows))
