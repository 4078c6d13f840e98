"""
``rest_api.encoding`` writes each answer from the field lists of ``rest_api.spec``: the keys
in the contract's order, every number a float, NaN and infinities refused.

The generated encoders (``rest_api.compiled``) are checked against a plain interpreter of the
field lists (``interpret`` below) for every combination of options, and both against
documents written out by hand from the contract.
"""

import dataclasses
import itertools

import pytest

from completion_aggregator.api.stats import BlockStatsData, CompletionStatsData, CourseStatsData
from completion_aggregator.data import AggregateData, CourseProgressData, LockedData
from completion_aggregator.rest_api import compiled, spec
from completion_aggregator.rest_api.encoding import Shaping

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


def _read(source, item, parent, context):
    if isinstance(source, spec.Attribute):
        value = item
        for part in filter(None, source.path.split(".")):
            value = getattr(value, part)
        return value
    if isinstance(source, spec.Parent):
        return getattr(parent, source.path)
    if isinstance(source, spec.Computed):
        return source.function(item)
    return source.factory(context)(item)


def interpret(entry, item, shaping, parent=None):
    """The reference: the field list read field by field, as the module docstring of spec.py says."""
    options, context, document = shaping.options(), shaping.context, {}
    for field in entry.fields:
        if field.when not in options:
            continue
        raw = _read(field.source, item, parent, context)
        if raw is spec.OMIT:
            continue
        if field.kind is spec.Kind.BY_AGGREGATION:
            arrays = {name: [] for name in shaping.aggregation_names}
            for element in raw:
                if getattr(element, field.group_by) in arrays:
                    arrays[getattr(element, field.group_by)].append(interpret(field.entry, element, shaping, item))
            document.update(arrays)
        elif field.kind is spec.Kind.OBJECT:
            document[field.name] = interpret(field.entry, raw, shaping, item)
        elif field.kind is spec.Kind.ARRAY:
            document[field.name] = [interpret(field.entry, element, shaping, item) for element in raw]
        else:
            document[field.name] = {spec.Kind.STRING: str, spec.Kind.NUMBER: float, spec.Kind.INTEGER: int}[field.kind](
                raw
            )
    return document


def shapings():
    for aggregation_names, optional, username, means, ratio in itertools.product(
        [(), ("chapter",), ("vertical", "chapter", "sequential")],
        [False, True],
        [False, True],
        [{}, {COURSE: 0.5}, {"course-v1:Other+X+Y": 0.1}],
        [False, True],
    ):
        yield Shaping(aggregation_names, optional, username, means, ratio)


@pytest.mark.parametrize("locked", [None, LockedData(0.0, 1.0, 0.0)])
def test_the_generated_encoder_writes_what_the_field_list_says(locked):
    progress = dataclasses.replace(PROGRESS, locked=locked)
    for shaping in shapings():
        written = shaping.course_entry(progress)
        expected = interpret(spec.COURSE_ENTRY, progress, shaping)
        assert written == expected, shaping
        assert repr(written) == repr(expected), shaping  # the same keys in the same order, the same float types


def test_a_v0_course_entry_with_every_option_as_the_contract_orders_it():
    shaping = Shaping(("chapter",), include_optional=True, include_username=True, means={COURSE: 0.5}, with_ratio=True)
    written = shaping.course_entry(dataclasses.replace(PROGRESS, locked=LockedData(1, 2, 0.5)))
    assert repr(written) == repr(
        {
            "course_key": COURSE,
            "completion": {"earned": 3.0, "possible": 4.0, "percent": 0.75, "ratio": 0.75},
            "optional_completion": {"earned": 1.0, "possible": 3.0, "percent": 1 / 3, "ratio": 1 / 3},
            "locked": {"earned": 1.0, "possible": 2.0, "percent": 0.5, "ratio": 0.5},
            "username": "alex",
            "mean": 0.5,
            "chapter": [
                {
                    "course_key": COURSE,
                    "block_key": block("chapter", "ch0"),
                    "completion": {"earned": 2.0, "possible": 2.0, "percent": 1.0, "ratio": 1.0},
                    "optional_completion": {"earned": 0.0, "possible": 0.0, "percent": 1.0, "ratio": 1.0},
                },
                {
                    "course_key": COURSE,
                    "block_key": block("chapter", "ch1"),
                    "completion": {"earned": 1.0, "possible": 2.0, "percent": 0.5, "ratio": 0.5},
                    "optional_completion": {"earned": 0.0, "possible": 0.0, "percent": 1.0, "ratio": 1.0},
                },
            ],
        }
    )


