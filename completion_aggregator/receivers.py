"""Signal receivers: each translates one signal into one api call."""
from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from completion.models import BlockCompletion
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from . import api
from .conf import get_setting

log = logging.getLogger(__name__)


def _synchronous() -> bool:
    return not get_setting("COMPLETION_AGGREGATOR_ASYNC_AGGREGATION")


def _aggregate_after_commit(course_key, usernames) -> None:
    """
    In synchronous mode, aggregate once the writer's transaction has committed.

    The aggregation never fails the writer's request (docs/decisions/0006 and 0014): its
    completion is committed already, so an error (a database failure, a lock wait timeout)
    is logged and the enrollment's stale rows stay unresolved for ``run_aggregator_service``.
    """
    if not _synchronous():
        return
    usernames = list(usernames)

    def run() -> None:
        chunk = int(get_setting("COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE"))
        for start in range(0, len(usernames), chunk):
            names = usernames[start : start + chunk]
            try:
                api.aggregate_learners(course_key, names)
            except Exception as exc:  # the request must not fail: the work waits for the service
                log.warning(
                    "completion_aggregator: synchronous aggregation of %s in %s failed (%s: %s); "
                    "its stale rows are left for run_aggregator_service",
                    ", ".join(names),
                    course_key,
                    type(exc).__name__,
                    exc,
                    exc_info=True,
                )

    transaction.on_commit(run)


class _DeleteCall(threading.local):
    """
    The usernames looked up during the current delete call of this thread, by user id.

    A delete call (``instance.delete()``, ``queryset.delete()`` or a cascade) sends
    ``pre_delete`` for every collected completion before deleting any and sending
    ``post_delete``; each ``pre_delete`` starts a new, empty cache for its ``origin``. So the
    cache only ever serves the ``post_delete`` signals of the call that filled it (a renamed
    learner is looked up afresh by the next call), and N deleted completions of one learner
    cost one username query instead of N user queries.
    """

    origin: weakref.ref | None = None
    usernames: dict[tuple[str | None, Any], str]

    def __init__(self) -> None:
        self.usernames = {}


_delete_call = _DeleteCall()


@receiver(pre_delete, sender=BlockCompletion, dispatch_uid="completion_aggregator.completion_deleting")
def _start_delete_call(sender, instance: BlockCompletion, origin=None, **kwargs) -> None:
    """A delete call is collecting completions: forget the usernames of any earlier call."""
    _delete_call.usernames = {}
    try:
        _delete_call.origin = weakref.ref(origin) if origin is not None else None
    except TypeError:  # an origin that cannot be weakly referenced: no cache
        _delete_call.origin = None


def _deleted_completion_username(instance: BlockCompletion, origin) -> str:
    """The username of a deleted completion's learner, looked up once per learner and delete call."""
    descriptor = BlockCompletion.user
    if descriptor.is_cached(instance) or origin is None:
        return instance.user.get_username()
    current = _delete_call.origin
    if current is None or current() is not origin:
        # Not announced by this call's pre_delete (a signal sent by hand): no cache.
        return instance.user.get_username()
    key = (instance._state.db, instance.user_id)
    username = _delete_call.usernames.get(key)
    if username is None:
        # The query ``instance.user`` would run (same manager and database routing), for one column.
        users = descriptor.get_queryset(instance=instance).filter(pk=instance.user_id)
        found = users.values_list(descriptor.field.related_model.USERNAME_FIELD, flat=True)
        username = next(iter(found), None)
        if username is None:
            return instance.user.get_username()  # unknown user: fails exactly as before
        _delete_call.usernames[key] = username
    return username


@receiver(post_save, sender=BlockCompletion, dispatch_uid="completion_aggregator.completion_saved")
@receiver(post_delete, sender=BlockCompletion, dispatch_uid="completion_aggregator.completion_deleted")
def completion_changed(sender, instance: BlockCompletion, **kwargs) -> None:
    """A completion was written or deleted: queue its enrollment, in the same transaction."""
    context_key = instance.context_key
    if not getattr(context_key, "is_course", False):
        return
    if kwargs.get("signal") is post_delete:
        username = _deleted_completion_username(instance, kwargs.get("origin"))
    else:
        username = instance.user.get_username()
    api.mark_stale(username, context_key, instance.full_block_key)
    _aggregate_after_commit(context_key, [username])


def course_published(sender, course_key, **kwargs) -> None:
    """
    A new course structure: every active enrollment must be recomputed (forced).

    Queued after commit with ``COMPLETION_AGGREGATOR_PUBLISH_COUNTDOWN`` seconds of delay,
    because edx-platform rebuilds its block structure some time after the publish.
    """
    if not get_setting("ENABLE_COURSE_ACTIVITY_SIGNALS"):
        return
    from .tasks.handler_tasks import mark_all_stale

    countdown = int(get_setting("COMPLETION_AGGREGATOR_PUBLISH_COUNTDOWN") or 0)
    transaction.on_commit(lambda: mark_all_stale.apply_async(args=(str(course_key),), countdown=countdown))


def learner_changed(username: str, course_key) -> None:
    """An enrollment, its track or its cohort changed: recompute that learner (forced)."""
    if not get_setting("ENABLE_COURSE_ACTIVITY_SIGNALS"):
        return
    api.mark_stale(username, course_key, force=True)
    _aggregate_after_commit(course_key, [username])


def enrollment_changed(user_id: int, course_key) -> None:
    """
    An enrollment was created, changed or removed: sync the statistics' totals once it commits.

    This runs whatever ``ENABLE_COURSE_ACTIVITY_SIGNALS`` says, because the totals must follow
    enrollments.
    """
    from .api.totals import sync_learners

    transaction.on_commit(lambda: sync_learners(course_key, [user_id]))


@receiver(pre_delete, sender=get_user_model(), dispatch_uid="completion_aggregator.user_deleting")
def user_deleting(sender, instance, **kwargs) -> None:
    """
    A user is being deleted and their rows will go by cascade: lock, then take them out of the totals.

    The locks follow the writers' one order (docs/decisions/0014-one-lock-order.rst), so the
    deletion and a service run aggregating the same user serialise instead of deadlocking.
    """
    api.prepare_user_deletion(instance)


if apps.is_installed("completion_aggregator.standalone"):
    from .standalone.models import CohortMembership, Enrollment
    from .standalone.signals import course_published as standalone_course_published

    standalone_course_published.connect(course_published, dispatch_uid="completion_aggregator.standalone_published")

    @receiver(post_save, sender=Enrollment, dispatch_uid="completion_aggregator.standalone_enrollment")
    def standalone_enrollment_saved(sender, instance, **kwargs) -> None:
        """Enrolled, re-activated or changed track (an unenrollment keeps the rows)."""
        enrollment_changed(instance.user_id, instance.course_key)
        if instance.is_active:
            learner_changed(instance.user.get_username(), instance.course_key)

    @receiver(post_delete, sender=Enrollment, dispatch_uid="completion_aggregator.standalone_enrollment_deleted")
    def standalone_enrollment_deleted(sender, instance, **kwargs) -> None:
        """An enrollment row was deleted: the learner leaves the statistics."""
        enrollment_changed(instance.user_id, instance.course_key)

    @receiver(post_save, sender=CohortMembership, dispatch_uid="completion_aggregator.standalone_cohort_saved")
    @receiver(post_delete, sender=CohortMembership, dispatch_uid="completion_aggregator.standalone_cohort_deleted")
    def standalone_cohort_changed(sender, instance, **kwargs) -> None:
        """Cohort membership changed (content groups may show other blocks)."""
        learner_changed(instance.user.get_username(), instance.course_key)
