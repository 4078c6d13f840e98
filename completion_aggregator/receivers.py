"""Signal receivers: each translates one signal into one api call."""
from __future__ import annotations

import logging

from completion.models import BlockCompletion
from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import api
from .conf import get_setting

log = logging.getLogger(__name__)


def _synchronous() -> bool:
    return not get_setting("COMPLETION_AGGREGATOR_ASYNC_AGGREGATION")


def _aggregate_after_commit(course_key, usernames) -> None:
    """In synchronous mode, aggregate once the writer's transaction has committed."""
    if not _synchronous():
        return
    usernames = list(usernames)

    def run() -> None:
        chunk = int(get_setting("COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE"))
        for start in range(0, len(usernames), chunk):
            api.aggregate_learners(course_key, usernames[start : start + chunk])

    transaction.on_commit(run)


@receiver(post_save, sender=BlockCompletion, dispatch_uid="completion_aggregator.completion_saved")
@receiver(post_delete, sender=BlockCompletion, dispatch_uid="completion_aggregator.completion_deleted")
def completion_changed(sender, instance: BlockCompletion, **kwargs) -> None:
    """A completion was written or deleted: queue its enrollment, in the same transaction."""
    context_key = instance.context_key
    if not getattr(context_key, "is_course", False):
        return
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


if apps.is_installed("completion_aggregator.standalone"):
    from .standalone.models import CohortMembership, Enrollment
    from .standalone.signals import course_published as standalone_course_published

    standalone_course_published.connect(course_published, dispatch_uid="completion_aggregator.standalone_published")

    @receiver(post_save, sender=Enrollment, dispatch_uid="completion_aggregator.standalone_enrollment")
    def standalone_enrollment_saved(sender, instance, **kwargs) -> None:
        """Enrolled, re-activated or changed track (an unenrollment keeps the rows)."""
        if instance.is_active:
            learner_changed(instance.user.get_username(), instance.course_key)

    @receiver(post_save, sender=CohortMembership, dispatch_uid="completion_aggregator.standalone_cohort_saved")
    @receiver(post_delete, sender=CohortMembership, dispatch_uid="completion_aggregator.standalone_cohort_deleted")
    def standalone_cohort_changed(sender, instance, **kwargs) -> None:
        """Cohort membership changed (content groups may show other blocks)."""
        learner_changed(instance.user.get_username(), instance.course_key)
