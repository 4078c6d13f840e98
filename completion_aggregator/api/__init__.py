"""
The Python API of completion_aggregator: the one place that reads and writes its models.

Views, tasks, receivers and management commands call these functions.
"""
from .aggregation import AggregationResult, aggregate_learners
from .graphs import clear_graph_cache, graph_for
from .progress import BlockNotInCourse, compute_course_progress, get_course_progress
from .queue import has_pending_work, known_course_keys, mark_course_stale, mark_stale, reaggregate_course

__all__ = [
    "AggregationResult",
    "BlockNotInCourse",
    "aggregate_learners",
    "clear_graph_cache",
    "compute_course_progress",
    "get_course_progress",
    "graph_for",
    "has_pending_work",
    "known_course_keys",
    "mark_course_stale",
    "mark_stale",
    "reaggregate_course",
]
