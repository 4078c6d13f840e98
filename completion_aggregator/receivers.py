"""
Signal receivers: each translates one signal into api calls and one call of :mod:`.dispatch`.

The receivers say what changed; :mod:`completion_aggregator.dispatch` decides how the work
runs (here after the commit, or as a Celery task: ADR 0024). Two rules hold for all of them
(ADR 0010):

* **One user action, one reaction.** Reactions are registered through
  :func:`completion_aggregator.coalesce.once_per_action` under a key per learner and course (or
  per course for a publish), so the several signals of one action (an enrollment's
  ``COURSE_ENROLLMENT_CHANGED`` + ``COURSE_ENROLLMENT_CREATED``, a cohort change's legacy and
  openedx-events signals) write one forced stale row and cause one aggregation.
* **Studio computes nothing.** In the CMS process (:func:`completion_aggregator.conf.in_studio`)
  receivers write stale rows and dispatch queues Celery tasks, which the install guide routes to an LMS
  queue; they never call the host adapter, because Studio's modulestore reads drafts and a
  structure collected there is stored where the LMS reads it.
"""
from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Collection
from typing import cast

from completion.models import BlockCompletion
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AbstractUser
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from opaque_keys.edx.keys import CourseKey

from . import api, dispatch
from .coalesce import once_per_action
from .conf import get_setting

log = logging.getLogger(__name__)


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

    origin: weakref.ref[object] | None = None
    usernames: dict[tuple[str | None, int], str]

    def __init__(self) -> None:
        self.usernames = {}


_delete_call = _DeleteCall()


@receiver(pre_delete, sender=BlockCompletion, dispatch_uid="completion_aggregator.completion_deleting")
def _start_delete_call(
    sender: type[BlockCompletion], instance: BlockCompletion, origin: object = None, **kwargs: object
) -> None:
    """A delete call is collecting completions: forget the usernames of any earlier call."""
    _delete_call.usernames = {}
    try:
        _delete_call.origin = weakref.ref(origin) if origin is not None else None
    except TypeError:  # an origin that cannot be weakly referenced: no cache
        _delete_call.origin = None


def _username(user: AbstractBaseUser) -> str:
    """A user's username (edx-completion's models have no type hints: its ``user`` is typed here)."""
    return user.get_username()


def _deleted_completion_username(instance: BlockCompletion, origin: object) -> str:
    """The username of a deleted completion's learner, looked up once per learner and delete call."""
    descriptor = BlockCompletion.user
    if descriptor.is_cached(instance) or origin is None:
        return _username(instance.user)
    current = _delete_call.origin
    if current is None or current() is not origin:
        # Not announced by this call's pre_delete (a signal sent by hand): no cache.
        return _username(instance.user)
    key: tuple[str | None, int] = (instance._state.db, instance.user_id)
    username = _delete_call.usernames.get(key)
    if username is None:
        # The query ``instance.user`` would run (same manager and database routing), for one column.
        users = descriptor.get_queryset(instance=instance).filter(pk=instance.user_id)
        found = users.values_list(descriptor.field.related_model.USERNAME_FIELD, flat=True)
        found_name: str | None = next(iter(found), None)
        if found_name is None:
            return _username(instance.user)  # unknown user: fails exactly as before
        _delete_call.usernames[key] = username = found_name
    return username


@receiver(post_save, sender=BlockCompletion, dispatch_uid="completion_aggregator.completion_saved")
@receiver(post_delete, sender=BlockCompletion, dispatch_uid="completion_aggregator.completion_deleted")
def completion_changed(sender: type[BlockCompletion], instance: BlockCompletion, **kwargs: object) -> None:
    """A completion was written or deleted: queue its enrollment, in the same transaction."""
    context_key = instance.context_key
    if not getattr(context_key, "is_course", False):
        return
    if kwargs.get("signal") is post_delete:
        if isinstance(kwargs.get("origin"), get_user_model()):
            return  # the learner's own deletion (cascade): nothing left to aggregate, no row naming them
        username = _deleted_completion_username(instance, kwargs.get("origin"))
    else:
        username = _username(instance.user)
    api.mark_stale(username, context_key, instance.full_block_key)
    dispatch.aggregate_after_action(context_key, username)


