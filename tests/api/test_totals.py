"""
The statistics' running totals (api/totals.py): every writer keeps them equal to the rows.

Each test changes a course in one of the ways a site does. It then checks two things: the kept
totals against totals read afresh (``totals.check``), and the statistics served from the
totals against the statistics computed from the rows, for the same course at the same moment.
"""
import pytest
from django.core.management import CommandError, call_command
from django.test.utils import override_settings

from completion_aggregator import api
from completion_aggregator.api import kept_sums, totals
from completion_aggregator.models import BlockTotal, CountedLearner, CourseTotal
from completion_aggregator.standalone.models import CourseAccessRole, Enrollment
from tests.helpers import build_course, complete, learner

pytestmark = pytest.mark.django_db


def _stats(course_key, **kwargs):
    result = api.get_course_stats(course_key, aggregation_names=["chapter", "sequential", "vertical"], **kwargs)
    return (
        result.learner_count,
        [round(value, 9) for value in (result.mean_completion.earned, result.mean_completion.possible)],
        [
            (block.block_key, round(block.mean_completion.earned, 9), round(block.mean_completion.possible, 9), block.completed_count)
            for block in result.blocks
        ],
    )


def from_rows(course_key, **kwargs):
    """The statistics computed from the rows (the totals set aside for the call)."""
    built = CourseTotal.objects.get(course_key=course_key).built
    CourseTotal.objects.filter(course_key=course_key).update(built=None)
    try:
        return _stats(course_key, **kwargs)
    finally:
        CourseTotal.objects.filter(course_key=course_key).update(built=built)


def assert_kept(course_key, **kwargs):
    assert totals.check(course_key) == []
    assert kept_sums.kept_sums(course_key, ["course"]) is not None, "the totals must be built"
    assert _stats(course_key, **kwargs) == from_rows(course_key, **kwargs)


@pytest.fixture
def course(django_capture_on_commit_callbacks):
    """Four learners with rows, the totals built; enrollment changes run their after-commit sync."""
    course_key, leaves = build_course()
    users = [learner(f"learner{index}", course_key) for index in range(4)]
    for index, user in enumerate(users):
        for leaf in leaves[: 3 * index + 1]:
            complete(user, leaf)
    api.aggregate_learners(course_key, [user.username for user in users])
    totals.rebuild(course_key)
    return course_key, leaves, users


def test_a_rebuild_counts_the_active_enrollments_and_their_rows(course):
    course_key, _leaves, users = course
    row = CourseTotal.objects.get(course_key=course_key)
    assert row.learners == 4 and row.built is not None
    assert CountedLearner.objects.filter(course_key=course_key).count() == 4
    course_total = BlockTotal.objects.get(course_key=course_key, aggregation_name="course")
    assert (course_total.learners, course_total.earned, course_total.possible) == (4, 1 + 4 + 7 + 10, 4 * 16)
    assert_kept(course_key)


def test_the_write_path_keeps_the_totals(course):
    course_key, leaves, users = course
    for leaf in leaves[5:12]:
        complete(users[0], leaf)
    complete(users[3], leaves[0], value=0.25)  # a lower value: totals go down as well as up
    api.aggregate_learners(course_key, [users[0].username, users[3].username])
    assert_kept(course_key)
    api.aggregate_learners(course_key, [user.username for user in users], force=True)  # nothing changes
    assert_kept(course_key)


def test_a_new_learner_counts_from_enrollment_and_rows_follow(course, django_capture_on_commit_callbacks):
    course_key, leaves, _users = course
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = learner("newcomer", course_key)
    assert CourseTotal.objects.get(course_key=course_key).learners == 5
    assert_kept(course_key)  # counted with no rows: earned 0, the course's possible
    complete(newcomer, leaves[0])
    api.aggregate_learners(course_key, ["newcomer"])
    assert_kept(course_key)


def test_unenrolling_takes_the_learner_out_and_reenrolling_brings_the_rows_back(
    course, django_capture_on_commit_callbacks
):
    course_key, leaves, users = course
    enrollment = Enrollment.objects.get(user=users[2], course_key=course_key)
    with django_capture_on_commit_callbacks(execute=True):
        enrollment.is_active = False
        enrollment.save()
    assert CourseTotal.objects.get(course_key=course_key).learners == 3
    assert_kept(course_key)
    # Rows written while not counted change nothing; they come in with the re-enrollment.
    complete(users[2], leaves[15])
    api.aggregate_learners(course_key, [users[2].username])
    assert_kept(course_key)
    with django_capture_on_commit_callbacks(execute=True):
        enrollment.is_active = True
        enrollment.save()
    assert CourseTotal.objects.get(course_key=course_key).learners == 4
    assert_kept(course_key)


def test_a_repeated_or_late_enrollment_event_changes_nothing(course):
    course_key, _leaves, users = course
    before = list(BlockTotal.objects.filter(course_key=course_key).values_list("learners", "earned").order_by("id"))
    assert totals.sync_learners(course_key, [users[0].pk, users[1].pk]) == (0, 0)
    assert totals.sync_learners(course_key, []) == (0, 0)
    after = list(BlockTotal.objects.filter(course_key=course_key).values_list("learners", "earned").order_by("id"))
    assert before == after


