"""Aggregation tasks. ``update_aggregators`` keeps the peer's import path and signature."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from opaque_keys.edx.keys import CourseKey

from .. import api
from ..keys import InvalidCourseKey, parse_course_key, plain_key
from .typed import task

log = logging.getLogger(__name__)


def _course_key(value: str) -> CourseKey | None:
    """The plain course key of a task argument, or None (with a warning) for another text."""
    try:
        return plain_key(parse_course_key(value))
    except InvalidCourseKey:
        log.warning("completion_aggregator: ignoring a task for the invalid course key %r", value)
        return None


@task("completion_aggregator.tasks.aggregation_tasks.update_aggregators")
def update_aggregators(username: str, course_key: str, block_keys: Sequence[str] = (), force: bool = False) -> None:
    """Recompute one enrollment (idempotent; unknown users and courses resolve with a warning)."""
    key = _course_key(course_key)
    if key is not None:
        api.aggregate_learners(key, [username], force=force, block_keys=[str(b) for b in block_keys or ()])


@task("completion_aggregator.tasks.aggregation_tasks.aggregate_learners")
def aggregate_learners(course_key: str, usernames: Sequence[str], force: bool = False) -> dict[str, str | int]:
    """Recompute a chunk of learners of one course (one graph load, one completions query)."""
    key = _course_key(course_key)
    if key is None:
        return {}
    result = api.aggregate_learners(key, list(usernames), force=force)
    return {
        "learners": result.learner_count,
        "path_learners": result.path_learner_count,
        "stale_rows": result.stale_rows,
        "rows_written": result.rows_written,
    }


@task("completion_aggregator.tasks.aggregation_tasks.build_statistics_totals")
def build_statistics_totals(course_key: str, only_missing: bool = False) -> dict[str, str | int]:
    """
    Build a course's statistics totals from its enrollments and rows.

    ``only_missing``: skip a course whose totals are built already (the write path queues
    this for each change to an unbuilt course, so several may arrive).
    """
    key = _course_key(course_key)
    if key is None:
        return {}
    if only_missing and api.statistics_totals_built(key):
        return {"course_key": str(key), "skipped": True}
    return {"course_key": str(key), "learners": api.rebuild_statistics_totals(key).learners}


@task("completion_aggregator.tasks.aggregation_tasks.sync_statistics_learners")
def sync_statistics_learners(course_key: str, user_ids: Sequence[int]) -> dict[str, str | int]:
    """
    Count or stop counting learners in a course's statistics totals after an enrollment change.

    Queued by Studio's enrollment receivers (Studio enrolls a course's creator), which never
    read enrollments through the host adapter themselves (ADR 0010).
    """
    key = _course_key(course_key)
    if key is None:
        return {}
    joined, left = api.sync_statistics_learners(key, [int(user_id) for user_id in user_ids])
    return {"course_key": str(key), "joined": joined, "left": left}
