"""Tracking events: one per created or changed aggregator row, after commit, none otherwise."""
import pytest
from django.db import transaction
from django.test.utils import override_settings

from completion_aggregator import api
from completion_aggregator.api import totals
from completion_aggregator.events import COMPLETION_EVENT_PREFIX, PROGRESS_EVENT_PREFIX
from completion_aggregator.models import Aggregator
from tests.helpers import build_course, complete, learner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_async")]

FIELDS = {"user_id", "username", "course_id", "block_id", "created", "modified", "earned", "possible", "percent", "type"}


@pytest.fixture
def _async(settings):
    """Completions only queue: each test decides when aggregation runs."""
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True


def aggregate(course_key, *users, capture):
    with capture(execute=True):
        return api.aggregate_learners(course_key, [user.get_username() for user in users])


def names(events):
    return sorted(name for name, _data in events)


def test_first_aggregation_emits_one_progress_event_per_created_row(tracked, django_capture_on_commit_callbacks):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    result = aggregate(course_key, alex, capture=django_capture_on_commit_callbacks)
    events = tracked()
    assert len(events) == Aggregator.objects.filter(user=alex).count() == len(result.changed) == 15
    assert all(name.startswith(PROGRESS_EVENT_PREFIX) for name, _data in events)
    assert sum(name == PROGRESS_EVENT_PREFIX + "course" for name, _data in events) == 1
    assert sum(name == PROGRESS_EVENT_PREFIX + "chapter" for name, _data in events) == 2
    assert sum(name == PROGRESS_EVENT_PREFIX + "sequential" for name, _data in events) == 4
    assert sum(name == PROGRESS_EVENT_PREFIX + "vertical" for name, _data in events) == 8
    course = next(data for name, data in events if name.endswith(".course"))
    assert set(course) == FIELDS
    row = Aggregator.objects.get(user=alex, aggregation_name="course")
    assert course == {
        "user_id": alex.pk,
        "username": "alex",
        "course_id": str(course_key),
        "block_id": str(row.block_key),
        "created": row.created.isoformat(),
        "modified": row.modified.isoformat(),
        "earned": 1.0,
        "possible": 16.0,
        "percent": 1 / 16,
        "type": "course",
    }


def test_only_changed_rows_emit_and_a_row_reaching_100_percent_emits_a_completion(
    tracked, django_capture_on_commit_callbacks
):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    aggregate(course_key, alex, capture=django_capture_on_commit_callbacks)
    created = {data["block_id"]: data["created"] for _name, data in tracked()}
    before = len(tracked())
    complete(alex, leaves[1])  # completes vertical ch0_se0_ve0; 11 other rows do not change
    aggregate(course_key, alex, capture=django_capture_on_commit_callbacks)
    events = tracked()[before:]
    vertical = str(course_key.make_usage_key("vertical", "ch0_se0_ve0"))
    assert names(events) == sorted(
        [PROGRESS_EVENT_PREFIX + kind for kind in ("course", "chapter", "sequential", "vertical")]
        + [COMPLETION_EVENT_PREFIX + "vertical"]
    )
    completion = next(data for name, data in events if name.startswith(COMPLETION_EVENT_PREFIX))
    assert completion["block_id"] == vertical and completion["percent"] == 1.0 and completion["earned"] == 2.0
    # A changed row keeps its creation time; modified moves on.
    course = next(data for name, data in events if name == PROGRESS_EVENT_PREFIX + "course")
    assert course["created"] == created[course["block_id"]]
    assert course["percent"] == 2 / 16


def test_course_completion_event_once_at_100_percent(tracked, django_capture_on_commit_callbacks):
    course_key, leaves = build_course(shape=(1, 1, 1, 2))
    alex = learner("alex", course_key)
    for leaf in leaves:
        complete(alex, leaf)
    aggregate(course_key, alex, capture=django_capture_on_commit_callbacks)
    assert names(tracked(COMPLETION_EVENT_PREFIX)) == [
        COMPLETION_EVENT_PREFIX + kind for kind in ("chapter", "course", "sequential", "vertical")
    ]
    # Already complete: a forced recompute changes nothing and emits nothing.
    with django_capture_on_commit_callbacks(execute=True):
        api.aggregate_learners(course_key, ["alex"], force=True)
    assert len(tracked(COMPLETION_EVENT_PREFIX)) == 4
    assert len(tracked()) == 8


