"""
Every ``COMPLETION_AGGREGATOR_*`` default, in one place.

``DEFAULTS`` is what :mod:`completion_aggregator.conf` falls back to; ``plugin_settings``
is what edx-platform's plugin loader calls for the ``common`` settings type.
"""
from __future__ import annotations

from typing import Any

from ..event_names import DEFAULT_BLOCK_TYPES

DEFAULTS: dict[str, Any] = {
    # The aggregation names: the block types that get stored Aggregator rows.
    "COMPLETION_AGGREGATOR_BLOCK_TYPES": set(DEFAULT_BLOCK_TYPES),
    # Block types whose row changes emit tracking events (None/empty: none).
    "COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES": set(DEFAULT_BLOCK_TYPES),
    # False: aggregate each enrollment right after its completion commits; True: the cron service does it.
    "COMPLETION_AGGREGATOR_ASYNC_AGGREGATION": False,
    # Cache keys of the service and cleanup locks.
    "COMPLETION_AGGREGATOR_AGGREGATION_LOCK": "COMPLETION_AGGREGATOR_AGGREGATION_LOCK",
    "COMPLETION_AGGREGATOR_CLEANUP_LOCK": "COMPLETION_AGGREGATOR_CLEANUP_LOCK",
    # How long a lock lives when its holder dies (seconds).
    "COMPLETION_AGGREGATOR_AGGREGATION_LOCK_TIMEOUT_SECONDS": 1800,
    "COMPLETION_AGGREGATOR_CLEANUP_LOCK_TIMEOUT_SECONDS": 900,
    # Count blocks whose start date is still in the future.
    "COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS": False,
    # Lifetime (s) of cached compiled course graphs (the peer's per-user structure cache setting).
    "COMPLETION_AGGREGATOR_UPDATER_CACHE_TIMEOUT": 600,
    # Accepted for compatibility; we always start from the collected block structure.
    "COMPLETION_AGGREGATOR_USE_COLLECTED_BLOCK_STRUCTURE": False,
    # Dotted path of the host adapter class (course structure, enrollments, roles, cohorts).
    "COMPLETION_AGGREGATOR_ADAPTER": "completion_aggregator.adapters.edx_platform.EdxPlatformAdapter",
    # {block_type: "completable" | "aggregator" | "excluded"} overriding the detected completion mode.
    "COMPLETION_AGGREGATOR_COMPLETION_MODE_OVERRIDES": {},
    # Ask the installed XBlock classes for their completion mode before the built-in table.
    "COMPLETION_AGGREGATOR_USE_XBLOCK_CLASSES": True,
    # Stale rows read per service batch.
    "COMPLETION_AGGREGATOR_SERVICE_BATCH_SIZE": 1000,
    # ``run_aggregator_service --follow``: seconds between cycles while there is work (an idle
    # follower doubles its sleep up to five periods; a full cycle, a backlog, does not sleep).
    "COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS": 1.0,
    # ``run_aggregator_service --follow``: the most stale rows one cycle reads and dispatches.
    "COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE": 10000,
    # Learners per aggregation task (one graph load and one completions query per chunk): a whole
    # number of at least 1, else the system check completion_aggregator.E001 fails (never clamped).
    "COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE": 200,
    # Rows per block of the statistics' running totals that writers of one course add to: chunks
    # running at once use different ones, so they do not wait for each other (ADR 0020; 1 to 256).
    "COMPLETION_AGGREGATOR_TOTALS_SHARDS": 8,
    # More changed blocks than this for one learner means a full recompute of that learner.
    "COMPLETION_AGGREGATOR_MAX_CHANGED_BLOCKS": 50,
    # Recompute a learner's changed blocks along their paths only (the stored rows beside the path and
    # the completions under it) when this app computed their rows in full against the current structure
    # (ADR 0018); False: read every completion and row of the learner, as before.
    "COMPLETION_AGGREGATOR_PATH_ONLY_UPDATES": True,
    # Upper bound on the REST ``page_size`` parameter.
    "COMPLETION_AGGREGATOR_MAX_PAGE_SIZE": 1000,
    # Cache lifetime (s) of the course ``mean``.
    "COMPLETION_AGGREGATOR_MEAN_CACHE_TIMEOUT": 1800,
    # React to course publish, block deletion, enrollment (created or changed), enrollment-track and
    # cohort changes; the statistics' totals follow enrollments whatever this says.
    "ENABLE_COURSE_ACTIVITY_SIGNALS": True,
    # Delay (s) before re-aggregating after a publish (edx-platform rebuilds its structure after 30 s).
    "COMPLETION_AGGREGATOR_PUBLISH_COUNTDOWN": 60,
    # How often (s) run_aggregator_service looks for block start dates that have passed and marks
    # those courses' learners stale (0: on every run; None: never).
    "COMPLETION_AGGREGATOR_RELEASE_CHECK_INTERVAL": 900,
    # Extra CSP ``frame-ancestors`` sources allowed to embed the progress bar pages in an iframe,
    # besides the site's own origins ('self'; in edx-platform also the LMS, Learning MFE, Studio
    # and preview origins), e.g. ("https://apps.example.com",); ("'none'",) forbids embedding.
    # The pages never send X-Frame-Options.
    "COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS": (),
    # Learners per page of the course progress report's learner table.
    "COMPLETION_AGGREGATOR_REPORT_PAGE_SIZE": 50,
    # Learners read per query while streaming the course progress report's CSV.
    "COMPLETION_AGGREGATOR_REPORT_CSV_CHUNK_SIZE": 1000,
}


def plugin_settings(settings: Any) -> None:
    """Set every default that the host has not set already (edx-platform ``common`` hook)."""
    for name, value in DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, value.copy() if isinstance(value, (set, dict)) else value)
    # Our event names through edx-event-routing-backends' xAPI backend (no-op without that package).
    from ..xapi import configure_settings

    configure_settings(settings)
