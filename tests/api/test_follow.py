"""
``run_aggregator_service --follow`` (issue 20): the loop is driven with a bounded number of
cycles, an injected clock and an injected sleep (nothing really sleeps); one test runs the
command in a real subprocess and stops it with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from completion_aggregator.batch import FOLLOW_RETRY_SECONDS, FollowSummary, follow
from completion_aggregator.models import Aggregator, StaleCompletion
from completion_aggregator.tasks import aggregation_tasks
from tests.helpers import build_course, complete, learner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_async")]

LOCK = "COMPLETION_AGGREGATOR_AGGREGATION_LOCK"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def _async():
    with override_settings(
        COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True,
        COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS=2.0,
        COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE=10000,
    ):
        cache.clear()
        yield
        cache.clear()


class Clock:
    """A monotonic clock and a wall clock that only move when the loop 'sleeps'."""

    def __init__(self):
        self.seconds = 1000.0
        self.wall = timezone.now()
        self.slept: list[float] = []
        self.between: list = []  # callables run at the n-th sleep

    def monotonic(self):
        return self.seconds

    def now(self):
        return self.wall

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.seconds += seconds
        self.wall += timedelta(seconds=seconds)
        if len(self.slept) <= len(self.between) and self.between[len(self.slept) - 1]:
            self.between[len(self.slept) - 1]()


def test_follow_dispatches_new_work_each_cycle_and_sleeps_longer_when_idle():
    course_key, leaves = build_course()
    alex, bo = learner("alex", course_key), learner("bo", course_key)
    complete(alex, leaves[0])
    clock = Clock()
    clock.between = [None, lambda: complete(bo, leaves[1]), None, None, None]
    reports = []
    summary = follow(cycles=7, sleep=clock.sleep, clock=clock.monotonic, now=clock.now, report=reports.append)

    assert summary.cycles == 7 and not summary.stopped
    # Work (enrollment + completion rows of alex), idle, work (bo), idle, idle, idle, idle.
    assert [r.stale_rows for r in reports] == [3, 0, 1, 0, 0, 0, 0]
    # A period after work; idle cycles double it up to five periods; no sleep after the last cycle.
    assert [r.sleep for r in reports] == [2.0, 2.0, 2.0, 2.0, 4.0, 8.0, 10.0]
    # Slept in steps of one period (with a probe of the queue between steps).
    assert clock.slept == [2.0] * 10
    # What earlier cycles dispatched is reported resolved (eager Celery ran the tasks).
    assert [r.resolved for r in reports] == [0, 3, 0, 1, 0, 0, 0]
    assert summary.resolved == 4 and summary.stale_rows == 4
    assert reports[0].oldest_age is not None and reports[1].oldest_age is None
    assert Aggregator.objects.get(user=bo, aggregation_name="course").earned == 1.0
    assert cache.get(LOCK) is None  # released


def test_an_idle_follower_probes_the_queue_each_period_and_wakes_for_a_new_row():
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    clock = Clock()
    committed = {}
    reports = []

    with CaptureQueriesContext(connection) as queries:

        def report(cycle):
            reports.append((cycle, clock.monotonic(), len(queries.captured_queries)))
            if cycle.cycle == 4:  # committed just after an idle cycle, as its long sleep starts
                complete(alex, leaves[0])
                committed["at"] = clock.monotonic()

        follow(cycles=5, sleep=clock.sleep, clock=clock.monotonic, now=clock.now, report=report)
    # Work (the enrollment's row), idle, idle, idle (its sleep is 4 periods), then the completion.
    assert [cycle.stale_rows for cycle, _, _ in reports] == [1, 0, 0, 0, 1]
    assert [cycle.sleep for cycle, _, _ in reports[:4]] == [2.0, 2.0, 4.0, 8.0]
    assert reports[4][1] - committed["at"] == 2.0  # one period (2 s here), not the 8 s idle sleep
    # Idle cycle 3 came after a one-period sleep, idle cycle 4 after a two-period sleep: the
    # second cost one more query, the probe between its two periods.
    after_one_period = reports[2][2] - reports[1][2]
    after_two_periods = reports[3][2] - reports[2][2]
    assert after_two_periods == after_one_period + 1


def test_a_full_cycle_goes_straight_on_and_each_cycle_logs_the_oldest_row_age(caplog):
    course_key, leaves = build_course()
    users = [learner(f"u{i}", course_key) for i in range(3)]  # three enrollment rows
    StaleCompletion.objects.filter(username="u0").update(created=timezone.now() - timedelta(seconds=42))
    clock = Clock()
    reports = []
    with override_settings(COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE=2), caplog.at_level("INFO"):
        follow(cycles=3, sleep=clock.sleep, clock=clock.monotonic, now=clock.now, report=reports.append)
    assert [r.stale_rows for r in reports] == [2, 1, 0]
    assert clock.slept == [2.0]  # none after the full first cycle
    assert 41.0 <= reports[0].oldest_age <= 60.0
    assert "cycle 1: queue oldest 4" in caplog.text and "read 2 stale rows, 2 learners" in caplog.text
    assert Aggregator.objects.filter(user__in=users, aggregation_name="course", earned=0.0).count() == 3
    assert not StaleCompletion.objects.filter(resolved=False).exists()


def test_a_row_committed_late_below_the_watermark_is_still_dispatched():
    course_key, leaves = build_course()
    alex, bo = learner("alex", course_key), learner("bo", course_key)
    StaleCompletion.objects.all().delete()
    late = StaleCompletion.objects.create(username="alex", course_key=course_key, block_key=leaves[0], resolved=True)
    complete(alex, leaves[0])  # alex's completion, its stale row queued above ``late``
    StaleCompletion.objects.filter(username="alex").exclude(pk=late.pk).delete()
    complete(bo, leaves[1])

    def commit_late():  # the lower id becomes visible only now
        StaleCompletion.objects.filter(pk=late.pk).update(resolved=False)

    clock = Clock()
    clock.between = [commit_late]
    reports = []
    follow(cycles=2, sleep=clock.sleep, clock=clock.monotonic, now=clock.now, report=reports.append)
    assert [r.stale_rows for r in reports] == [1, 1]
    assert Aggregator.objects.get(user=alex, aggregation_name="course").earned == 1.0


def test_rows_dispatched_long_ago_and_still_unresolved_are_dispatched_again(monkeypatch):
    course_key, leaves = build_course()
    learner("alex", course_key)
    sent = []
    monkeypatch.setattr(
        aggregation_tasks.aggregate_learners,
        "apply_async",
        lambda args, **kw: sent.append(args) or type("R", (), {"id": "lost"})(),
    )
    clock = Clock()
    clock.between = [None, lambda: clock.sleep(FOLLOW_RETRY_SECONDS)]  # a lost message: never resolved
    follow(cycles=3, sleep=clock.sleep, clock=clock.monotonic, now=clock.now)
    assert len(sent) == 2  # dispatched, not again while in flight, again after the retry time
    assert StaleCompletion.objects.filter(resolved=False).count() == 1


def test_follow_holds_the_service_lock_so_a_cron_run_beside_it_stops():
    course_key, leaves = build_course()
    learner("alex", course_key)
    clock = Clock()
    refused = []

    def cron_run():
        with pytest.raises(CommandError, match="another run_aggregator_service is running") as info:
            call_command("run_aggregator_service")
        refused.append(info.value)

    clock.between = [cron_run]
    follow(cycles=2, sleep=clock.sleep, clock=clock.monotonic, now=clock.now)
    assert refused and cache.get(LOCK) is None
    cache.add(LOCK, "cron", 60)
    with pytest.raises(CommandError, match="another run_aggregator_service is running"):
        call_command("run_aggregator_service", follow=True, cycles=1)
    assert cache.get(LOCK) == "cron"


def test_follow_command_options(capsys):
    course_key, leaves = build_course()
    learner("alex", course_key)
    with override_settings(COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS=0.0):
        call_command("run_aggregator_service", follow=True, cycles=2)
    out = capsys.readouterr().out
    assert "stopped after 2 cycles: stale rows read: 1; tasks enqueued: 1; resolved: 1" in out
    with pytest.raises(CommandError, match="--cycles needs --follow"):
        call_command("run_aggregator_service", cycles=2)


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_a_following_subprocess_cleanly_and_releases_its_lock(tmp_path):
    """A real ``manage.py run_aggregator_service --follow``; SIGTERM; exit 0; the lock gone."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "devsite.settings",
        "SQLITE_PATH": str(tmp_path / "follow.sqlite3"),
        "CACHE_DIR": str(tmp_path / "cache"),
        "COMPLETION_AGGREGATOR_DB": "sqlite",
        "EVENTS_LOG_PATH": "",
    }
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_aggregator_service", "--follow"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()  # printed once the lock is held and the loop starts
        assert first.startswith("following the stale-row queue"), (
            first,
            process.stderr.read() if process.poll() is not None else "",
        )
        files = FileBasedCache(str(tmp_path / "cache"), {})
        assert files.get(LOCK) is not None
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped after" in out and "Traceback" not in err
    assert files.get(LOCK) is None


