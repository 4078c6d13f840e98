"""Enrolling and unenrolling learners in the standalone host (used by the management commands)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from opaque_keys.edx.keys import CourseKey

from ..keys import parse_course_key
from .models import CourseStructure, Enrollment


class EnrollmentError(ValueError):
    """Bad input: an invalid course key, a course without a structure, unknown users."""


@dataclass
class EnrollmentResult:
    """What an (un)enrollment call did, by username."""

    course_key: CourseKey
    created_users: list[str] = field(default_factory=list)
    enrolled: list[str] = field(default_factory=list)  # new or re-activated enrollments
    updated: list[str] = field(default_factory=list)  # already active, mode changed
    unchanged: list[str] = field(default_factory=list)  # already as asked
    unenrolled: list[str] = field(default_factory=list)
    not_enrolled: list[str] = field(default_factory=list)


def course_key_of(value: str | CourseKey) -> CourseKey:
    """A course key with a published structure, or EnrollmentError."""
    try:
        key = parse_course_key(value, strip=True)
    except ValueError as exc:
        raise EnrollmentError(str(exc)) from None
    if not CourseStructure.objects.filter(course__course_key=key).exists():
        raise EnrollmentError(f"course {key} has no published structure (import or publish it first)")
    return key


def _usernames(usernames: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(name.strip() for name in usernames if name and name.strip()))
    if not names:
        raise EnrollmentError("no usernames given")
    return names


def enroll_learners(
    course_key: str | CourseKey, usernames: Iterable[str], create_users: bool = False, mode: str = "audit"
) -> EnrollmentResult:
    """
    Enroll ``usernames`` (active, in ``mode``); re-activates inactive enrollments.

    With ``create_users`` unknown users are created (unusable password, email
    ``USERNAME@example.com``); without it they are an error and nothing is written.
    Enrolling marks the learner stale (the host's enrollment signal), as in edx-platform.

    Raises:
        EnrollmentError: invalid key, no structure, unknown users, an empty mode or no usernames.
    """
    key = course_key_of(course_key)
    names = _usernames(usernames)
    mode = (mode or "").strip()
    if not mode or len(mode) > 100:
        raise EnrollmentError("--mode must be a non-empty enrollment mode of at most 100 characters")
    users_model = get_user_model()
    field_name = users_model.USERNAME_FIELD
    result = EnrollmentResult(course_key=key)
    with transaction.atomic():
        users = {getattr(user, field_name): user for user in users_model.objects.filter(**{f"{field_name}__in": names})}
        missing = [name for name in names if name not in users]
        if missing and not create_users:
            raise EnrollmentError(f"unknown users: {', '.join(missing)} (pass --create-users to create them)")
        for name in missing:
            user = users_model(**{field_name: name})
            if hasattr(user, "email"):
                user.email = f"{name}@example.com"
            user.set_unusable_password()
            user.save()
            users[name] = user
            result.created_users.append(name)
        existing = {row.user_id: row for row in Enrollment.objects.filter(course_key=key, user__in=users.values())}
        for name in names:
            user = users[name]
            enrollment = existing.get(user.pk)
            if enrollment is None:
                Enrollment.objects.create(user=user, course_key=key, mode=mode, is_active=True)
                result.enrolled.append(name)
            elif not enrollment.is_active:
                enrollment.is_active, enrollment.mode = True, mode
                enrollment.save(update_fields=["is_active", "mode"])
                result.enrolled.append(name)
            elif enrollment.mode != mode:
                enrollment.mode = mode
                enrollment.save(update_fields=["mode"])
                result.updated.append(name)
            else:
                result.unchanged.append(name)
    return result


def unenroll_learners(course_key: str | CourseKey, usernames: Iterable[str]) -> EnrollmentResult:
    """
    Deactivate the enrollments of ``usernames`` (kept as inactive rows, aggregates kept, as edx-platform).

    Raises:
        EnrollmentError: invalid key, no structure, unknown users or no usernames (nothing written).
    """
    key = course_key_of(course_key)
    names = _usernames(usernames)
    users_model = get_user_model()
    field_name = users_model.USERNAME_FIELD
    result = EnrollmentResult(course_key=key)
    with transaction.atomic():
        users = {getattr(user, field_name): user for user in users_model.objects.filter(**{f"{field_name}__in": names})}
        missing = [name for name in names if name not in users]
        if missing:
            raise EnrollmentError(f"unknown users: {', '.join(missing)}")
        rows = Enrollment.objects.filter(course_key=key, user__in=users.values(), is_active=True)
        active = {row.user_id: row for row in rows}
        for name in names:
            enrollment = active.get(users[name].pk)
            if enrollment is None:
                result.not_enrolled.append(name)
                continue
            enrollment.is_active = False
            enrollment.save(update_fields=["is_active"])
            result.unenrolled.append(name)
    return result
