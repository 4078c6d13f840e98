"""
The OpenAPI components of the answers come from the field lists of ``rest_api.spec``: they
follow ``COMPLETION_AGGREGATOR_BLOCK_TYPES`` and list each entry's keys in the order the
answers write them.
"""

import pytest

from completion_aggregator.rest_api import spec
from completion_aggregator.rest_api.openapi import component, component_name

SCHEMA = "/completion-aggregator/api/schema/"


def schemas(client):
    response = client.get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()["components"]["schemas"]


@pytest.mark.parametrize(
    "aggregation_names, arrays",
    [
        ({"course", "chapter", "sequential", "vertical"}, ["chapter", "sequential", "vertical"]),
        ({"course", "chapter", "unit"}, ["chapter", "unit"]),
        ({"course"}, []),
    ],
)
def test_the_arrays_of_the_entries_follow_the_configured_aggregation_names(client, settings, aggregation_names, arrays):
    settings.COMPLETION_AGGREGATOR_BLOCK_TYPES = aggregation_names
    components = schemas(client)
    fixed = ["course_key", "completion", "optional_completion", "locked", "username", "mean"]
    for name in ("CourseCompletion", "CourseCompletionV0"):
        assert list(components[name]["properties"]) == fixed + arrays, name
    assert list(components["CourseStats"]["properties"]) == ["course_key", "mean_completion", "mean", *arrays]
    for name in arrays:
        assert components["CourseCompletion"]["properties"][name]["items"] == {
            "$ref": "#/components/schemas/BlockCompletion"
        }
        assert components["CourseCompletionV0"]["properties"][name]["items"] == {
            "$ref": "#/components/schemas/BlockCompletionV0"
        }
        assert components["CourseStats"]["properties"][name]["items"] == {"$ref": "#/components/schemas/BlockStats"}


def test_required_keys_are_those_of_every_answer_and_v0_adds_ratio(client):
    components = schemas(client)
    assert components["Completion"]["required"] == ["earned", "possible", "percent"]
    assert "ratio" not in components["Completion"]["properties"]
    assert components["CompletionV0"]["required"] == ["earned", "possible", "percent", "ratio"]
    assert components["BlockCompletion"]["required"] == ["course_key", "block_key", "completion"]
    assert components["CourseCompletion"]["required"] == ["course_key", "completion"]
    assert components["BlockStats"]["required"] == ["block_key", "mean_completion", "completed_count"]
    assert components["BlockCompletionResult"]["required"] == ["course_key", "block_key", "completion"]
    optional = components["CourseCompletion"]["properties"]["optional_completion"]
    assert optional == {
        "allOf": [{"$ref": "#/components/schemas/Completion"}],
        "readOnly": True,
        "description": "Only with include_optional=true.",
    }


def test_every_field_of_the_spec_is_in_its_component():
    """A field added to an entry is documented without another edit."""
    names = {}

    def reference(entry):
        names[entry.name] = entry
        return {"$ref": f"#/components/schemas/{entry.name}"}

    for entry in (spec.COURSE_ENTRY, spec.BLOCK_ENTRY, spec.COMPLETION, spec.COURSE_STATS, spec.BLOCK_STATS):
        for with_ratio in (False, True):
            properties = component(entry, with_ratio, ["chapter"], reference)["properties"]
            expected = [
                "chapter" if field.kind is spec.Kind.BY_AGGREGATION else field.name
                for field in entry.fields
                if with_ratio or field.when != spec.RATIO
            ]
            assert list(properties) == expected
    assert component_name(spec.COURSE_ENTRY, True) == "CourseCompletionV0"
    assert component_name(spec.BLOCK_COMPLETION_RESULT, True) == "BlockCompletionResult"
