"""Learners' personalised start dates, read from edx-when (installed beside edx-platform)."""
from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from opaque_keys.edx.keys import CourseKey

from .platform import platform_import


def personal_start_dates(course_key: CourseKey) -> tuple[tuple[int, datetime], ...]:
    """
    The learners' personalised ``start`` dates in edx-when, as sorted ``(user id, start)``.

    edx-when's public API (``edx_when.api``) has no call listing a course's overrides per
    field, so the cost is bounded by the overrides, not by the enrollments:

    * ``get_dates_for_course(course_key)``: the course-wide dates (one query, cached by
      edx-when). An override needs the course-wide date of its block and field
      (``set_date_for_block`` raises ``MissingDateError`` otherwise), so only blocks with a
      course-wide ``start`` can carry a personal start; none, no further call.
    * ``get_overrides_for_block(course_key, block)`` per such block: ``(username, full_name,
      date)``, one per learner, any field of the block, latest first (one query, plus
      edx-when's per-row user lookups).
    * The block has no other dated field: that date is the learner's start. Otherwise
      (``start`` and ``due``/``end``) the field is unknown, so
      ``get_dates_for_course(course_key, user=user_id)`` (one query) gives that learner's
      effective starts, once per such learner.

    One query maps usernames to user ids. Relative (schedule) dates are edx-when's
    ``due`` dates and are not read. edx-when (or one of these two functions) not installed
    (older deployments): ``()``, no error. Imported at call time.
    """
    when_api = platform_import("edx_when.api", "get_dates_for_course", "get_overrides_for_block", required=False)
    if when_api is None:
        return ()
    get_dates_for_course, get_overrides_for_block = when_api
    course_dates = get_dates_for_course(course_key)
    start_blocks = sorted({block for (block, field) in course_dates if field == "start"}, key=str)
    other_dated = {block for (block, field) in course_dates if field != "start"}
    pairs: set[tuple[str, datetime]] = set()
    unsure: set[str] = set()
    for block in start_blocks:
        for username, _full_name, date in get_overrides_for_block(course_key, block):
            if block in other_dated:
                unsure.add(username)
            elif isinstance(date, datetime):
                pairs.add((username, date))
    if not pairs and not unsure:
        return ()
    users = get_user_model()
    ids = dict(
        users.objects.filter(username__in=sorted({name for name, _ in pairs} | unsure)).values_list("username", "pk")
    )
    result = {(ids[name], date) for name, date in pairs if name in ids}
    for name in sorted(unsure):
        if name not in ids:
            continue
        own = get_dates_for_course(course_key, user=ids[name])
        for block in start_blocks:
            date = own.get((block, "start"))
            if isinstance(date, datetime) and date != course_dates.get((block, "start")):
                result.add((ids[name], date))
    return tuple(sorted(result))