def test_unchanged_rows_emit_nothing(tracked, django_capture_on_commit_callbacks):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    aggregate(course_key, alex, capture=django_capture_on_commit_callbacks)
    count = len(tracked())
    with django_capture_on_commit_callbacks(execute=True):  # a forced full recompute: nothing changes
        result = api.aggregate_learners(course_key, ["alex"], force=True)
    assert result.stale_rows == 1 and result.learner_count == 1 and result.changed == []
    assert len(tracked()) == count


def test_reaggregate_course_over_correct_rows_emits_nothing(settings, tracked, django_capture_on_commit_callbacks):
    course_key, leaves = build_course()
    users = [learner(f"learner{index}", course_key) for index in range(3)]
    for index, user in enumerate(users):
        for leaf in leaves[: index * 3]:
            complete(user, leaf)
    aggregate(course_key, *users, capture=django_capture_on_commit_callbacks)
    count = len(tracked())
    assert len(tracked(PROGRESS_EVENT_PREFIX)) == 45  # plus completions of the verticals and sequential done
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = False  # reaggregate_course runs the tasks now (eager)
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.reaggregate_course(course_key)
    assert queued == 3
    assert not api.has_pending_work("learner1", course_key)
    assert len(tracked()) == count


def test_a_rolled_back_write_emits_nothing(tracked, django_capture_on_commit_callbacks):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Abort):
            with transaction.atomic():
                result = api.aggregate_learners(course_key, ["alex"])
                assert len(result.changed) == 15
                raise Abort
    assert callbacks == []
    assert tracked() == []
    assert not Aggregator.objects.filter(user=alex).exists()
    # The work is still pending and the next (committed) run emits the events.
    aggregate(course_key, alex, capture=django_capture_on_commit_callbacks)
    assert len(tracked()) == 15


def test_events_are_emitted_only_after_commit_and_without_queries(
    tracked, django_capture_on_commit_callbacks, django_assert_num_queries
):
    course_key, leaves = build_course()
    users = [learner(f"learner{index}", course_key) for index in range(5)]
    for user in users:
        complete(user, leaves[0])
    totals.rebuild(course_key)  # built: the only after-commit work is the events
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api.aggregate_learners(course_key, [user.get_username() for user in users])
        assert tracked() == []  # not before commit
    with django_assert_num_queries(0):
        for callback in callbacks:
            callback()
    assert len(tracked()) == 75
    assert {data["username"] for _name, data in tracked()} == {user.get_username() for user in users}


@override_settings(COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES={"course", "chapter"})
def test_only_tracked_types_emit(tracked, django_capture_on_commit_callbacks):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    aggregate(course_key, alex, capture=django_capture_on_commit_callbacks)
    assert names(tracked()) == [PROGRESS_EVENT_PREFIX + "chapter"] * 2 + [PROGRESS_EVENT_PREFIX + "course"]


@pytest.mark.parametrize("value", [None, set()])
def test_no_tracked_types_no_events(settings, value, tracked, django_capture_on_commit_callbacks):
    settings.COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES = value
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    aggregate(course_key, alex, capture=django_capture_on_commit_callbacks)
    assert tracked() == []


def test_a_failing_tracker_does_not_break_aggregation(monkeypatch, tracked, django_capture_on_commit_callbacks):
    from eventtracking import tracker

    emit = tracker.emit

    def boom(name=None, data=None):
        if name.startswith("openedx.completion_aggregator."):
            raise RuntimeError("backend down")
        return emit(name, data)

    monkeypatch.setattr(tracker, "emit", boom)
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    aggregate(course_key, alex, capture=django_capture_on_commit_callbacks)
    assert Aggregator.objects.filter(user=alex).count() == 15
