"""Fixtures of the event tests: event-tracking's own in-memory backend as the only backend."""
import pytest
from eventtracking import tracker
from eventtracking.django.django_tracker import DjangoTracker

MEMORY_BACKEND = {"memory": {"ENGINE": "eventtracking.backends.tests.InMemoryBackend"}}


@pytest.fixture
def tracked(settings):
    """The events emitted during the test, as ``(name, data)`` pairs (a list-returning callable)."""
    settings.EVENT_TRACKING_BACKENDS = MEMORY_BACKEND
    settings.EVENT_TRACKING_PROCESSORS = []
    previous = tracker.TRACKERS.get(tracker.DEFAULT_TRACKER_NAME)
    django_tracker = DjangoTracker()
    tracker.register_tracker(django_tracker)
    backend = django_tracker.get_backend("memory")

    def events(prefix="openedx.completion_aggregator."):
        return [(event["name"], event["data"]) for event in backend.events if event["name"].startswith(prefix)]

    events.raw = backend.events  # the whole event dicts (name, timestamp, data, context)
    yield events
    if previous is not None:
        tracker.register_tracker(previous)
    else:
        tracker.TRACKERS.pop(tracker.DEFAULT_TRACKER_NAME, None)
