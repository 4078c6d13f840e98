"""
The "add an aggregation name" recipe of docs/how_to_extend.rst, by settings only.

A fifth aggregation name (``wrapper``, a container in aggregator mode in the built-in table)
configured in ``COMPLETION_AGGREGATOR_BLOCK_TYPES`` and ``…_TRACKING_EVENT_TYPES`` gets
stored rows, REST arrays, an OpenAPI property and tracking events, with no code change.
xAPI statements need code (the recipe's step 4): the transformers are registered for the
default names only (``xapi.py``).
"""
import pytest
from opaque_keys.edx.keys import CourseKey
from rest_framework.test import APIClient

from completion_aggregator import api
from completion_aggregator.completion_modes import mode_lookup
from completion_aggregator.conf import DEFAULT_BLOCK_TYPES
from completion_aggregator.data import CompletionMode
from completion_aggregator.event_names import EVENT_NAMES, PROGRESS_EVENT_PREFIX
from completion_aggregator.models import Aggregator
from completion_aggregator.standalone.publishing import BlockSpec, publish_structure
from tests.helpers import complete, learner

pytestmark = pytest.mark.django_db

FIFTH = "wrapper"
KEY = CourseKey.from_string("course-v1:edX+Fifth+2026")


@pytest.fixture
def fifth(settings):
    """The recipe's step 2: the name in both settings (the defaults plus the fifth)."""
    settings.COMPLETION_AGGREGATOR_BLOCK_TYPES = {*DEFAULT_BLOCK_TYPES, FIFTH}
    settings.COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES = {*DEFAULT_BLOCK_TYPES, FIFTH}
    api.clear_graph_cache()
    yield
    api.clear_graph_cache()


def _course():
    """course > chapter > sequential > vertical > wrapper > 2 html, and 1 html beside the wrapper."""
    specs = []

    def spec(block_type, block_id, children=()):
        usage = KEY.make_usage_key(block_type, block_id)
        specs.append(BlockSpec(key=usage, block_type=block_type, children=list(children), display_name=block_id))
        return usage

    inside = [spec("html", "in1"), spec("html", "in2")]
    beside = spec("html", "out")
    vertical = spec("vertical", "v", [spec(FIFTH, "w", inside), beside])
    root = spec("course", "course", [spec("chapter", "ch", [spec("sequential", "s", [vertical])])])
    publish_structure(KEY, root, specs, display_name="Fifth")
    return inside, beside


def test_step_1_the_type_aggregates():
    assert mode_lookup()(FIFTH) is CompletionMode.AGGREGATOR


def test_rows_rest_schema_and_events_follow_the_settings(fifth, tracked, django_capture_on_commit_callbacks):
    inside, _beside = _course()
    alex = learner("alex", KEY)
    with django_capture_on_commit_callbacks(execute=True):
        complete(alex, inside[0])
    wrapper = str(KEY.make_usage_key(FIFTH, "w"))
    # Rows.
    row = Aggregator.objects.get(user=alex, aggregation_name=FIFTH)
    assert (str(row.block_key), row.earned, row.possible, row.percent) == (wrapper, 1.0, 2.0, 0.5)
    # Events.
    names = {name for name, _data in tracked()}
    assert PROGRESS_EVENT_PREFIX + FIFTH in names
    if FIFTH not in DEFAULT_BLOCK_TYPES:  # not in the xAPI allow-list until the recipe's step 4
        assert PROGRESS_EVENT_PREFIX + FIFTH not in EVENT_NAMES
    # REST API.
    client = APIClient()
    client.force_authenticate(user=alex)
    body = client.get(f"/completion-aggregator/v1/course/{KEY}/", {"requested_fields": FIFTH}).json()
    assert body["results"][0][FIFTH] == [{"course_key": str(KEY), "block_key": wrapper, "completion": {"earned": 1.0, "possible": 2.0, "percent": 0.5}}]
    assert client.get(f"/completion-aggregator/v1/course/{KEY}/", {"requested_fields": "nope"}).status_code == 400
    # OpenAPI schema.
    schema = client.get("/completion-aggregator/api/schema/", {"format": "json"}).json()
    assert FIFTH in schema["components"]["schemas"]["CourseCompletion"]["properties"]
