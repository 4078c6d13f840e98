"""
Learner identity: following a username change, and forgetting a learner (retirement, deletion).

``StaleCompletion`` rows name the learner by username (the peer's table), every other row by
user id. A rename must move the pending rows to the new name, or the service finds no such user
and resolves them unaggregated. Forgetting a learner deletes every row of ours that names them
and takes them out of the statistics' running totals (ADR 0010).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from ..keys import parse_course_key
from ..models import Aggregator, CountedLearner, StaleCompletion
from .queue import lock_learner_queue
from .totals import remove_user, sync_learners


def rename_learner(old_username: str, new_username: str) -> int:
    """
    Move the learner's stale rows (pending and resolved) from ``old_username`` to ``new_username``.

    Called when a ``User`` is saved with another username: a rename by an administrator, or the
    username scrambling of edx-platform's retirement (``AccountRetirementView``). Returns the
    number of rows moved. One ``UPDATE`` (the ``(username, course_key, …)`` index finds them).

    Raises:
        django.db.DatabaseError: on database failure.
    """
    if not old_username or old_username == new_username:
        return 0
    ids = sorted(StaleCompletion.objects.filter(username=old_username).values_list("id", flat=True))
    # By primary key in id order: the one lock order of docs/decisions/0014-one-lock-order.rst.
    return StaleCompletion.objects.filter(id__in=ids).update(username=new_username) if ids else 0


@dataclass(frozen=True)
class ForgottenLearnerData:
    """What :func:`forget_learner` deleted: Aggregator rows and stale rows, and the courses re-synced."""

    aggregators: int
    stale_rows: int
    courses: tuple[str, ...] = ()


def forget_learner(user_id: int, usernames: Iterable[str], resync: bool = True) -> ForgottenLearnerData:
    """
    Delete every row of ours that names the learner, keeping the statistics right.

    ``usernames``: every name the stale rows may hold (the current one, and the retired one
    edx-platform is about to give them). In one transaction: the learner is taken out of the
    running totals of every course (``totals.remove_user``, the same code as a user deletion),
    their ``Aggregator`` rows and stale rows are deleted, and with ``resync`` each course they
    were counted in is synced again (``totals.sync_learners``): a learner whose enrollment is
    still active counts as enrolled with no rows, one the retirement pipeline unenrolled does
    not count. A user deletion passes ``resync=False`` (the enrollments go with the user).

    Source: edx-platform's retirement signals ``USER_RETIRE_LMS_MISC`` / ``USER_RETIRE_LMS_CRITICAL``
    (``openedx.core.djangoapps.user_api.accounts.signals``).

    Raises:
        django.db.DatabaseError: on database failure (nothing is deleted).
    """
    names = sorted({name for name in usernames if name})
    with transaction.atomic():
        # The writers' one lock order (docs/decisions/0014-one-lock-order.rst): the learner's
        # unresolved stale rows by primary key, then (remove_user) each course's lock row, then
        # the rows of that course. A running aggregation of the learner finishes first; a later
        # one waits for this transaction and then finds its rows gone.
        for name in names:
            lock_learner_queue(name)
        courses = sorted(
            {str(key) for key in CountedLearner.objects.filter(user_id=user_id).values_list("course_key", flat=True)}
        )
        remove_user(user_id)
        aggregators, _ = Aggregator.objects.filter(user_id=user_id).delete()
        stale_ids = sorted(StaleCompletion.objects.filter(username__in=names).values_list("id", flat=True))
        stale = StaleCompletion.objects.filter(id__in=stale_ids).delete()[0] if stale_ids else 0
        if resync:
            for course in courses:
                sync_learners(parse_course_key(course), [user_id])
    return ForgottenLearnerData(aggregators=aggregators, stale_rows=stale, courses=tuple(courses))
