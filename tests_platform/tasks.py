"""A stand-in for LMS tasks that enroll (e.g. the instructor's bulk enrollment): one enrollment per call."""
from celery import shared_task


@shared_task(name="tests_platform.tasks.enroll")
def enroll(username: str, course_id: str) -> None:
    from common.djangoapps.student.models import CourseEnrollment
    from django.contrib.auth import get_user_model
    from opaque_keys.edx.keys import CourseKey

    CourseEnrollment.enroll(get_user_model().objects.get(username=username), CourseKey.from_string(course_id))
