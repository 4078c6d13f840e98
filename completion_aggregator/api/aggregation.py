"""
The write path: turn a chunk of learners' stale rows into stored Aggregator rows.

One chunk = one course and many learners: one stale-rows query, one users query, the
adapter's structure lookup, one completions query, one stored-aggregates query, one upsert
of the rows that changed, one update resolving exactly the stale ids that were read.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Optional, Sequence

from completion.models import BlockCompletion
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey, UsageKey

from ..adapters import get_adapter
from ..adapters.base import CourseNotFound
from ..conf import get_setting
from ..data import AggregateData
from ..engine import CourseGraphError, aggregate, aggregate_changed
from ..events import build_events, emit_after_commit, tracked_types
from ..models import Aggregator, StaleCompletion
from ..upsert import Upsert
from .course_lock import ensure_course, lock_course, shard_for
from .graphs import graph_for
from .keys import as_course_key
from .queue import lock_stale_rows
from .rows import VALUE_FIELDS, raw_block_key
from .totals import record_changes

log = logging.getLogger(__name__)

_ID_CHUNK = 900  # stay under SQLite's variable limit when resolving by id


@dataclass
class AggregationResult:
    """What one chunk did."""

    course_key: str
    learners: int = 0
    stale_rows: int = 0
    rows_written: int = 0
    rows_deleted: int = 0
    unknown_users: list[str] = field(default_factory=list)
    changed: list[tuple[int, AggregateData, Optional[AggregateData]]] = field(default_factory=list)


def aggregate_learners(
    course_key: CourseKey,
    usernames: Iterable[str],
    force: bool = False,
    block_keys: Sequence[str] = (),
) -> AggregationResult:
    """
    Recompute and store the aggregates of ``usernames`` in ``course_key``; resolve their stale rows.

    ``force`` or ``block_keys`` are first queued as stale rows (a forced full recompute, or
    more changed blocks), so that every write follows the same rule, in one transaction and
    in the one lock order of every writer (docs/decisions/0014-one-lock-order.rst):

    1. the unresolved stale rows of the chunk are locked through the primary key only, in id
       order (:func:`~completion_aggregator.api.queue.lock_stale_rows`: record locks only, so
       the LMS can keep inserting new stale rows);
    2. completions and stored rows are read and the aggregates computed; if any row changes,
       the course's ``CourseTotal`` row is locked in share mode
       (:func:`~completion_aggregator.api.course_lock.lock_course`): other chunks of the course
       hold it at the same time; an enrollment sync, a user's deletion or a rebuild waits;
    3. the changed Aggregator rows are written and the changes added to the statistics' totals,
       in a shard this transaction alone holds
       (:func:`~completion_aggregator.api.course_lock.claim_shard`; the chunk's learner-id range
       picks the preferred one, :func:`~completion_aggregator.api.course_lock.shard_for`);
    4. exactly the locked ids are resolved.

    Concurrent runs for one enrollment coalesce: they lock the same stale rows, so the later
    run waits for the earlier one's commit and then finds those rows resolved (nothing to do)
    or reads the completions after that commit. A completion committed during a run keeps its
    stale row unresolved. Unknown users and deleted courses resolve their stale rows with a
    warning.

    Raises:
        django.db.DatabaseError: on database failure (the transaction rolls back; nothing is resolved).
    """
    course_key = as_course_key(course_key)
    names = sorted(set(usernames))
    result = AggregationResult(course_key=str(course_key))
    if not names:
        return result
    if force or block_keys:
        StaleCompletion.objects.bulk_create(
            [StaleCompletion(username=name, course_key=course_key, block_key=None, force=True) for name in names]
            if force
            else [StaleCompletion(username=name, course_key=course_key, block_key=key) for name in names for key in block_keys],
            batch_size=_ID_CHUNK,
        )
    candidates = sorted(  # a plain read: nothing is locked yet
        StaleCompletion.objects.filter(course_key=course_key, username__in=names, resolved=False).values_list("id", flat=True)
    )
    if not candidates:
        return result
    ensure_course(course_key)  # the statistics' lock row, outside the transaction (api/course_lock.py)
    with transaction.atomic():
        _store(course_key, candidates, result)
    return result


def _store(course_key: CourseKey, candidates: list[int], result: AggregationResult) -> None:
    stale = lock_stale_rows(candidates)  # lock order, step 1
    stale_ids = [row[0] for row in stale]
    result.stale_rows = len(stale_ids)
    if not stale:  # another run resolved them while we waited for the locks
        return
    full_for: set[str] = set()
    changed_for: dict[str, set[str]] = defaultdict(set)
    for _id, name, block_key, row_force in stale:
        if row_force or block_key is None:
            full_for.add(name)
        else:
            changed_for[name].add(str(block_key))
    names = sorted({row[1] for row in stale})

    users = list(get_user_model().objects.filter(username__in=names))
    known = {user.get_username() for user in users}
    result.unknown_users = [name for name in names if name not in known]
    for name in result.unknown_users:
        log.warning("completion_aggregator: no user %r; resolving their stale rows for %s", name, course_key)
    if not users:
        _resolve(stale_ids)
        return

    try:
        structures = get_adapter().get_course_structures(course_key, users)
    except CourseNotFound:
        log.warning("completion_aggregator: course %s not found; resolving %d stale rows", course_key, len(stale_ids))
        _resolve(stale_ids)
        return

    user_ids = [user.pk for user in users]
    completions: dict[int, list] = defaultdict(list)
    for user_id, block_key, value, modified in (
        BlockCompletion.objects.filter(context_key=course_key, user_id__in=user_ids)
        .annotate(raw_key=raw_block_key())
        .values_list("user_id", "raw_key", "completion", "modified")
    ):
        completions[user_id].append((block_key, value, modified))

    stored: dict[int, dict[str, AggregateData]] = defaultdict(dict)
    stored_ids: dict[tuple[int, str], int] = {}
    stored_created: dict[tuple[int, str], object] = {}  # for the tracking events (same query)
    for row in (
        Aggregator.objects.filter(course_key=course_key, user_id__in=user_ids)
        .annotate(raw_key=raw_block_key())
        .values_list("id", "user_id", "raw_key", "aggregation_name", *VALUE_FIELDS, "created")
    ):
        row_id, user_id, key, name, earned, possible, percent, o_earned, o_possible, o_percent, last, made = row
        stored[user_id][key] = AggregateData(key, name, earned, possible, percent, o_earned, o_possible, o_percent, last)
        stored_ids[(user_id, key)] = row_id
        stored_created[(user_id, key)] = made

    max_changed = int(get_setting("COMPLETION_AGGREGATOR_MAX_CHANGED_BLOCKS"))
    # Rows are written as tuples of database-ready values (no model instance per row): keys and
    # timestamps are converted once per distinct value by the fields' own converters.
    known_upsert, new_upsert = _upserts()
    block_db, stamp_db = new_upsert.db_value("block_key"), new_upsert.db_value("last_modified")
    course_db = new_upsert.db_value("course_key")(course_key)
    now = timezone.now()
    now_db = stamp_db(now)
    to_write: list[tuple] = []
    to_delete: list[int] = []
    deleted: list[tuple[int, None, AggregateData]] = []
    event_types = tracked_types()
    events: list = []
    for user in users:
        name = user.get_username()
        if structures[user.pk].root_hidden:
            # The course has not started (or is staff-only) for this learner: nothing to store;
            # reads compute the empty course, and the real one once it starts (ADR 0015).
            continue
        try:
            graph = graph_for(structures[user.pk])
        except CourseGraphError:
            log.exception("completion_aggregator: cannot compile %s for %s; resolving", course_key, name)
            continue
        mine = stored.get(user.pk, {})
        changed = changed_for.get(name, set())
        if name in full_for or not mine or len(changed) > max_changed or not changed:
            values = aggregate(graph, completions.get(user.pk, ()))
        else:
            values = aggregate_changed(graph, completions.get(user.pk, ()), changed, mine)
        result.learners += 1
        current = set()
        for value in values:
            current.add(value.block_key)
            before = mine.get(value.block_key)
            if before is not None and before.block_type == value.block_type and before.same_values(value):
                continue
            last = value.last_modified or (before.last_modified if before else None) or now
            to_write.append(
                (
                    stored_ids.get((user.pk, value.block_key)),
                    user.pk,
                    course_db,
                    value.block_type,
                    block_db(value.block_key),
                    value.earned,
                    value.possible,
                    value.percent,
                    value.optional_earned,
                    value.optional_possible,
                    value.optional_percent,
                    stamp_db(last),
                    now_db,
                    now_db,
                )
            )
            result.changed.append((user.pk, value, before))
            if event_types:
                events.extend(
                    build_events(
                        course_key=str(course_key),
                        user_id=user.pk,
                        username=name,
                        value=value,
                        before=before,
                        created=stored_created.get((user.pk, value.block_key)) or now,
                        modified=now,
                        types=event_types,
                    )
                )
        for key, before in mine.items():
            if key not in current:
                to_delete.append(stored_ids[(user.pk, key)])
                deleted.append((user.pk, None, before))

    changes = [*result.changed, *deleted]
    if changes:
        # Lock order, step 2: the course's lock row before any Aggregator or totals row. Shared:
        # other chunks of the course go on writing; a user's deletion, a sync or a rebuild
        # (exclusive) waits for this commit, and this chunk waits for theirs (ADR 0020).
        course = lock_course(course_key, create=True, shared=True)
        _write_prepared(to_write, known_upsert, new_upsert)
        for start in range(0, len(to_delete), _ID_CHUNK):
            Aggregator.objects.filter(id__in=sorted(to_delete[start : start + _ID_CHUNK])).delete()
        # The statistics' totals, same transaction, in a shard it claims (its id range's first).
        record_changes(course_key, changes, course=course, shard=shard_for(user_ids))
    _resolve(stale_ids)
    result.rows_written = len(to_write)
    result.rows_deleted = len(to_delete)
    emit_after_commit(events)  # discarded if the transaction rolls back


def aggregator_row(
    user_id: int,
    course_key: CourseKey,
    value: AggregateData,
    block_key: UsageKey | str,
    last_modified: datetime,
    now: datetime,
    row_id: int | None = None,
) -> Aggregator:
    """The (unsaved) Aggregator row storing ``value``; ``row_id``: the stored row it replaces."""
    return Aggregator(
        id=row_id,
        user_id=user_id,
        course_key=course_key,
        aggregation_name=value.block_type,
        block_key=block_key,
        earned=value.earned,
        possible=value.possible,
        percent=value.percent,
        optional_earned=value.optional_earned,
        optional_possible=value.optional_possible,
        optional_percent=value.optional_percent,
        last_modified=last_modified,
        created=now,
        modified=now,
    )


#: The columns of a prepared Aggregator row (:func:`_write_prepared`), after its stored id.
ROW_COLUMNS = (
    "user_id",
    "course_key",
    "aggregation_name",
    "block_key",
    *VALUE_FIELDS,
    "created",
    "modified",
)
#: The key of a row stored without an id (the peer's unique key).
UNIQUE_KEY = ("course_key", "block_key", "user", "aggregation_name")


def _upserts() -> tuple[Upsert, Upsert]:
    """The upsert of rows read with an id (keyed by it) and of new rows (keyed by the unique key)."""
    update = [*VALUE_FIELDS, "modified"]
    return (
        Upsert(Aggregator, ("id", *ROW_COLUMNS), ("id",), update),
        Upsert(Aggregator, ROW_COLUMNS, UNIQUE_KEY, update),
    )


def _write_prepared(rows: list[tuple], known: Upsert, new: Upsert) -> None:
    """Write prepared rows (stored id or None, then :data:`ROW_COLUMNS`): see :func:`write_rows`."""
    with_id = [row for row in rows if row[0] is not None]
    without = [row[1:] for row in rows if row[0] is None]
    known.write(with_id)
    new.write(without)


def write_rows(rows: list[Aggregator]) -> None:
    """
    Store computed rows: one upsert for the rows read with an id, keyed by that id, one for new rows.

    An upsert that carries the stored id meets the existing row in the table's own (clustered)
    index and updates it there; without the id, MariaDB first tries an insert, probes the unique
    key (course_key, block_key, user, aggregation_name), undoes the insert and then updates —
    on a table larger than the buffer pool, about twice the work per changed row. Rows read with
    an id cannot vanish before the write (their learner's stale rows are locked); were one gone,
    the upsert would insert it again under its id. ``created`` is kept on update.

    The aggregation builds the rows as tuples of database-ready values (:mod:`..upsert`); this
    entry point takes model instances (unsaved rows from :func:`aggregator_row`).
    """
    known, new = _upserts()
    converters = {name: new.db_value(name) for name in ("course_key", "block_key", "last_modified", "created", "modified")}
    prepared = [
        (row.id, *(converters[name](getattr(row, name)) if name in converters else getattr(row, name) for name in ROW_COLUMNS))
        for row in rows
    ]
    _write_prepared(prepared, known, new)


def _resolve(ids: list[int]) -> None:
    """Resolve the (locked) stale rows ``ids``, by primary key in id order."""
    ids = sorted(ids)
    for start in range(0, len(ids), _ID_CHUNK):
        StaleCompletion.objects.filter(id__in=ids[start : start + _ID_CHUNK]).update(resolved=True, modified=timezone.now())
