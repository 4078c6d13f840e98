"""
``benchmarks/parallel.py --celery``: the backfill done by a real Celery worker instead of plain processes.

For each round and worker count: a fresh ``celery -A devsite worker`` (the ``solo`` pool for
one process, ``prefork`` with that many children above, as ``benchmarks/freshness.py``
starts it; Redis broker and cache, both emptied first), every chunk sent to the broker as
the follower sends it (``aggregate_learners`` tasks of consecutive learner ids), and the wall
time from the first message to the moment no stale row of the course is left unresolved
(polled every :data:`POLL_SECONDS`). The worker's CPU (parent and children, ``/proc``)
is read before the first message and after the last row. Errors are the worker log's
failed tasks (a deadlock or lock wait timeout would show there).
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import freshness_cpu as cpu
from benchmarks import freshness_procs as procs
from benchmarks.freshness_setup import flush_redis

POLL_SECONDS = 0.25
TASK = "completion_aggregator.tasks.aggregation_tasks.aggregate_learners"
FAILED = re.compile(r"(raised unexpected|Deadlock|Lock wait timeout|ERROR/)")


def backfill(course: Any, learners: list, count: int, chunk: int, broker: str, cache: str) -> dict:
    """Empty the table, build the totals, and time a Celery worker of ``count`` processes aggregating everyone."""
    from celery import Celery
    from django.db import connection

    from benchmarks.parallel import _lock_waits, _reset
    from completion_aggregator.models import StaleCompletion

    _reset(course)
    flush_redis(broker, cache)
    log_dir = Path(tempfile.mkdtemp(prefix="ca-parallel-celery-"))
    env = procs.child_env(
        connection.settings_dict["NAME"], broker, cache, log_dir, {"COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE": str(chunk)}
    )
    worker = procs.start_worker(env, log_dir, count)
    sender = Celery("parallel-bench", broker=broker)
    ordered = [learner.username for learner in sorted(learners, key=lambda learner: learner.user_id)]
    chunks = [ordered[first : first + chunk] for first in range(0, len(ordered), chunk)]
    unresolved = StaleCompletion.objects.filter(course_key=course.key, resolved=False)
    try:
        cpu_before = cpu.process_seconds(worker.pid) or 0.0
        began = time.monotonic()
        for names in chunks:
            sender.send_task(TASK, args=[str(course.key), names])
        samples = waiting = 0
        while unresolved.exists():
            waiting += 1 if _lock_waits() else 0
            samples += 1
            if time.monotonic() - began > 3600:
                raise RuntimeError(f"the Celery backfill took over an hour; see {log_dir}")
            time.sleep(POLL_SECONDS)
        wall = time.monotonic() - began
        worker_cpu = (cpu.process_seconds(worker.pid) or 0.0) - cpu_before
    finally:
        procs.stop(worker)
        sender.close()
    errors = [line for line in (log_dir / "worker.log").read_text(errors="replace").splitlines() if FAILED.search(line)]
    return _record(course, learners, count, wall, worker_cpu, len(chunks), errors, samples, waiting, log_dir)


def _record(
    course: Any,
    learners: list,
    count: int,
    wall: float,
    worker_cpu: float,
    chunks: int,
    errors: list[str],
    samples: int,
    waiting: int,
    log_dir: Path,
) -> dict:
    """One round's figures, in the shape of ``parallel._round_record`` (the lock clock is not measured here)."""
    import os

    from completion_aggregator.api import totals
    from completion_aggregator.models import Aggregator, StaleCompletion

    rows = Aggregator.objects.filter(course_key=course.key).count()
    unresolved = StaleCompletion.objects.filter(course_key=course.key, resolved=False).count()
    problems = totals.check(course.key)
    return {
        "workers": count,
        "celery": True,
        "log_dir": str(log_dir),
        "loadavg_after": [round(value, 2) for value in os.getloadavg()],
        "wall_seconds": round(wall, 3),
        "worker_cpu_seconds": round(worker_cpu, 3),
        "chunks_per_worker": [chunks],
        "rows": rows,
        "rows_per_s": round(rows / wall, 1) if wall else None,
        "course_lock_seconds": 0.0,
        "write_phase_seconds": 0.0,
        "writes_overlapping_seconds": 0.0,
        "lock_wait_samples": waiting,
        "samples": samples,
        "errors": errors[:20],
        "unresolved": unresolved,
        "totals_problems": problems[:5],
        "correct": not errors and not unresolved and not problems and rows == len(learners) * course.aggregators,
    }
