"""
``edx_when.api``: course-wide and personalised dates. The real package stores them in its
``ContentDate`` / ``UserDate`` models; the fake keeps them in memory (``clear()`` in tests).
"""
from __future__ import annotations

_COURSE_DATES: dict = {}  # {(course key, block key, field): date}
_USER_DATES: dict = {}  # {(user id, course key, block key, field): date}


def set_dates_for_course(course_key, items):
    """``items``: ``[(block key, {field: date})]`` (course-wide dates, as Studio publishes them)."""
    for block_key, fields in items:
        for field, value in fields.items():
            _COURSE_DATES[(str(course_key), block_key, field)] = value


def set_date_for_block(course_id, block_id, field, date_or_timedelta, user=None, reason="", actor=None):
    """A course-wide date, or with ``user`` a personalised override."""
    if user is None:
        _COURSE_DATES[(str(course_id), block_id, field)] = date_or_timedelta
    else:
        _USER_DATES[(user.pk, str(course_id), block_id, field)] = date_or_timedelta


def get_dates_for_course(course_id, user=None, use_cached=True, schedule=None, published_version=None):
    """``{(block key, field): date}``: the course's dates with ``user``'s overrides applied."""
    dates = {(block, field): value for (course, block, field), value in _COURSE_DATES.items() if course == str(course_id)}
    user_id = getattr(user, "pk", None)
    if user_id is not None:
        for (uid, course, block, field), value in _USER_DATES.items():
            if uid == user_id and course == str(course_id):
                dates[(block, field)] = value
    return dates


def clear():
    """(Fake only.) Forget every date."""
    _COURSE_DATES.clear()
    _USER_DATES.clear()
