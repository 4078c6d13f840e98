"""``load_demo --breadth``: the generated course's shape, and its validation."""
import io

import pytest
from django.core.management import CommandError, call_command

from completion_aggregator.standalone.demo import DEFAULT_SHAPE, demo_block_count, validate_shape
from completion_aggregator.standalone.models import CourseBlock, CourseStructure

pytestmark = pytest.mark.django_db


def run(**options):
    out = io.StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


def test_breadth_sets_the_shape_and_keeps_the_output():
    out = run(learners=1, breadth=[2, 1, 1, 4], seed=3)
    assert "learner1" in out and "staff / staff" in out and "http://127.0.0.1:8000/" in out
    structure = CourseStructure.objects.get()
    counts = {t: CourseBlock.objects.filter(structure=structure, block_type=t).count() for t in ("chapter", "sequential", "vertical")}
    assert counts == {"chapter": 2, "sequential": 2, "vertical": 2}
    assert CourseBlock.objects.filter(structure=structure).count() == demo_block_count((2, 1, 1, 4)) == 1 + 2 + 2 + 2 + 8
    assert f"{demo_block_count((2, 1, 1, 4))} blocks" in out


def test_default_shape_is_unchanged():
    assert DEFAULT_SHAPE == (3, 3, 2, 3)
    assert validate_shape([3, 3, 2, 3]) == DEFAULT_SHAPE


@pytest.mark.parametrize(
    "breadth, message",
    [([0, 1, 1, 1], "between 1 and"), ([1, -2, 1, 1], "between 1 and"), ([1, 1, 1, 101], "between 1 and"),
     ([100, 100, 1, 1], "at most 20000")],
)
def test_bad_breadth_is_a_command_error(breadth, message):
    with pytest.raises(CommandError) as raised:
        run(breadth=breadth)
    assert message in str(raised.value) and "--breadth" in str(raised.value)
    assert not CourseStructure.objects.exists()


def test_validate_shape_rejects_other_lengths():
    with pytest.raises(ValueError):
        validate_shape((1, 2, 3))
