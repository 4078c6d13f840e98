"""
``openedx.core.djangoapps.verified_track_content.partition_scheme``: the enrollment-track
partition (id 50, ``ENROLLMENT_TRACK_PARTITION_ID``).

Its groups are the ids of the LMS setting ``COURSE_ENROLLMENT_MODES`` (audit 1, verified 2, …);
a learner's group is their enrollment mode's id (None when not enrolled). Read-only.
"""
from __future__ import annotations

from django.conf import settings

ENROLLMENT_TRACK_PARTITION_ID = 50

#: edx-platform's default ``COURSE_ENROLLMENT_MODES`` ids (the fake reads the setting when set).
DEFAULT_MODE_IDS = {
    "audit": 1,
    "verified": 2,
    "professional": 3,
    "no-id-professional": 4,
    "credit": 5,
    "honor": 6,
    "masters": 7,
}


def mode_ids() -> dict:
    configured = getattr(settings, "COURSE_ENROLLMENT_MODES", None)
    if configured:
        return {slug: spec["id"] for slug, spec in configured.items()}
    return dict(DEFAULT_MODE_IDS)


def enrollment_track_partition() -> dict:
    """The dynamic partition the platform adds to every course at run time."""
    return {
        "id": ENROLLMENT_TRACK_PARTITION_ID,
        "name": "Enrollment Track Groups",
        "scheme": "enrollment_track",
        "groups": sorted(mode_ids().values()),
        "access_denied_message": None,
    }


class EnrollmentTrackPartitionScheme:
    """The ``enrollment_track`` scheme: the group of the learner's active enrollment mode."""

    @classmethod
    def get_group_for_user(cls, course_key, user, user_partition, use_cached=True):
        from common.djangoapps.student.models import CourseEnrollment

        if user is None or getattr(user, "pk", None) is None:
            return None
        enrollment = CourseEnrollment.objects.filter(user_id=user.pk, course_id=course_key, is_active=True).first()
        return None if enrollment is None else mode_ids().get(enrollment.mode)
