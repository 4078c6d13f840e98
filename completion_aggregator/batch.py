"""The service run (stale rows → Celery tasks) and the cleanup, each behind its lock."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from . import api, dispatch
from .conf import get_setting
from .locks import cache_lock

log = logging.getLogger(__name__)

#: Stale rows dispatched this long ago (seconds) and still unresolved are dispatched again by
#: :func:`follow` (a task lost in the broker, or failed), as the next cron run would.
FOLLOW_RETRY_SECONDS = 300.0
#: How long (seconds) :func:`follow` keeps reading below its watermark for rows committed late
#: (ids are allocated at insert, and transactions commit in any order).
FOLLOW_SETTLE_SECONDS = 30.0
#: An idle follower doubles its sleep up to this many cycle periods.
FOLLOW_IDLE_FACTOR = 5


@dataclass
class ServiceSummary:
    """What a service run read and enqueued."""

    stale_rows: int = 0
    learners: int = 0
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
            _dispatch(rows, seen, courses, routing_key, summary)
            if progress:
                progress(summary)
            if len(rows) < size:
                break
            if delay_between_batches:
                time.sleep(delay_between_batches)
    return summary


@dataclass
class CycleReport:
    """
    One cycle of :func:`follow`.

    ``oldest_age``: seconds since the oldest unresolved stale row (any course) was written, as
    seen at the start of the cycle (None: the queue was empty). ``resolved``: stale rows
    dispatched by earlier cycles that were found resolved at the start of this one.
    ``stale_rows``, ``learners``, ``tasks``: what this cycle read and enqueued (rows it had
    dispatched within the settle window are not read again). ``released_courses``: courses
    queued by this cycle's release check (ADR 0012; 0 when the check was not due).
    ``failed``: the cycle stopped on a database error (logged; the next cycle retries).
    ``sleep``: the seconds it then slept.
    """

    cycle: int
    oldest_age: float | None
    resolved: int
    stale_rows: int
    learners: int
    tasks: int
    released_courses: int = 0
    failed: bool = False
    sleep: float = 0.0

    def line(self) -> str:
        """The one-line status (log line and TTY status)."""
        if self.failed:
            return f"cycle {self.cycle}: database error (logged); retrying in {self.sleep:.1f} s"
        age = "empty" if self.oldest_age is None else f"oldest {self.oldest_age:.1f} s"
        released = f"; released {self.released_courses} courses" if self.released_courses else ""
        return (
            f"cycle {self.cycle}: queue {age}; resolved {self.resolved}; "
            f"read {self.stale_rows} stale rows, {self.learners} learners, {self.tasks} tasks{released}"
        )


@dataclass
class FollowSummary:
    """What a :func:`follow` run did in all."""

    cycles: int = 0
    stale_rows: int = 0
    tasks: int = 0
    resolved: int = 0
    failed_cycles: int = 0
    stopped: bool = False  # True: stopped by a signal (or the stop event), not by ``cycles``
    lock_lost: bool = False  # True: another run took the service lock over; the follower stopped


def follow(
    cycles: int | None = None,
    stop: threading.Event | None = None,
    sleep: Callable[[float], Any] | None = None,
    now: Callable[[], datetime] = timezone.now,
    clock: Callable[[], float] = time.monotonic,
    routing_key: str | None = None,
    report: Callable[[CycleReport], None] | None = None,
) -> FollowSummary:
    """
    Keep dispatching unresolved stale rows in short cycles until stopped (issue 20, ADR 0017).

    Each cycle first runs the release check (``api.releases.mark_released_stale``, which does
    work at most every ``COMPLETION_AGGREGATOR_RELEASE_CHECK_INTERVAL`` seconds), then reads
    the unresolved stale rows above an id watermark, in id order, at most
    ``COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE`` of them, and enqueues one task per
    course and chunk of learners, as :func:`run_service` does. The watermark is that of
    :data:`FOLLOW_SETTLE_SECONDS` ago (rows committed late are caught; rows dispatched since
    are skipped). When the oldest unresolved row is older than :data:`FOLLOW_RETRY_SECONDS`
    (a lost or failed task), the queue is read again from it, at most once per that time, as
    the next cron run would. Then it sleeps: not at all when the cycle was full (a backlog),
    one ``COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS`` period after some work, and twice as
    long after each idle cycle, up to :data:`FOLLOW_IDLE_FACTOR` periods. Each cycle is logged
    (and passed to ``report``) with the age of the oldest unresolved stale row and what
    earlier cycles' tasks resolved. A cycle that meets a database error is logged and the
    next one, a period later, starts afresh.

    The service lock (:mod:`completion_aggregator.locks`) is held all along and its heartbeat
    beaten each cycle, so a cron ``run_aggregator_service`` beside it stops with "another run
    is running"; if another run took the lock over (this process was thought dead), the
    follower stops at once. ``stop``: an event that ends the loop after the current cycle
    (the command sets it on SIGTERM/SIGINT); the lock is released on the way out. ``cycles``,
    ``sleep``, ``now`` (wall clock, aware datetimes) and ``clock`` (monotonic seconds) are for
    tests: a bounded run, no real sleeping.

    Raises:
        LockHeld: another service run or follower holds the lock.
    """
    stop = stop or threading.Event()
    pause: Callable[[float], Any] = sleep or stop.wait
    period = max(0.0, float(get_setting("COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS")))
    most = max(1, int(get_setting("COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE")))
    batch_size = max(1, min(most, int(get_setting("COMPLETION_AGGREGATOR_SERVICE_BATCH_SIZE"))))
    total = FollowSummary()
    state = _FollowState(rescanned=clock(), idle_sleep=period)
    with cache_lock(
        get_setting("COMPLETION_AGGREGATOR_AGGREGATION_LOCK"),
        int(get_setting("COMPLETION_AGGREGATOR_AGGREGATION_LOCK_TIMEOUT_SECONDS")),
    ) as lock:
        while not stop.is_set() and (cycles is None or total.cycles < cycles):
            if not connection.in_atomic_block:  # (a caller's transaction, e.g. a test's, is kept)
                close_old_connections()  # a long-lived process: drop connections the server closed
            if not lock.beat():
                log.error("completion_aggregator: another run took the service lock over; the follower stops")
                total.lock_lost = True
                break
            total.cycles += 1
            try:
                cycle = _follow_cycle(total.cycles, state, most, batch_size, routing_key, stop, now, clock)
            except DatabaseError:
                log.exception("completion_aggregator follow: cycle %d failed; retrying in %.1f s", total.cycles, period)
                total.failed_cycles += 1
                cycle = CycleReport(total.cycles, None, 0, 0, 0, 0, failed=True)
            total.stale_rows += cycle.stale_rows
            total.tasks += cycle.tasks
            total.resolved += cycle.resolved
            if cycle.failed:
                wait = period
            elif cycle.stale_rows >= most:
                wait, state.idle_sleep = 0.0, period  # a backlog: straight on
            elif cycle.stale_rows:
                wait, state.idle_sleep = period, period
            else:
                wait, state.idle_sleep = state.idle_sleep, min(state.idle_sleep * 2, period * FOLLOW_IDLE_FACTOR)
            cycle.sleep = wait
            log.info("completion_aggregator follow: %s", cycle.line())
            if report:
                report(cycle)
            if wait and not stop.is_set() and (cycles is None or total.cycles < cycles):
                _sleep_probing(wait, period, pause, stop, state.watermark)
    total.stopped = stop.is_set()
    return total


def _sleep_probing(wait: float, period: float, pause: Callable[[float], Any], stop: threading.Event, watermark: int) -> None:
    """
    Sleep ``wait`` seconds in steps of one period; between steps, one indexed query for rows above ``watermark``.

    A row found ends the sleep: a completion committed while the follower is idle waits one
    period, not up to :data:`FOLLOW_IDLE_FACTOR` of them. A probe's database error is left to
    the next cycle.
    """
    while wait > 0 and not stop.is_set():
        step = min(period, wait) if period > 0 else wait
        pause(step)
        wait -= step
        try:
            if wait > 0 and api.has_unresolved_after(watermark):
                return
        except DatabaseError:
            pass


@dataclass
class _FollowState:
    """What :func:`follow` carries from one cycle to the next."""

    rescanned: float  # monotonic time of the last re-read of long-unresolved rows
    idle_sleep: float  # the next idle sleep (seconds)
    watermark: int = 0  # the highest stale id read so far
    marks: list[tuple[float, int]] = field(default_factory=list)  # (when, watermark) of cycles within the settle window
    recent: dict[int, float] = field(default_factory=dict)  # stale id -> when dispatched, within the settle window


def _follow_cycle(
    number: int,
    state: _FollowState,
    most: int,
    batch_size: int,
    routing_key: str | None,
    stop: threading.Event,
    now: Callable[[], datetime],
    clock: Callable[[], float],
) -> CycleReport:
    """One cycle of :func:`follow`: the release check, then read and dispatch (raises DatabaseError)."""
    started = clock()
    released = api.mark_released_stale(now())
    oldest = api.oldest_unresolved()
    oldest_age = None if oldest is None else max(0.0, (now() - oldest[1]).total_seconds())
    resolved = _forget_resolved(state.recent)
    # Ids are allocated at insert and committed in any order: a row may appear below the
    # watermark after a later one was read. Rows are therefore read from the watermark of
    # FOLLOW_SETTLE_SECONDS ago, skipping those dispatched since.
    state.marks = [(when, mark) for when, mark in state.marks if started - when < FOLLOW_SETTLE_SECONDS]
    state.recent = {key: when for key, when in state.recent.items() if started - when < FOLLOW_SETTLE_SECONDS}
    low = state.marks[0][1] if state.marks else state.watermark
    if oldest is not None and oldest_age is not None and oldest_age >= FOLLOW_RETRY_SECONDS and started - state.rescanned >= FOLLOW_RETRY_SECONDS:
        # Dispatched long ago and still unresolved (a lost or failed task): again, as cron would.
        log.warning("completion_aggregator: stale rows from id %d unresolved for %.0f s; dispatching again", oldest[0], oldest_age)
        low, state.rescanned = oldest[0] - 1, started
        state.recent.clear()
    state.marks.append((started, state.watermark))  # where this cycle starts reading
    summary = ServiceSummary()
    seen: set[tuple[str, str]] = set()
    courses: set[str] = set()
    scanned = 0
    while summary.stale_rows < most and scanned < most * 5 and not stop.is_set():
        rows = api.unresolved_stale_rows(low, batch_size)
        if not rows:
            break
        scanned += len(rows)
        low = rows[-1][0]
        state.watermark = max(state.watermark, low)
        fresh = [row for row in rows if row[0] not in state.recent][: most - summary.stale_rows]
        for row in fresh:
            state.recent[row[0]] = started
        summary.stale_rows += len(fresh)
        _dispatch(fresh, seen, courses, routing_key, summary)
        if len(rows) < batch_size:
            break
    return CycleReport(
        number,
        oldest_age,
        resolved,
        summary.stale_rows,
        summary.learners,
        summary.tasks,
        released_courses=len(released.courses) + len(released.learner_courses),
    )


def _forget_resolved(recent: dict[int, float]) -> int:
    """Drop the ids of ``recent`` that are resolved now; return how many (one query per 900 ids)."""
    resolved = api.resolved_among(list(recent))
    for key in resolved:
        del recent[key]
    return len(resolved)


def _dispatch(
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
        summary.learners += len(usernames)
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

