"""
Receivers for edx-platform's signals and the openedx-events learning events.

The course and learner signals turn into the same api call the standalone host's receivers make
(``receivers.course_published`` / ``receivers.learner_changed``), which also honour
``ENABLE_COURSE_ACTIVITY_SIGNALS``; the retirement signals into ``api.forget_learner``.
:func:`connect` (called from ``AppConfig.ready``) wires only the signals importable in this
process: edx-platform's through the adapter module (the one place that imports edx-platform),
openedx-events' when that package is installed.
"""
from __future__ import annotations

import logging

from opaque_keys.edx.keys import CourseKey
from opaque_keys.edx.locator import LibraryLocator

from . import api, receivers
from .keys import plain_key

log = logging.getLogger(__name__)


def _is_course(course_key) -> bool:
    """Courses only: content libraries (``LibraryLocator``) publish too, but have no learners."""
    return isinstance(course_key, CourseKey) and not isinstance(course_key, LibraryLocator)


def _username(user) -> str:
    return user.get_username() if hasattr(user, "get_username") else str(user.username)


# edx-platform (Django) signals --------------------------------------------------------------
def handle_course_published(sender, course_key=None, **kwargs) -> None:
    """``SignalHandler.course_published``: recompute every enrollment (forced, after a countdown)."""
    if _is_course(course_key):
        receivers.course_published(sender, course_key=plain_key(course_key))


def handle_item_deleted(sender, usage_key=None, user_id=None, **kwargs) -> None:
    """
    ``SignalHandler.item_deleted``: the course's structure changed like a publish.

    Split sends the branch-qualified key (``location.for_branch(branch)``, once per branch it
    deleted from; reference §10). Branch and version are stripped first, as edx-platform's own
    receivers do (``usage_key.for_branch(None)``): a branched course key would read the draft
    branch's structure and match no enrollment or stored row.
    """
    if usage_key is None:
        return
    course_key = getattr(plain_key(usage_key), "course_key", None)
    if _is_course(course_key):
        receivers.course_published(sender, course_key=course_key)


def handle_cohort_membership_updated(sender, user=None, course_key=None, **kwargs) -> None:
    """``COHORT_MEMBERSHIP_UPDATED`` (added or removed): content groups may show other blocks."""
    if user is not None and course_key is not None:
        receivers.learner_changed(_username(user), course_key)


def handle_enrollment_track_updated(sender, user=None, course_key=None, mode=None, **kwargs) -> None:
    """``ENROLLMENT_TRACK_UPDATED``: the track's content (enrollment-track groups) may differ."""
    if user is not None and course_key is not None:
        receivers.learner_changed(_username(user), course_key)


def handle_user_retire_lms_misc(sender, user=None, **kwargs) -> None:
    """
    ``USER_RETIRE_LMS_MISC`` (the retirement pipeline's ``retire_misc`` step): forget the learner.

    Every row of ours naming them is deleted (Aggregator rows, stale rows) and the statistics'
    totals are updated (``api.forget_learner``).
    """
    if user is not None:
        api.forget_learner(user.pk, [_username(user)])


def handle_user_retire_lms_critical(sender, user=None, retired_username=None, retired_email=None, **kwargs) -> None:
    """
    ``USER_RETIRE_LMS_CRITICAL``: forget the learner again, under both names.

    Sent by the ``retire`` step just before the username is scrambled to ``retired_username``;
    nothing written since ``retire_misc`` remains.
    """
    if user is not None:
        api.forget_learner(user.pk, [_username(user), retired_username or ""])


# openedx-events -----------------------------------------------------------------------------
def handle_enrollment_event(sender=None, enrollment=None, **kwargs) -> None:
    """``COURSE_ENROLLMENT_CREATED`` / ``COURSE_ENROLLMENT_CHANGED``: (re)compute an active enrollment."""
    if enrollment is None:
        return
    receivers.enrollment_changed(enrollment.user.id, enrollment.course.course_key)
    if not enrollment.is_active:
        return  # an unenrollment keeps the stored rows
    receivers.learner_changed(enrollment.user.pii.username, enrollment.course.course_key)


def handle_unenrollment_event(sender=None, enrollment=None, **kwargs) -> None:
    """``COURSE_UNENROLLMENT_COMPLETED``: the learner leaves the statistics (their rows stay)."""
    if enrollment is not None:
        receivers.enrollment_changed(enrollment.user.id, enrollment.course.course_key)


def handle_cohort_membership_changed(sender=None, cohort=None, **kwargs) -> None:
    """``COHORT_MEMBERSHIP_CHANGED``."""
    if cohort is not None:
        receivers.learner_changed(cohort.user.pii.username, cohort.course.course_key)


_PLATFORM_RECEIVERS = {
    "course_published": handle_course_published,
    "item_deleted": handle_item_deleted,
    "cohort_membership_updated": handle_cohort_membership_updated,
    "enrollment_track_updated": handle_enrollment_track_updated,
    "user_retire_lms_misc": handle_user_retire_lms_misc,
    "user_retire_lms_critical": handle_user_retire_lms_critical,
}

_EVENT_RECEIVERS = {
    "COURSE_ENROLLMENT_CREATED": handle_enrollment_event,
    "COURSE_ENROLLMENT_CHANGED": handle_enrollment_event,
    "COURSE_UNENROLLMENT_COMPLETED": handle_unenrollment_event,
    "COHORT_MEMBERSHIP_CHANGED": handle_cohort_membership_changed,
}


def connect() -> list[str]:
    """Connect every receiver whose signal exists here; returns the names connected."""
    from .adapters.edx_platform import platform_signals

    connected = []
    for name, signal in platform_signals().items():
        signal.connect(_PLATFORM_RECEIVERS[name], dispatch_uid=f"completion_aggregator.platform.{name}")
        connected.append(name)
    try:
        from openedx_events.learning import signals as events
    except ImportError:  # openedx-events is part of edx-platform, optional elsewhere
        events = None
    if events is not None:
        for name, handler in _EVENT_RECEIVERS.items():
            signal = getattr(events, name, None)
            if signal is not None:
                signal.connect(handler, dispatch_uid=f"completion_aggregator.events.{name}")
                connected.append(name)
    log.debug("completion_aggregator: connected %s", connected)
    return connected
