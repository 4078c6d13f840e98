"""
Who may see what.

* A learner sees only their own data (their own username, in any case, is accepted).
* Global staff may ask for anyone.
* Course staff and instructors (``api.is_course_staff``, from the host) have staff powers on the course
  detail and stats endpoints of their courses, and nothing outside them.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from opaque_keys.edx.keys import CourseKey
from rest_framework.exceptions import NotFound, PermissionDenied

from .. import api


def is_global_staff(user: AbstractBaseUser) -> bool:
    """True for ``is_staff`` users."""
    return bool(getattr(user, "is_staff", False))


def has_course_staff_powers(user: AbstractBaseUser, course_key: CourseKey | None) -> bool:
    """Global staff, or (with a course) staff/instructor of that course or its org."""
    if is_global_staff(user):
        return True
    return api.is_course_staff(user, course_key)


def resolve_user(
    requester: AbstractBaseUser, username: str | None, course_key: CourseKey | None = None
) -> AbstractBaseUser:
    """
    The user whose data is asked for: the requester unless ``username`` names someone else.

    Course-scoped endpoints pass ``course_key`` so that course staff may ask for others.

    Raises:
        PermissionDenied: the requester may not see another user's data.
        NotFound: a requester with staff powers asked for an unknown username.
    """
    if not username or username.lower() == requester.get_username().lower():
        return requester
    if not has_course_staff_powers(requester, course_key):
        raise PermissionDenied(f"You may not see the completion of user '{username}'.")
    user_model = get_user_model()
    try:
        return user_model.objects.get(**{user_model.USERNAME_FIELD: username})
    except user_model.DoesNotExist:
        raise NotFound(f"Unknown username: '{username}'.") from None