def test_a_v1_staff_entry_without_options():
    written = Shaping(("vertical", "sequential"), include_username=True).course_entry(PROGRESS)
    assert list(written) == ["course_key", "completion", "username", "vertical", "sequential"]
    assert written["completion"] == {"earned": 3.0, "possible": 4.0, "percent": 0.75}
    assert [entry["block_key"] for entry in written["vertical"]] == [block("vertical", "v1")]
    assert list(written["sequential"][0]) == ["course_key", "block_key", "completion"]


def test_the_statistics_answer():
    stats = CourseStatsData(
        COURSE,
        2,
        CompletionStatsData(1, 4, 0.25),
        (
            BlockStatsData(block("chapter", "ch0"), "chapter", CompletionStatsData(1.0, 2.0, 0.5), 1),
            BlockStatsData(block("vertical", "v0"), "vertical", CompletionStatsData(0.5, 1.0, 0.5), 0),
        ),
    )
    for shaping in (Shaping(), Shaping(("chapter",), means={COURSE: 0.25})):
        assert repr(shaping.stats_response(stats)) == repr(interpret(spec.COURSE_STATS_RESPONSE, stats, shaping))
    assert Shaping(("chapter",), means={COURSE: 0.25}).stats_response(stats) == {
        "results": [
            {
                "course_key": COURSE,
                "mean_completion": {"earned": 1.0, "possible": 4.0, "percent": 0.25},
                "mean": 0.25,
                "chapter": [
                    {
                        "block_key": block("chapter", "ch0"),
                        "mean_completion": {"earned": 1.0, "possible": 2.0, "percent": 0.5},
                        "completed_count": 1,
                    }
                ],
            }
        ]
    }


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("where", ["course", "block", "optional", "mean"])
def test_nan_and_infinities_are_refused_as_drf_refuses_them(bad, where):
    progress, means = PROGRESS, {}
    if where == "course":
        progress = dataclasses.replace(PROGRESS, course=dataclasses.replace(PROGRESS.course, earned=bad))
    elif where == "block":
        blocks = (dataclasses.replace(PROGRESS.blocks[0], percent=bad), *PROGRESS.blocks[1:])
        progress = dataclasses.replace(PROGRESS, blocks=blocks)
    elif where == "optional":
        blocks = (dataclasses.replace(PROGRESS.blocks[0], optional_possible=bad), *PROGRESS.blocks[1:])
        progress = dataclasses.replace(PROGRESS, blocks=blocks)
    else:
        means = {COURSE: bad}
    shaping = Shaping(("chapter",), include_optional=True, means=means)
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        shaping.course_entry(progress)


def test_the_generated_source_holds_no_value_of_a_request():
    source, binders = compiled.source(spec.COURSE_ENTRY, Shaping(("chapter",), means={COURSE: 1.0}).options())
    assert "chapter" not in source and COURSE not in source
    assert set(binders) <= {name for name in binders if name.startswith(("g", "names"))}
    with pytest.raises(ValueError, match="not an attribute path"):
        spec.Attribute("course; import os")


def test_entries_written_ahead_are_the_entries():
    """The staff listing's fragments embed exactly the course entries (and the renderer escapes U+2028 in them)."""
    import orjson

    from completion_aggregator.rest_api.renderers import JSONRenderer

    odd = dataclasses.replace(PROGRESS, username="zoë\u2028")
    shaping = Shaping(("chapter", "vertical"), include_optional=True, include_username=True, with_ratio=True)
    fragments = shaping.course_entries_json([PROGRESS, odd])
    assert [orjson.loads(orjson.dumps(fragment)) for fragment in fragments] == shaping.course_entries([PROGRESS, odd])
    body = JSONRenderer().render({"results": fragments}, "application/json")
    assert body == JSONRenderer().render({"results": shaping.course_entries([PROGRESS, odd])}, "application/json")
    assert b"zo\xc3\xab\\u2028" in body
