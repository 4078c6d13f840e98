"""
The production mode end to end: MariaDB, a Redis broker and cache, real Celery workers.

Run by ``make test-integration`` (``.ci/run`` does): the worker is a subprocess of
``celery -A devsite worker`` on the same test database.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import override_settings

from completion_aggregator import api
from completion_aggregator.models import Aggregator, StaleCompletion
from tests.helpers import build_course, complete, learner

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("CELERY_BROKER_URL" not in os.environ, reason="needs a broker: run `make test-integration`"),
]


@pytest.fixture(autouse=True)
def _production_mode():
    from devsite.celery import app

    if connection.vendor != "mysql":
        pytest.fail("the integration tier runs on MariaDB/MySQL (make test-integration)")
    app.control.purge()
    from django.core.cache import cache

    cache.clear()
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True, COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=3):
        yield
    app.control.purge()


class Workers:
    """Starts and stops ``celery worker`` subprocesses on the test database."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def env(self) -> dict:
        env = dict(os.environ)
        env["DB_NAME"] = connection.settings_dict["NAME"]  # the test database
        env["COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE"] = "3"
        return env

    def start(self) -> subprocess.Popen:
        log = open(self.log_dir / f"worker{len(self.procs)}.log", "w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "devsite", "worker", "--pool", "solo", "-l", "info",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"it{len(self.procs)}@%h"],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.log_dir.glob("worker*.log")))


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    yield pool
    pool.stop()


def wait_for(predicate, timeout: float, what: str, workers: Workers | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}\n" + (workers.logs()[-4000:] if workers else ""))


def no_pending() -> bool:
    return not StaleCompletion.objects.filter(resolved=False).exists()


def assert_stored_equals_recomputation(users, course_key):
    """Every stored row equals a from-scratch computation; no row is missing or extra."""
    for user in users:
        fresh = api.compute_course_progress(user, course_key)
        expected = {agg.block_key: (agg.earned, agg.possible) for agg in (fresh.course, *fresh.blocks)}
        stored = {
            str(key): (earned, possible)
            for key, earned, possible in Aggregator.objects.filter(user=user, course_key=course_key).values_list(
                "block_key", "earned", "possible"
            )
        }
        assert stored.keys() == expected.keys(), user.username
        for key, value in expected.items():
            assert stored[key] == pytest.approx(value), (user.username, key)


def seed_completions(users, leaves, rng, share=0.5):
    for user in users:
        for leaf in leaves:
            if rng.random() < share:
                complete(user, leaf, rng.choice((1.0, 0.5)))


def test_worker_aggregates_what_the_service_enqueues_and_survives_being_killed(workers):
    rng = random.Random(7)
    course_key, leaves = build_course(shape=(2, 2, 2, 3))
    users = [learner(f"it{i}", course_key) for i in range(8)]
    seed_completions(users, leaves, rng)
    call_command("run_aggregator_service", verbosity=0)
    workers.start()
    wait_for(no_pending, 60, "the worker to resolve every stale row", workers)
    assert_stored_equals_recomputation(users, course_key)

    # A worker killed in the middle of a task: hold the stale rows of one learner so that
    # the worker's task blocks inside its transaction, then kill -9 the worker.
    seed_completions(users, leaves, rng, share=0.3)
    victim = users[0]
    held_ids = list(StaleCompletion.objects.filter(username=victim.username, resolved=False).values_list("id", flat=True))
    assert held_ids
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                list(StaleCompletion.objects.select_for_update().filter(id__in=held_ids))
                locked.set()
                release.wait(60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    call_command("run_aggregator_service", verbosity=0)

    def worker_blocked():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'")
            return cursor.fetchone()[0] > 0

    wait_for(worker_blocked, 60, "the worker to block on the held stale rows", workers)
    workers.procs[0].send_signal(signal.SIGKILL)
    workers.procs[0].wait(10)
    release.set()
    holder.join(10)
    assert StaleCompletion.objects.filter(id__in=held_ids, resolved=False).count() == len(held_ids)

    # The killed task's transaction rolled back: its stale rows are still unresolved, so the
    # next cron run enqueues the work again (the broker may also redeliver the unacknowledged
    # message after its visibility timeout; either way the task is idempotent).
    workers.start()
    call_command("run_aggregator_service", verbosity=0)
    wait_for(no_pending, 60, "every stale row to be resolved after the restart", workers)
    assert_stored_equals_recomputation(users, course_key)


def test_two_service_runs_started_at_once_exactly_one_does_the_work(tmp_path):
    course_key, leaves = build_course(shape=(1, 1, 1, 2))
    users = [learner(f"two{i}", course_key) for i in range(3)]
    for user in users:
        complete(user, leaves[0])
    env = dict(os.environ, DB_NAME=connection.settings_dict["NAME"])
    command = [sys.executable, "manage.py", "run_aggregator_service", "--batch-size", "1", "--delay-between-batches", "1"]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=90) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 1], outputs
    winner = next(out for run, out in zip(runs, outputs, strict=True) if run.returncode == 0)
    loser = next(out for run, out in zip(runs, outputs, strict=True) if run.returncode == 1)
    assert "tasks enqueued: " in winner[0]
    assert "another run_aggregator_service is running" in loser[1]


def test_after_a_changed_structure_the_next_run_matches_it(workers):
    rng = random.Random(11)
    course_key, leaves = build_course(shape=(2, 2, 1, 2))
    users = [learner(f"pub{i}", course_key) for i in range(5)]
    seed_completions(users, leaves, rng, share=0.7)
    call_command("run_aggregator_service", verbosity=0)
    workers.start()
    wait_for(no_pending, 60, "the first aggregation", workers)
    removed = str(course_key.make_usage_key("chapter", "ch1"))
    assert Aggregator.objects.filter(block_key=removed).count() == len(users)

    # Version 2: chapter ch1 is gone, chapter ch0 gains a third leaf per vertical.
    build_course(shape=(1, 2, 1, 3))  # queues mark_all_stale on the broker after commit
    wait_for(
        lambda: StaleCompletion.objects.filter(resolved=False, force=True).count() >= len(users),
        60, "the worker to mark every enrollment stale", workers,
    )
    assert set(StaleCompletion.objects.filter(resolved=False).values_list("username", flat=True)) == {u.username for u in users}
    call_command("run_aggregator_service", verbosity=0)
    wait_for(no_pending, 60, "the re-aggregation", workers)
    assert not Aggregator.objects.filter(block_key=removed).exists()
    assert_stored_equals_recomputation(users, course_key)
    course_rows = Aggregator.objects.filter(course_key=course_key, aggregation_name="course")
    assert set(course_rows.values_list("possible", flat=True)) == {6.0}