def test_each_cycle_runs_the_release_check_at_most_once_per_interval():
    """A start date that passes while the follower runs queues the course (ADR 0012), as a cron run does."""
    clock = Clock()
    course_key, leaves = build_course(
        shape=(2, 1, 1, 2), extra={"ch1": {"start": clock.wall + timedelta(seconds=1000)}}
    )
    alex = learner("alex", course_key)
    learner("bo", course_key)
    complete(alex, leaves[0])
    reports = []
    with override_settings(
        COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS=600.0, COMPLETION_AGGREGATOR_RELEASE_CHECK_INTERVAL=900
    ):
        follow(cycles=4, sleep=clock.sleep, clock=clock.monotonic, now=clock.now, report=reports.append)
    # Cycle 1 (t=0) checks (nothing released); cycle 2 (t=600) is within the interval; cycle 3
    # (t=1200, after the release at t=1000) queues both learners; cycle 4 (t=1800) has nothing.
    assert [r.released_courses for r in reports] == [0, 0, 1, 0]
    assert reports[2].learner_count == 2 and "released 1 courses" in reports[2].line()


def test_a_follower_whose_lock_was_taken_over_stops_and_leaves_the_new_owners_lock():
    course_key, leaves = build_course()
    learner("alex", course_key)
    clock = Clock()
    other = {"token": "other", "host": "elsewhere", "pid": 1, "heartbeat": 0.0}
    clock.between = [lambda: cache.set(LOCK, other, 60)]
    reports = []
    summary = follow(cycles=5, sleep=clock.sleep, clock=clock.monotonic, now=clock.now, report=reports.append)
    assert summary.lock_lost and summary.cycles == 1 and len(reports) == 1
    assert cache.get(LOCK) == other  # not released: it is the new owner's


