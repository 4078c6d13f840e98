"""
How work runs: here, after the action, or as Celery tasks in chunks (ADR 0024).

This module is the one owner of that policy. Its callers say *what* should be computed, each
with one call: the receivers (:func:`aggregate_after_action`, :func:`sync_totals_after_action`,
:func:`recompute_course_after_action`), the service (:func:`enqueue_learners`),
``reaggregate_course`` (:func:`aggregate_marked`) and the totals' write path
(:func:`build_totals_after_commit`). It decides *how*:

* synchronous mode (``COMPLETION_AGGREGATOR_ASYNC_AGGREGATION`` False), in the LMS: an
  enrollment is aggregated in this process at the end of the action that changed it (after
  its commit: ADR 0006, coalesced by :mod:`completion_aggregator.coalesce`, ADR 0010);
* in Studio (:func:`completion_aggregator.conf.in_studio`): the same work as a Celery task
  for an LMS worker, never computed here (ADR 0010);
* many learners (the service, ``reaggregate_course``): Celery tasks of at most
  :func:`chunk_size` learners each, on the caller's routing key.

Work is addressed by its Celery task name (the names are a contract with queued messages),
looked up in the Celery app's task registry when it runs: this module imports no task, so
the Python API below the tasks can ask for work without importing them (ADR 0023). Work run
here calls the task's own function, without Celery's request machinery.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from celery import current_app
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from opaque_keys.edx.keys import CourseKey

from .coalesce import once_per_action
from .conf import get_setting, in_studio

log = logging.getLogger(__name__)

AGGREGATE_LEARNERS = "completion_aggregator.tasks.aggregation_tasks.aggregate_learners"
SYNC_STATISTICS_LEARNERS = "completion_aggregator.tasks.aggregation_tasks.sync_statistics_learners"
BUILD_STATISTICS_TOTALS = "completion_aggregator.tasks.aggregation_tasks.build_statistics_totals"
MARK_ALL_STALE = "completion_aggregator.tasks.handler_tasks.mark_all_stale"
#: Every task name this module sends (tests check that each is registered).
TASK_NAMES = (AGGREGATE_LEARNERS, SYNC_STATISTICS_LEARNERS, BUILD_STATISTICS_TOTALS, MARK_ALL_STALE)


def chunk_size() -> int:
    """
    ``COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE``: the most learners one aggregation task gets.

    The one chunking rule (issue 21 point 2): a whole number of at least 1. Anything else is a
    configuration error, reported at startup by the system check ``completion_aggregator.E001``
    (:mod:`completion_aggregator.checks`) and raised here if it is used all the same: never
    clamped, because 0 might be meant as "no chunks" and silently becoming 1 would make a
    thousand tasks of one learner.

    Raises:
        ImproperlyConfigured: the setting is not an integer of at least 1.
    """
    value = get_setting("COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE")
    try:
        size = int(value) if not isinstance(value, (bool, float)) else None
    except (TypeError, ValueError):
        size = None
    if size is None or size < 1:
        raise ImproperlyConfigured(
            f"COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE = {value!r}: it must be a whole number of at least 1 "
            "(the most learners one aggregation task gets; default 200)."
        )
    return size


#: Usernames per ``IN (…)`` list when reading user ids: under SQLite's variable limit.
NAMES_PER_QUERY = 900


def chunk_by_learner_id(usernames: Iterable[str], size: int) -> list[list[str]]:
    """
    Split ``usernames`` into chunks of at most ``size`` learners with consecutive user ids.

    The learners are ordered by user id (names without a user last, by name), so each chunk
    covers one range of ids: chunks that workers aggregate at the same time write apart in the
    tables' (course, block, user) order and prefer different shards of the statistics' totals
    (ADR 0020). Repeated names count once. One query per 900 names.

    Raises:
        ValueError: ``size`` is below 1 (never clamped: the one chunking rule, ADR 0024).
    """
    if size < 1:
        raise ValueError(f"chunk size {size!r}: it must be at least 1")
    names = sorted(set(usernames))
    ids: dict[str, int] = {}
    for start in range(0, len(names), NAMES_PER_QUERY):
        batch = names[start : start + NAMES_PER_QUERY]
        ids.update(get_user_model().objects.filter(username__in=batch).values_list("username", "id"))
    ordered = sorted(names, key=lambda name: (name not in ids, ids.get(name, 0), name))
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


def chunks(usernames: Sequence[str]) -> list[list[str]]:
    """
    ``usernames`` in chunks of at most :func:`chunk_size` consecutive learner ids (:func:`chunk_by_learner_id`).

    Raises:
        ImproperlyConfigured: see :func:`chunk_size`.
    """
    return chunk_by_learner_id(usernames, chunk_size())


def synchronous() -> bool:
    """True in synchronous mode (``COMPLETION_AGGREGATOR_ASYNC_AGGREGATION`` False)."""
    return not get_setting("COMPLETION_AGGREGATOR_ASYNC_AGGREGATION")


def task(name: str) -> Any:
    """
    The registered Celery task ``name`` (a ``celery.Task``).

    Raises:
        ImproperlyConfigured: no such task is registered (the app's tasks are registered when
            ``completion_aggregator`` is loaded: it must be in ``INSTALLED_APPS``).
    """
    try:
        return current_app.tasks[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"the Celery task {name} is not registered: is completion_aggregator in INSTALLED_APPS?"
        ) from None


def _options(routing_key: str | None) -> dict[str, Any]:
    return {"routing_key": routing_key} if routing_key else {}


def enqueue_learners(
    course_key: CourseKey | str, usernames: Sequence[str], routing_key: str | None = None
) -> list[str]:
    """
    Send one aggregation task per chunk of ``usernames`` of one course; returns the task ids.

    The one loop that chunks learners and sends them (the service and ``reaggregate_course``).

    Raises:
        ImproperlyConfigured: see :func:`chunk_size`.
    """
    aggregate = task(AGGREGATE_LEARNERS)
    key = str(course_key)
    return [aggregate.apply_async(args=(key, chunk), **_options(routing_key)).id for chunk in chunks(usernames)]


def aggregate_marked(course_key: CourseKey, usernames: Sequence[str], routing_key: str | None = None) -> None:
    """
    After ``usernames`` were marked stale in bulk: in synchronous mode send their tasks now.

    In asynchronous mode nothing is sent: the service's next cycle reads the stale rows.
    """
    if synchronous():
        enqueue_learners(course_key, usernames, routing_key)


def _send(name: str, args: tuple[Any, ...], **options: Any) -> Callable[[], None]:
    """The work of task ``name`` with ``args``, sent to Celery (``options``: ``apply_async``'s)."""

    def send() -> None:
        task(name).apply_async(args=args, **options)

    return send


def _run_here(name: str, *args: Any) -> Callable[[], None]:
    """The work of task ``name`` with ``args``, run in this process (the task's own function)."""

    def run() -> None:
        task(name).run(*args)

    return run


def _nothing() -> None:
    """No work (asynchronous mode: the service takes the stale rows)."""


def _aggregate_here(course_key: str, username: str) -> None:
    """
    Aggregate one enrollment in this process, at the end of the action (after the commit).

    The aggregation never fails the writer's request (docs/decisions/0006 and 0014): its
    completion is committed already, so an error (a database failure, a lock wait timeout)
    is logged and the enrollment's stale rows stay unresolved for ``run_aggregator_service``.
    """
    try:
        task(AGGREGATE_LEARNERS).run(course_key, [username])
    except Exception as exc:  # the request must not fail: the work waits for the service
        log.warning(
            "completion_aggregator: synchronous aggregation of %s in %s failed (%s: %s); "
            "its stale rows are left for run_aggregator_service",
            username,
            course_key,
            type(exc).__name__,
            exc,
            exc_info=True,
        )


def learner_key(course_key: CourseKey | str, username: str) -> tuple[str, str, str]:
    """The coalescing key of one enrollment's aggregation within an action."""
    return ("learner", str(course_key), username)


def aggregate_after_action(course_key: CourseKey, username: str) -> bool:
    """
    Aggregate one enrollment once the current action ends (after its commit), in synchronous mode.

    Here in the LMS; as a task for an LMS worker in Studio. In asynchronous mode nothing runs
    (the service takes the stale rows) but the key still coalesces. Returns False when that
    aggregation was already pending in this action (:func:`completion_aggregator.coalesce.once_per_action`).
    """
    key = str(course_key)
    if not synchronous():
        work = _nothing
    elif in_studio():
        work = _send(AGGREGATE_LEARNERS, (key, [username]))
    else:
        work = functools.partial(_aggregate_here, key, username)
    return once_per_action(learner_key(course_key, username), work)


def sync_totals_after_action(course_key: CourseKey, user_id: int) -> bool:
    """
    Sync the statistics' totals of one learner once the action ends, in both modes.

    Here in the LMS; as a task for an LMS worker in Studio (the sync reads enrollments through
    the host adapter). Returns False when it was already pending in this action.
    """
    key = str(course_key)
    if in_studio():
        work = _send(SYNC_STATISTICS_LEARNERS, (key, [user_id]))
    else:
        work = _run_here(SYNC_STATISTICS_LEARNERS, key, [user_id])
    return once_per_action(("enrollment", key, user_id), work)


def recompute_course_after_action(course_key: CourseKey | str) -> bool:
    """
    Queue a forced recompute of a course's enrollments once the action ends (a publish).

    Always a task (``mark_all_stale``), sent with ``COMPLETION_AGGREGATOR_PUBLISH_COUNTDOWN``
    seconds of delay: edx-platform rebuilds its block structure some time after a publish.
    Returns False when it was already pending in this action.
    """
    countdown = int(get_setting("COMPLETION_AGGREGATOR_PUBLISH_COUNTDOWN") or 0)
    key = str(course_key)
    return once_per_action(("course", key), _send(MARK_ALL_STALE, (key,), countdown=countdown))


def build_totals_after_commit(course_key: CourseKey) -> None:
    """
    Queue the build of a course's statistics totals once the current transaction commits.

    A task in both modes (the build reads every enrollment); it skips a course built already,
    so several queued by one burst of writes cost one build.
    """
    transaction.on_commit(_send(BUILD_STATISTICS_TOTALS, (str(course_key),), kwargs={"only_missing": True}))
