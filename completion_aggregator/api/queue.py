"""The stale-work queue: writing and reading StaleCompletion rows."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from opaque_keys.edx.keys import CourseKey, UsageKey

from .. import dispatch
from ..adapters import get_adapter
from ..dispatch import chunk_by_learner_id as chunk_by_learner_id  # the one chunking rule (ADR 0024)
from ..models import StaleCompletion
from .keys import as_course_key

BULK_BATCH = 1000
#: Ids per locking ``IN (…)`` list: under SQLite's variable limit.
LOCK_BATCH = 900

#: What :func:`lock_stale_rows` returns per unresolved row: (id, username, block key or None, force).
StaleRow = tuple[int, str, UsageKey | None, bool]


def mark_stale(
    username: str, course_key: CourseKey, block_key: UsageKey | None = None, force: bool = False
) -> StaleCompletion:
    """Queue one enrollment for aggregation (``block_key`` None: the whole course)."""
    return StaleCompletion.objects.create(username=username, course_key=course_key, block_key=block_key, force=force)


def mark_course_stale(
    course_key: CourseKey, users: Iterable[AbstractBaseUser | str] | None = None, force: bool = True
) -> list[str]:
    """
    Queue every active enrollment of a course (or the given users) for a whole-course recompute.

    Learners who never started are included (they have no aggregate rows yet). Rows are
    bulk-inserted in batches, enrolled learners in user-id order. Returns the usernames queued.

    Raises:
        ImproperlyConfigured: the adapter is not available.
    """
    course_key = as_course_key(course_key)
    if users is None:
        usernames = list(get_adapter().enrolled_users(course_key).order_by("id").values_list("username", flat=True))
    else:
        usernames = [u if isinstance(u, str) else u.get_username() for u in users]
    StaleCompletion.objects.bulk_create(
        [StaleCompletion(username=name, course_key=course_key, block_key=None, force=force) for name in usernames],
        batch_size=BULK_BATCH,
    )
    return usernames


def is_pending(stale_id: int) -> bool:
    """True while the stale row ``stale_id`` exists and is unresolved (one primary-key query)."""
    return StaleCompletion.objects.filter(id=stale_id, resolved=False).exists()


def lock_stale_rows(ids: Sequence[int]) -> list[StaleRow]:
    """
    Lock the stale rows ``ids`` (``SELECT … FOR UPDATE``) and return those still unresolved, in id order.

    Step 1 of the lock order of every writer (docs/decisions/0014-one-lock-order.rst): the rows
    are locked through the primary key only, in ascending id order, and the condition on
    ``resolved`` is applied here rather than in SQL. With ``resolved = 0`` in the statement
    MariaDB may lock through ``stale_resolved_id_idx`` first and the primary key second, while
    the update that resolves the rows takes the primary key first and that index second: two
    aggregations of one learner then deadlock (error 1213). Rows that no longer exist are
    skipped. Call it inside ``transaction.atomic()``; the locks last until the commit.

    Raises:
        django.db.DatabaseError: on database failure.
    """
    ordered = sorted(set(ids))
    rows: list[StaleRow] = []
    for start in range(0, len(ordered), LOCK_BATCH):
        for row_id, username, block_key, force, resolved in (
            StaleCompletion.objects.select_for_update()
            .filter(id__in=ordered[start : start + LOCK_BATCH])
            .order_by("id")
            .values_list("id", "username", "block_key", "force", "resolved")
        ):
            if not resolved:
                rows.append((row_id, username, block_key, force))
    return rows


def lock_learner_queue(username: str) -> int:
    """
    Lock every unresolved stale row of ``username`` (all courses), as :func:`lock_stale_rows` does.

    An aggregation of this learner that is running holds some of these rows; the caller waits
    for it to commit, and later aggregations of the learner wait for the caller. Returns how
    many rows are locked.

    Raises:
        django.db.DatabaseError: on database failure.
    """
    ids = list(StaleCompletion.objects.filter(username=username, resolved=False).values_list("id", flat=True))
    return len(lock_stale_rows(ids))


def has_pending_work(username: str, course_key: CourseKey) -> bool:
    """True when the enrollment has unresolved stale rows."""
    return StaleCompletion.objects.filter(username=username, course_key=course_key, resolved=False).exists()


def reaggregate_course(
    course_key: CourseKey,
    routing_key: str | None = None,
    users: Iterable[AbstractBaseUser | str] | None = None,
) -> int:
    """
    Force a full recompute of every active enrollment of a course (or of ``users``).

    Returns how many enrollments were queued.

    The forced stale rows are bulk-inserted; in asynchronous mode the next service run picks
    them up, in synchronous mode aggregation tasks are enqueued now (on ``routing_key``), one
    per chunk of at most ``COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE`` learners of consecutive ids
    (:func:`completion_aggregator.dispatch.chunks`).

    Raises:
        ImproperlyConfigured: the adapter is not available, or the chunk size is not valid.
    """
    usernames = mark_course_stale(course_key, users=users, force=True)
    dispatch.aggregate_marked(course_key, usernames, routing_key)
    return len(usernames)


def known_course_keys() -> list[CourseKey]:
    """Every course the host knows or that has stored aggregates, sorted."""
    from ..models import Aggregator

    keys = {str(key): key for key in get_adapter().all_course_keys()}
    for key in Aggregator.objects.values_list("course_key", flat=True).distinct():
        if key is not None:  # a NOT NULL column: opaque-keys types every CourseKeyField's value as optional
            keys.setdefault(str(key), key)
    return [keys[name] for name in sorted(keys)]


# The service's reads of the queue (batch.py: run_aggregator_service and run_aggregator_cleanup) --

#: What :func:`unresolved_stale_rows` returns per row: (id, course key, username).
QueuedRow = tuple[int, CourseKey, str]


def unresolved_stale_rows(after_id: int, limit: int) -> list[QueuedRow]:
    """
    At most ``limit`` unresolved stale rows with an id above ``after_id``, in id order (one query).

    Read without locking: each aggregation locks and resolves its own rows (ADR 0014).
    """
    rows = (
        StaleCompletion.objects.filter(resolved=False, id__gt=after_id)
        .order_by("id")
        .values_list("id", "course_key", "username")[:limit]
    )
    # A NOT NULL column: opaque-keys types every CourseKeyField's value as optional.
    return [(row_id, course_key, username) for row_id, course_key, username in rows if course_key is not None]


def has_unresolved_after(after_id: int) -> bool:
    """
    True when an unresolved stale row has an id above ``after_id`` (one indexed ``EXISTS`` query).

    The idle follower's probe between the periods of its sleep (ADR 0019).
    """
    return StaleCompletion.objects.filter(resolved=False, id__gt=after_id).exists()


def oldest_unresolved() -> tuple[int, datetime] | None:
    """The id and creation time of the oldest unresolved stale row, or None (one query)."""
    return StaleCompletion.objects.filter(resolved=False).order_by("id").values_list("id", "created").first()


def resolved_among(ids: Sequence[int]) -> list[int]:
    """Those of ``ids`` whose stale rows are resolved now (one query per :data:`LOCK_BATCH` ids)."""
    ids = list(ids)
    found: list[int] = []
    for start in range(0, len(ids), LOCK_BATCH):
        found += StaleCompletion.objects.filter(id__in=ids[start : start + LOCK_BATCH], resolved=True).values_list(
            "id", flat=True
        )
    return found


def last_stale_id() -> int:
    """The highest stale row id, 0 for an empty queue (one query): where a cleanup stops."""
    return StaleCompletion.objects.order_by("-id").values_list("id", flat=True).first() or 0


def delete_resolved(up_to_id: int, limit: int) -> int | None:
    """
    Delete at most ``limit`` resolved stale rows with ids up to ``up_to_id``; returns how many.

    None when there was none left to delete (0: some were read, and deleted meanwhile by another).

    The rows are read without locking and deleted through the primary key only, in id order
    (the lock order of docs/decisions/0014-one-lock-order.rst): a resolved row never becomes
    unresolved again, so the delete needs no condition on ``resolved`` (one would let MariaDB
    lock through ``stale_resolved_id_idx`` first). Two queries, or one when none is left.
    """
    resolved = StaleCompletion.objects.filter(resolved=True, id__lte=up_to_id).order_by("id")
    ids = list(resolved.values_list("id", flat=True)[:limit])
    if not ids:
        return None
    return StaleCompletion.objects.filter(id__in=ids).delete()[0]
