"""Pagination of the REST API: edx-drf-extensions' namespaced envelope with a capped page size."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.settings import api_settings

from ..conf import get_setting

if TYPE_CHECKING:  # edx-drf-extensions has no type hints: its paginator is a PageNumberPagination
    from rest_framework.pagination import PageNumberPagination as NamespacedPageNumberPagination
else:
    from edx_rest_framework_extensions.paginators import NamespacedPageNumberPagination

DEFAULT_PAGE_SIZE = 10


class CompletionPagination(NamespacedPageNumberPagination):
    """
    ``{"pagination": {"next", "previous", "count", "num_pages"}, "results": [...]}``.

    ``page_size`` is capped by ``COMPLETION_AGGREGATOR_MAX_PAGE_SIZE``: a larger request is
    served at the cap, not refused.
    """

    page_size_query_param = "page_size"

    @property
    def page_size(self) -> int:
        """The host's ``REST_FRAMEWORK["PAGE_SIZE"]`` (10 when unset), never above the cap."""
        return min(api_settings.PAGE_SIZE or DEFAULT_PAGE_SIZE, self.max_page_size)

    @page_size.setter
    def page_size(self, value: int | None) -> None:
        """Refused: DRF's attribute is read from the settings here (as a property without setter did)."""
        raise AttributeError("CompletionPagination.page_size follows the settings; it cannot be set")

    @property
    def max_page_size(self) -> int:
        """Read at request time, so that a settings change applies without a restart."""
        return int(get_setting("COMPLETION_AGGREGATOR_MAX_PAGE_SIZE"))

    @max_page_size.setter
    def max_page_size(self, value: int | None) -> None:
        """Refused: DRF's attribute is read from the settings here (as a property without setter did)."""
        raise AttributeError("CompletionPagination.max_page_size follows COMPLETION_AGGREGATOR_MAX_PAGE_SIZE")

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The OpenAPI shape of the namespaced envelope."""
        return {
            "type": "object",
            "required": ["pagination", "results"],
            "properties": {
                "pagination": {
                    "type": "object",
                    "required": ["next", "previous", "count", "num_pages"],
                    "properties": {
                        "next": {"type": "string", "format": "uri", "nullable": True},
                        "previous": {"type": "string", "format": "uri", "nullable": True},
                        "count": {"type": "integer"},
                        "num_pages": {"type": "integer"},
                    },
                },
                "results": schema,
            },
        }
