"""
The write path's read step: what one chunk of learners reads, as a frozen snapshot (ADR 0025).

One chunk = one course and many learners: the stale rows, locked (step 1 of the lock order,
ADR 0014), one users query, the adapter's structure lookup, one query for the learners' marks
(ADR 0018), then one completions query and one stored-aggregates query (for the learners
recomputed in full, every row; for those updated along their changed paths, only the
paths'). Nothing is written here; :func:`completion_aggregator.write_plan.plan_chunk` turns
the snapshot into the change set.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from ..adapters import get_adapter
from ..adapters.base import CourseNotFound
from ..conf import get_setting
from ..data import CourseStructureData
from ..engine import CourseGraph, CourseGraphError
from ..path_only import PathPlan, graph_digest, plan_path
from ..write_plan import ChunkSnapshot, LearnerRead
from .graphs import graph_for
from .paths import (
    StoredRows,
    read_all_completions,
    read_all_rows,
    read_completions_of,
    read_marks,
    read_rows_of,
)
from .queue import StaleRow, lock_stale_rows

log = logging.getLogger(__name__)


def read_chunk(course_key: CourseKey, candidates: Sequence[int]) -> ChunkSnapshot | None:
    """
    Lock the stale rows ``candidates`` and read what their learners' update needs.

    None when none of them is still unresolved (another run resolved them while this one
    waited for their locks). Unknown users are logged and listed, and so is a course the host
    does not know (its snapshot has no graphs: ``course_found`` False). Call it inside the
    transaction that applies the change set: the stale rows stay locked until its commit.

    Raises:
        django.db.DatabaseError: on database failure.
    """
    stale = lock_stale_rows(candidates)  # lock order, step 1
    if not stale:
        return None
    stale_ids = tuple(row[0] for row in stale)
    users, unknown = _known_users(course_key, sorted({row[1] for row in stale}))
    if not users:
        return ChunkSnapshot(stale_ids, timezone.now(), unknown_users=unknown)
    try:
        structures = get_adapter().get_course_structures(course_key, users)
    except CourseNotFound:
        log.warning("completion_aggregator: course %s not found; resolving %d stale rows", course_key, len(stale_ids))
        return ChunkSnapshot(
            stale_ids,
            timezone.now(),
            learners=tuple(LearnerRead(user.pk, user.get_username()) for user in users),
            course_found=False,
            unknown_users=unknown,
        )
    graphs = _graphs(course_key, users, structures)
    marks = read_marks(course_key, [user.pk for user in users])
    stored = StoredRows()
    path = _path_reads(course_key, users, graphs, marks, _plans(graphs, users, stale, marks), stored)
    rest = [user for user in users if user.pk in graphs and user.pk not in path]
    full = _full_reads(course_key, rest, graphs, marks, stored)
    learners = tuple(
        path.get(user.pk) or full.get(user.pk) or LearnerRead(user.pk, user.get_username(), mark=marks.get(user.pk))
        for user in users
    )
    return ChunkSnapshot(
        stale_ids, timezone.now(), learners, stored.ids, unknown_users=unknown, created_of=stored.created_of
    )


def _known_users(course_key: CourseKey, names: list[str]) -> tuple[list[AbstractBaseUser], tuple[str, ...]]:
    """The users of ``names`` and the names with no user (logged)."""
    users: list[AbstractBaseUser] = list(get_user_model().objects.filter(username__in=names))
    known = {user.get_username() for user in users}
    unknown = tuple(name for name in names if name not in known)
    for name in unknown:
        log.warning("completion_aggregator: no user %r; resolving their stale rows for %s", name, course_key)
    return users, unknown


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
    stale: Sequence[StaleRow],
    marks: Mapping[int, str],
) -> dict[int, PathPlan]:
    """
    The learners that may be updated along their changed paths only, with their plans (ADR 0018).

    Only learners whose stored rows this app computed in full against the graph they have now
    (their mark), with changed leaves queued and no full recompute asked for.
    """
    if not get_setting("COMPLETION_AGGREGATOR_PATH_ONLY_UPDATES"):
        return {}
    full_for: set[str] = set()
    changed_for: dict[str, set[str]] = defaultdict(set)
    for _id, name, block_key, row_force in stale:
        if row_force or block_key is None:
            full_for.add(name)
        else:
            changed_for[name].add(str(block_key))
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


def _path_reads(
    course_key: CourseKey,
    users: list[AbstractBaseUser],
    graphs: Mapping[int, CourseGraph],
    marks: Mapping[int, str],
    plans: Mapping[int, PathPlan],
    stored: StoredRows,
) -> dict[int, LearnerRead]:
    """
    The path reads of the planned learners whose paths the rows decide (one statement each for rows and completions).

    The others (rows missing or inconsistent, an undecidable time) are left out: they are read
    in full.
    """
    if not plans:
        return {}
    read_rows_of(course_key, {pk: plan.row_keys for pk, plan in plans.items()}, stored)
    completions = read_completions_of(course_key, {pk: plan.leaf_keys for pk, plan in plans.items() if plan.leaf_keys})
    found: dict[int, LearnerRead] = {}
    for user in users:
        plan = plans.get(user.pk)
        if plan is None:
            continue
        learner = LearnerRead(
            user.pk,
            user.get_username(),
            graphs[user.pk],
            marks.get(user.pk),
            plan,
            completions.get(user.pk, ()),
            stored.values.get(user.pk, {}),
        )
        if learner.values is not None:
            found[user.pk] = learner
    return found


def _full_reads(
    course_key: CourseKey,
    users: list[AbstractBaseUser],
    graphs: Mapping[int, CourseGraph],
    marks: Mapping[int, str],
    stored: StoredRows,
) -> dict[int, LearnerRead]:
    """
    Every completion and stored row of ``users`` (one query each per chunk).

    Stored rows are only compared with, never trusted: rows of another graph, the peer's or
    inconsistent ones are all recomputed (ADR 0018).
    """
    if not users:
        return {}
    ids = [user.pk for user in users]
    completions = read_all_completions(course_key, ids)
    read_all_rows(course_key, ids, stored)
    return {
        user.pk: LearnerRead(
            user.pk,
            user.get_username(),
            graphs[user.pk],
            marks.get(user.pk),
            None,
            completions.get(user.pk, ()),
            stored.values.get(user.pk, {}),
        )
        for user in users
    }
