"""
The partitions edx-platform creates at run time, in the standalone host (issue 16, point 9).

The enrollment track (partition 50, one group per enrollment mode) and content type gating
(partition 51) never appear in an export's ``policy.json``; a unit restricted with
``group_access="{&quot;50&quot;: [2]}"`` is verified-only content.
"""
from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from opaque_keys.edx.keys import CourseKey

from completion_aggregator import api
from completion_aggregator.adapters import get_adapter
from completion_aggregator.models import Aggregator
from completion_aggregator.standalone.enrollment import enroll_learners
from completion_aggregator.standalone.olx import import_course, parse_course
from tests.helpers import complete
from tests.olx.conftest import DEMO_DIR, DEMO_KEY, course_files, needs_demo, write_olx

pytestmark = pytest.mark.django_db

KEY = CourseKey.from_string("course-v1:Org+Num+run")


def _export(tmp_path, unit_access: str = "{&quot;50&quot;: [2]}"):
    """course > chapter > sequential > [open unit: 2 html, restricted unit: 1 html + 1 problem]."""
    body = (
        '<chapter url_name="ch" display_name="Chapter"><sequential url_name="seq" display_name="Seq">'
        '<vertical url_name="open"><html url_name="h1" display_name="H1"/><html url_name="h2" display_name="H2"/></vertical>'
        f'<vertical url_name="verified_only" group_access="{unit_access}">'
        '<html url_name="h3" display_name="H3"/><problem url_name="p1" display_name="P1"/></vertical>'
        "</sequential></chapter>"
    )
    files = course_files(body)
    files["policies/run/policy.json"] = json.dumps({"course/run": {"display_name": "Tracks"}})
    return write_olx(tmp_path / "export", files)


def _possible(username: str) -> float:
    user = get_user_model().objects.get(username=username)
    return api.get_course_progress(user, KEY).course.possible


def _stored_possible(username: str) -> float:
    return Aggregator.objects.get(
        user__username=username, course_key=KEY, aggregation_name="course"
    ).possible


def test_verified_only_unit_counts_for_verified_learners_only(tmp_path, django_capture_on_commit_callbacks):
    import_course(_export(tmp_path))
    with django_capture_on_commit_callbacks(execute=True):
        enroll_learners(KEY, ["auditor"], create_users=True, mode="audit")
        enroll_learners(KEY, ["payer"], create_users=True, mode="verified")
        enroll_learners(KEY, ["pro"], create_users=True, mode="professional")

    assert _possible("auditor") == 2.0  # the restricted unit is removed for the audit track
    assert _possible("payer") == 4.0
    assert _possible("pro") == 2.0  # professional is group 3, not in [2]
    # The stored rows (written when they enrolled) say the same.
    assert (_stored_possible("auditor"), _stored_possible("payer")) == (2.0, 4.0)
    verified_unit = str(KEY.make_usage_key("vertical", "verified_only"))
    payer = get_user_model().objects.get(username="payer")
    auditor = get_user_model().objects.get(username="auditor")
    structures = get_adapter().get_course_structures(KEY, [payer, auditor])
    assert verified_unit in structures[payer.pk].blocks
    assert verified_unit not in structures[auditor.pk].blocks


def test_changing_the_enrollment_mode_changes_possible(tmp_path, django_capture_on_commit_callbacks):
    import_course(_export(tmp_path))
    with django_capture_on_commit_callbacks(execute=True):
        enroll_learners(KEY, ["learner"], create_users=True, mode="audit")
    user = get_user_model().objects.get(username="learner")
    with django_capture_on_commit_callbacks(execute=True):
        complete(user, KEY.make_usage_key("html", "h1"))
        complete(user, KEY.make_usage_key("html", "h2"))
    assert (_stored_possible("learner"), api.get_course_progress(user, KEY).course.percent) == (2.0, 1.0)

    with django_capture_on_commit_callbacks(execute=True):
        enroll_learners(KEY, ["learner"], mode="verified")  # the enrollment-track change marks them stale
    assert _stored_possible("learner") == 4.0
    assert api.get_course_progress(user, KEY).course.percent == 0.5

    with django_capture_on_commit_callbacks(execute=True):
        enroll_learners(KEY, ["learner"], mode="audit")
    assert _stored_possible("learner") == 2.0


