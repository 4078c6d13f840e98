"""``CourseEnrollment`` and ``CourseAccessRole`` (``common.djangoapps.student.models``)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from opaque_keys.edx.django.models import CourseKeyField
from openedx.core.djangoapps.content.course_overviews.models import CourseOverview


class CourseEnrollmentManager(models.Manager):
    def users_enrolled_in(self, course_id, include_inactive=False, verified_only=False):
        """The users enrolled in the course (active only unless ``include_inactive``)."""
        filters = {"courseenrollment__course_id": course_id}
        if not include_inactive:
            filters["courseenrollment__is_active"] = True
        if verified_only:
            filters["courseenrollment__mode"] = "verified"
        return get_user_model().objects.filter(**filters)

    def num_enrolled_in_exclude_admins(self, course_id):
        staff = CourseAccessRole.objects.filter(course_id=course_id).values_list("user_id", flat=True)
        return self.filter(course_id=course_id, is_active=True).exclude(user_id__in=staff).count()

    def enrollment_counts(self, course_id):
        counts = {"total": 0}
        for mode, count in (
            self.filter(course_id=course_id, is_active=True).values_list("mode").annotate(n=models.Count("id"))
        ):
            counts[mode] = count
            counts["total"] += count
        return counts

    def is_course_full(self, course):
        return False


class CourseEnrollment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, db_constraint=False, on_delete=models.CASCADE)
    course = models.ForeignKey(CourseOverview, db_constraint=False, on_delete=models.DO_NOTHING)
    created = models.DateTimeField(auto_now_add=True, null=True, db_index=True)
    is_active = models.BooleanField(default=True)
    mode = models.CharField(default="audit", max_length=100)

    objects = CourseEnrollmentManager()

    class Meta:
        app_label = "student"
        unique_together = (("user", "course"),)
        ordering = ("user", "course")

    def __str__(self):
        return f"{self.user} in {self.course_id} ({self.mode}, {'active' if self.is_active else 'inactive'})"

    @classmethod
    def is_enrolled(cls, user, course_key):
        return cls.objects.filter(user_id=user.pk, course_id=course_key, is_active=True).exists()

    @classmethod
    def get_enrollment(cls, user, course_key, select_related=None):
        return cls.objects.filter(user_id=user.pk, course_id=course_key).first()

    @classmethod
    def enroll(cls, user, course_key, mode="audit", check_access=False, can_upgrade=False):
        """Create or re-activate the enrollment; sends ``COURSE_ENROLLMENT_CREATED``."""
        from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED

        enrollment, _ = cls.objects.get_or_create(user=user, course_id=course_key, defaults={"is_active": False, "mode": mode})
        enrollment.update_enrollment(is_active=True, mode=mode)
        COURSE_ENROLLMENT_CREATED.send_event(enrollment=enrollment._event_data())
        return enrollment

    @classmethod
    def unenroll(cls, user, course_id, skip_refund=False):
        enrollment = cls.get_enrollment(user, course_id)
        if enrollment is not None:
            enrollment.update_enrollment(is_active=False, skip_refund=skip_refund)

    def update_enrollment(self, mode=None, is_active=None, skip_refund=False):
        """Change the mode and/or activation; sends the legacy and openedx-events signals."""
        from openedx_events.learning.signals import COURSE_ENROLLMENT_CHANGED

        from .signals.signals import ENROLLMENT_TRACK_UPDATED, UNENROLL_DONE

        mode_changed = mode is not None and mode != self.mode
        activation_changed = is_active is not None and is_active != self.is_active
        if mode_changed:
            self.mode = mode
        if activation_changed:
            self.is_active = is_active
        if mode_changed or activation_changed:
            self.save()
            COURSE_ENROLLMENT_CHANGED.send_event(enrollment=self._event_data())
        if mode_changed:
            ENROLLMENT_TRACK_UPDATED.send(sender=None, user=self.user, course_key=self.course_id, mode=self.mode, countdown=0)
        if activation_changed and not self.is_active:
            UNENROLL_DONE.send(sender=None, course_enrollment=self, skip_refund=skip_refund)

    def _event_data(self):
        from openedx_events.learning.data import CourseData, CourseEnrollmentData, UserData, UserPersonalData

        return CourseEnrollmentData(
            user=UserData(
                id=self.user.pk,
                is_active=self.user.is_active,
                pii=UserPersonalData(username=self.user.username, email=self.user.email, name=self.user.get_full_name()),
            ),
            course=CourseData(course_key=self.course_id, display_name=""),
            mode=self.mode,
            is_active=self.is_active,
            creation_date=self.created or timezone.now(),
        )


class NoneToEmptyManager(models.Manager):
    """Turns ``None`` filter values into ``''`` (as edx-platform's manager does)."""

    def filter(self, *args, **kwargs):
        return super().filter(*args, **{k: ("" if v is None else v) for k, v in kwargs.items()})


class CourseAccessRole(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    org = models.CharField(max_length=64, db_index=True, blank=True)
    course_id = CourseKeyField(max_length=255, db_index=True, blank=True)
    role = models.CharField(max_length=64, db_index=True)

    objects = NoneToEmptyManager()

    class Meta:
        app_label = "student"
        unique_together = ("user", "org", "course_id", "role")

    def __str__(self):
        return f"{self.user}: {self.role} of {self.course_id or self.org or 'every course'}"
