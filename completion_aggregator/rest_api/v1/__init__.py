"""v1 REST API: course completion lists and details, course statistics."""
