"""
Migration 0011 (block totals in shards, ADR 0020) goes back and forth without losing a total,
and leaves the peer's tables alone.
"""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings

from completion_aggregator.models import Aggregator, BlockTotal, StaleCompletion
from tests.helpers import build_course, learner

pytestmark = pytest.mark.django_db(transaction=True)

SUMS = ("learners", "earned", "possible", "percent", "completed")


def _sums():
    """Every block's totals, as (course, name, block) -> sums: the columns both schemas have."""
    found: dict = {}
    for course_key, name, block_key, *values in BlockTotal.objects.values_list(
        "course_key", "aggregation_name", "block_key", *SUMS
    ):
        mine = found.setdefault((str(course_key), name, str(block_key)), [0, 0.0, 0.0, 0.0, 0])
        for index, value in enumerate(values):
            mine[index] += value
    return found


def _unique_keys():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, BlockTotal._meta.db_table)
    return {tuple(item["columns"]) for item in constraints.values() if item["unique"] and not item["primary_key"]}


def test_going_back_sums_the_shards_and_forward_again_keeps_them():
    course_key, _leaves = build_course(shape=(1, 1, 1, 1))
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True):
        learner("alex", course_key)  # a stale row (the enrollment's), in the peer's table
    key = course_key.make_usage_key
    made = [
        BlockTotal(
            course_key=course_key,
            shard=0,
            aggregation_name="course",
            block_key=key("course", "course"),
            learners=3,
            earned=1.5,
            possible=3.0,
            percent=1.5,
            completed=1,
        ),
        BlockTotal(
            course_key=course_key,
            shard=2,
            aggregation_name="course",
            block_key=key("course", "course"),
            learners=1,
            earned=0.25,
            possible=1.0,
            percent=0.25,
            completed=0,
        ),
        BlockTotal(
            course_key=course_key,
            shard=5,
            aggregation_name="chapter",
            block_key=key("chapter", "ch0"),
            learners=2,
            earned=2.0,
            possible=2.0,
            percent=2.0,
            completed=2,
        ),
    ]
    BlockTotal.objects.bulk_create(made)
    peer_rows = (Aggregator.objects.count(), StaleCompletion.objects.count())
    want = {
        (str(course_key), "course", str(key("course", "course"))): [4, 1.75, 4.0, 1.75, 1],
        (str(course_key), "chapter", str(key("chapter", "ch0"))): [2, 2.0, 2.0, 2.0, 2],
    }
    assert _sums() == want
    try:
        call_command("migrate", "completion_aggregator", "0010_add_statistics_totals", verbosity=0)
        assert _sums() == want  # one row per block now, the shards summed into it
        assert BlockTotal.objects.count() == 2
        assert _unique_keys() == {("course_key", "aggregation_name", "block_key")}
        call_command("migrate", "completion_aggregator", verbosity=0)
        assert _sums() == want
        assert set(BlockTotal.objects.values_list("shard", flat=True)) == {0}
        assert _unique_keys() == {("course_key", "shard", "aggregation_name", "block_key")}
        assert (Aggregator.objects.count(), StaleCompletion.objects.count()) == peer_rows
    finally:
        call_command("migrate", "completion_aggregator", verbosity=0)
