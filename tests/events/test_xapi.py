"""
xAPI: our events through edx-event-routing-backends' own xAPI processor, with and without it.

``test_*_without_the_package`` run everywhere (the package is hidden when installed);
``test_*_with_the_package`` need the ``xapi`` extra (requirements/xapi.txt) installed and, in
the devsite, ``COMPLETION_AGGREGATOR_XAPI=1`` (which puts it in INSTALLED_APPS); elsewhere
they are skipped.
"""
import sys
from unittest import mock

import pytest

from completion_aggregator import api, xapi
from completion_aggregator.events import COMPLETION_EVENT_PREFIX, EVENT_NAMES, PROGRESS_EVENT_PREFIX
from completion_aggregator.settings import common
from tests.helpers import build_course, complete, learner

pytestmark = pytest.mark.django_db

LMS = "http://lms.example.com"
PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


@pytest.fixture
def without_the_package(monkeypatch):
    """Make ``import event_routing_backends`` fail, whether or not it is installed."""
    for name in list(sys.modules):
        if name == "event_routing_backends" or name.startswith("event_routing_backends."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "event_routing_backends", None)


def test_wiring_is_a_no_op_without_the_package(without_the_package):
    assert xapi.is_available() is False
    assert xapi.register_transformers() is False

    class Settings:
        EVENT_TRACKING_BACKENDS = {"logger": {"ENGINE": "eventtracking.backends.logger.LoggerBackend"}}
        LMS_ROOT_URL = LMS

    settings = Settings()
    assert xapi.configure_settings(settings) is False
    assert settings.EVENT_TRACKING_BACKENDS == {"logger": {"ENGINE": "eventtracking.backends.logger.LoggerBackend"}}
    assert not hasattr(settings, "EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS")
    # The plugin settings hook still sets every default and nothing else breaks.
    common.plugin_settings(settings)
    assert settings.COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES == {"course", "chapter", "sequential", "vertical"}
    assert not hasattr(settings, "EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS")


def test_events_are_still_emitted_without_the_package(without_the_package, settings, tracked, django_capture_on_commit_callbacks):
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True
    course_key, leaves = build_course(shape=(1, 1, 1, 1))
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    with django_capture_on_commit_callbacks(execute=True):
        api.aggregate_learners(course_key, ["alex"])
    assert len(tracked(PROGRESS_EVENT_PREFIX)) == 4 and len(tracked(COMPLETION_EVENT_PREFIX)) == 4


# With the package ------------------------------------------------------------------------


@pytest.fixture
def routing(settings):
    pytest.importorskip("event_routing_backends", reason="needs the xapi extra (requirements/xapi.txt)")
    from django.apps import apps

    if not apps.is_installed("event_routing_backends"):
        pytest.skip("needs event_routing_backends in INSTALLED_APPS (devsite: COMPLETION_AGGREGATOR_XAPI=1)")
    settings.LMS_ROOT_URL = LMS
    settings.XAPI_EVENTS_ENABLED = True
    settings.XAPI_EVENT_LOGGING_ENABLED = False
    settings.XAPI_AGENT_IFI_TYPE = "external_id"
    settings.RUNNING_WITH_TEST_SETTINGS = True
    assert xapi.register_transformers() is True
    from event_routing_backends.processors.xapi.transformer_processor import XApiProcessor

    with mock.patch(
        "event_routing_backends.processors.xapi.transformer.get_anonymous_user_id", side_effect=lambda user, kind: f"anon-{user}"
    ):
        yield XApiProcessor()


def test_settings_allow_our_events_with_the_package(routing):
    class Settings:
        LMS_ROOT_URL = LMS
        EVENT_TRACKING_BACKENDS = {"logger": {"ENGINE": "eventtracking.backends.logger.LoggerBackend"}}
        EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS = ["edx.course.enrollment.activated"]

    settings = Settings()
    assert xapi.configure_settings(settings) is True
    assert settings.EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS == ["edx.course.enrollment.activated", *EVENT_NAMES]
    assert "logger" in settings.EVENT_TRACKING_BACKENDS
    xapi_backend = settings.EVENT_TRACKING_BACKENDS["event_transformer"]["OPTIONS"]["backends"]["xapi"]
    whitelist = xapi_backend["OPTIONS"]["processors"][0]["OPTIONS"]["whitelist"]
    assert set(EVENT_NAMES) <= set(whitelist)


def test_statements_from_our_events_with_the_package(routing, settings, tracked, django_capture_on_commit_callbacks):
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True
    course_key, leaves = build_course(shape=(1, 1, 1, 2))
    alex = learner("alex", course_key)
    for leaf in leaves:
        complete(alex, leaf, 0.5 if leaf == leaves[0] else 1.0)
    with django_capture_on_commit_callbacks(execute=True):
        api.aggregate_learners(course_key, ["alex"])  # 75 % everywhere
    complete(alex, leaves[0], 1.0)
    with django_capture_on_commit_callbacks(execute=True):
        api.aggregate_learners(course_key, ["alex"])  # 100 % everywhere: progress + completion
    events = [event for event in tracked.raw if event["name"].startswith("openedx.completion_aggregator.")]
    assert len(events) == 12
    statements = routing(events)
    assert len(statements) == 12
    by_key = {}
    for event, statement in zip(events, statements, strict=True):
        data = event["data"]
        by_key[(event["name"], data["percent"])] = statement
        assert statement["actor"]["account"] == {"homePage": LMS, "name": f"anon-{alex.pk}"}
        assert statement["object"]["id"] == f"{LMS}/xblock/{data['block_id']}"
    course_block = str(course_key.make_usage_key("course", "course"))

    first = by_key[(PROGRESS_EVENT_PREFIX + "course", 0.75)]
    assert first["verb"]["id"] == PROGRESSED
    assert first["object"]["definition"]["type"] == xapi.ACTIVITY_COURSE
    assert first["object"]["id"] == f"{LMS}/xblock/{course_block}"
    assert first["result"] == {"completion": False, "extensions": {PROGRESS: 75.0}}

    chapter = by_key[(PROGRESS_EVENT_PREFIX + "chapter", 1.0)]
    assert chapter["verb"]["id"] == PROGRESSED
    assert chapter["object"]["definition"]["type"] == xapi.ACTIVITY_MODULE
    assert chapter["result"] == {"completion": True, "extensions": {PROGRESS: 100.0}}

    expected_types = {"course": xapi.ACTIVITY_COURSE, "chapter": xapi.ACTIVITY_MODULE, "sequential": xapi.ACTIVITY_MODULE, "vertical": xapi.ACTIVITY_LESSON}
    for block_type, activity in expected_types.items():
        done = by_key[(COMPLETION_EVENT_PREFIX + block_type, 1.0)]
        assert done["verb"]["id"] == COMPLETED
        assert done["object"]["definition"]["type"] == activity
        assert done["result"]["completion"] is True
