"""``CourseUsageInfo``: who is looking at the course, and how."""
from __future__ import annotations


class CourseUsageInfo:
    def __init__(self, course_key, user, allow_start_dates_in_future=False, include_has_scheduled_content=False):
        self.course_key = course_key
        self.user = user
        self.allow_start_dates_in_future = allow_start_dates_in_future
        self.include_has_scheduled_content = include_has_scheduled_content
        self._has_staff_access = None

    @property
    def has_staff_access(self):
        """Global staff, or a staff/instructor role for the course or its org (``has_access(user, 'staff', …)``)."""
        if self._has_staff_access is None and getattr(self.user, "pk", None) is None:
            self._has_staff_access = False  # an anonymous user is never staff
        if self._has_staff_access is None:
            from common.djangoapps.student.models import CourseAccessRole
            from django.db.models import Q
            from opaque_keys.edx.django.models import CourseKeyField

            self._has_staff_access = bool(getattr(self.user, "is_staff", False)) or CourseAccessRole.objects.filter(
                Q(course_id=self.course_key) | Q(course_id=CourseKeyField.Empty, org__iexact=self.course_key.org),
                user_id=self.user.pk,
                role__in=["staff", "instructor"],
            ).exists()
        return self._has_staff_access
