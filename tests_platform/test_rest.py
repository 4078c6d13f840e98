"""The REST API mounted as in the LMS, answered through the edx-platform adapter."""
from __future__ import annotations

import pytest

from .conftest import COURSE, make_user

pytestmark = pytest.mark.django_db


def test_a_learner_and_course_staff_read_completion(published, client, django_capture_on_commit_callbacks):
    from common.djangoapps.student.models import CourseAccessRole, CourseEnrollment

    ann, teacher = make_user("ann"), make_user("teacher")
    with django_capture_on_commit_callbacks(execute=True):
        CourseEnrollment.enroll(ann, COURSE)
    CourseAccessRole.objects.create(user=teacher, course_id=COURSE, role="staff")

    client.force_login(ann)
    response = client.get(f"/completion-aggregator/v1/course/{COURSE}/")
    assert response.status_code == 200
    (entry,) = response.json()["results"]
    assert entry["completion"] == {"earned": 0.0, "possible": 2.0, "percent": 0.0}
    mobile = client.get("/completion-aggregator/v1/course/?mobile_only=true").json()["results"]
    assert [row["course_key"] for row in mobile] == [str(COURSE)]

    client.force_login(teacher)
    response = client.get(f"/completion-aggregator/v1/course/{COURSE}/")
    assert response.status_code == 200
    assert [row["username"] for row in response.json()["results"]] == ["ann"]
    stats = client.get(f"/completion-aggregator/v1/stats/{COURSE}/")
    assert stats.status_code == 200
    assert stats.json()["results"][0]["mean_completion"]["possible"] == 2.0
