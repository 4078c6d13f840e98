"""The REST API (DRF): v1, v0 (a thin variant of v1), and the OpenAPI schema. Views call ``completion_aggregator.api``."""
