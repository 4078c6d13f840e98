"""The standalone host's data: courses, versioned structures, enrollments, roles, cohorts."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from opaque_keys.edx.django.models import CourseKeyField, UsageKeyField


class Course(models.Model):
    """A course (the stand-in for edx-platform's CourseOverview)."""

    course_key = CourseKeyField(max_length=255, unique=True)
    display_name = models.CharField(max_length=255, blank=True)
    mobile_available = models.BooleanField(default=False)

    def __str__(self) -> str:
        return str(self.course_key)


class CourseStructure(models.Model):
    """One published version of a course's block tree; the newest version is the live one."""

    course = models.ForeignKey(Course, related_name="structures", on_delete=models.CASCADE)
    version = models.PositiveIntegerField()
    root_block_key = UsageKeyField(max_length=255)
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        unique_together = [("course", "version")]
        ordering = ["course", "-version"]

    def __str__(self) -> str:
        return f"{self.course.course_key} v{self.version}"


class CourseBlock(models.Model):
    """A block of one structure version, with its effective (inherited) start and staff-only flag."""

    structure = models.ForeignKey(CourseStructure, related_name="blocks", on_delete=models.CASCADE)
    block_key = UsageKeyField(max_length=255)
    block_type = models.CharField(max_length=64)
    display_name = models.CharField(max_length=255, blank=True)
    children = models.JSONField(default=list, blank=True)  # block keys, in course order
    start = models.DateTimeField(null=True, blank=True)
    visible_to_staff_only = models.BooleanField(default=False)
    optional_completion = models.BooleanField(default=False)
    #: Content-group restriction ``{"partition id": [group ids]}`` (own, not inherited; a
    #: hidden block hides its subtree). Empty: no restriction.
    group_access = models.JSONField(default=dict, blank=True)
    #: ``library_content``-like blocks: how many children a learner gets (None: all).
    max_count = models.IntegerField(null=True, blank=True)
    #: Other per-learner settings: ``user_partitions`` (course root), ``user_partition_id`` and
    #: ``group_id_to_child`` (split_test; group id string → child block key).
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        unique_together = [("structure", "block_key")]

    def __str__(self) -> str:
        return str(self.block_key)


class Enrollment(models.Model):
    """A learner's enrollment (the stand-in for CourseEnrollment)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="standalone_enrollments", on_delete=models.CASCADE)
    course_key = CourseKeyField(max_length=255, db_index=True)
    is_active = models.BooleanField(default=True)
    mode = models.CharField(max_length=100, default="audit")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        unique_together = [("user", "course_key")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.course_key}"


class CourseAccessRole(models.Model):
    """A course or org role (the stand-in for CourseAccessRole): blank course = org-wide."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="standalone_roles", on_delete=models.CASCADE)
    org = models.CharField(max_length=64, blank=True, db_index=True)
    course_key = CourseKeyField(max_length=255, blank=True, db_index=True)
    role = models.CharField(max_length=64)

    class Meta:
        unique_together = [("user", "org", "course_key", "role")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} {self.course_key or self.org}"


class Cohort(models.Model):
    """A cohort of a course."""

    course_key = CourseKeyField(max_length=255, db_index=True)
    name = models.CharField(max_length=255)
    #: The content group this cohort maps to (edx-platform's CourseUserGroupPartitionGroup):
    #: a ``scheme: cohort`` user partition id and one of its group ids; None: unmapped.
    partition_id = models.IntegerField(null=True, blank=True)
    group_id = models.IntegerField(null=True, blank=True)

    class Meta:
        unique_together = [("course_key", "name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.course_key})"


class CohortMembership(models.Model):
    """A learner's cohort in a course (at most one per course)."""

    cohort = models.ForeignKey(Cohort, related_name="memberships", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="standalone_cohorts", on_delete=models.CASCADE)
    course_key = CourseKeyField(max_length=255)

    class Meta:
        unique_together = [("user", "course_key")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.cohort}"
