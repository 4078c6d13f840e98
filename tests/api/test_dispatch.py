"""
One dispatch policy (issue 21 point 2, ADR 0024): one chunking rule, one module that sends work.

The chunk size is validated in one place (``dispatch.chunk_size``): a value below 1 fails the
system check at startup and raises in every loop that chunks learners, instead of being
clamped by some loops and not others.
"""

from __future__ import annotations

import pytest
from celery import current_app
from celery.signals import task_prerun
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test.utils import override_settings

from completion_aggregator import api, dispatch
from completion_aggregator.batch import follow, run_service
from tests.helpers import build_course, complete, learner

E001 = "completion_aggregator.E001"


def _check_ids() -> set[str]:
    return {message.id for message in checks.run_checks() if message.id}


@pytest.mark.parametrize("bad", [0, -5, "many", None, True, 2.5])
def test_a_chunk_size_that_is_not_a_whole_number_of_at_least_one_fails_the_system_check(bad):
    with override_settings(COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=bad):
        assert E001 in _check_ids()
        with pytest.raises(ImproperlyConfigured, match="COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE"):
            dispatch.chunk_size()


@pytest.mark.parametrize(("good", "size"), [(1, 1), (200, 200), ("3", 3)])
def test_a_whole_number_of_at_least_one_passes(good, size):
    with override_settings(COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=good):
        assert E001 not in _check_ids()
        assert dispatch.chunk_size() == size


@pytest.mark.django_db
def test_every_loop_that_chunks_learners_refuses_a_chunk_size_of_zero():
    """reaggregate_course (synchronous mode), the service run and the follower: the same error."""
    course_key, leaves = build_course()
    complete(learner("alex", course_key), leaves[0])
    with override_settings(COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=0, COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=False):
        with pytest.raises(ImproperlyConfigured):
            api.reaggregate_course(course_key)
    with override_settings(COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=0, COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True):
        with pytest.raises(ImproperlyConfigured):
            run_service()
        with pytest.raises(ImproperlyConfigured):
            follow(cycles=1, sleep=lambda seconds: None)


@pytest.fixture
def aggregation_chunks():
    """The learner lists of the aggregation tasks that run (Celery is eager in the tests)."""
    seen: list[list[str]] = []

    def record(sender=None, args=None, **kwargs):
        if sender is not None and sender.name == dispatch.AGGREGATE_LEARNERS:
            seen.append(list(args[1]))

    task_prerun.connect(record, weak=False)
    yield seen
    task_prerun.disconnect(record)


@pytest.mark.django_db
def test_the_service_and_reaggregate_course_cut_learners_into_the_same_chunks(aggregation_chunks):
    course_key, leaves = build_course()
    names = [f"u{i}" for i in range(5)]
    for name in names:
        complete(learner(name, course_key), leaves[0])
    with override_settings(COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=2, COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True):
        summary = run_service()
        assert summary.tasks == 3
        service_chunks = list(aggregation_chunks)
        aggregation_chunks.clear()
        api.reaggregate_course(course_key)  # asynchronous mode: rows only, no task
        assert aggregation_chunks == []
    with override_settings(COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=2, COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=False):
        assert api.reaggregate_course(course_key) == 5
    assert [len(chunk) for chunk in service_chunks] == [2, 2, 1]
    assert [len(chunk) for chunk in aggregation_chunks] == [2, 2, 1]
    assert sorted(sum(aggregation_chunks, [])) == sorted(sum(service_chunks, [])) == names


def test_every_task_dispatch_sends_is_registered():
    assert set(dispatch.TASK_NAMES) <= set(current_app.tasks)
    with pytest.raises(ImproperlyConfigured, match="not registered"):
        dispatch.task("completion_aggregator.tasks.no_such_task")
