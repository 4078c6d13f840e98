"""
Sending events with less copying (completion_aggregator.events, ADR 0021): what backends get
is what ``tracker.emit`` gives them, with fewer deep copies; other trackers get ``emit``.
"""

import copy
import cProfile
import gc
import json
import logging
import pstats
from datetime import datetime

import pytest
from eventtracking import tracker
from eventtracking.django.django_tracker import DjangoTracker
from eventtracking.tracker import Tracker

from completion_aggregator import api
from completion_aggregator.api import totals
from completion_aggregator.events import PROGRESS_EVENT_PREFIX, Instant, Payload, emit_events
from tests.helpers import build_course, complete, learner

MEMORY = {"ENGINE": "eventtracking.backends.tests.InMemoryBackend"}
#: edx-platform's LMS layout (lms/envs/common.py): two nested routing backends, the second
#: filtering by name (its whitelist is empty by default); in-memory backends stand in for
#: the tracking log and Segment.
LMS_LAYOUT = {
    "tracking_logs": {
        "ENGINE": "eventtracking.backends.routing.RoutingBackend",
        "OPTIONS": {"backends": {"log": MEMORY}},
    },
    "segmentio": {
        "ENGINE": "eventtracking.backends.routing.RoutingBackend",
        "OPTIONS": {
            "backends": {"segment": MEMORY},
            "processors": [
                {"ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor", "OPTIONS": {"whitelist": []}}
            ],
        },
    },
}
PAYLOAD = {
    "user_id": 7,
    "username": "alex",
    "course_id": "course-v1:Org+Course+Run",
    "block_id": "block-v1:Org+Course+Run+type@chapter+block@ch0",
    "created": "2026-11-30T10:00:00+00:00",
    "modified": "2026-11-30T10:00:00+00:00",
    "earned": 1.0,
    "possible": 2.0,
    "percent": 0.5,
    "type": "chapter",
}


@pytest.fixture
def lms_tracker(settings):
    """A DjangoTracker with the LMS layout as the default tracker; yields its tracking-log backend."""
    settings.EVENT_TRACKING_BACKENDS = LMS_LAYOUT
    settings.EVENT_TRACKING_PROCESSORS = []
    previous = tracker.TRACKERS.get(tracker.DEFAULT_TRACKER_NAME)
    current = DjangoTracker()
    tracker.register_tracker(current)
    yield current.get_backend("tracking_logs").backends["log"]
    if previous is not None:
        tracker.register_tracker(previous)
    else:
        tracker.TRACKERS.pop(tracker.DEFAULT_TRACKER_NAME, None)


def deepcopy_calls(work) -> int:
    """How many objects ``copy.deepcopy`` visits while ``work()`` runs (its recursive calls included)."""
    profiler = cProfile.Profile()
    profiler.runcall(work)
    return sum(
        stats[1]  # total calls, recursive ones included
        for (filename, _line, function), stats in pstats.Stats(profiler).stats.items()  # type: ignore[attr-defined]
        if function == "deepcopy" and filename == copy.__file__
    )


def test_copies_are_a_shallow_copy_and_the_object_itself():
    payload = Payload(PAYLOAD)
    copied = copy.deepcopy(payload)
    assert copied == PAYLOAD and copied is not payload and type(copied) is Payload
    instant = Instant(2026, 11, 30, tzinfo=tracker.UTC)
    assert copy.deepcopy(instant) is instant and instant == datetime(2026, 11, 30, tzinfo=tracker.UTC)


@pytest.mark.django_db
def test_a_backfill_deep_copies_each_event_once_per_nested_routing_backend_cheaply(
    settings, lms_tracker, django_capture_on_commit_callbacks
):
    """
    Pin: 9 objects visited per copy (the event, its 4 keys, name, timestamp, payload,
    context), 2 copies per event (tracking_logs, segmentio). ``tracker.emit`` copied once
    more at the top and walked every payload value and the timestamp's state: 93 per event.
    """
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    totals.rebuild(course_key)  # built: the only after-commit work is the events
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api.aggregate_learners(course_key, ["alex"])
    lms_tracker.events.clear()  # edx-completion's own event
    copies = deepcopy_calls(lambda: [callback() for callback in callbacks])
    assert len(lms_tracker.events) == 15
    assert copies == 15 * 2 * 9


