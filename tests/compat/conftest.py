"""
The world every compatibility request is replayed in (``tests/compat/cases.py``).

Course ``C`` (2 chapters × 2 sequentials × 2 verticals × 2 html leaves = 16 leaves), an
old-style course ``OLD`` (``edX/Old/2014``, 2 leaves) and a deleted course ``GONE`` (its
structure removed, its stored rows kept). People, by the names the cases use:

========== ============================================ ===================================
name       who                                          progress
========== ============================================ ===================================
learner    alex: enrolled in C, OLD and GONE            C 4/16 (ch0 4/8), GONE 1/2
other      sam: enrolled in C                           none (no rows)
staff      teacher: CourseAccessRole staff of C         not enrolled
instructor prof: CourseAccessRole instructor of C       not enrolled
global     admin: ``is_staff``                          not enrolled
org        orgstaff: org-wide staff of ``edX``          not enrolled
beta       bea: beta_testers of C, enrolled in C        8/16
inactive   ghost: ``is_active=False``, enrolled in C    2/16
========== ============================================ ===================================
"""
import pytest
from django.core.cache import cache

from completion_aggregator.adapters import get_adapter
from completion_aggregator.standalone.models import CourseAccessRole, CourseStructure, Enrollment
from tests.helpers import build_course, learner
from tests.rest_api.conftest import _fast_passwords, store  # noqa: F401

C = "course-v1:edX+Compat+2026"
OLD = "edX/Old/2014"
GONE = "course-v1:edX+Gone+2020"


@pytest.fixture
def world(db):
    """The people of the table above, by name."""
    cache.clear()
    course_key, leaves = build_course(C)
    old_key, old_leaves = build_course(OLD, shape=(1, 1, 1, 2))
    gone_key, gone_leaves = build_course(GONE, shape=(1, 1, 1, 2))
    people = {
        "learner": learner("alex", course_key),
        "other": learner("sam", course_key),
        "staff": learner("teacher"),
        "instructor": learner("prof"),
        "global": learner("admin", is_staff=True),
        "org": learner("orgstaff"),
        "beta": learner("bea", course_key),
        "inactive": learner("ghost", course_key),
    }
    alex = people["learner"]
    Enrollment.objects.create(user=alex, course_key=old_key)
    Enrollment.objects.create(user=alex, course_key=gone_key)
    CourseAccessRole.objects.create(user=people["staff"], course_key=course_key, org="edX", role="staff")
    CourseAccessRole.objects.create(user=people["instructor"], course_key=course_key, org="edX", role="instructor")
    CourseAccessRole.objects.create(user=people["org"], org="edX", role="staff")
    CourseAccessRole.objects.create(user=people["beta"], course_key=course_key, org="edX", role="beta_testers")
    store(alex, course_key, leaves[:4])
    store(people["beta"], course_key, leaves[:8])
    store(people["inactive"], course_key, leaves[:2])
    store(alex, gone_key, gone_leaves[:1])
    people["inactive"].is_active = False
    people["inactive"].save(update_fields=["is_active"])
    CourseStructure.objects.filter(course__course_key=gone_key).delete()  # GONE is deleted
    get_adapter().clear_cache()
    cache.clear()
    people["_leaves"] = {"C": leaves, "OLD": old_leaves}
    yield people
    cache.clear()
