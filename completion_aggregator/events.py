"""
Tracking events for changed aggregates, emitted through ``event-tracking`` after commit.

* ``openedx.completion_aggregator.progress.{course|chapter|sequential|vertical}``: one per
  Aggregator row created or changed by a write, for the block types in
  ``COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES`` (unchanged rows emit nothing).
* ``openedx.completion_aggregator.completion.{type}``: each time a row goes from below 1.0
  (or from no row) to 1.0. Blocks with nothing to complete (``possible`` 0, percent 1.0 by
  definition) never emit it.

Every event carries ``user_id, username, course_id, block_id, created, modified, earned,
possible, percent, type`` (timestamps as ISO 8601 strings). The write path builds the
payloads from what it already holds (no query per event) and hands them to
:func:`emit_after_commit`: a rolled-back write emits nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Iterable, Optional

from django.db import transaction

from .conf import get_setting
from .data import AggregateData
from .event_names import (  # noqa: F401  (the names, re-exported where they were defined before)
    COMPLETION_EVENT_NAMES,
    COMPLETION_EVENT_PREFIX,
    EVENT_NAMES,
    EVENT_TYPES,
    PROGRESS_EVENT_NAMES,
    PROGRESS_EVENT_PREFIX,
)

log = logging.getLogger(__name__)


_COMPLETE = 1.0 - 1e-9

Event = tuple[str, dict[str, Any]]


def tracked_types() -> frozenset[str]:
    """The block types whose changes emit events (empty or None setting: none)."""
    return frozenset(get_setting("COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES") or ())


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() if value is not None else None


def build_events(
    *,
    course_key: str,
    user_id: int,
    username: str,
    value: AggregateData,
    before: Optional[AggregateData],
    created: datetime,
    modified: datetime,
    types: frozenset[str],
) -> list[Event]:
    """The events of one created or changed row (none when its type is not tracked)."""
    if value.block_type not in types:
        return []
    data = {
        "user_id": user_id,
        "username": username,
        "course_id": str(course_key),
        "block_id": str(value.block_key),
        "created": _iso(created),
        "modified": _iso(modified),
        "earned": float(value.earned),
        "possible": float(value.possible),
        "percent": float(value.percent),
        "type": value.block_type,
    }
    events: list[Event] = [(PROGRESS_EVENT_PREFIX + value.block_type, data)]
    was_complete = before is not None and before.percent >= _COMPLETE and before.possible > 0
    if value.percent >= _COMPLETE and value.possible > 0 and not was_complete:
        events.append((COMPLETION_EVENT_PREFIX + value.block_type, dict(data)))
    return events


def emit_events(events: Iterable[Event]) -> int:
    """Send events to event-tracking's default tracker now; returns how many were sent."""
    from eventtracking import tracker

    sent = 0
    for name, data in events:
        try:
            tracker.emit(name, data)
        except Exception:  # pylint: disable=broad-except  (a tracking failure must not break the caller)
            log.exception("completion_aggregator: could not emit %s", name)
            continue
        sent += 1
    return sent


def emit_after_commit(events: list[Event]) -> None:
    """Emit ``events`` once the current transaction commits (now, outside a transaction)."""
    if events:
        transaction.on_commit(lambda: emit_events(events))