def course_published(sender: object, course_key: CourseKey, **kwargs: object) -> None:
    """
    A new course structure: every active enrollment must be recomputed (forced).

    Queued after the action (once per course, however many signals it sent) with
    ``COMPLETION_AGGREGATOR_PUBLISH_COUNTDOWN`` seconds of delay, because edx-platform
    rebuilds its block structure some time after the publish.
    """
    if get_setting("ENABLE_COURSE_ACTIVITY_SIGNALS"):
        dispatch.recompute_course_after_action(course_key)


class _ForcedRows(threading.local):
    """The forced stale row written by the current action, per learner and course: ``{key: id}``."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, ...], int] = {}


_forced_rows = _ForcedRows()


def learner_changed(username: str, course_key: CourseKey | None) -> None:
    """
    An enrollment, its track or its cohort changed: recompute that learner (forced).

    Once per action: the second signal of the same action writes no second stale row (unless an
    aggregation inside the action resolved the first) and causes no second aggregation.
    ``course_key`` None (a row without a course: opaque-keys types every ``CourseKeyField``'s
    value as optional): nothing to do.
    """
    if course_key is None or not get_setting("ENABLE_COURSE_ACTIVITY_SIGNALS"):
        return
    key = ("forced", *dispatch.learner_key(course_key, username))

    def forget() -> None:
        _forced_rows.ids.pop(key, None)

    fresh = once_per_action(key, forget)
    row_id = None if fresh else _forced_rows.ids.get(key)
    # The action's forced row still waits (an aggregation inside the same action may have resolved it).
    if row_id is None or not api.is_pending(row_id):
        if len(_forced_rows.ids) >= 1000:  # left by actions that ended at once (no transaction, request or task)
            _forced_rows.ids.clear()
        _forced_rows.ids[key] = api.mark_stale(username, course_key, force=True).pk
    dispatch.aggregate_after_action(course_key, username)


def enrollment_changed(user_id: int, course_key: CourseKey | None) -> None:
    """
    An enrollment was created, changed or removed: sync the statistics' totals once the action ends.

    This runs whatever ``ENABLE_COURSE_ACTIVITY_SIGNALS`` says, because the totals must follow
    enrollments. In Studio it is a task for an LMS worker (the sync reads enrollments through
    the adapter). ``course_key`` None (as for :func:`learner_changed`): nothing to do.
    """
    if course_key is not None:
        dispatch.sync_totals_after_action(course_key, user_id)


@receiver(pre_delete, sender=get_user_model(), dispatch_uid="completion_aggregator.user_deleting")
def user_deleting(sender: type[AbstractBaseUser], instance: AbstractBaseUser, **kwargs: object) -> None:
    """
    A user is being deleted: take them out of the totals, delete their stale rows.

    The totals first, before their rows go by cascade; the stale rows name them by username,
    without a foreign key. The locks follow the writers' one order
    (docs/decisions/0014-one-lock-order.rst), so the deletion and a service run aggregating the
    same user serialise instead of deadlocking.
    """
    api.forget_learner(instance.pk, [instance.get_username()], resync=False)


_RENAMED_FROM = "_completion_aggregator_renamed_from"


@receiver(pre_save, sender=get_user_model(), dispatch_uid="completion_aggregator.user_saving")
def user_saving(
    sender: type[AbstractBaseUser],
    instance: AbstractBaseUser,
    raw: bool = False,
    update_fields: Collection[str] | None = None,
    **kwargs: object,
) -> None:
    """
    Note the stored username of a user saved with another one (a rename, or retirement's scrambling).

    One primary-key query per save that may change the username; none for a new user, a
    fixture load, or a save whose ``update_fields`` leaves the username out (a login).
    """
    # django-stubs declares USERNAME_FIELD on AbstractUser only; every user model has it.
    field: str = cast("type[AbstractUser]", sender).USERNAME_FIELD
    if raw or instance.pk is None or (update_fields is not None and field not in update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list(field, flat=True).first()
    if stored is not None and stored != instance.get_username():
        setattr(instance, _RENAMED_FROM, stored)


@receiver(post_save, sender=get_user_model(), dispatch_uid="completion_aggregator.user_saved")
def user_saved(sender: type[AbstractBaseUser], instance: AbstractBaseUser, raw: bool = False, **kwargs: object) -> None:
    """A user was saved under a new username: their pending stale rows follow them (ADR 0010)."""
    old = instance.__dict__.pop(_RENAMED_FROM, None)
    if old is not None:
        moved = api.rename_learner(old, instance.get_username())
        if moved:
            log.info("completion_aggregator: %d stale rows follow a renamed learner (id %s)", moved, instance.pk)
