"""Read-only admin views of the aggregator's tables (rows are written by the api only)."""
from django.contrib import admin

from .models import Aggregator, StaleCompletion


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Aggregator)
class AggregatorAdmin(ReadOnlyAdmin):
    list_display = ("user", "course_key", "aggregation_name", "block_key", "earned", "possible", "percent", "last_modified")
    list_filter = ("aggregation_name",)
    search_fields = ("user__username", "course_key", "block_key")


@admin.register(StaleCompletion)
class StaleCompletionAdmin(ReadOnlyAdmin):
    list_display = ("id", "username", "course_key", "block_key", "force", "resolved", "created")
    list_filter = ("resolved", "force")
    search_fields = ("username", "course_key")
