"""
``rest_api.renderers.JSONRenderer`` writes what DRF's JSON renderer writes, with orjson; the
views use it in place of DRF's, and keep the host's other renderers.
"""

import datetime
import decimal
import json
import re
import uuid
from collections import OrderedDict

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers as drf
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import BrowsableAPIRenderer

from completion_aggregator.rest_api.renderers import JSONRenderer, with_orjson
from tests.helpers import learner

from .conftest import V0, V1, as_user, store

DOCUMENTS = [
    {"results": [], "pagination": {"next": None, "previous": None, "count": 0, "num_pages": 1}},
    {"detail": ErrorDetail("Invalid course key: 'x'.", code="not_found")},
    OrderedDict([("b", 1), ("a", [1.0, 2, True, False, None])]),
    {"username": 'zoë \u2028 \u2029 </script> "quoted" \\ \t\n\x00\x1f \U0001f600'},
    {
        "floats": [
            0.1,
            1 / 3,
            2 / 3,
            1.0,
            0.0,
            -0.0,
            0.0001,
            0.30000000000000004,
            1e15,
            1e16,
            1e22,
            1.7976931348623157e308,
        ]
    },
    {"ints": [0, -1, 2**63 - 1, -(2**63)]},
    {"when": datetime.datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=datetime.UTC), "day": datetime.date(2026, 1, 2)},
    {"decimal": decimal.Decimal("0.25"), "uuid": uuid.UUID(int=7), "lazy": gettext_lazy("Completion")},
    {"big": 2**64, "set": [1]},
    {1: "a key that is not a string"},
    [],
    "a bare string",
]


@pytest.mark.parametrize("data", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_the_bytes_are_drfs(data):
    assert JSONRenderer().render(data, "application/json") == drf.JSONRenderer().render(data, "application/json")


def test_none_is_an_empty_body_and_an_indent_is_drfs():
    assert JSONRenderer().render(None) == b""
    data = {"a": [1.0, {"b": None}]}
    for media_type in ("application/json; indent=2", "application/json; indent=4"):
        assert JSONRenderer().render(data, media_type) == drf.JSONRenderer().render(data, media_type)
    assert JSONRenderer().render(data, "application/json", {"indent": 3}) == drf.JSONRenderer().render(
        data, "application/json", {"indent": 3}
    )


@pytest.mark.parametrize("value", [1e-7, 1e-5, 9.99e-5, 5e-324, 2.2250738585072014e-308, -3.5e-6, 1e-20 / 3.0])
def test_numbers_below_1e_4_are_the_same_json_float(value):
    """orjson writes ``1e-7`` and ``0.00001`` where ``repr`` writes ``1e-07`` and ``1e-05``: the same value, a float."""
    body = JSONRenderer().render({"percent": value}, "application/json")
    token = re.fullmatch(rb'\{"percent":(.+)\}', body).group(1)
    assert b"." in token or b"e" in token  # a JSON float, never an integer literal
    assert json.loads(body)["percent"] == value and isinstance(json.loads(body)["percent"], float)


def test_what_drf_cannot_write_orjson_does_not_either():
    with pytest.raises(TypeError):
        JSONRenderer().render({"object": object()}, "application/json")


def test_drfs_json_renderer_is_replaced_and_the_others_kept():
    assert with_orjson([drf.JSONRenderer, BrowsableAPIRenderer]) == [JSONRenderer, BrowsableAPIRenderer]
    assert with_orjson([BrowsableAPIRenderer]) == [BrowsableAPIRenderer]


@pytest.mark.django_db
@pytest.mark.parametrize("path", [f"{V1}/course/", f"{V0}/course/", "detail", "stats"])
def test_the_views_answer_with_it(client, course, staff, path):
    course_key, leaves = course
    store(learner("alex", course_key), course_key, leaves[:3])
    path = {"detail": f"{V1}/course/{course_key}/", "stats": f"{V1}/stats/{course_key}/"}.get(path, path)
    client = as_user(client, staff)
    response = client.get(path, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert type(response.accepted_renderer) is JSONRenderer
    indented = client.get(path, HTTP_ACCEPT="application/json; indent=2")  # DRF's own rendering
    assert b"\n" in indented.content
    assert response.content == drf.JSONRenderer().render(json.loads(indented.content), "application/json")
