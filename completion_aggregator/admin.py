"""Read-only admin views of the aggregator's tables (rows are written by the api only)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import Aggregator, StaleCompletion

if TYPE_CHECKING:  # django-stubs' ModelAdmin is generic; Django's is not subscriptable at run time
    _ModelAdmin = admin.ModelAdmin[Model]
else:
    _ModelAdmin = admin.ModelAdmin


class ReadOnlyAdmin(_ModelAdmin):
    """An admin that lists and shows rows, and never adds or changes one."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Nobody adds rows here: the api writes them."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Nobody changes rows here: the api writes them."""
        return False


@admin.register(Aggregator)
class AggregatorAdmin(ReadOnlyAdmin):
    """The stored completion of each learner, course and block, by aggregation name."""

    list_display = (
        "user",
        "course_key",
        "aggregation_name",
        "block_key",
        "earned",
        "possible",
        "percent",
        "last_modified",
    )
    list_filter = ("aggregation_name",)
    search_fields = ("user__username", "course_key", "block_key")


@admin.register(StaleCompletion)
class StaleCompletionAdmin(ReadOnlyAdmin):
    """The queue of enrollments waiting for an aggregation (resolved rows are kept until the cleanup)."""

    list_display = ("id", "username", "course_key", "block_key", "force", "resolved", "created")
    list_filter = ("resolved", "force")
    search_fields = ("username", "course_key")
