"""
The statistics' totals under concurrent writers (MariaDB row locks; runs in ``make test-mysql``
and three times over in ``make test-concurrency``).

An aggregation is paused where a race would hurt: right after it has written a learner's rows,
or right after it has taken the course lock. Meanwhile a rebuild or an enrollment sync runs in
another connection. Since the writers share one lock order (docs/decisions/0014-one-lock-order.rst)
the write happens under the course lock, so the other writer queues behind it; whatever the
order, the totals must end equal to the rows.
"""

import pytest
from django.db import connection
from django.test.utils import override_settings

from completion_aggregator import api
from completion_aggregator.api import totals
from completion_aggregator.models import CourseTotal
from completion_aggregator.standalone.models import Enrollment
from tests.helpers import (
    build_course,
    complete,
    in_thread,
    learner,
    paused_aggregation,
    wait_for_lock_wait,
    wrote_aggregator_rows,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.mysql,
    pytest.mark.skipif(connection.vendor != "mysql", reason="row locks: MariaDB tier (make test-mysql)"),
]






def _locked_course(sql: str) -> bool:
    """The write path's course lock: shared (ADR 0020), which the sync's exclusive lock waits for."""
    return "`COMPLETION_AGGREGATOR_COURSETOTAL`" in sql and sql.endswith("LOCK IN SHARE MODE")


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_a_rebuild_waits_for_a_write_and_counts_it():
    course_key, leaves = build_course(shape=(1, 1, 1, 4))
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])  # rows, and the unbuilt course row
    complete(alex, leaves[1])
    writer, go, errors = paused_aggregation(course_key, "alex", wrote_aggregator_rows)  # under the course lock
    rebuilder, rebuild_errors = in_thread(totals.rebuild, course_key)
    assert wait_for_lock_wait()  # the rebuild queues behind the writer's course lock
    go.set()
    writer.join(30)
    rebuilder.join(30)
    assert not errors and not rebuild_errors
    assert CourseTotal.objects.get(course_key=course_key).built is not None
    assert totals.check(course_key) == []


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_an_enrollment_sync_waits_for_a_write_and_counts_it():
    course_key, leaves = build_course(shape=(1, 1, 1, 4))
    alex = learner("alex", course_key)
    learner("sam", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])
    Enrollment.objects.filter(user=alex).update(is_active=False)
    totals.rebuild(course_key)  # alex is not counted
    complete(alex, leaves[1])
    writer, go, errors = paused_aggregation(course_key, "alex", wrote_aggregator_rows)
    Enrollment.objects.filter(user=alex).update(is_active=True)
    syncer, sync_errors = in_thread(totals.sync_learners, course_key, [alex.pk])
    assert wait_for_lock_wait()  # the sync queues behind the writer's course lock
    go.set()
    writer.join(30)
    syncer.join(30)
    assert not errors and not sync_errors
    assert CourseTotal.objects.get(course_key=course_key).learners == 2
    assert totals.check(course_key) == []  # the sync added alex with the rows the writer committed


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_an_enrollment_sync_waits_for_a_writer_holding_the_course_lock():
    course_key, leaves = build_course(shape=(1, 1, 1, 4))
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])
    totals.rebuild(course_key)
    complete(alex, leaves[1])
    writer, go, errors = paused_aggregation(course_key, "alex", _locked_course)
    Enrollment.objects.filter(user=alex).update(is_active=False)
    syncer, sync_errors = in_thread(totals.sync_learners, course_key, [alex.pk])
    assert wait_for_lock_wait()  # the sync queues behind the writer's course lock
    go.set()
    writer.join(30)
    syncer.join(30)
    assert not errors and not sync_errors
    assert CourseTotal.objects.get(course_key=course_key).learners == 0
    assert totals.check(course_key) == []  # the sync took out the rows the writer committed
