"""
Issue 16 point 5: the seven access transformers, through the adapter against the fake.

Locked blocks (kept by UserPartition / ContentTypeGate with an access-denied message) count in
``possible`` everywhere, as the peer counts them (ADR 0011), and ``requested_fields=locked``
adds the learner's figures over them, so a client can say "100 % of what you can open".
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from completion.models import BlockCompletion
from django.utils import timezone

from completion_aggregator.adapters import get_adapter
from completion_aggregator.api import graph_for
from completion_aggregator.models import Aggregator

from .conftest import COURSE, key, make_user

pytestmark = pytest.mark.django_db

PREMIUM = {
    "id": 2001,
    "name": "Premium",
    "scheme": "cohort",
    "groups": [1],
    "access_denied_reason": "Premium content",
    "access_denied_message": "This unit is for the premium group.",
}
SECRET = {"id": 2002, "name": "Secret", "scheme": "cohort", "groups": [1]}  # no message: removed


def gated_course() -> list[dict]:
    """
    course / ch / s / v1: h1, p1 (graded), p2 (graded, weight 0), h2 (premium: locked), h3 (secret: removed),
                    v2 (verified track only): h4
    """
    return [
        {"type": "course", "id": "course", "children": ["ch"], "user_partitions": [PREMIUM, SECRET]},
        {"type": "chapter", "id": "ch", "children": ["s"]},
        {"type": "sequential", "id": "s", "children": ["v1", "v2"]},
        {"type": "vertical", "id": "v1", "children": ["h1", "p1", "p2", "h2", "h3"]},
        {"type": "html", "id": "h1"},
        {"type": "problem", "id": "p1", "graded": True, "has_score": True, "weight": 1.0},
        {"type": "problem", "id": "p2", "graded": True, "has_score": True, "weight": 0},
        {"type": "html", "id": "h2", "group_access": {PREMIUM["id"]: [1]}},
        {"type": "html", "id": "h3", "group_access": {SECRET["id"]: [1]}},
        {"type": "vertical", "id": "v2", "children": ["h4"], "group_access": {50: [2]}},
        {"type": "html", "id": "h4"},
    ]


def publish(blocks):
    from openedx.core.djangoapps.content.block_structure.api import update_course_in_cache
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview
    from xmodule.modulestore.django import modulestore

    modulestore().publish_fixture(COURSE, blocks, emit_signals=False, display_name="Gated")
    CourseOverview.load_from_module_store(COURSE)
    update_course_in_cache(COURSE)


def locked_leaves(structure):
    return sorted(k.rsplit("@", 1)[1] for k, b in structure.blocks.items() if b.locked)


def leaves(structure):
    return sorted(k.rsplit("@", 1)[1] for k, b in structure.blocks.items() if b.block_type in {"html", "problem"})


@pytest.fixture
def gated(db, settings):
    settings.FAKE_PLATFORM_CONTENT_TYPE_GATING_COURSES = [str(COURSE)]
    publish(gated_course())
    return COURSE


def enroll(user, mode, capture):
    from common.djangoapps.student.models import CourseEnrollment

    with capture(execute=True):
        CourseEnrollment.enroll(user, COURSE, mode=mode)


def test_an_audit_learner_keeps_gated_problems_locked_and_counted(gated):
    from common.djangoapps.student.models import CourseEnrollment

    audit, verified = make_user("audit"), make_user("verified")
    CourseEnrollment.objects.create(user=audit, course_id=COURSE, mode="audit")
    CourseEnrollment.objects.create(user=verified, course_id=COURSE, mode="verified")
    structures = get_adapter().get_course_structures(COURSE, [audit, verified])

    # p1 is graded and scored: kept for the audit learner, locked; p2 weighs nothing: open.
    assert leaves(structures[audit.pk]) == ["h1", "h2", "p1", "p2"]
    assert locked_leaves(structures[audit.pk]) == ["h2", "p1"]
    # h3's partition has no message: removed; v2 is verified-only (enrollment track 50): removed.
    assert leaves(structures[verified.pk]) == ["h1", "h2", "h4", "p1", "p2"]
    assert locked_leaves(structures[verified.pk]) == ["h2"]
    audit_graph = graph_for(structures[audit.pk])
    assert audit_graph.possible[0] == 4.0  # locked blocks count in possible (as the peer's)
    assert audit_graph.has_locked


def test_locked_figures_through_the_api(gated, client, django_capture_on_commit_callbacks):
    from common.djangoapps.student.models import CourseAccessRole

    audit, teacher = make_user("audit"), make_user("teacher")
    CourseAccessRole.objects.create(user=teacher, course_id=COURSE, role="staff")
    enroll(audit, "audit", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        BlockCompletion.objects.submit_completion(audit, key("html", "h1"), 1.0)
        BlockCompletion.objects.submit_completion(audit, key("problem", "p2"), 1.0)
    row = Aggregator.objects.get(user=audit, aggregation_name="course")
    assert (row.earned, row.possible) == (2.0, 4.0)  # stored rows: locked blocks in possible

    client.force_login(audit)
    url = f"/completion-aggregator/v1/course/{COURSE}/"
    (plain,) = client.get(url).json()["results"]
    assert "locked" not in plain
    (entry,) = client.get(url, {"requested_fields": "locked"}).json()["results"]
    assert entry["completion"] == {"earned": 2.0, "possible": 4.0, "percent": 0.5}
    assert entry["locked"] == {"earned": 0.0, "possible": 2.0, "percent": 0.0}
    can_open = (entry["completion"]["earned"] - entry["locked"]["earned"]) / (
        entry["completion"]["possible"] - entry["locked"]["possible"]
    )
    assert can_open == 1.0  # "100 % of what you can open"
    (listed,) = client.get("/completion-aggregator/v1/course/", {"requested_fields": "locked"}).json()["results"]
    assert listed["locked"] == entry["locked"]
    v0 = client.get(f"/completion-aggregator/v0/course/{COURSE}/", {"requested_fields": "locked"}).json()
    assert v0["locked"] == {"earned": 0.0, "possible": 2.0, "percent": 0.0, "ratio": 0.0}
    (v0_listed,) = client.get("/completion-aggregator/v0/course/", {"requested_fields": "locked"}).json()["results"]
    assert v0_listed["locked"]["possible"] == 2.0
    sub = client.get(url, {"requested_fields": "locked", "root_block": str(key("vertical", "v1"))}).json()
    assert sub["results"][0]["locked"]["possible"] == 2.0

    client.force_login(teacher)
    listing = client.get(url, {"requested_fields": "locked"}).json()["results"]
    assert [(row["username"], row["locked"]) for row in listing] == [
        ("audit", {"earned": 0.0, "possible": 2.0, "percent": 0.0})
    ]
    assert "locked" not in client.get(url).json()["results"][0]
    stats = client.get(f"/completion-aggregator/v1/stats/{COURSE}/").json()["results"][0]
    assert stats["mean_completion"]["possible"] == 4.0


def test_library_content_selects_max_count_children_per_learner(db):
    from common.djangoapps.student.models import CourseAccessRole

    publish(
        [
            {"type": "course", "id": "course", "children": ["v"]},
            {"type": "vertical", "id": "v", "children": ["lib", "h"]},
            {"type": "library_content", "id": "lib", "children": ["a", "b", "c"], "max_count": 2},
            {"type": "html", "id": "a"},
            {"type": "html", "id": "b"},
            {"type": "html", "id": "c"},
            {"type": "html", "id": "h"},
        ]
    )
    learners = [make_user(f"u{i}") for i in range(8)]
    teacher = make_user("teacher")
    CourseAccessRole.objects.create(user=teacher, course_id=COURSE, role="staff")
    structures = get_adapter().get_course_structures(COURSE, [*learners, teacher])
    for learner in learners:
        assert len(leaves(structures[learner.pk])) == 3  # h and two of the library's three
        assert graph_for(structures[learner.pk]).possible[0] == 3.0
    assert leaves(structures[teacher.pk]) == ["a", "b", "c", "h"]
    by_selection: dict = {}
    for learner in learners:
        by_selection.setdefault(tuple(leaves(structures[learner.pk])), []).append(structures[learner.pk])
    assert len(by_selection) > 1  # selections differ between learners
    # The same selection in a different (per-learner) order is one structure, one compiled graph.
    assert all(len({id(s) for s in same}) == 1 for same in by_selection.values())


def test_personalised_dates_change_no_tree_and_split_no_graph(published):
    import edx_when.api
    from lms.djangoapps.course_blocks.api import get_course_blocks

    ann, bob = make_user("ann"), make_user("bob")
    due = timezone.now() + timedelta(days=7)
    edx_when.api.set_dates_for_course(COURSE, [(key("problem", "p1"), {"due": due})])
    edx_when.api.set_date_for_block(COURSE, key("problem", "p1"), "due", due + timedelta(days=3), user=ann)
    assert get_course_blocks(ann, key("course", "course")).get_xblock_field(key("problem", "p1"), "due") == due + timedelta(
        days=3
    )
    assert get_course_blocks(bob, key("course", "course")).get_xblock_field(key("problem", "p1"), "due") == due
    structures = get_adapter().get_course_structures(COURSE, [ann, bob])
    assert structures[ann.pk] is structures[bob.pk]
    assert graph_for(structures[ann.pk]).possible[0] == 2.0
