"""v0 REST API: the v1 views with ``ratio`` in every completion (compatibility)."""
