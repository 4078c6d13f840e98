"""
The Python API of completion_aggregator: the only public Python surface of the app (ADR 0023).

Views, tasks, receivers, the service and management commands import this package (and
:mod:`.exceptions`), never its other submodules, the models or the host adapters. This module
only re-exports: each verb lives in the submodule named beside it.
"""

from .aggregation import AggregationResult, aggregate_learners
from .exceptions import BlockNotInCourse, CompletionTrackingDisabled, CourseNotFound, LockHeld, NotEnrolled
from .graphs import clear_graph_cache, graph_for
from .host import is_course_staff, platform_authentication_classes, site_origins
from .learners import ForgottenLearnerData, forget_learner, rename_learner
from .progress import block_is_known, compute_course_progress, get_course_progress
from .queue import (
    delete_resolved,
    has_pending_work,
    has_unresolved_after,
    is_pending,
    known_course_keys,
    last_stale_id,
    mark_course_stale,
    mark_stale,
    oldest_unresolved,
    reaggregate_course,
    resolved_among,
    unresolved_stale_rows,
)
from .releases import ReleaseCheckData, mark_released_stale
from .report_page import build_course_report, iter_course_csv, whole_percent
from .reports import (
    enrolled_learners,
    get_block_display_names,
    get_learner_progress,
    get_stored_progress_many,
    get_user_course_keys,
    get_user_progress,
    submit_block_completion,
)
from .stats import BlockStatsData, CompletionStatsData, CourseStatsData, get_course_stats, get_mean
from .totals import check as check_statistics_totals
from .totals import is_built as statistics_totals_built
from .totals import rebuild as rebuild_statistics_totals
from .totals import sync_learners as sync_statistics_learners

__all__ = [
    # Writing: the queue of stale work and the aggregation.
    "AggregationResult",
    "aggregate_learners",
    "mark_stale",
    "mark_course_stale",
    "reaggregate_course",
    "mark_released_stale",
    "ReleaseCheckData",
    "is_pending",
    "has_pending_work",
    "known_course_keys",
    # The service's reads of the queue (batch.py).
    "unresolved_stale_rows",
    "oldest_unresolved",
    "has_unresolved_after",
    "resolved_among",
    "last_stale_id",
    "delete_resolved",
    # Learners' accounts.
    "ForgottenLearnerData",
    "forget_learner",
    "rename_learner",
    # Reading one learner.
    "get_course_progress",
    "compute_course_progress",
    "get_learner_progress",
    "get_user_progress",
    "get_user_course_keys",
    "block_is_known",
    "submit_block_completion",
    # Reading many learners, statistics, the course report.
    "enrolled_learners",
    "get_stored_progress_many",
    "get_course_stats",
    "get_mean",
    "get_block_display_names",
    "BlockStatsData",
    "CompletionStatsData",
    "CourseStatsData",
    "build_course_report",
    "iter_course_csv",
    "whole_percent",
    # The statistics' running totals.
    "check_statistics_totals",
    "rebuild_statistics_totals",
    "statistics_totals_built",
    "sync_statistics_learners",
    # Course graphs.
    "graph_for",
    "clear_graph_cache",
    # The host, for the delivery layer.
    "is_course_staff",
    "site_origins",
    "platform_authentication_classes",
    # Exceptions (also in api.exceptions).
    "BlockNotInCourse",
    "CompletionTrackingDisabled",
    "CourseNotFound",
    "LockHeld",
    "NotEnrolled",
]
