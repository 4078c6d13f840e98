"""Management commands of completion_aggregator (the operator's entry points)."""
