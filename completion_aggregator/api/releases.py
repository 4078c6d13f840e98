"""
Start dates that pass: the service marks the affected learners stale (ADR 0012).

A learner's stored ``possible`` counts the blocks released when their rows were written.
When a block's start date passes, nothing is published and no signal is sent, so
``run_aggregator_service`` calls :func:`mark_released_stale`: it asks the host adapter for
the start dates of every course with stored rows and queues a forced whole-course
recompute of the courses (or, for personalised dates, the learners) whose start date lies
between the previous check and now. The time of the previous check is remembered in the
Django cache.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from ..adapters import get_adapter
from ..adapters.base import CourseNotFound
from ..conf import get_setting
from ..models import Aggregator
from .keys import as_course_key
from .queue import mark_course_stale

log = logging.getLogger(__name__)

#: Cache key of the time of the last check (an aware datetime, kept without expiry).
LAST_CHECK_CACHE_KEY = "completion_aggregator.release_check.last"
#: How far back a check looks when no previous check is remembered (first run, or the cache
#: lost the record): releases in that window cause one redundant recompute at worst.
COLD_START_LOOKBACK = timedelta(days=1)


@dataclass
class ReleaseCheckData:
    """What one check did: the window ``(since, until]`` and what it queued."""

    checked: bool = False
    since: datetime | None = None
    until: datetime | None = None
    courses: list[str] = field(default_factory=list)  # every enrollment queued
    learner_courses: list[str] = field(default_factory=list)  # only learners with personalised dates
    enrollments: int = 0


def mark_released_stale(now: datetime | None = None) -> ReleaseCheckData:
    """
    Queue the learners whose content was released since the last check (forced, whole course).

    ``now`` is the end of the window (default ``timezone.now()``). Nothing is checked when
    ``COMPLETION_AGGREGATOR_RELEASE_CHECK_INTERVAL`` is None, or when less than that many
    seconds passed since the last check. Courses are those with stored Aggregator rows (their
    stored answers are what a release makes stale; learners without rows are computed fresh
    on every read). A course whose block start date lies in ``(since, now]`` gets a forced
    stale row per active enrollment (``mark_course_stale``); a personalised start date in the
    window queues only its learner. The time is remembered after the courses are queued, so
    a run that fails part-way is repeated over the same window by the next one.

    Raises:
        ImproperlyConfigured: the host adapter is not available.
        django.db.DatabaseError: on database failure.
    """
    interval = get_setting("COMPLETION_AGGREGATOR_RELEASE_CHECK_INTERVAL")
    result = ReleaseCheckData()
    if interval is None:
        return result
    now = now or timezone.now()
    last = cache.get(LAST_CHECK_CACHE_KEY)
    if not isinstance(last, datetime) or last > now:
        last = None  # nothing remembered (or a clock that went back): look back a fixed window
    if last is not None and now - last < timedelta(seconds=float(interval)):
        return result
    since = last if last is not None else now - COLD_START_LOOKBACK
    result.checked, result.since, result.until = True, since, now
    adapter = get_adapter()
    users = get_user_model()
    for stored_key in Aggregator.objects.order_by("course_key").values_list("course_key", flat=True).distinct():
        if stored_key is None:  # pragma: no cover - the column is NOT NULL
            continue
        course_key = as_course_key(stored_key)
        try:
            dates = adapter.course_start_dates(course_key)
        except CourseNotFound:
            continue
        if any(since < start <= now for start in dates.starts):
            result.enrollments += len(mark_course_stale(course_key, force=True))
            result.courses.append(str(course_key))
            continue
        user_ids = sorted({user_id for user_id, start in dates.learner_starts if since < start <= now})
        if user_ids:
            names = list(users.objects.filter(pk__in=user_ids).values_list(users.USERNAME_FIELD, flat=True))
            result.enrollments += len(mark_course_stale(course_key, users=names, force=True))
            result.learner_courses.append(str(course_key))
    cache.set(LAST_CHECK_CACHE_KEY, now, None)
    if result.courses or result.learner_courses:
        log.info(
            "completion_aggregator: start dates passed in (%s, %s]: %d enrollments queued in %s",
            since.isoformat(),
            now.isoformat(),
            result.enrollments,
            ", ".join(result.courses + result.learner_courses),
        )
    return result
