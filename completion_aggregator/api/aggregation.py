"""
The write path: turn a chunk of learners' stale rows into stored Aggregator rows.

One chunk = one course and many learners: one stale-rows query, one users query, the
adapter's structure lookup, one query for the learners' marks (ADR 0018), then one
completions query and one stored-aggregates query (for the learners recomputed in full,
every row; for those updated along their changed paths, only the paths'), one upsert of the
rows that changed, one update resolving exactly the stale ids that were read.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from ..adapters import get_adapter
from ..adapters.base import CourseNotFound
from ..conf import get_setting
from ..data import AggregateData, CourseStructureData
from ..engine import CourseGraph, CourseGraphError, aggregate
from ..events import emit_after_commit
from ..models import StaleCompletion
from ..path_only import PathPlan, aggregate_path, graph_digest, plan_path
from .course_lock import ensure_course, lock_course, shard_for
from .graphs import graph_for
from .keys import as_course_key
from .paths import (
    StoredRows,
    clear_marks,
    read_all_completions,
    read_all_rows,
    read_completions_of,
    read_marks,
    read_rows_of,
)
from .queue import lock_stale_rows
from .writes import ChunkWrites, aggregator_row, write_rows

__all__ = ["AggregationResult", "aggregate_learners", "aggregator_row", "write_rows"]

log = logging.getLogger(__name__)

_ID_CHUNK = 900  # stay under SQLite's variable limit when resolving by id


@dataclass
class AggregationResult:
    """What one chunk did."""

    course_key: str
    learners: int = 0
    path_learners: int = 0  # of ``learners``, those updated along their changed paths only (ADR 0018)
    stale_rows: int = 0
    rows_written: int = 0
    rows_deleted: int = 0
    unknown_users: list[str] = field(default_factory=list)
    changed: list[tuple[int, AggregateData, AggregateData | None]] = field(default_factory=list)


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
    users = _known_users(course_key, sorted({row[1] for row in stale}), result)
    if not users:
        _resolve(stale_ids)
        return
    try:
        structures = get_adapter().get_course_structures(course_key, users)
    except CourseNotFound:
        log.warning("completion_aggregator: course %s not found; resolving %d stale rows", course_key, len(stale_ids))
        # Their changes are resolved unapplied: the learners' next updates must be full ones.
        lock_course(course_key, create=True, shared=True)
        clear_marks(course_key, [user.pk for user in users])
        _resolve(stale_ids)
        return
    graphs = _graphs(course_key, users, structures)
    marks = read_marks(course_key, [user.pk for user in users])
    plans = _plans(graphs, users, full_for, changed_for, marks)
    stored = StoredRows()
    values = _path_values(course_key, graphs, plans, stored)
    result.path_learners = len(values)
    full_ids = [user.pk for user in users if user.pk in graphs and user.pk not in values]
    values.update(_full_values(course_key, graphs, full_ids, stored))
    writes = ChunkWrites(course_key)
    for user in users:
        if user.pk in values:
            result.learners += 1
            writes.collect(user, values[user.pk], stored, whole=user.pk in full_ids)
    new_marks = {pk: graph_digest(graphs[pk]) for pk in full_ids}
    new_marks = {pk: digest for pk, digest in new_marks.items() if marks.get(pk) != digest}
    # Learners skipped (course hidden from them, graph error): their changes are resolved unapplied.
    unmarked = [user.pk for user in users if user.pk not in graphs and user.pk in marks]
    writes.commit(new_marks, unmarked, shard=shard_for([user.pk for user in users]))
    result.changed = writes.changed
    _resolve(stale_ids)
    result.rows_written = len(writes.rows)
    result.rows_deleted = len(writes.to_delete)
    emit_after_commit(writes.events)  # discarded if the transaction rolls back


def _known_users(course_key: CourseKey, names: list[str], result: AggregationResult) -> list[AbstractBaseUser]:
    """The users of ``names``; the unknown names are logged and listed in ``result.unknown_users``."""
    users: list[AbstractBaseUser] = list(get_user_model().objects.filter(username__in=names))
    known = {user.get_username() for user in users}
    result.unknown_users = [name for name in names if name not in known]
    for name in result.unknown_users:
        log.warning("completion_aggregator: no user %r; resolving their stale rows for %s", name, course_key)
    return users


def _graphs(
    course_key: CourseKey, users: list[AbstractBaseUser], structures: Mapping[int, CourseStructureData]
) -> dict[int, CourseGraph]:
    """The compiled graph of each user with something to store (not those the course is hidden from)."""
    graphs: dict[int, CourseGraph] = {}
    for user in users:
        if structures[user.pk].root_hidden:
            # The course has not started (or is staff-only) for this learner: nothing to store;
            # reads compute the empty course, and the real one once it starts (ADR 0015).
            continue
        try:
            graphs[user.pk] = graph_for(structures[user.pk])
        except CourseGraphError:
            log.exception("completion_aggregator: cannot compile %s for %s; resolving", course_key, user.get_username())
    return graphs


def _plans(
    graphs: Mapping[int, CourseGraph],
    users: list[AbstractBaseUser],
    full_for: set[str],
    changed_for: Mapping[str, set[str]],
    marks: Mapping[int, str],
) -> dict[int, PathPlan]:
    """
    The learners that may be updated along their changed paths only, with their plans (ADR 0018).

    Only learners whose stored rows this app computed in full against the graph they have now
    (their mark), with changed leaves queued and no full recompute asked for.
    """
    if not get_setting("COMPLETION_AGGREGATOR_PATH_ONLY_UPDATES"):
        return {}
    max_changed = int(get_setting("COMPLETION_AGGREGATOR_MAX_CHANGED_BLOCKS"))
    plans: dict[int, PathPlan] = {}
    for user in users:
        graph = graphs.get(user.pk)
        changed = changed_for.get(user.get_username(), set())
        if graph is None or user.get_username() in full_for or not changed or len(changed) > max_changed:
            continue
        if marks.get(user.pk) != graph_digest(graph):
            continue
        plan = plan_path(graph, changed)
        if plan is not None:
            plans[user.pk] = plan
    return plans


def _path_values(
    course_key: CourseKey, graphs: Mapping[int, CourseGraph], plans: Mapping[int, PathPlan], stored: StoredRows
) -> dict[int, list[AggregateData]]:
    """The path-only values of the planned learners (one rows and one completions statement per chunk)."""
    if not plans:
        return {}
    read_rows_of(course_key, {pk: plan.row_keys for pk, plan in plans.items()}, stored)
    completions = read_completions_of(course_key, {pk: plan.leaf_keys for pk, plan in plans.items() if plan.leaf_keys})
    values: dict[int, list[AggregateData]] = {}
    for pk, plan in plans.items():
        found = aggregate_path(graphs[pk], plan, completions.get(pk, ()), stored.values.get(pk, {}))
        if found is not None:  # else: recomputed in full (rows missing or inconsistent, an undecidable time)
            values[pk] = found
    return values


def _full_values(
    course_key: CourseKey, graphs: Mapping[int, CourseGraph], user_ids: list[int], stored: StoredRows
) -> dict[int, list[AggregateData]]:
    """
    Every aggregator of ``user_ids``, from all their completions (one query each for completions and rows).

    Stored rows are only compared with, never trusted: rows of another graph, the peer's or
    inconsistent ones are all recomputed (ADR 0018).
    """
    if not user_ids:
        return {}
    completions = read_all_completions(course_key, user_ids)
    read_all_rows(course_key, user_ids, stored)
    return {pk: aggregate(graphs[pk], completions.get(pk, ())) for pk in user_ids}


def _resolve(ids: list[int]) -> None:
    """Resolve the (locked) stale rows ``ids``, by primary key in id order."""
    ids = sorted(ids)
    for start in range(0, len(ids), _ID_CHUNK):
        StaleCompletion.objects.filter(id__in=ids[start : start + _ID_CHUNK]).update(resolved=True, modified=timezone.now())
