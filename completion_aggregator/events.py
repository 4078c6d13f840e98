"""
Tracking events for changed aggregates, emitted through ``event-tracking`` after commit.

* ``openedx.completion_aggregator.progress.{course|chapter|sequential|vertical}``: one per
  Aggregator row created or changed by a write, for the aggregation names
  in ``COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES`` (unchanged rows emit nothing).
* ``openedx.completion_aggregator.completion.{type}``: each time a row goes from below 1.0
  (or from no row) to 1.0. Blocks with nothing to complete (``possible`` 0, percent 1.0 by
  definition) never emit it.

Every event carries ``user_id, username, course_id, block_id, created, modified, earned,
possible, percent, type`` (timestamps as ISO 8601 strings). A write describes its events
with an :class:`EventBatch` over the rows it changed (no query per event) and hands it to
:func:`emit_after_commit`: a rolled-back write emits nothing, and the payloads are built one
at a time as they are sent.

Sending (ADR 0021). ``tracker.emit(name, data)`` builds ``{"name", "timestamp", "data",
"context"}`` and hands it to the tracker's ``RoutingBackend``, which deep-copies it before
its processors (they may change an event in place); every nested ``RoutingBackend`` (the
LMS's ``tracking_logs`` and ``segmentio``) copies it again, and ``copy.deepcopy`` walks each
value in Python. So, without changing what any processor or backend receives:

* the payload is a :class:`Payload` and the timestamp an :class:`Instant`: a ``dict`` and a
  ``datetime`` whose deep copies are a shallow copy and the object itself (their values are
  immutable, so these *are* deep copies, made without the walk);
* when the default tracker is event-tracking's own ``Tracker`` with its own
  ``RoutingBackend``, :func:`emit_events` builds the event as ``Tracker.emit`` does and runs the
  routing backend's processors and backends on it without the first copy: the event and its
  payload are new and nothing else holds them (the context, which the tracker holds, is
  deep-copied as before). Any other tracker, and a replaced ``eventtracking.tracker.emit``
  (tests' mocks, instrumentation), gets ``emit(name, data)`` per event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import deepcopy
from datetime import datetime
from typing import Any

from django.db import transaction
from eventtracking import tracker as eventtracking_tracker
from eventtracking.backends.routing import RoutingBackend
from eventtracking.processors.exceptions import EventEmissionExit
from eventtracking.tracker import UTC, Tracker

from .conf import get_setting
from .data import AggregateData
from .event_names import (
    COMPLETION_EVENT_NAMES,
    COMPLETION_EVENT_PREFIX,
    EVENT_NAMES,
    EVENT_TYPES,
    PROGRESS_EVENT_NAMES,
    PROGRESS_EVENT_PREFIX,
)

#: The event names are re-exported from here, where they were defined before ``event_names.py``.
__all__ = [
    "COMPLETION_EVENT_NAMES",
    "COMPLETION_EVENT_PREFIX",
    "EVENT_NAMES",
    "EVENT_TYPES",
    "PROGRESS_EVENT_NAMES",
    "PROGRESS_EVENT_PREFIX",
    "EventBatch",
    "Instant",
    "Payload",
    "emit_after_commit",
    "emit_events",
    "tracked_aggregation_names",
]

log = logging.getLogger(__name__)

_COMPLETE = 1.0 - 1e-9
_PROGRESS = {name: PROGRESS_EVENT_PREFIX + name for name in EVENT_TYPES}
_COMPLETION = {name: COMPLETION_EVENT_PREFIX + name for name in EVENT_TYPES}
#: event-tracking's own module-level ``emit``: anything else there is a replacement to honour.
_LIBRARY_EMIT = eventtracking_tracker.emit


class Payload(dict[str, Any]):
    """
    An event's ``data``: a plain ``dict`` of immutable values (numbers, strings, None).

    Its deep copy is a shallow one, the same thing for such values, made in C: event-tracking
    deep-copies every event once per routing backend.
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> Payload:
        return Payload(self)


class Instant(datetime):
    """An event's ``timestamp``: a ``datetime`` (immutable), so its deep copy is itself."""

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> Instant:
        return self


Event = tuple[str, Payload]
#: One created or changed row of a write: (user id, its new values, its stored values or None).
Change = tuple[int, AggregateData, AggregateData | None]


def tracked_aggregation_names() -> frozenset[str]:
    """The aggregation names whose row changes emit events (empty or None setting: none)."""
    return frozenset(get_setting("COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES") or ())


def _is_complete(value: AggregateData) -> bool:
    return value.percent >= _COMPLETE and value.possible > 0