def _emitted_both_ways(lms_tracker, processor=None):
    """The same two payloads through ``tracker.emit`` and through :func:`emit_events`, in a context."""
    current = tracker.get_tracker()
    if processor is not None:
        current.get_backend("tracking_logs").register_processor(processor)
    names = [PROGRESS_EVENT_PREFIX + "chapter", "openedx.completion_aggregator.completion.chapter"]
    with current.context("outer", {"course_id": "course-v1:Org+Course+Run", "nested": {"depth": 1}}):
        for name in names:
            tracker.emit(name, dict(PAYLOAD))
        assert emit_events([(name, Payload(PAYLOAD)) for name in names]) == 2
        assert current.resolve_context() == {"course_id": "course-v1:Org+Course+Run", "nested": {"depth": 1}}
    assert len(lms_tracker.events) == 4
    return lms_tracker.events[:2], lms_tracker.events[2:]


def test_backends_get_what_tracker_emit_gives_them(lms_tracker, caplog):
    by_emit, by_send = _emitted_both_ways(lms_tracker)
    for old, new in zip(by_emit, by_send, strict=True):
        assert set(new) == set(old) == {"name", "timestamp", "data", "context"}
        assert (new["name"], new["data"], new["context"]) == (old["name"], old["data"], old["context"])
        assert isinstance(new["timestamp"], datetime) and new["timestamp"].utcoffset() == old["timestamp"].utcoffset()
        assert new["timestamp"] >= old["timestamp"]
    # The tracking log's JSON lines are the same but for the time.
    from eventtracking.backends.logger import LoggerBackend

    caplog.set_level(logging.INFO, logger="tracking")
    backend = LoggerBackend(name="tracking", max_event_size=50000)
    for event in (*by_emit, *by_send):
        backend.send(event)
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "tracking"]
    stamps = [line.pop("timestamp") for line in lines]
    assert lines[:2] == lines[2:]
    assert all(len(stamp) == len("2026-11-30T10:00:00.123456+00:00") and stamp.endswith("+00:00") for stamp in stamps)


def test_processors_that_change_events_in_place_touch_only_that_event(lms_tracker):
    def meddle(event):
        event["data"]["username"] = "changed"
        event["context"]["nested"]["depth"] += 1
        event["context"]["added"] = True

    by_emit, by_send = _emitted_both_ways(lms_tracker, processor=meddle)
    for old, new in zip(by_emit, by_send, strict=True):
        assert new["data"] == old["data"] and new["data"]["username"] == "changed"
        assert (
            new["context"]
            == old["context"]
            == {"course_id": "course-v1:Org+Course+Run", "nested": {"depth": 2}, "added": True}
        )
    assert by_send[0]["data"] is not by_send[1]["data"]


def test_a_tracker_that_overrides_emit_gets_every_event(settings):
    received = []

    class Recording(Tracker):
        def emit(self, name=None, data=None):
            received.append((name, data))

    previous = tracker.TRACKERS.get(tracker.DEFAULT_TRACKER_NAME)
    tracker.register_tracker(Recording())
    try:
        assert emit_events([("a", Payload(PAYLOAD)), ("b", Payload(PAYLOAD))]) == 2
    finally:
        if previous is not None:
            tracker.register_tracker(previous)
    assert received == [("a", PAYLOAD), ("b", PAYLOAD)]


def test_a_replaced_module_emit_gets_every_event(monkeypatch, lms_tracker):
    received = []
    monkeypatch.setattr(tracker, "emit", lambda name=None, data=None: received.append(name))
    assert emit_events([("a", Payload(PAYLOAD)), ("b", Payload(PAYLOAD))]) == 2
    assert received == ["a", "b"] and lms_tracker.events == []


def test_without_a_default_tracker_nothing_is_sent_with_one_warning(monkeypatch, caplog):
    monkeypatch.delitem(tracker.TRACKERS, tracker.DEFAULT_TRACKER_NAME, raising=False)
    with caplog.at_level(logging.WARNING, logger="completion_aggregator"):
        assert emit_events([(PROGRESS_EVENT_PREFIX + "chapter", Payload(PAYLOAD))] * 15) == 0
    assert [record.levelname for record in caplog.records] == ["WARNING"]


@pytest.mark.django_db
def test_a_write_holds_no_payload_until_its_events_are_sent(settings, lms_tracker, django_capture_on_commit_callbacks):
    """Payloads are built one at a time after commit: a backfill chunk keeps none alive while it runs."""
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api.aggregate_learners(course_key, ["alex"])
        assert not [obj for obj in gc.get_objects() if type(obj) is Payload]
    lms_tracker.events.clear()
    for callback in callbacks:
        callback()
    assert len(lms_tracker.events) == 15 and all(type(event["data"]) is Payload for event in lms_tracker.events)
