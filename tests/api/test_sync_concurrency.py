"""
Synchronous mode under concurrent completions of one learner (MariaDB row locks; runs in
``make test-mysql`` and three times over in ``make test-concurrency``).

Opening a unit fires one completion request per block at the same time. Each request saves
its completion and, after the commit, aggregates the learner in the same thread
(docs/decisions/0006-after-commit-synchronous-mode.rst). No request may fail, no aggregation
may deadlock, and once the requests are answered the stored rows and the statistics' totals
must equal a fresh computation, with no work left for the service
(docs/decisions/0014-one-lock-order.rst).
"""
import logging
import threading

import pytest
from django.db import connection, connections
from django.test.utils import override_settings

from completion_aggregator import api
from completion_aggregator.api import totals
from completion_aggregator.api.rows import read_rows
from completion_aggregator.models import Aggregator, StaleCompletion
from tests.helpers import build_course, complete, learner, wait_for_lock_wait, wrote_aggregator_rows

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.mysql,
    pytest.mark.skipif(connection.vendor != "mysql", reason="row locks: MariaDB tier (make test-mysql)"),
]

# 2 chapters × 2 sequentials × 4 verticals × 10 leaves: 160 leaves, 23 aggregators per learner.
SHAPE = (2, 2, 4, 10)


def _concurrently(jobs):
    """Run each job (a list of thunks, one list per thread) at once; returns every exception raised."""
    start = threading.Barrier(len(jobs))
    errors: list = []

    def run(thunks):
        try:
            start.wait(30)
            for thunk in thunks:
                try:
                    thunk()
                except Exception as exc:  # the learner's request failed
                    errors.append(exc)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=run, args=(thunks,)) for thunks in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a request never returned"
    return errors


def _summary(errors) -> str:
    kinds: dict[str, int] = {}
    for exc in errors:
        name = f"{type(exc).__name__}: {str(exc)[:80]}"
        kinds[name] = kinds.get(name, 0) + 1
    return "; ".join(f"{count} × {name}" for name, count in sorted(kinds.items()))


def _assert_fresh(user, course_key, label: str) -> None:
    """Every stored row equals a fresh computation, nothing is pending, the totals agree with the rows."""
    fresh = api.compute_course_progress(user, course_key)
    want = {value.block_key: value for value in (fresh.course, *fresh.blocks)}
    stored = {value.block_key: value for _uid, value in read_rows(Aggregator.objects.filter(user=user))}
    assert sorted(stored) == sorted(want), label
    wrong = [key for key, value in want.items() if not stored[key].same_values(value)]
    assert not wrong, f"{label}: stored rows differ from a fresh computation: {wrong}"
    pending = StaleCompletion.objects.filter(resolved=False).count()
    assert pending == 0, f"{label}: {pending} stale rows left for the service"
    assert totals.check(course_key) == [], label


def _failures_logged(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]


@pytest.fixture
def course():
    course_key, leaves = build_course(shape=SHAPE)
    alex = learner("alex", course_key)  # synchronous mode: aggregated on enrollment
    totals.rebuild(course_key)
    return course_key, leaves, alex


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=False)
def test_eight_threads_of_twenty_completions_for_one_learner_never_fail(course, caplog):
    course_key, leaves, alex = course
    caplog.set_level(logging.WARNING, logger="completion_aggregator")
    jobs = [[(lambda leaf=leaf: complete(alex, leaf)) for leaf in leaves[thread::8]] for thread in range(8)]
    errors = _concurrently(jobs)
    assert not errors, f"{len(errors)} of 160 completion requests failed: {_summary(errors)}"
    assert not _failures_logged(caplog)
    _assert_fresh(alex, course_key, "after 8 × 20")
    assert Aggregator.objects.get(user=alex, aggregation_name="course").earned == 160.0


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=False)
def test_forty_rounds_of_four_simultaneous_completions_never_fail(course, caplog):
    course_key, leaves, alex = course
    caplog.set_level(logging.WARNING, logger="completion_aggregator")
    failed_rounds = []
    for round_number in range(40):
        mine = leaves[4 * round_number : 4 * round_number + 4]
        errors = _concurrently([[lambda leaf=leaf: complete(alex, leaf)] for leaf in mine])
        if errors:
            failed_rounds.append((round_number, _summary(errors)))
            continue
        assert not _failures_logged(caplog), f"round {round_number}"
        _assert_fresh(alex, course_key, f"round {round_number}")
    assert not failed_rounds, f"{len(failed_rounds)} of 40 rounds had a failed request: {failed_rounds}"
    assert Aggregator.objects.get(user=alex, aggregation_name="course").earned == 160.0


# A user deleted while the service aggregates them ----------------------------------------------




def _first_lock(sql: str) -> bool:
    return sql.endswith("FOR UPDATE")




def _delete(username: str) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.get(username=username).delete()


@pytest.fixture
def two_learners():
    """alex and sam with stored rows and counted totals, and one new completion each waiting for the service."""
    course_key, leaves = build_course(shape=(1, 2, 2, 4))
    alex, sam = learner("alex", course_key), learner("sam", course_key)
    for user in (alex, sam):
        complete(user, leaves[0])
    api.aggregate_learners(course_key, ["alex", "sam"])
    totals.rebuild(course_key)
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True):
        for user in (alex, sam):
            complete(user, leaves[5])
    assert StaleCompletion.objects.filter(resolved=False).count() == 2
    return course_key, alex, sam


def _assert_deleted_and_kept(course_key, alex, sam) -> None:
    from completion_aggregator.batch import run_service

    run_service()  # the stale rows the deletion's cascade left: resolved with a warning
    assert not Aggregator.objects.filter(user_id=alex.pk).exists()
    assert not StaleCompletion.objects.filter(resolved=False).exists()
    assert totals.check(course_key) == []
    assert Aggregator.objects.get(user=sam, aggregation_name="course").earned == 2.0


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_a_user_deleted_while_the_service_writes_their_rows(two_learners):
    from completion_aggregator.batch import run_service
    from tests.helpers import in_thread, paused_call

    course_key, alex, sam = two_learners
    service, go, service_errors = paused_call(wrote_aggregator_rows, run_service)  # holds alex's and sam's rows
    assert service.is_alive()
    deleter, delete_errors = in_thread(_delete, "alex")
    assert wait_for_lock_wait()  # the deletion waits for the service's transaction
    go.set()
    service.join(30)
    deleter.join(30)
    assert not service_errors and not delete_errors, _summary(service_errors + delete_errors)
    _assert_deleted_and_kept(course_key, alex, sam)


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_a_service_run_during_a_user_deletion(two_learners):
    from completion_aggregator.batch import run_service
    from tests.helpers import in_thread, paused_call

    course_key, alex, sam = two_learners
    deleter, go, delete_errors = paused_call(_first_lock, _delete, "alex")  # the deletion holds its first lock
    assert deleter.is_alive()
    service, service_errors = in_thread(run_service)
    assert wait_for_lock_wait()  # the service's aggregation waits for the deletion
    go.set()
    deleter.join(30)
    service.join(30)
    assert not service_errors and not delete_errors, _summary(service_errors + delete_errors)
    _assert_deleted_and_kept(course_key, alex, sam)