class EventBatch:
    """
    The events of one write to one course, built from the write's changed rows when iterated.

    ``changes``: the rows the write created or changed; ``usernames``: by user id;
    ``created_of(user id, block key)``: when a stored row was first stored (None: a new row,
    created now); ``modified``: the write's time. ``aggregation_names``: the tracked aggregation names
    (default: :func:`tracked_aggregation_names`). Each distinct timestamp is formatted once per batch.
    False when it has no event to send.
    """

    def __init__(
        self,
        course_key: object,
        changes: Sequence[Change],
        usernames: dict[int, str],
        created_of: Callable[[int, str], datetime | None],
        modified: datetime,
        aggregation_names: frozenset[str] | None = None,
    ) -> None:
        self.course_id = str(course_key)
        self.changes = changes
        self.usernames = usernames
        self.created_of = created_of
        self.modified = modified
        self.aggregation_names = tracked_aggregation_names() if aggregation_names is None else aggregation_names
        self._iso: dict[datetime, str] = {}

    def __bool__(self) -> bool:
        return bool(self.aggregation_names and self.changes)

    def _format(self, value: datetime) -> str:
        text = self._iso.get(value)
        if text is None:
            text = self._iso[value] = value.isoformat()
        return text

    def __iter__(self) -> Iterator[Event]:
        """The ``(name, payload)`` events in the order of the changes (progress, then completion)."""
        tracked, modified = self.aggregation_names, self._format(self.modified)
        for user_id, value, before in self.changes:
            aggregation_name = value.aggregation_name
            if aggregation_name not in tracked:
                continue
            stored = self.created_of(user_id, value.block_key)
            data = Payload(
                user_id=user_id,
                username=self.usernames[user_id],
                course_id=self.course_id,
                block_id=str(value.block_key),
                created=modified if stored is None else self._format(stored),
                modified=modified,
                earned=float(value.earned),
                possible=float(value.possible),
                percent=float(value.percent),
                type=aggregation_name,
            )
            yield _PROGRESS.get(aggregation_name) or PROGRESS_EVENT_PREFIX + aggregation_name, data
            if _is_complete(value) and not (before is not None and _is_complete(before)):
                # Its own payload: processors may change an event's data in place.
                yield _COMPLETION.get(aggregation_name) or COMPLETION_EVENT_PREFIX + aggregation_name, Payload(data)


def emit_after_commit(events: Iterable[Event]) -> None:
    """Emit ``events`` (a list, an :class:`EventBatch`) once the current transaction commits (now, outside one)."""
    if events:
        transaction.on_commit(lambda: emit_events(events))


def emit_events(events: Iterable[Event]) -> int:
    """
    Send ``(name, payload)`` events to event-tracking's default tracker now (see the module's doc).

    Returns how many were sent (events a processor filtered out count as sent, as with
    ``tracker.emit``). Never raises: a failing event is logged and skipped; with no default
    tracker (event-tracking not enabled) nothing is sent, with one warning. Each payload must
    be an event's own (not shared with another event).
    """
    emit = eventtracking_tracker.emit
    if emit is not _LIBRARY_EMIT:
        return _one_by_one(emit, events)
    try:
        current = eventtracking_tracker.get_tracker()
    except KeyError:
        log.warning("completion_aggregator: no default event-tracking tracker; tracking events not sent")
        return 0
    routing = getattr(current, "routing_backend", None)
    if not (
        getattr(type(current), "emit", None) is Tracker.emit
        and isinstance(routing, RoutingBackend)
        and type(routing).send is RoutingBackend.send
    ):
        return _one_by_one(current.emit, events)
    return _one_by_one(lambda name, data: _route(current, routing, name, data), events)


def _route(current: Tracker, routing: RoutingBackend, name: str, data: Payload) -> None:
    """``Tracker.emit`` then ``RoutingBackend.send`` (event-tracking 4.x), without the first deep copy."""
    context = current.resolve_context()
    event = {"name": name, "timestamp": Instant.now(UTC), "data": data, "context": deepcopy(context) if context else {}}
    try:
        event = routing.process_event(event)
    except EventEmissionExit:
        return
    routing.send_to_backends(event)


def _one_by_one(emit: Callable[[str, Payload], Any], events: Iterable[Event]) -> int:
    sent = 0
    for name, data in events:
        try:
            emit(name, data)
        except Exception:  # pylint: disable=broad-except  (a tracking failure must not break the caller)
            log.exception("completion_aggregator: could not emit %s", name)
            continue
        sent += 1
    return sent
