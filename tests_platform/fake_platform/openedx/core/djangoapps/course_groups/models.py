"""Cohort models (``openedx.core.djangoapps.course_groups.models``)."""
from django.conf import settings
from django.db import models
from opaque_keys.edx.django.models import CourseKeyField


class CourseUserGroup(models.Model):
    COHORT = "cohort"
    GROUP_TYPE_CHOICES = ((COHORT, "Cohort"),)

    name = models.CharField(max_length=255)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, db_index=True, related_name="course_groups")
    course_id = CourseKeyField(max_length=255, db_index=True)
    group_type = models.CharField(max_length=20, choices=GROUP_TYPE_CHOICES)

    class Meta:
        app_label = "course_groups"
        unique_together = (("name", "course_id"),)

    def __str__(self):
        return f"{self.name} ({self.course_id})"


class CohortMembership(models.Model):
    course_user_group = models.ForeignKey(CourseUserGroup, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    course_id = CourseKeyField(max_length=255)

    class Meta:
        app_label = "course_groups"
        unique_together = (("user", "course_id"),)

    def __str__(self):
        return f"{self.user} in cohort {self.course_user_group_id} of {self.course_id}"


class CourseUserGroupPartitionGroup(models.Model):
    """A cohort linked to a content group (partition id, group id)."""

    course_user_group = models.OneToOneField(CourseUserGroup, on_delete=models.CASCADE)
    partition_id = models.IntegerField()
    group_id = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "course_groups"

    def __str__(self):
        return f"cohort {self.course_user_group_id}: group {self.group_id} of partition {self.partition_id}"
