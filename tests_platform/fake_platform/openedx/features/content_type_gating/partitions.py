"""
``openedx.features.content_type_gating.partitions``: the content type gating partition (id 51,
``CONTENT_GATING_PARTITION_ID``), groups limited access (1) and full access (2).

An audit (or unenrolled) learner in a course where gating is enabled is in the limited access
group; everyone else has full access. The partition carries an access-denied message, so the
UserPartitionTransformer keeps a gated block, locked, instead of removing it. Read-only.
"""
from __future__ import annotations

from .models import ContentTypeGatingConfig

CONTENT_GATING_PARTITION_ID = 51
LIMITED_ACCESS = 1
FULL_ACCESS = 2
#: The denial reason the platform sets on gated blocks.
DENIAL_REASON = "Feature-based Enrollments"
DENIAL_MESSAGE = "Graded assessments are available to Verified Track learners."


def content_gating_partition() -> dict:
    return {
        "id": CONTENT_GATING_PARTITION_ID,
        "name": "Feature-based Enrollments",
        "scheme": "content_type_gate",
        "groups": [LIMITED_ACCESS, FULL_ACCESS],
        "access_denied_reason": DENIAL_REASON,
        "access_denied_message": DENIAL_MESSAGE,
    }


class ContentTypeGatingPartitionScheme:
    """The ``content_type_gate`` scheme."""

    @classmethod
    def get_group_for_user(cls, course_key, user, user_partition, use_cached=True):
        from common.djangoapps.student.models import CourseEnrollment

        if not ContentTypeGatingConfig.enabled_for_enrollment(user=user, course_key=course_key):
            return FULL_ACCESS
        if getattr(user, "pk", None) is None:
            return LIMITED_ACCESS
        enrollment = CourseEnrollment.objects.filter(user_id=user.pk, course_id=course_key, is_active=True).first()
        return LIMITED_ACCESS if enrollment is None or enrollment.mode == "audit" else FULL_ACCESS
