"""
``edx_when.api`` (openedx/edx-when): course-wide and personalised dates.

The real package stores a course-wide date as a ``ContentDate`` (course, block, field, with
``active``) and a learner's override as a ``UserDate`` pointing at that ``ContentDate``; the
fake keeps both in memory (``clear()`` in tests). The names, signatures and semantics below
are the real module's:

* ``set_dates_for_course(course_key, items)``: the course-wide dates of the ``due``, ``start``
  and ``end`` fields (``FIELDS_TO_EXTRACT``) of each ``(location, {field: date})``; the
  course's dates not in ``items`` become inactive (``clear_dates_for_course(keep=...)``).
* ``set_date_for_block(course_id, block_id, field, date_or_timedelta, user=None, reason='',
  actor=None)``: with ``user`` a personalised override, which needs the course-wide date of
  that block and field (``MissingDateError`` otherwise).
* ``get_dates_for_course(course_id, user=None, use_cached=True, schedule=None,
  published_version=None)``: ``{(usage key, field): date}`` of the active course-wide dates,
  with ``user``'s (a ``User`` or a user id) overrides applied, the latest modified winning.
* ``get_overrides_for_block(course_id, block_id)``: ``[(username, full_name, date)]``, one per
  learner with an override on any field of the block (active dates only), the most recently
  modified first. The real query reads ``udate.user`` (and ``user.profile``) per row.

Relative dates (``timedelta`` policies, self-paced schedules) are not modelled.
"""
from __future__ import annotations

from opaque_keys.edx.keys import CourseKey, UsageKey

FIELDS_TO_EXTRACT = ("due", "start", "end")

_COURSE_DATES: dict = {}  # {(course key, usage key, field): date}, the active ContentDates
_USER_DATES: dict = {}  # {(user id, course key, usage key, field): date}, in order of modification


class BaseWhenException(Exception):
    """``edx_when.api.BaseWhenException``."""


class MissingDateError(BaseWhenException):
    """``edx_when.api.MissingDateError``: an override of a date the course does not have."""


def _ensure_key(key_class, key_obj):
    return key_obj if isinstance(key_obj, key_class) else key_class.from_string(str(key_obj))


def set_dates_for_course(course_key, items):
    """The course-wide dates: ``items`` is ``[(location, {field: date})]``; others go inactive."""
    course_key = _ensure_key(CourseKey, course_key)
    for stored in [stored for stored in _COURSE_DATES if stored[0] == course_key]:
        del _COURSE_DATES[stored]
    for location, fields in items:
        for field in FIELDS_TO_EXTRACT:
            if fields.get(field):
                set_date_for_block(course_key, location, field, fields[field])


def set_date_for_block(course_id, block_id, field, date_or_timedelta, user=None, reason="", actor=None):
    """
    A course-wide date, or with ``user`` a personalised override of an existing one.

    Raises:
        MissingDateError: ``user`` given and the course has no date for this block and field.
    """
    course_id = _ensure_key(CourseKey, course_id)
    block_id = _ensure_key(UsageKey, block_id)
    if user is None:
        _COURSE_DATES[(course_id, block_id, field)] = date_or_timedelta
        return
    if (course_id, block_id, field) not in _COURSE_DATES:
        raise MissingDateError(block_id)
    override = (user.pk, course_id, block_id, field)
    _USER_DATES.pop(override, None)  # re-saved: the latest modified
    _USER_DATES[override] = date_or_timedelta


def get_dates_for_course(course_id, user=None, use_cached=True, schedule=None, published_version=None):
    """``{(usage key, field): date}``: the course's active dates with ``user``'s overrides applied."""
    course_id = _ensure_key(CourseKey, course_id)
    dates = {(block, field): value for (course, block, field), value in _COURSE_DATES.items() if course == course_id}
    user_id = user if isinstance(user, int) else getattr(user, "pk", None)
    if user_id is not None:
        for (uid, course, block, field), value in _USER_DATES.items():
            if uid == user_id and course == course_id and (block, field) in dates:
                dates[(block, field)] = value
    return dates


def get_overrides_for_block(course_id, block_id):
    """``[(username, full_name, date)]``: one override per learner, any field, latest first."""
    from django.contrib.auth import get_user_model

    course_id = _ensure_key(CourseKey, course_id)
    block_id = _ensure_key(UsageKey, block_id)
    users = get_user_model()
    result, seen = [], set()
    for (uid, course, block, field), value in reversed(list(_USER_DATES.items())):
        if course != course_id or block != block_id or (course, block, field) not in _COURSE_DATES or uid in seen:
            continue
        seen.add(uid)
        user = users.objects.get(pk=uid)
        try:
            full_name = user.profile.name
        except AttributeError:
            full_name = "unknown"
        result.append((user.username, full_name, value))
    return result


def clear():
    """(Fake only.) Forget every date."""
    _COURSE_DATES.clear()
    _USER_DATES.clear()
