"""
Signals of the (fake) platform → the real receivers → tasks (eager Celery) → stored aggregates.

Every signal is sent as edx-platform sends it; nothing of the app is patched.
"""
from __future__ import annotations

import pytest
from completion.models import BlockCompletion
from opaque_keys.edx.locator import LibraryLocator

from completion_aggregator.models import Aggregator, StaleCompletion

from .conftest import COURSE, cohort_in_group, course_blocks, key, make_user

pytestmark = pytest.mark.django_db


def course_row(user):
    row = Aggregator.objects.get(user=user, course_key=COURSE, aggregation_name="course")
    return row.earned, row.possible


def enroll(user, capture):
    from common.djangoapps.student.models import CourseEnrollment

    with capture(execute=True):
        return CourseEnrollment.enroll(user, COURSE)


def complete(user, block_type, block_id, capture, value=1.0):
    with capture(execute=True):
        BlockCompletion.objects.submit_completion(user, key(block_type, block_id), value)


def test_an_enrollment_stores_rows_with_the_real_possible(published, django_capture_on_commit_callbacks):
    ann = make_user("ann")
    assert not Aggregator.objects.exists()
    enroll(ann, django_capture_on_commit_callbacks)  # COURSE_ENROLLMENT_CREATED (openedx-events)
    assert course_row(ann) == (0.0, 2.0)
    assert set(Aggregator.objects.filter(user=ann).values_list("aggregation_name", flat=True)) == {
        "course", "chapter", "sequential", "vertical"
    }
    assert not StaleCompletion.objects.filter(resolved=False).exists()


def test_publishing_recomputes_every_enrollment(published, django_capture_on_commit_callbacks):
    from xmodule.modulestore.django import FakeModuleStore, SignalHandler, modulestore

    ann, bob = make_user("ann"), make_user("bob")
    for user in (ann, bob):
        enroll(user, django_capture_on_commit_callbacks)
    complete(ann, "html", "h1", django_capture_on_commit_callbacks)
    assert course_row(ann) == (1.0, 2.0) and course_row(bob) == (0.0, 2.0)

    modulestore().publish_fixture(COURSE, course_blocks(extra_leaf=True), emit_signals=False)
    with django_capture_on_commit_callbacks(execute=True):
        SignalHandler.course_published.send(sender=FakeModuleStore, course_key=COURSE)
    assert course_row(ann) == (1.0, 3.0) and course_row(bob) == (0.0, 3.0)
    v1 = Aggregator.objects.get(user=ann, block_key=key("vertical", "v1"))
    assert (v1.earned, v1.possible) == (1.0, 3.0)
    assert StaleCompletion.objects.filter(force=True, username="bob").count() >= 2
    assert not StaleCompletion.objects.filter(resolved=False).exists()


@pytest.mark.parametrize("revision", [None, "rev-opt-all"])
def test_a_deleted_block_recomputes_the_course(published, django_capture_on_commit_callbacks, revision):
    """
    Studio deletes a block: split sends item_deleted with the branch-qualified key.

    The recompute is of the plain course, read from the published branch: a draft-only delete
    (``revision=None``) changes nothing the learners see yet; a delete on both branches does.
    """
    from xmodule.modulestore.django import modulestore

    ann = make_user("ann")
    enroll(ann, django_capture_on_commit_callbacks)
    forced = lambda: StaleCompletion.objects.filter(username="ann", course_key=COURSE, force=True).count()  # noqa: E731
    before = forced()
    with django_capture_on_commit_callbacks(execute=True):
        modulestore().delete_item(key("html", "h1"), user_id=1, revision=revision)
    assert forced() > before
    assert not StaleCompletion.objects.filter(resolved=False).exists()
    if revision is None:
        assert course_row(ann) == (0.0, 2.0)  # h1 is still published: never the draft branch's tree
    else:
        from openedx.core.djangoapps.content.block_structure.api import update_course_in_cache

        update_course_in_cache(COURSE)  # the platform's rebuild after the publish (30 s later)
        with django_capture_on_commit_callbacks(execute=True):
            modulestore().signal_handler.send("course_published", course_key=COURSE)
        assert course_row(ann) == (0.0, 1.0)


def test_library_publishes_are_ignored(published, django_capture_on_commit_callbacks):
    from xmodule.modulestore.django import FakeModuleStore, SignalHandler

    library = LibraryLocator(org="Fake", library="lib")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        SignalHandler.course_published.send(sender=FakeModuleStore, course_key=library)
    assert callbacks == []