def test_the_command_says_when_its_lock_was_taken_over(monkeypatch):
    from completion_aggregator.management.commands import run_aggregator_service as command

    monkeypatch.setattr(command, "follow", lambda **kw: FollowSummary(cycles=3, lock_lost=True))
    with pytest.raises(CommandError, match="took the service lock over"):
        call_command("run_aggregator_service", follow=True)


def test_a_cycle_that_meets_a_database_error_is_logged_and_the_next_one_goes_on(monkeypatch, caplog):
    from django.db import OperationalError

    from completion_aggregator import api

    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    real = api.mark_released_stale
    calls = []

    def flaky(now=None):
        calls.append(now)
        if len(calls) == 1:
            raise OperationalError("(2006, 'MySQL server has gone away')")
        return real(now)

    monkeypatch.setattr(api, "mark_released_stale", flaky)  # the service calls the api's verb
    clock = Clock()
    reports = []
    with caplog.at_level("ERROR"):
        summary = follow(cycles=2, sleep=clock.sleep, clock=clock.monotonic, now=clock.now, report=reports.append)
    assert summary.failed_cycles == 1 and [r.failed for r in reports] == [True, False]
    assert clock.slept == [2.0]  # one period before trying again
    assert reports[1].stale_rows == 2 and "cycle 1 failed" in caplog.text
    assert Aggregator.objects.get(user=alex, aggregation_name="course").earned == 1.0


def test_a_probe_that_meets_a_database_error_sleeps_on_and_a_stop_ends_the_sleep(monkeypatch):
    import threading

    from django.db import OperationalError

    from completion_aggregator.batch import following

    def gone(**kwargs):
        raise OperationalError("(2006, 'MySQL server has gone away')")

    monkeypatch.setattr(StaleCompletion.objects, "filter", gone)
    clock, stop = Clock(), threading.Event()
    following._sleep_probing(5.0, 2.0, clock.sleep, stop, watermark=0)
    assert clock.slept == [2.0, 2.0, 1.0]  # the whole sleep, in periods; the errors left to the next cycle
    clock.between = [None, None, None, stop.set]  # at the end of the fourth sleep
    following._sleep_probing(8.0, 2.0, clock.sleep, stop, watermark=0)
    assert clock.slept[3:] == [2.0]  # stopped after the first step


def test_single_run_options_are_refused_with_follow():
    for option in ({"limit": 5}, {"batch_size": 10}, {"delay_between_batches": 1.0}):
        with pytest.raises(CommandError, match="with --follow use COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE"):
            call_command("run_aggregator_service", follow=True, cycles=1, **option)
    assert cache.get(LOCK) is None
