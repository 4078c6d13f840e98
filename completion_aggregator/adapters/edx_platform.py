"""
The edx-platform adapter: the only module that imports edx-platform, at call time.

Until the edx-platform integration lands (its own issue), every question fails loudly
with a message saying how to select another adapter.
"""
from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import HostAdapter


def _missing(*_args, **_kwargs):
    raise ImproperlyConfigured(
        "completion_aggregator's edx-platform adapter is not available in this release. "
        "Set COMPLETION_AGGREGATOR_ADAPTER = "
        "'completion_aggregator.adapters.standalone.StandaloneAdapter' and install "
        "'completion_aggregator.standalone' to run outside edx-platform."
    )


class EdxPlatformAdapter(HostAdapter):
    """Placeholder that refuses every call with an explanation (see the module docstring)."""

    get_course_structures = _missing
    course_exists = _missing
    enrolled_users = _missing
    is_enrolled = _missing
    user_course_keys = _missing
    role_holder_ids = _missing
    cohort_member_ids = _missing
    mobile_available = _missing
