"""The REST API (DRF): v1, v0 (a thin variant of v1), the OpenAPI schema; views call ``completion_aggregator.api``."""
