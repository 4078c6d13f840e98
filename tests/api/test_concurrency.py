"""
Two aggregations of one enrollment at once (MariaDB: row locks; runs in ``make test-mysql``
and three times over in ``make test-concurrency``).

Run A reads the completions, then a completion commits, then run B starts and must wait for
A's locks; B then reads after A's commit, so the final rows count everything.
"""
import time

import pytest
from django.db import connection
from django.test.utils import override_settings

from completion_aggregator import api
from completion_aggregator.models import Aggregator, StaleCompletion
from tests.helpers import build_course, complete, in_thread, innodb_lock_waits, learner, paused_aggregation

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.mysql,
    pytest.mark.skipif(connection.vendor != "mysql", reason="row locks: MariaDB tier (make test-mysql)"),
]


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_concurrent_runs_for_one_enrollment_serialise_and_count_everything():
    course_key, leaves = build_course(shape=(1, 1, 1, 4))
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    thread_a, a_may_go, errors = paused_aggregation(  # A has read the stored rows, then waits
        course_key, "alex", lambda sql: sql.startswith("SELECT") and "COMPLETION_AGGREGATOR_AGGREGATOR" in sql
    )
    complete(alex, leaves[1])  # commits while A holds its (older) snapshot
    thread_b, b_errors = in_thread(api.aggregate_learners, course_key, ["alex"])
    deadline = time.monotonic() + 30
    while innodb_lock_waits() == 0 and time.monotonic() < deadline:
        time.sleep(0.25)  # InnoDB refreshes INNODB_TRX only if the last read is > 0.1 s old
    assert innodb_lock_waits() == 1  # B waits for A's locked stale rows
    a_may_go.set()
    thread_a.join(30)
    thread_b.join(30)
    assert not errors and not b_errors
    row = Aggregator.objects.get(user=alex, aggregation_name="course")
    assert (row.earned, row.possible) == (2.0, 4.0)
    assert not StaleCompletion.objects.filter(resolved=False).exists()
