"""The staff listing answers the same document whichever renderer the client asks for."""
import json

import pytest

from tests.helpers import learner

from .conftest import V1, as_user, store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("version", [V1])  # v0's detail never lists learners (issue 17, point 1)
def test_compact_indented_and_browsable_answers_agree(client, course, staff, version):
    course_key, leaves = course
    store(learner("alex", course_key), course_key, leaves[:5])
    learner("kim", course_key)
    url = f"{version}/course/{course_key}/?requested_fields=chapter,vertical,mean&include_optional=true"
    client = as_user(client, staff)
    compact = client.get(url, HTTP_ACCEPT="application/json")
    indented = client.get(url, HTTP_ACCEPT="application/json; indent=2")
    browsable = client.get(url, HTTP_ACCEPT="text/html")
    assert compact.status_code == indented.status_code == browsable.status_code == 200
    assert compact["Content-Type"] == "application/json"
    assert b"\n" not in compact.content and b'\n  "results"' in indented.content
    assert json.loads(compact.content) == json.loads(indented.content)
    assert [entry["username"] for entry in json.loads(compact.content)["results"]] == ["alex", "kim"]
    assert browsable["Content-Type"].startswith("text/html") and b"alex" in browsable.content
