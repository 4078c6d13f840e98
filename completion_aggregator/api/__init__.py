"""
The Python API of completion_aggregator: the one place that reads and writes its models.

Views, tasks, receivers and management commands call these functions.
"""
from .aggregation import AggregationResult, aggregate_learners, prepare_user_deletion
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
    "prepare_user_deletion",
    "reaggregate_course",
]

# Reports for the REST API: many learners, statistics, the course mean.
from .reports import (  # noqa: E402
    BlockStatsData,
    CompletionStatsData,
    CompletionTrackingDisabled,
    CourseStatsData,
    NotEnrolled,
    enrolled_learners,
    get_course_stats,
    get_learner_progress,
    get_mean,
    get_stored_progress_many,
    get_user_course_keys,
    get_user_progress,
    submit_block_completion,
)

__all__ += [
    "BlockStatsData",
    "CompletionStatsData",
    "CompletionTrackingDisabled",
    "CourseStatsData",
    "NotEnrolled",
    "enrolled_learners",
    "get_course_stats",
    "get_learner_progress",
    "get_mean",
    "get_stored_progress_many",
    "get_user_course_keys",
    "get_user_progress",
    "submit_block_completion",
]
