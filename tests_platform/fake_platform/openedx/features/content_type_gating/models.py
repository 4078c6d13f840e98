"""
``openedx.features.content_type_gating.models.ContentTypeGatingConfig`` (feature-based
enrollments).

The real config lives in database rows (site/org/course, with an ``enabled_as_of`` date); the
fake reads the course keys listed in the fake-only setting
``FAKE_PLATFORM_CONTENT_TYPE_GATING_COURSES``. Gating never applies to course staff.
"""
from __future__ import annotations

from django.conf import settings


class ContentTypeGatingConfig:
    @classmethod
    def enabled_for_course(cls, course_key=None) -> bool:
        return str(course_key) in {str(k) for k in getattr(settings, "FAKE_PLATFORM_CONTENT_TYPE_GATING_COURSES", ())}

    @classmethod
    def enabled_for_enrollment(cls, user=None, course_key=None) -> bool:
        if not cls.enabled_for_course(course_key):
            return False
        return not getattr(user, "is_staff", False)
