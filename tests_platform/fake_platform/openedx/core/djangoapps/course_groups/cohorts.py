"""
``openedx.core.djangoapps.course_groups.cohorts`` (the functions the reference lists, §3, §11).

As in edx-platform, ``get_cohort(user, course_key)`` with its default ``assign=True`` **writes**:
a learner without a membership in a cohorted course is put into the default cohort (a
``CohortMembership`` row, and both cohort signals are sent). It returns None without writing
for an anonymous user, a non-cohorted course, or ``assign=False``.
"""
from __future__ import annotations

from django.http import Http404

from .models import CohortMembership, CourseUserGroup
from .signals.signals import COHORT_MEMBERSHIP_UPDATED

DEFAULT_COHORT_NAME = "Default Group"


def is_course_cohorted(course_key):
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

    if not CourseOverview.objects.filter(id=course_key).exists():
        raise Http404(f"no course {course_key}")
    return CourseUserGroup.objects.filter(course_id=course_key, group_type=CourseUserGroup.COHORT).exists()


def get_cohort(user, course_key, assign=True, use_cached=False):
    """The user's cohort; with ``assign=True`` (the default) a missing membership is created."""
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return None
    membership = CohortMembership.objects.filter(user_id=user.pk, course_id=course_key).select_related("course_user_group").first()
    if membership is not None:
        return membership.course_user_group
    if not assign or not CourseUserGroup.objects.filter(course_id=course_key, group_type=CourseUserGroup.COHORT).exists():
        return None
    cohort, _ = CourseUserGroup.objects.get_or_create(
        name=DEFAULT_COHORT_NAME, course_id=course_key, group_type=CourseUserGroup.COHORT
    )
    add_user_to_cohort(cohort, user)
    return cohort


def get_cohort_id(user, course_key, use_cached=False):
    cohort = get_cohort(user, course_key, use_cached=use_cached)
    return None if cohort is None else cohort.id


def add_cohort(course_key, name, assignment_type="manual"):
    return CourseUserGroup.objects.create(name=name, course_id=course_key, group_type=CourseUserGroup.COHORT)


def add_user_to_cohort(cohort, user):
    """Move ``user`` into ``cohort``; sends ``COHORT_MEMBERSHIP_UPDATED`` and ``COHORT_MEMBERSHIP_CHANGED``."""
    from openedx_events.learning.data import CohortData, CourseData, UserData, UserPersonalData
    from openedx_events.learning.signals import COHORT_MEMBERSHIP_CHANGED

    CohortMembership.objects.update_or_create(
        user=user, course_id=cohort.course_id, defaults={"course_user_group": cohort}
    )
    cohort.users.add(user)
    COHORT_MEMBERSHIP_UPDATED.send(sender=CohortMembership, user=user, course_key=cohort.course_id)
    COHORT_MEMBERSHIP_CHANGED.send_event(
        cohort=CohortData(
            user=UserData(id=user.pk, is_active=user.is_active, pii=UserPersonalData(username=user.username, email=user.email, name="")),
            course=CourseData(course_key=cohort.course_id, display_name=""),
            name=cohort.name,
        )
    )


def remove_user_from_cohort(cohort, username):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    CohortMembership.objects.filter(user=user, course_user_group=cohort).delete()
    cohort.users.remove(user)
    COHORT_MEMBERSHIP_UPDATED.send(sender=None, user=user, course_key=cohort.course_id)
