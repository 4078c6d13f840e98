"""The service run (stale rows → Celery tasks) and the cleanup, each behind its lock."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import api, dispatch
from ..conf import get_setting
from ..locks import cache_lock

log = logging.getLogger(__name__)


@dataclass
class ServiceSummary:
    """What a service run read and enqueued."""

    stale_rows: int = 0
    learner_count: int = 0
    courses: int = 0
    tasks: int = 0
    task_ids: list[str] = field(default_factory=list)
    released_courses: int = 0  # courses queued because a start date passed (ADR 0012)


def run_service(
    batch_size: int = 1000,
    delay_between_batches: float = 0.0,
    limit: int = 500000,
    routing_key: str | None = None,
    progress: Callable[[ServiceSummary], None] | None = None,
) -> ServiceSummary:
    """
    Read unresolved stale rows in id order and enqueue one task per course × chunk of learners.

    First, at most every ``COMPLETION_AGGREGATOR_RELEASE_CHECK_INTERVAL`` seconds, queue the
    learners of courses whose block start dates passed since the last check
    (``api.releases.mark_released_stale``), so this run already aggregates them.

    The run holds the service lock (:mod:`completion_aggregator.locks`), beats its heartbeat at
    each batch, and stops early if another run took the lock over. It reads the queue without
    locking anything: each task locks and resolves its own rows.

    Raises:
        LockHeld: another service run is in progress.
    """
    summary = ServiceSummary()
    seen: set[tuple[str, str]] = set()
    courses: set[str] = set()
    with cache_lock(
        get_setting("COMPLETION_AGGREGATOR_AGGREGATION_LOCK"),
        int(get_setting("COMPLETION_AGGREGATOR_AGGREGATION_LOCK_TIMEOUT_SECONDS")),
    ) as lock:
        released = api.mark_released_stale()
        summary.released_courses = len(released.courses) + len(released.learner_courses)
        last_id = 0
        while summary.stale_rows < limit:
            if not lock.beat():
                log.error("completion_aggregator: another run took the service lock over; stopping")
                break
            size = min(batch_size, limit - summary.stale_rows)
            rows = api.unresolved_stale_rows(last_id, size)
            if not rows:
                break
            last_id = rows[-1][0]
            summary.stale_rows += len(rows)
            dispatch_rows(rows, seen, courses, routing_key, summary)
            if progress:
                progress(summary)
            if len(rows) < size:
                break
            if delay_between_batches:
                time.sleep(delay_between_batches)
    return summary


def dispatch_rows(
    rows: list[tuple[int, Any, str]],
    seen: set[tuple[str, str]],
    courses: set[str],
    routing_key: str | None,
    summary: ServiceSummary,
) -> None:
    """
    Enqueue one aggregation task per course and chunk of the learners of ``rows`` not ``seen`` yet.

    Each chunk is a range of consecutive learner ids (``dispatch.chunk_by_learner_id``): the
    chunks of one course that workers run at the same time then write apart (ADR 0020).
    """
    per_course: dict[str, list[str]] = {}
    for _id, course_key, username in rows:
        key = (str(course_key), username)
        if key in seen:
            continue
        seen.add(key)
        per_course.setdefault(key[0], []).append(username)
    for course_key, usernames in per_course.items():
        courses.add(course_key)
        summary.learner_count += len(usernames)
        task_ids = dispatch.enqueue_learners(course_key, usernames, routing_key)
        summary.tasks += len(task_ids)
        summary.task_ids += task_ids
    summary.courses = len(courses)


def run_cleanup(batch_size: int = 900) -> int:
    """
    Delete resolved stale rows in id batches (short transactions on a live table).

    Each batch is read without locking and deleted through the primary key only, in id order
    (the lock order of docs/decisions/0014-one-lock-order.rst): a resolved row never becomes
    unresolved again, so the delete needs no condition on ``resolved`` (one would let MariaDB
    lock through ``stale_resolved_id_idx`` first).

    Raises:
        LockHeld: another cleanup is in progress.
    """
    deleted = 0
    with cache_lock(
        get_setting("COMPLETION_AGGREGATOR_CLEANUP_LOCK"),
        int(get_setting("COMPLETION_AGGREGATOR_CLEANUP_LOCK_TIMEOUT_SECONDS")),
    ) as lock:
        cutoff = api.last_stale_id()
        while lock.beat():
            batch = api.delete_resolved(cutoff, batch_size)
            if batch is None:
                break
            deleted += batch
    return deleted

