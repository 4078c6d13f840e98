"""
``reports.get_stored_progress_many``: the same answer with and without timestamps, blocks in
course order, stored blocks the course graph lacks after them (by key), learners without rows.
"""
import pytest
from django.utils import timezone

from completion_aggregator.api import reports
from completion_aggregator.models import Aggregator
from tests.helpers import build_course, learner
from tests.rest_api.conftest import store

pytestmark = pytest.mark.django_db

TYPES = ["chapter", "sequential", "vertical"]


def test_timestamps_false_reads_the_same_values_without_last_modified():
    course_key, leaves = build_course()
    alex, sam, kim = (learner(name, course_key) for name in ("alex", "sam", "kim"))
    store(alex, course_key, leaves[:5])
    store(sam, course_key, leaves[-1:])
    users = [kim, sam, alex]
    with_times = reports.get_stored_progress_many(course_key, users, TYPES)
    without = reports.get_stored_progress_many(course_key, users, TYPES, timestamps=False)
    assert [entry.username for entry in without] == ["kim", "sam", "alex"]
    assert with_times[2].course.last_modified is not None
    assert all(value.last_modified is None for entry in without for value in (entry.course, *entry.blocks))
    for timed, plain in zip(with_times, without, strict=True):
        assert plain.course.same_values(timed.course)
        assert [value.block_key for value in plain.blocks] == [value.block_key for value in timed.blocks]
        assert all(left.same_values(right) for left, right in zip(plain.blocks, timed.blocks, strict=True))
    # kim has no rows: earned 0.0 of the course's possible, every block listed at 0.
    assert (without[0].course.earned, without[0].course.possible) == (0.0, 16.0)
    assert len(without[0].blocks) == len(without[2].blocks) == 2 + 4 + 8


def test_blocks_in_course_order_then_blocks_the_graph_lacks_by_key():
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:2])
    for block_id in ("zz", "aa"):  # stored rows of chapters no longer in the course
        Aggregator.objects.create(
            user=alex, course_key=course_key, aggregation_name="chapter",
            block_key=course_key.make_usage_key("chapter", block_id),
            earned=0.0, possible=1.0, percent=0.0, last_modified=timezone.now(),
        )
    (entry,) = reports.get_stored_progress_many(course_key, [alex], ["chapter"], timestamps=False)
    assert [value.block_key.rsplit("@", 1)[1] for value in entry.blocks] == ["ch0", "ch1", "aa", "zz"]
    root = course_key.make_usage_key("chapter", "ch0")
    (entry,) = reports.get_stored_progress_many(course_key, [alex], TYPES, root, timestamps=False)
    assert entry.course.aggregation_name == "course"  # the course's own entry (issue 17, point 4)
    assert [value.block_key.rsplit("@", 1)[1] for value in entry.blocks] == ["ch0", "ch0_se0", "ch0_se0_ve0", "ch0_se0_ve1", "ch0_se1", "ch0_se1_ve0", "ch0_se1_ve1"]