def test_deleting_an_enrollment_or_a_user_takes_their_rows_out(course, django_capture_on_commit_callbacks):
    course_key, _leaves, users = course
    with django_capture_on_commit_callbacks(execute=True):
        Enrollment.objects.get(user=users[1], course_key=course_key).delete()
    assert_kept(course_key)
    with django_capture_on_commit_callbacks(execute=True):
        users[3].delete()  # their rows go by cascade
    assert CourseTotal.objects.get(course_key=course_key).learners == 2
    assert_kept(course_key)


def test_blocks_that_leave_the_course_leave_the_totals(course):
    course_key, _leaves, users = course
    build_course(shape=(1, 2, 2, 2))  # a new version: the second chapter is gone
    api.aggregate_learners(course_key, [user.username for user in users], force=True)
    assert_kept(course_key)
    # (summed over the shards: the rows were added in shard 0 and taken out in the writer's)
    assert not [key for (_name, key), sums in kept_sums.kept_block_sums(course_key).items() if "ch1" in key and sums.rows]


def test_excluded_roles_are_taken_out_at_query_time(course):
    course_key, _leaves, users = course
    CourseAccessRole.objects.create(user=users[3], course_key=course_key, org=course_key.org, role="staff")
    assert_kept(course_key, exclude_roles=["staff"])
    assert _stats(course_key, exclude_roles=["staff"])[0] == 3
    kept = kept_sums.kept_sums(course_key, ["course"], {users[3].pk})
    assert kept.learner_count == 3 and kept.candidates == (users[0],)
    # The mean leaves out every role holder too.
    assert api.get_mean(course_key) == pytest.approx(sum((1 + 3 * i) / 16 for i in range(3)) / 3)


def test_a_cohort_is_computed_from_the_rows(course):
    course_key, _leaves, users = course
    from completion_aggregator.standalone.models import Cohort, CohortMembership

    cohort = Cohort.objects.create(course_key=course_key, name="A")
    CohortMembership.objects.create(cohort=cohort, user=users[1], course_key=course_key)
    result = api.get_course_stats(course_key, cohort_id=cohort.pk)
    assert result.learner_count == 1 and result.mean_completion.earned == pytest.approx(4.0)


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_an_unbuilt_course_is_computed_from_the_rows_and_keeps_nothing(django_capture_on_commit_callbacks):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])
    row = CourseTotal.objects.get(course_key=course_key)  # the write path created the lock row
    assert (row.built, row.learners) == (None, 0)
    assert not BlockTotal.objects.exists() and not CountedLearner.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        learner("sam", course_key)
    assert not CountedLearner.objects.exists()
    assert totals.check(course_key) == [] and kept_sums.kept_sums(course_key, ["course"]) is None
    assert api.get_course_stats(course_key).learner_count == 2


def test_check_reports_drift_and_a_rebuild_mends_it(course):
    course_key, _leaves, users = course
    BlockTotal.objects.filter(course_key=course_key, aggregation_name="course").update(earned=0.0, completed=3)
    CourseTotal.objects.filter(course_key=course_key).update(learners=9)
    problems = totals.check(course_key)
    assert any("earned" in problem for problem in problems)
    assert any("completed" in problem for problem in problems)
    assert any("9 learners counted, 4 active enrollments" in problem for problem in problems)
    totals.rebuild(course_key)
    assert_kept(course_key)


def test_the_command_builds_checks_and_reports_drift(capsys):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])
    call_command("rebuild_completion_totals", str(course_key))
    assert "courses: 1; learners counted: 1" in capsys.readouterr().out
    call_command("rebuild_completion_totals", "--all", "--check")
    assert "agree" in capsys.readouterr().out
    BlockTotal.objects.filter(course_key=course_key, aggregation_name="course").update(earned=5.0)
    with pytest.raises(CommandError, match="difference"):
        call_command("rebuild_completion_totals", str(course_key), "--check")
    call_command("rebuild_completion_totals", "--all")
    assert totals.check(course_key) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give one or more COURSE_KEYs, or --all"),
        (("course-v1:edX+Demo+1", "--all"), "not both"),
        (("not a key",), "invalid course key 'not a key': expected course-v1:"),
    ],
)
def test_the_command_rejects_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rebuild_completion_totals", *args)
    assert not CourseTotal.objects.exists()


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_the_first_change_to_an_unbuilt_course_queues_its_build(django_capture_on_commit_callbacks):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])  # queued, not aggregated (asynchronous mode)
    from completion_aggregator.batch import run_service

    with django_capture_on_commit_callbacks(execute=True):
        run_service()  # eager Celery: the aggregation task, then, after its commit, the build
    built = CourseTotal.objects.get(course_key=course_key).built
    assert built is not None
    assert_kept(course_key)
    complete(alex, leaves[1])
    with django_capture_on_commit_callbacks(execute=True):
        run_service()  # built already: kept by the write path, no second build
    assert CourseTotal.objects.get(course_key=course_key).built == built
    assert_kept(course_key)


def test_a_queued_build_skips_a_course_built_meanwhile(course):
    course_key, _leaves, _users = course
    from completion_aggregator.tasks.aggregation_tasks import build_statistics_totals

    built = CourseTotal.objects.get(course_key=course_key).built
    assert build_statistics_totals(str(course_key), only_missing=True) == {"course_key": str(course_key), "skipped": True}
    assert CourseTotal.objects.get(course_key=course_key).built == built
    assert build_statistics_totals(str(course_key))["learners"] == 4
    assert build_statistics_totals("not a key") == {}
