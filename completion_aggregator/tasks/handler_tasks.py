"""Tasks queued by signal handlers. ``mark_all_stale`` keeps the peer's import path and signature."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from .. import api
from .aggregation_tasks import _course_key
from .typed import task

log = logging.getLogger(__name__)


@task("completion_aggregator.tasks.handler_tasks.mark_all_stale")
def mark_all_stale(course_key: str, users: Sequence[str] | None = None) -> int:
    """
    Queue a forced whole-course recompute for every active enrollment (or ``users``).

    Unlike the peer, learners who never started are included. In synchronous mode the
    aggregation follows at once. Returns the number queued.
    """
    key = _course_key(course_key)
    if key is None:
        return 0
    return api.reaggregate_course(key, users=users)
