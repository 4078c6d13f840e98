"""
Issue 16 point 3: aggregating never creates platform state.

In a cohorted course the real UserPartitionTransformer reads every learner's content group
through the cohort scheme, whose ``get_cohort(user, course_key)`` assigns a cohort (a
``CohortMembership`` row and the cohort signals) to a learner who has none; the fake does the
same (``course_groups.partition_scheme``). Enrollment, publish, ``reaggregate_course``, the staff
listing, the statistics, the report and the learner's own GET must leave no membership behind,
and still show such a learner the right figures (earned 0, the group-less ``possible``).
"""
from __future__ import annotations

import pytest
from django.core.management import call_command

from completion_aggregator.adapters import get_adapter
from completion_aggregator.models import Aggregator

from .conftest import COURSE, cohort_in_group, course_blocks, make_user

pytestmark = pytest.mark.django_db


def memberships():
    from openedx.core.djangoapps.course_groups.models import CohortMembership

    return sorted(CohortMembership.objects.values_list("user__username", flat=True))


@pytest.fixture
def cohorted(published):
    """The fixture course with content groups linked to two cohorts: it is cohorted."""
    from openedx.core.djangoapps.course_groups.cohorts import add_user_to_cohort

    placed = make_user("placed")
    add_user_to_cohort(cohort_in_group("One", 1), placed)
    cohort_in_group("Two", 2)
    return placed


def test_the_fake_cohort_scheme_assigns_on_read_as_the_platform_does(cohorted):
    from lms.djangoapps.course_blocks.api import get_course_blocks

    from .conftest import key

    newcomer = make_user("newcomer")
    get_course_blocks(newcomer, key("course", "course"))  # the platform's own call, no adapter
    assert memberships() == ["newcomer", "placed"]


def test_enroll_publish_and_reaggregate_create_no_cohort_membership(cohorted, django_capture_on_commit_callbacks):
    from common.djangoapps.student.models import CourseEnrollment
    from xmodule.modulestore.django import FakeModuleStore, SignalHandler, modulestore

    placed = cohorted
    newcomer = make_user("newcomer")
    with django_capture_on_commit_callbacks(execute=True):
        CourseEnrollment.enroll(placed, COURSE)
        CourseEnrollment.enroll(newcomer, COURSE)
    assert memberships() == ["placed"]
    row = Aggregator.objects.get(user=newcomer, aggregation_name="course")
    assert (row.earned, row.possible) == (0.0, 2.0)  # what a learner in no content group sees
    assert Aggregator.objects.get(user=placed, aggregation_name="course").possible == 3.0  # + group 1's h2

    modulestore().publish_fixture(COURSE, course_blocks(extra_leaf=True), emit_signals=False)
    with django_capture_on_commit_callbacks(execute=True):
        SignalHandler.course_published.send(sender=FakeModuleStore, course_key=COURSE)
    assert memberships() == ["placed"]
    assert Aggregator.objects.get(user=newcomer, aggregation_name="course").possible == 3.0

    with django_capture_on_commit_callbacks(execute=True):
        call_command("reaggregate_course", str(COURSE))
    assert memberships() == ["placed"]
    assert Aggregator.objects.get(user=placed, aggregation_name="course").possible == 4.0


def test_reading_creates_no_membership_and_shows_earned_zero(cohorted, client, django_capture_on_commit_callbacks):
    from common.djangoapps.student.models import CourseAccessRole, CourseEnrollment

    newcomer, teacher = make_user("newcomer"), make_user("teacher")
    CourseEnrollment.objects.create(user=newcomer, course_id=COURSE)  # no signal: no stored rows
    CourseAccessRole.objects.create(user=teacher, course_id=COURSE, role="staff")

    client.force_login(newcomer)  # the learner's own GET: reading, not visiting the courseware
    (entry,) = client.get(f"/completion-aggregator/v1/course/{COURSE}/").json()["results"]
    assert entry["completion"] == {"earned": 0.0, "possible": 2.0, "percent": 0.0}
    client.force_login(teacher)
    listing = client.get(f"/completion-aggregator/v1/course/{COURSE}/").json()["results"]
    assert [(row["username"], row["completion"]["possible"]) for row in listing] == [("newcomer", 2.0)]
    stats = client.get(f"/completion-aggregator/v1/stats/{COURSE}/").json()["results"][0]
    assert stats["mean_completion"]["earned"] == 0.0
    assert memberships() == ["placed"]


def test_a_placed_learner_and_staff_are_computed_with_their_own_transformers(cohorted):
    from common.djangoapps.student.models import CourseAccessRole

    teacher = make_user("teacher")
    CourseAccessRole.objects.create(user=teacher, course_id=COURSE, role="staff")
    structures = get_adapter().get_course_structures(COURSE, [cohorted, teacher])
    assert len([b for b in structures[cohorted.pk].blocks.values() if b.block_type == "html"]) == 2  # h1, h2
    assert len([b for b in structures[teacher.pk].blocks.values() if b.block_type == "html"]) == 6
    assert memberships() == ["placed"]


def test_a_learner_placed_later_is_recomputed_with_their_group(cohorted, django_capture_on_commit_callbacks):
    from common.djangoapps.student.models import CourseEnrollment
    from openedx.core.djangoapps.course_groups.cohorts import get_cohort

    newcomer = make_user("newcomer")
    with django_capture_on_commit_callbacks(execute=True):
        CourseEnrollment.enroll(newcomer, COURSE)
    assert Aggregator.objects.get(user=newcomer, aggregation_name="course").possible == 2.0
    with django_capture_on_commit_callbacks(execute=True):
        get_cohort(newcomer, COURSE)  # their first courseware visit: the platform places them
    assert memberships() == ["newcomer", "placed"]
    # The default cohort is linked to no content group: the same 2.0, now from their own tree.
    assert Aggregator.objects.get(user=newcomer, aggregation_name="course").possible == 2.0
