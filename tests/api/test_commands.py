"""Management commands and tasks (eager Celery), on the standalone host."""
import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test.utils import override_settings

from completion_aggregator.models import Aggregator, StaleCompletion
from completion_aggregator.tasks.aggregation_tasks import update_aggregators
from completion_aggregator.tasks.handler_tasks import mark_all_stale
from tests.helpers import build_course, complete, learner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_async")]


@pytest.fixture
def _async():
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True, COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE=2):
        cache.clear()
        yield
        cache.clear()


def test_service_groups_stale_rows_per_course_and_chunk(capsys):
    course_a, leaves_a = build_course()
    course_b, leaves_b = build_course("course-v1:edX+Other+2026", shape=(1, 1, 1, 2))
    users = [learner(f"u{i}", course_a) for i in range(3)]
    for user in users:
        complete(user, leaves_a[0])
        complete(user, leaves_a[1])
    complete(users[0], leaves_b[0])
    call_command("run_aggregator_service")
    out = capsys.readouterr().out
    # 3 enrollment rows + 7 completion rows; 3 learners in A (2 tasks of at most 2) + 1 in B.
    assert "stale rows read: 10; learners: 4; courses: 2; tasks enqueued: 3" in out
    assert not StaleCompletion.objects.filter(resolved=False).exists()
    assert Aggregator.objects.get(user=users[2], aggregation_name="course", course_key=course_a).earned == 2.0
    assert Aggregator.objects.get(user=users[0], aggregation_name="course", course_key=course_b).percent == 0.5


def test_service_respects_limit_and_rejects_bad_options(capsys):
    course_key, leaves = build_course()
    user = learner("alex", course_key)
    for leaf in leaves[:3]:
        complete(user, leaf)
    call_command("run_aggregator_service", limit=1)
    assert "stale rows read: 1;" in capsys.readouterr().out
    for bad in (-1, float("nan"), float("inf"), 1e300):
        with pytest.raises(CommandError, match="expected a number of seconds from 0 to 86400"):
            call_command("run_aggregator_service", delay_between_batches=bad)
    for bad in ("nan", "inf", "1e300", "-1", "soon"):  # as typed on the command line: argparse refuses them
        with pytest.raises(CommandError, match="expected a number of seconds from 0 to 86400"):
            call_command("run_aggregator_service", "--delay-between-batches", bad)


def test_a_second_concurrent_service_run_exits_at_once():
    cache.add("COMPLETION_AGGREGATOR_AGGREGATION_LOCK", "someone-else", 60)
    with pytest.raises(CommandError, match="another run_aggregator_service is running"):
        call_command("run_aggregator_service")
    assert cache.get("COMPLETION_AGGREGATOR_AGGREGATION_LOCK") == "someone-else"  # not released by us


def test_cleanup_deletes_only_resolved_rows(capsys):
    course_key, _ = build_course()
    StaleCompletion.objects.create(username="a", course_key=course_key, resolved=True)
    StaleCompletion.objects.create(username="b", course_key=course_key, resolved=False)
    call_command("run_aggregator_cleanup")
    assert "resolved stale rows deleted: 1" in capsys.readouterr().out
    assert list(StaleCompletion.objects.values_list("username", flat=True)) == ["b"]


def test_reaggregate_course_queues_every_active_enrollment(capsys):
    course_key, _ = build_course()
    learner("a", course_key)
    learner("b", course_key)
    StaleCompletion.objects.all().delete()  # the enrollments' own rows
    call_command("reaggregate_course", str(course_key))
    assert "courses: 1; enrollments queued: 2" in capsys.readouterr().out
    assert StaleCompletion.objects.filter(force=True, block_key=None, resolved=False).count() == 2
    call_command("reaggregate_course", all=True)
    assert StaleCompletion.objects.filter(force=True).count() == 4
    with pytest.raises(CommandError, match="invalid course key .not-a-key.: expected course-v1:ORG"):
        call_command("reaggregate_course", "not-a-key")
    with pytest.raises(CommandError, match="not both"):
        call_command("reaggregate_course", str(course_key), all=True)


def test_contract_tasks_keep_their_signatures():
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    learner("never_started", course_key)
    complete(alex, leaves[0])
    update_aggregators.delay("alex", str(course_key), block_keys=[str(leaves[0])], force=False)
    assert Aggregator.objects.get(user=alex, aggregation_name="course").earned == 1.0
    assert mark_all_stale.delay(str(course_key)).get() == 2  # learners who never started too
    assert mark_all_stale.delay(str(course_key), users=["alex"]).get() == 1
    update_aggregators.delay("nobody", "not-a-course-key")  # logged, not raised