def test_a_cohort_change_shows_the_groups_content(published, django_capture_on_commit_callbacks):
    from openedx.core.djangoapps.course_groups.cohorts import add_user_to_cohort

    ann = make_user("ann")
    enroll(ann, django_capture_on_commit_callbacks)
    complete(ann, "html", "h2", django_capture_on_commit_callbacks)  # not visible yet
    assert course_row(ann) == (0.0, 2.0)
    with django_capture_on_commit_callbacks(execute=True):
        # Sends COHORT_MEMBERSHIP_UPDATED (Django) and COHORT_MEMBERSHIP_CHANGED (openedx-events).
        add_user_to_cohort(cohort_in_group("One", 1), ann)
    assert course_row(ann) == (1.0, 3.0)
    v2 = Aggregator.objects.get(user=ann, block_key=key("vertical", "v2"))
    assert (v2.earned, v2.possible) == (1.0, 1.0)  # h2 only, never the other group's h3
    assert not StaleCompletion.objects.filter(resolved=False).exists()


def test_each_learner_signal_alone_queues_a_forced_recompute(published, django_capture_on_commit_callbacks):
    from common.djangoapps.student.signals.signals import ENROLLMENT_TRACK_UPDATED
    from openedx.core.djangoapps.course_groups.signals.signals import COHORT_MEMBERSHIP_UPDATED
    from openedx_events.learning.data import CohortData, CourseData, UserData, UserPersonalData
    from openedx_events.learning.signals import COHORT_MEMBERSHIP_CHANGED

    ann = make_user("ann")
    forced = lambda: StaleCompletion.objects.filter(username="ann", force=True).count()  # noqa: E731
    with django_capture_on_commit_callbacks(execute=True):
        COHORT_MEMBERSHIP_UPDATED.send(sender=None, user=ann, course_key=COURSE)
    assert forced() == 1
    with django_capture_on_commit_callbacks(execute=True):
        ENROLLMENT_TRACK_UPDATED.send(sender=None, user=ann, course_key=COURSE, mode="verified", countdown=0)
    assert forced() == 2
    data = CohortData(
        user=UserData(id=ann.pk, is_active=True, pii=UserPersonalData(username="ann", email="a@x", name="")),
        course=CourseData(course_key=COURSE, display_name=""),
        name="One",
    )
    with django_capture_on_commit_callbacks(execute=True):
        COHORT_MEMBERSHIP_CHANGED.send_event(send_robust=False, cohort=data)
    assert forced() == 3


def test_a_track_change_and_unenrollment(published, django_capture_on_commit_callbacks):
    from common.djangoapps.student.models import CourseEnrollment

    ann = make_user("ann")
    enrollment = enroll(ann, django_capture_on_commit_callbacks)
    before = StaleCompletion.objects.filter(username="ann", force=True).count()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment.update_enrollment(mode="verified")  # COURSE_ENROLLMENT_CHANGED + ENROLLMENT_TRACK_UPDATED
    assert StaleCompletion.objects.filter(username="ann", force=True).count() == before + 1  # one action
    with django_capture_on_commit_callbacks(execute=True):
        CourseEnrollment.unenroll(ann, COURSE)  # inactive: rows are kept, nothing queued
    assert StaleCompletion.objects.filter(username="ann", force=True).count() == before + 1
    assert course_row(ann) == (0.0, 2.0)


def test_course_activity_reactions_can_be_turned_off(published, settings, django_capture_on_commit_callbacks):
    from xmodule.modulestore.django import FakeModuleStore, SignalHandler

    settings.ENABLE_COURSE_ACTIVITY_SIGNALS = False
    ann = make_user("ann")
    enroll(ann, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        SignalHandler.course_published.send(sender=FakeModuleStore, course_key=COURSE)
    assert not StaleCompletion.objects.exists() and not Aggregator.objects.exists()


def test_enrollment_events_keep_the_statistics_totals(published, django_capture_on_commit_callbacks):
    from common.djangoapps.student.models import CourseEnrollment
    from openedx_events.learning.signals import COURSE_UNENROLLMENT_COMPLETED

    from completion_aggregator.api import totals
    from completion_aggregator.models import CountedLearner, CourseTotal

    ann, bob = make_user("ann"), make_user("bob")
    enroll(ann, django_capture_on_commit_callbacks)
    complete(ann, "html", "h1", django_capture_on_commit_callbacks)
    totals.rebuild(COURSE)
    enroll(bob, django_capture_on_commit_callbacks)  # COURSE_ENROLLMENT_CREATED → counted
    assert CourseTotal.objects.get(course_key=COURSE).learners == 2
    assert totals.check(COURSE) == []
    with django_capture_on_commit_callbacks(execute=True):
        CourseEnrollment.unenroll(ann, COURSE)  # COURSE_ENROLLMENT_CHANGED, is_active False
    assert list(CountedLearner.objects.values_list("user_id", flat=True)) == [bob.pk]
    assert totals.check(COURSE) == []
    # The unenrollment event, sent late or twice, changes nothing more.
    enrollment = CourseEnrollment.get_enrollment(ann, COURSE)
    with django_capture_on_commit_callbacks(execute=True):
        COURSE_UNENROLLMENT_COMPLETED.send_event(enrollment=enrollment._event_data())
    assert CourseTotal.objects.get(course_key=COURSE).learners == 1
    assert totals.check(COURSE) == []
