"""
What the delivery layer asks of the host LMS, through the configured adapter (ADR 0023).

The views and the REST API do not import the host adapters: these verbs answer for them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from opaque_keys.edx.keys import CourseKey

from ..adapters import get_adapter
from ..adapters.edx_platform import bearer_authentication_class


def is_course_staff(user: AbstractBaseUser, course_key: CourseKey | None) -> bool:
    """
    True when ``user`` is staff or instructor of the course or of its org (the host's roles).

    False without a course. Raises ``ImproperlyConfigured`` when the adapter is not available.
    """
    return course_key is not None and get_adapter().is_course_staff(user, course_key)


def site_origins() -> list[str]:
    """The host's other origins where course content may embed the progress bar (CSP sources)."""
    return get_adapter().site_origins()


def platform_authentication_classes() -> tuple[type[Any], ...]:
    """
    edx-platform's REST authentication classes the API accepts besides JWT and the session.

    Inside edx-platform: its OAuth2 ``BearerAuthenticationAllowInactiveUser``; elsewhere none.
    Decided by what is importable, whatever the adapter setting (the peer's behaviour).
    """
    bearer = bearer_authentication_class()
    return (bearer,) if bearer is not None else ()
