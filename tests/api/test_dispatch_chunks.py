"""
The service dispatches each course's learners in chunks of consecutive learner ids (ADR 0020):
chunks that workers run at the same time then write apart and prefer different totals shards.
The tasks run eagerly; ``task_prerun`` records the learners each was given.
"""

import pytest
from celery.signals import task_prerun
from django.test.utils import override_settings

from completion_aggregator import api
from completion_aggregator.api.queue import chunk_by_learner_id
from completion_aggregator.batch import run_service
from completion_aggregator.models import StaleCompletion
from tests.helpers import build_course, complete, learner

pytestmark = pytest.mark.django_db

# Names whose alphabetical order is not their id order.
NAMES = ["zed", "amy", "kim", "bob", "yan", "cat"]


@pytest.fixture
def tasks():
    """The (course key, usernames) of every aggregate_learners task that runs."""
    seen: list[tuple[str, list[str]]] = []

    def record(sender=None, args=None, **_kwargs):
        if sender is not None and sender.name.endswith(".aggregate_learners"):
            seen.append((args[0], list(args[1])))

    task_prerun.connect(record, weak=False)
    yield seen
    task_prerun.disconnect(record)


def _ids(users, names):
    by_name = {user.username: user.pk for user in users}
    return [by_name[name] for name in names]


def test_learners_are_chunked_by_consecutive_ids_unknown_names_last():
    users = [learner(name) for name in NAMES]  # ids in NAMES order
    interleaved = ["zed", "bob", "amy", "yan", "ghost", "kim", "cat", "zed"]
    chunks = chunk_by_learner_id(interleaved, 2)
    assert chunks == [["zed", "amy"], ["kim", "bob"], ["yan", "cat"], ["ghost"]]
    assert [_ids(users, chunk) for chunk in chunks[:3]] == [sorted(_ids(users, NAMES))[i : i + 2] for i in (0, 2, 4)]
    assert chunk_by_learner_id([], 2) == []
    with pytest.raises(ValueError, match="at least 1"):  # never clamped (ADR 0024)
        chunk_by_learner_id(["amy", "zed"], 0)


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True, COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=2)
def test_the_service_dispatches_ranges_of_learner_ids_whatever_the_queue_order(tasks):
    course_key, leaves = build_course(shape=(1, 1, 1, 2))
    users = [learner(name, course_key) for name in NAMES]
    StaleCompletion.objects.all().delete()  # the enrollments' rows (in id order)
    for index in (0, 3, 1, 4, 2, 5):  # the queue interleaves the learners
        complete(users[index], leaves[0])
    summary = run_service()
    assert summary.tasks == 3
    assert [(course, _ids(users, names)) for course, names in tasks] == [
        (str(course_key), [users[0].pk, users[1].pk]),
        (str(course_key), [users[2].pk, users[3].pk]),
        (str(course_key), [users[4].pk, users[5].pk]),
    ]
    assert not StaleCompletion.objects.filter(resolved=False).exists()


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=False, COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=4)
def test_a_forced_recompute_of_given_learners_is_dispatched_by_id_ranges(tasks):
    course_key, _leaves = build_course(shape=(1, 1, 1, 2))
    users = [learner(name, course_key) for name in NAMES]
    tasks.clear()  # (each enrollment aggregated its learner)
    api.reaggregate_course(course_key, users=[users[index] for index in (5, 0, 4, 1, 3, 2)])
    assert [_ids(users, names) for _course, names in tasks] == [
        [user.pk for user in users[:4]],
        [user.pk for user in users[4:]],
    ]
