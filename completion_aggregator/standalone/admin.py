"""Django admin for the standalone host's data."""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Model

from . import models

if TYPE_CHECKING:  # django-stubs' admin classes are generic; Django's are not subscriptable at run time
    _ModelAdmin = admin.ModelAdmin[Model]
    _TabularInline = admin.TabularInline[Model, Model]
else:
    _ModelAdmin = admin.ModelAdmin
    _TabularInline = admin.TabularInline


@admin.register(models.Course)
class CourseAdmin(_ModelAdmin):
    """Courses of the host (key, name, mobile flag)."""

    list_display = ("course_key", "display_name", "mobile_available")
    search_fields = ("course_key", "display_name")


class CourseBlockInline(_TabularInline):
    """A structure version's blocks, read-only (a published version never changes)."""

    model = models.CourseBlock
    extra = 0
    fields = (
        "block_key", "block_type", "display_name", "start", "visible_to_staff_only", "optional_completion",
        "group_access", "max_count",
    )
    readonly_fields = fields
    can_delete = False


@admin.register(models.CourseStructure)
class CourseStructureAdmin(_ModelAdmin):
    """Published structure versions, with their blocks."""

    list_display = ("course", "version", "published_at", "root_block_key")
    inlines = [CourseBlockInline]


@admin.register(models.Enrollment)
class EnrollmentAdmin(_ModelAdmin):
    """Enrollments (active or not) and their modes."""

    list_display = ("user", "course_key", "is_active", "mode", "created")
    list_filter = ("is_active", "mode")
    search_fields = ("user__username", "course_key")


@admin.register(models.CourseAccessRole)
class CourseAccessRoleAdmin(_ModelAdmin):
    """Course and org roles (staff, instructor …)."""

    list_display = ("user", "role", "course_key", "org")
    search_fields = ("user__username", "course_key", "org")


@admin.register(models.Cohort)
class CohortAdmin(_ModelAdmin):
    """Cohorts and the content group each maps to."""

    list_display = ("name", "course_key", "partition_id", "group_id")


@admin.register(models.CohortMembership)
class CohortMembershipAdmin(_ModelAdmin):
    """Learners' cohort memberships."""

    list_display = ("user", "cohort", "course_key")