def test_the_mode_ids_follow_the_lms_setting(tmp_path, settings):
    settings.COURSE_ENROLLMENT_MODES = {"audit": {"id": 1, "slug": "audit"}, "gold": {"id": 2, "slug": "gold"}}
    import_course(_export(tmp_path))
    enroll_learners(KEY, ["goldie"], create_users=True, mode="gold")
    enroll_learners(KEY, ["verifier"], create_users=True, mode="verified")  # not a mode of this LMS: no group
    assert (_possible("goldie"), _possible("verifier")) == (4.0, 2.0)


def test_content_type_gating_keeps_gated_content_counted(tmp_path):
    """Partition 51 locks, it never removes: audit and verified learners count the same blocks."""
    import_course(_export(tmp_path, unit_access="{&quot;51&quot;: [2]}"))
    enroll_learners(KEY, ["auditor"], create_users=True, mode="audit")
    enroll_learners(KEY, ["payer"], create_users=True, mode="verified")
    assert (_possible("auditor"), _possible("payer")) == (4.0, 4.0)
    # …but the audit learner's gated unit is locked (ADR 0011), the verified learner's is not.
    unit = str(KEY.make_usage_key("vertical", "verified_only"))
    leaf = str(KEY.make_usage_key("problem", "p1"))
    users = get_user_model().objects.filter(username__in=["auditor", "payer"])
    structures = get_adapter().get_course_structures(KEY, list(users))
    by_name = {user.username: structures[user.pk] for user in users}
    assert by_name["auditor"].blocks[unit].locked and by_name["auditor"].blocks[leaf].locked
    assert not by_name["payer"].blocks[unit].locked and not by_name["payer"].blocks[leaf].locked


def test_an_undeclared_partition_still_hides_the_block(tmp_path):
    import_course(_export(tmp_path, unit_access="{&quot;52&quot;: [2]}"))
    enroll_learners(KEY, ["payer"], create_users=True, mode="verified")
    assert _possible("payer") == 2.0


@needs_demo
def test_the_demo_export_declares_neither_runtime_partition_and_counts_as_before():
    parsed = parse_course(DEMO_DIR)
    root = next(block for block in parsed.blocks if block.key == parsed.root)
    declared = {int(partition["id"]) for partition in root.extra.get("user_partitions") or ()}
    assert declared and not declared & {50, 51}
    import_course(DEMO_DIR)
    key = CourseKey.from_string(DEMO_KEY)
    enroll_learners(key, ["auditor"], create_users=True, mode="audit")
    enroll_learners(key, ["payer"], create_users=True, mode="verified")
    for name in ("auditor", "payer"):
        user = get_user_model().objects.get(username=name)
        assert api.get_course_progress(user, key).course.possible == 311.0  # docs/standalone.rst


def test_locked_figures_stay_the_courses_with_root_block(tmp_path, django_capture_on_commit_callbacks):
    """``completion`` stays the course's with ``root_block`` (ADR 0013), so ``locked`` does too."""
    from rest_framework.test import APIClient

    from tests.helpers import complete

    import_course(_export(tmp_path, unit_access="{&quot;51&quot;: [2]}"))
    with django_capture_on_commit_callbacks(execute=True):
        enroll_learners(KEY, ["auditor"], create_users=True, mode="audit")
    user = get_user_model().objects.get(username="auditor")
    with django_capture_on_commit_callbacks(execute=True):
        complete(user, KEY.make_usage_key("html", "h1"))
        complete(user, KEY.make_usage_key("html", "h2"))
    client = APIClient()
    client.force_authenticate(user)
    url = f"/completion-aggregator/v1/course/{KEY}/"
    (whole,) = client.get(url, {"requested_fields": "locked"}).json()["results"]
    root = str(KEY.make_usage_key("vertical", "open"))
    (sub,) = client.get(url, {"requested_fields": "locked,vertical", "root_block": root}).json()["results"]
    assert sub["completion"] == whole["completion"]
    assert sub["locked"] == whole["locked"]
    assert whole["locked"]["possible"] > 0
    assert [entry["block_key"] for entry in sub["vertical"]] == [root]
