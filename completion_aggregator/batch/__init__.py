"""
The batch loops of the delivery layer, each behind its lock.

:mod:`.service`: the service run (stale rows → Celery tasks) and the cleanup; :mod:`.following`:
the follower that keeps dispatching in short cycles (``run_aggregator_service --follow``).
"""
from __future__ import annotations

from .following import (
    FOLLOW_IDLE_FACTOR,
    FOLLOW_RETRY_SECONDS,
    FOLLOW_SETTLE_SECONDS,
    CycleReport,
    FollowSummary,
    follow,
)
from .service import ServiceSummary, run_cleanup, run_service

__all__ = [
    "FOLLOW_IDLE_FACTOR",
    "FOLLOW_RETRY_SECONDS",
    "FOLLOW_SETTLE_SECONDS",
    "CycleReport",
    "FollowSummary",
    "ServiceSummary",
    "follow",
    "run_cleanup",
    "run_service",
]
