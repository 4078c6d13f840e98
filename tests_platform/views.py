"""
Stand-ins for LMS views that change an enrollment or a cohort in a request (test-only URLs).

``enroll`` does what ``common.djangoapps.student.views.management.change_enrollment`` does for
``enrollment_action=enroll`` (``CourseEnrollment.enroll``); ``add_to_cohort`` what
``openedx.core.djangoapps.course_groups.views.add_users_to_cohort`` does
(``cohorts.add_user_to_cohort``). The test settings do not set ``ATOMIC_REQUESTS``, so both run
outside a transaction, as edx-platform views marked ``transaction.non_atomic_requests`` do.
"""
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from opaque_keys.edx.keys import CourseKey


def enroll(request, course_id: str):
    from common.djangoapps.student.models import CourseEnrollment

    user = get_user_model().objects.get(username=request.GET["username"])
    CourseEnrollment.enroll(user, CourseKey.from_string(course_id))
    return HttpResponse("enrolled")


def add_to_cohort(request, cohort_id: int):
    from openedx.core.djangoapps.course_groups.cohorts import add_user_to_cohort
    from openedx.core.djangoapps.course_groups.models import CourseUserGroup

    user = get_user_model().objects.get(username=request.GET["username"])
    add_user_to_cohort(CourseUserGroup.objects.get(id=cohort_id), user)
    return HttpResponse("added")
