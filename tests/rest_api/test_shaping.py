"""
``rest_api.shaping`` builds the very documents the course serializers describe: the same keys
in the same order and the same values, rendered to the same JSON bytes.
"""
import dataclasses
import json

import pytest
from rest_framework.renderers import JSONRenderer

from completion_aggregator.data import AggregateData, CourseProgressData, LockedData
from completion_aggregator.rest_api.serializers import CourseCompletionSerializer, CourseCompletionV0Serializer
from completion_aggregator.rest_api.shaping import Shaping, TextResultsResponse, consumed, course_entries_json

COURSE = "course-v1:edX+Shape+2026"


def block(block_type, block_id):
    return f"block-v1:edX+Shape+2026+type@{block_type}+block@{block_id}"


PROGRESS = CourseProgressData(
    course_key=COURSE,
    user_id=7,
    username="alex",
    course=AggregateData(block("course", "course"), "course", 3, 4.0, 0.75, 1.0, 3.0, 1 / 3),
    blocks=(
        AggregateData(block("chapter", "ch0"), "chapter", 2.0, 2.0, 1.0),
        AggregateData(block("sequential", "s0"), "sequential", 2.0, 2.0, 1.0, 0.5, 1.0, 0.5),
        AggregateData(block("chapter", "ch1"), "chapter", 1, 2, 0.5),
        AggregateData(block("vertical", "v1"), "vertical", 0.1, 0.3, 0.1 / 0.3),
    ),
)


@pytest.mark.parametrize("serializer_class, with_ratio", [(CourseCompletionSerializer, False), (CourseCompletionV0Serializer, True)])
@pytest.mark.parametrize("aggregations", [(), ("chapter",), ("vertical", "chapter", "sequential")])
@pytest.mark.parametrize("include_optional", [False, True])
@pytest.mark.parametrize("include_username", [False, True])
@pytest.mark.parametrize("means", [{}, {COURSE: 0.5}, {COURSE: None}, {"course-v1:Other+X+Y": 0.1}])
@pytest.mark.parametrize("locked", [None, LockedData(0.0, 1.0, 0.0)])
def test_shaping_renders_what_the_serializer_renders(
    serializer_class, with_ratio, aggregations, include_optional, include_username, means, locked
):
    progress = dataclasses.replace(PROGRESS, locked=locked)
    context = {
        "aggregations": list(aggregations),
        "include_optional": include_optional,
        "include_username": include_username,
        "means": means,
    }
    shaping = Shaping(
        aggregations=aggregations,
        include_optional=include_optional,
        include_username=include_username,
        means=means,
        with_ratio=with_ratio,
    )
    expected = serializer_class(progress, context=context).data
    shaped = shaping.course_entry(progress)
    assert list(shaped) == list(expected)
    assert ("locked" in shaped) is (locked is not None)
    rendered = JSONRenderer().render(shaped)
    assert rendered == JSONRenderer().render(expected)
    assert b'"earned":3.0' in rendered  # integers are floats, as DRF's FloatField makes them
    assert json.loads(rendered) == json.loads(JSONRenderer().render(expected))


def test_course_entries_keep_the_order_and_consumed_empties_the_list():
    other = CourseProgressData(COURSE, 8, "sam", AggregateData(block("course", "course"), "course", 0.0, 4.0, 0.0))
    progress = [PROGRESS, other]
    entries = Shaping(include_username=True).course_entries(consumed(progress))
    assert [entry["username"] for entry in entries] == ["alex", "sam"]
    assert progress == []


UNICODE = CourseProgressData(
    course_key=COURSE,
    user_id=9,
    username="zoë\u2028",  # written as DRF writes it: UTF-8, with U+2028 escaped
    course=AggregateData(block("course", "course"), "course", 0.0, 4.0, 0.0),
    blocks=(AggregateData(block("chapter", "ch0"), "chapter", 1e-20, 3.0, 1e-20 / 3.0),),
)


@pytest.mark.parametrize("with_ratio", [False, True])
@pytest.mark.parametrize("aggregations", [(), ("chapter",), ("vertical", "chapter", "sequential")])
@pytest.mark.parametrize("include_optional", [False, True])
@pytest.mark.parametrize("means", [{}, {COURSE: 0.5}])
def test_text_entries_are_the_bytes_drf_renders(with_ratio, aggregations, include_optional, means):
    """The staff page's text path and the dict path give byte-identical answers."""
    shaping = Shaping(
        aggregations=aggregations, include_optional=include_optional, include_username=True, means=means, with_ratio=with_ratio
    )
    renderer = JSONRenderer()
    encode = renderer.encoder_class(ensure_ascii=renderer.ensure_ascii, allow_nan=False, separators=(",", ":")).encode
    items = [PROGRESS, UNICODE, dataclasses.replace(PROGRESS, locked=LockedData(1, 2, 0.5))]
    expected = renderer.render({"results": shaping.course_entries(items), "pagination": {"count": 3, "next": None}})
    response = TextResultsResponse({"results": [], "pagination": {"count": 3, "next": None}}, course_entries_json(shaping, items, encode))
    response.accepted_renderer, response.accepted_media_type, response.renderer_context = renderer, "application/json", {}
    assert response.rendered_content == expected
    assert b"\\u2028" in expected


def test_text_entries_refuse_what_strict_json_refuses():
    broken = CourseProgressData(
        COURSE, 1, "x", AggregateData(block("course", "course"), "course", 0.0, 1.0, 0.0),
        blocks=(AggregateData(block("chapter", "ch0"), "chapter", float("nan"), 1.0, 0.0),),
    )
    with pytest.raises(ValueError, match="not JSON compliant"):
        course_entries_json(Shaping(aggregations=("chapter",)), [broken], json.JSONEncoder().encode)


def test_the_collector_is_paused_during_a_page_and_restored_as_found():
    import gc

    from completion_aggregator.rest_api.shaping import cyclic_gc_paused

    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with cyclic_gc_paused():
            raise RuntimeError("a page that fails")
    assert gc.isenabled()
    gc.disable()  # a host that runs without the collector keeps it off
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
