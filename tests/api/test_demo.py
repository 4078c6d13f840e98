"""The demo data: the course percent the API gives learner1 equals a naive oracle's."""
import pytest
from completion.models import BlockCompletion
from django.contrib.auth import get_user_model
from django.core.management import call_command

from completion_aggregator import api
from completion_aggregator.models import Aggregator
from completion_aggregator.standalone.demo import DEMO_COURSE
from completion_aggregator.standalone.models import CourseStructure

pytestmark = pytest.mark.django_db

COUNTED = {"html", "problem", "video"}  # discussion is excluded


def oracle_percent(user, course_key):
    structure = CourseStructure.objects.filter(course__course_key=course_key).order_by("-version").first()
    blocks = {str(b.block_key): b for b in structure.blocks.all()}
    leaves = set()

    def walk(key):
        block = blocks[key]
        if block.block_type in COUNTED:
            leaves.add(key)
        elif block.block_type in {"course", "chapter", "sequential", "vertical"}:
            for child in block.children:
                walk(child)

    walk(str(structure.root_block_key))
    values = {str(k): v for k, v in BlockCompletion.objects.filter(user=user).values_list("block_key", "completion")}
    return sum(values.get(leaf, 0.0) for leaf in leaves) / len(leaves)


def test_load_demo_aggregates_and_learner1_matches_the_oracle(django_capture_on_commit_callbacks, capsys):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", learners=3)
    out = capsys.readouterr().out
    assert "learner1" in out and "staff / staff" in out and "http://127.0.0.1:8000/" in out
    assert f"/completion-aggregator/progress_bar/{DEMO_COURSE}/" in out and f"/completion-aggregator/report/{DEMO_COURSE}/" in out
    user = get_user_model().objects.get(username="learner1")
    expected = oracle_percent(user, DEMO_COURSE)
    assert 0.0 < expected < 1.0
    progress = api.get_course_progress(user, DEMO_COURSE)
    assert not progress.fresh  # served from the rows the write path stored
    assert progress.course.percent == pytest.approx(expected)
    row = Aggregator.objects.get(user=user, aggregation_name="course")
    assert row.percent == pytest.approx(expected)
    assert api.compute_course_progress(user, DEMO_COURSE).course.percent == pytest.approx(expected)
