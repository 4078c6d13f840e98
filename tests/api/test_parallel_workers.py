"""
Two workers backfilling one course at once (issue 20, point 5; MariaDB row locks; runs in
``make test-mysql`` and three times over in ``make test-concurrency``).

Each worker aggregates its own range of learner ids, as the service dispatches them
(docs/decisions/0020-parallel-writers-of-one-course.rst). Each is paused inside its
transaction at the step that used to serialise them: right after writing its Aggregator rows
(the course lock already taken), or right after adding its changes to the statistics' totals.
Both must reach that pause at the same time, with no transaction of the test database waiting
for a lock, and once they commit the rows and totals must be exact.

The wait for the second worker ends at whichever comes first: it reaches its pause (overlap),
or one of the database's transactions waits for a lock (serialised). No step is timed.
"""

import threading

import pytest
from django.db import connection, connections
from django.test.utils import override_settings

from completion_aggregator import api
from completion_aggregator.api import totals
from completion_aggregator.api.course_lock import shard_for
from completion_aggregator.api.rows import read_rows
from completion_aggregator.models import Aggregator, BlockTotal, StaleCompletion
from tests.helpers import build_course, complete, innodb_lock_waits, learner, wrote_aggregator_rows

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.mysql,
    pytest.mark.skipif(connection.vendor != "mysql", reason="row locks: MariaDB tier (make test-mysql)"),
]

CHUNK = 4  # learners per worker (COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE in these tests)


def _added_totals(sql: str) -> bool:
    return sql.startswith("INSERT INTO `COMPLETION_AGGREGATOR_BLOCKTOTAL`")


class Worker:
    """``api.aggregate_learners`` in a thread that pauses right after the first SQL ``after`` accepts."""

    def __init__(self, after, course_key, usernames):
        self.reached, self.go, self.errors = threading.Event(), threading.Event(), []
        self.after = after
        self.thread = threading.Thread(target=self._run, args=(course_key, usernames))

    def _pause(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not self.reached.is_set() and self.after(sql.lstrip().upper()):
            self.reached.set()
            self.go.wait(60)
        return result

    def _run(self, course_key, usernames):
        try:
            with connections["default"].execute_wrapper(self._pause):
                api.aggregate_learners(course_key, usernames)
        except Exception as exc:  # surfaced by the test
            self.errors.append(exc)
        finally:
            self.reached.set()  # a run that ends before its pause must not leave the test waiting
            connections["default"].close()

    def join(self):
        self.thread.join(60)
        assert not self.thread.is_alive(), "a worker never finished"


def _paused_or_waiting(worker: Worker) -> bool:
    """Poll until ``worker`` reaches its pause (True) or a transaction waits for a lock (False)."""
    while True:  # ends: the worker pauses, or it (or another transaction) waits for a lock
        if worker.reached.wait(0.25):
            return True
        if innodb_lock_waits():
            return worker.reached.is_set()


def _backfill_two_ranges_at_once(after, course_key, first, second):
    """Start a worker on each range, both paused at ``after``; returns whether both paused at once."""
    one = Worker(after, course_key, [user.username for user in first])
    two = Worker(after, course_key, [user.username for user in second])
    one.thread.start()
    try:
        assert _paused_or_waiting(one) and not one.errors, one.errors
        two.thread.start()
        overlapped = _paused_or_waiting(two) and not two.errors
        waits = innodb_lock_waits()  # both paused inside their transactions: nobody may be waiting
    finally:
        one.go.set()  # both let go before either is awaited: the first one's after-commit
        two.go.set()  # totals build (eager Celery) may need the second one's course lock
        one.join()
        two.join()
    assert not one.errors and not two.errors, one.errors + two.errors
    return overlapped and waits == 0


def _course_with_learners(count):
    course_key, leaves = build_course(shape=(2, 2, 2, 3))
    users = [learner(f"learner{index:02d}", course_key) for index in range(count)]
    for index, user in enumerate(users):
        for leaf in leaves[index % 5 :: 2]:
            complete(user, leaf, value=1.0 if index % 3 else 0.5)
    return course_key, users


def _exact(course_key, users):
    """Every learner's stored rows equal a fresh computation and no work is left."""
    names = [user.username for user in users]
    assert not StaleCompletion.objects.filter(course_key=course_key, username__in=names, resolved=False).exists()
    for user in users:
        fresh = api.compute_course_progress(user, course_key)
        want = {value.block_key: value for value in (fresh.course, *fresh.blocks)}
        stored = {value.block_key: value for _uid, value in read_rows(Aggregator.objects.filter(user=user))}
        assert sorted(stored) == sorted(want)
        assert all(stored[key].same_values(value) for key, value in want.items()), user.username


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True, COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=CHUNK)
def test_two_workers_backfill_one_course_into_an_empty_table_at_the_same_time():
    course_key, users = _course_with_learners(2 * CHUNK)
    users.sort(key=lambda user: user.pk)
    assert _backfill_two_ranges_at_once(wrote_aggregator_rows, course_key, users[:CHUNK], users[CHUNK:])
    _exact(course_key, users)
    totals.rebuild(course_key)
    assert totals.check(course_key) == []


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True, COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=CHUNK)
def test_two_workers_keep_the_built_totals_of_one_course_at_the_same_time():
    course_key, users = _course_with_learners(2 * CHUNK)
    users.sort(key=lambda user: user.pk)
    totals.rebuild(course_key)  # every learner counted, no rows yet: the totals are kept from here
    assert _backfill_two_ranges_at_once(_added_totals, course_key, users[:CHUNK], users[CHUNK:])
    _exact(course_key, users)
    assert totals.check(course_key) == []
    api.reaggregate_course(course_key)  # both ranges again, forced: the totals stay exact
    assert totals.check(course_key) == []


@override_settings(
    COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True,
    COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=CHUNK,
    COMPLETION_AGGREGATOR_TOTALS_SHARDS=2,
)
def test_two_workers_whose_ranges_prefer_one_shard_take_two():
    course_key, users = _course_with_learners(3 * CHUNK)
    users.sort(key=lambda user: user.pk)
    first, third = users[:CHUNK], users[2 * CHUNK :]  # ranges two chunks apart: the same preferred shard
    assert shard_for(user.pk for user in first) == shard_for(user.pk for user in third)
    totals.rebuild(course_key)
    assert _backfill_two_ranges_at_once(_added_totals, course_key, first, third)
    assert set(BlockTotal.objects.filter(course_key=course_key).values_list("shard", flat=True)) == {0, 1}
    _exact(course_key, first + third)
    assert totals.check(course_key) == []
