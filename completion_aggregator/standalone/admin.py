"""Django admin for the standalone host's data."""
from django.contrib import admin

from . import models


@admin.register(models.Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("course_key", "display_name", "mobile_available")
    search_fields = ("course_key", "display_name")


class CourseBlockInline(admin.TabularInline):
    model = models.CourseBlock
    extra = 0
    fields = (
        "block_key", "block_type", "display_name", "start", "visible_to_staff_only", "optional_completion",
        "group_access", "max_count",
    )
    readonly_fields = fields
    can_delete = False


@admin.register(models.CourseStructure)
class CourseStructureAdmin(admin.ModelAdmin):
    list_display = ("course", "version", "published_at", "root_block_key")
    inlines = [CourseBlockInline]


@admin.register(models.Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("user", "course_key", "is_active", "mode", "created")
    list_filter = ("is_active", "mode")
    search_fields = ("user__username", "course_key")


@admin.register(models.CourseAccessRole)
class CourseAccessRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "course_key", "org")
    search_fields = ("user__username", "course_key", "org")


@admin.register(models.Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "course_key", "partition_id", "group_id")


@admin.register(models.CohortMembership)
class CohortMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "cohort", "course_key")
