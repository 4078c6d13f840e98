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
from collections.abc import Callable
from typing import Protocol, TypeGuard

from django.contrib.auth.models import AbstractBaseUser
from opaque_keys.edx.keys import CourseKey, UsageKey
from opaque_keys.edx.locator import LibraryLocator

from . import api, receivers
from .keys import plain_key

log = logging.getLogger(__name__)


# What the receivers read of openedx-events' data classes (attrs classes; openedx-events is
# optional here and has no type hints), as openedx-events 11.2.0 defines them.
class _UserPersonalData(Protocol):
    @property
    def username(self) -> str:
        """``UserPersonalData.username``."""


class _UserData(Protocol):
    @property
    def id(self) -> int:
        """``UserData.id``: the user's primary key."""

    @property
    def pii(self) -> _UserPersonalData:
        """``UserData.pii``."""


class _CourseData(Protocol):
    @property
    def course_key(self) -> CourseKey:
        """``CourseData.course_key``."""


class _CourseEnrollmentData(Protocol):
    @property
    def user(self) -> _UserData:
        """``CourseEnrollmentData.user``."""

    @property
    def course(self) -> _CourseData:
        """``CourseEnrollmentData.course``."""

    @property
    def is_active(self) -> bool:
        """``CourseEnrollmentData.is_active``."""


class _CohortData(Protocol):
    @property
    def user(self) -> _UserData:
        """``CohortData.user``."""

    @property
    def course(self) -> _CourseData:
        """``CohortData.course``."""


class _NamedUser(Protocol):
    """A user object without ``get_username`` (only its ``username``)."""

    @property
    def username(self) -> str:
        """The username."""


def _is_course(course_key: object) -> TypeGuard[CourseKey]:
    """Courses only: content libraries (``LibraryLocator``) publish too, but have no learners."""
    return isinstance(course_key, CourseKey) and not isinstance(course_key, LibraryLocator)


def _username(user: AbstractBaseUser | _NamedUser) -> str:
    """The username of a user the platform's signals send."""
    return user.get_username() if isinstance(user, AbstractBaseUser) else str(user.username)


# edx-platform (Django) signals --------------------------------------------------------------
def handle_course_published(sender: object, course_key: CourseKey | None = None, **kwargs: object) -> None:
    """``SignalHandler.course_published``: recompute every enrollment (forced, after a countdown)."""
    if _is_course(course_key):
        receivers.course_published(sender, course_key=plain_key(course_key))


def handle_item_deleted(
    sender: object, usage_key: UsageKey | None = None, user_id: int | None = None, **kwargs: object
) -> None:
    """
    ``SignalHandler.item_deleted``: the course's structure changed like a publish.

    Split sends the branch-qualified key (``location.for_branch(branch)``, once per branch it
    deleted from). Branch and version are stripped first, as edx-platform's own
    receivers do (``usage_key.for_branch(None)``): a branched course key would read the draft
    branch's structure and match no enrollment or stored row.
    """
    if usage_key is None:
        return
    course_key = getattr(plain_key(usage_key), "course_key", None)
    if _is_course(course_key):
        receivers.course_published(sender, course_key=course_key)


def handle_cohort_membership_updated(
    sender: object, user: AbstractBaseUser | None = None, course_key: CourseKey | None = None, **kwargs: object
) -> None:
    """``COHORT_MEMBERSHIP_UPDATED`` (added or removed): content groups may show other blocks."""
    if user is not None and course_key is not None:
        receivers.learner_changed(_username(user), course_key)


def handle_enrollment_track_updated(
    sender: object,
    user: AbstractBaseUser | None = None,
    course_key: CourseKey | None = None,
    mode: str | None = None,
    **kwargs: object,
) -> None:
    """``ENROLLMENT_TRACK_UPDATED``: the track's content (enrollment-track groups) may differ."""
    if user is not None and course_key is not None:
        receivers.learner_changed(_username(user), course_key)


def handle_user_retire_lms_misc(sender: object, user: AbstractBaseUser | None = None, **kwargs: object) -> None:
    """
    ``USER_RETIRE_LMS_MISC`` (the retirement pipeline's ``retire_misc`` step): forget the learner.

    Every row of ours naming them is deleted (Aggregator rows, stale rows) and the statistics'
    totals are updated (``api.forget_learner``).
    """
    if user is not None:
        api.forget_learner(user.pk, [_username(user)])


def handle_user_retire_lms_critical(
    sender: object,
    user: AbstractBaseUser | None = None,
    retired_username: str | None = None,
    retired_email: str | None = None,
    **kwargs: object,
) -> None:
    """
    ``USER_RETIRE_LMS_CRITICAL``: forget the learner again, under both names.

    Sent by the ``retire`` step just before the username is scrambled to ``retired_username``;
    nothing written since ``retire_misc`` remains.
    """
    if user is not None:
        api.forget_learner(user.pk, [_username(user), retired_username or ""])


# openedx-events -----------------------------------------------------------------------------
def handle_enrollment_event(
    sender: object = None, enrollment: _CourseEnrollmentData | None = None, **kwargs: object
) -> None:
    """``COURSE_ENROLLMENT_CREATED`` / ``COURSE_ENROLLMENT_CHANGED``: (re)compute an active enrollment."""
    if enrollment is None:
        return
    receivers.enrollment_changed(enrollment.user.id, enrollment.course.course_key)
    if not enrollment.is_active:
        return  # an unenrollment keeps the stored rows
    receivers.learner_changed(enrollment.user.pii.username, enrollment.course.course_key)


def handle_unenrollment_event(
    sender: object = None, enrollment: _CourseEnrollmentData | None = None, **kwargs: object
) -> None:
    """``COURSE_UNENROLLMENT_COMPLETED``: the learner leaves the statistics (their rows stay)."""
    if enrollment is not None:
        receivers.enrollment_changed(enrollment.user.id, enrollment.course.course_key)


def handle_cohort_membership_changed(
    sender: object = None, cohort: _CohortData | None = None, **kwargs: object
) -> None:
    """``COHORT_MEMBERSHIP_CHANGED``."""
    if cohort is not None:
        receivers.learner_changed(cohort.user.pii.username, cohort.course.course_key)


#: A receiver of this module: keyword arguments only (what Django and openedx-events send).
_Receiver = Callable[..., None]

_PLATFORM_RECEIVERS: dict[str, _Receiver] = {
    "course_published": handle_course_published,
    "item_deleted": handle_item_deleted,
    "cohort_membership_updated": handle_cohort_membership_updated,
    "enrollment_track_updated": handle_enrollment_track_updated,
    "user_retire_lms_misc": handle_user_retire_lms_misc,
    "user_retire_lms_critical": handle_user_retire_lms_critical,
}

_EVENT_RECEIVERS: dict[str, _Receiver] = {
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
