"""
The one door to edx-platform's code: :func:`platform_import`, always at call time.

No module of ``completion_aggregator`` has an import statement for edx-platform (the ``no-edx-platform``
import contract in ``setup.cfg`` checks it); the edx-platform adapter and the helpers below
reach the platform (and edx-when) through :func:`platform_import`, which turns a missing
module or name into ``ImproperlyConfigured`` with a message, never a silent fallback.
"""
from __future__ import annotations

import importlib
from typing import Any

from django.core.exceptions import ImproperlyConfigured


def platform_import(module: str, *names: str, required: bool = True) -> Any:
    """
    Import ``names`` from edx-platform's ``module`` (one value for one name, else a tuple).

    ``required=False``: None instead of an error when the module or a name is missing.

    Raises:
        ImproperlyConfigured: ``required`` and the module or a name is missing (not running in
            edx-platform, or an edx-platform release without that interface).
    """
    try:
        imported = importlib.import_module(module)
        values = tuple(getattr(imported, name) for name in names)
    except (ImportError, AttributeError) as exc:
        if not required:
            return None
        raise ImproperlyConfigured(
            f"completion_aggregator's edx-platform adapter needs {module}.{'/'.join(names)}, "
            f"which cannot be imported ({exc}). It runs only inside edx-platform (LMS or Studio); "
            "elsewhere set COMPLETION_AGGREGATOR_ADAPTER = "
            "'completion_aggregator.standalone.adapter.StandaloneAdapter' and install "
            "'completion_aggregator.standalone'."
        ) from exc
    return values[0] if len(names) == 1 else values


def bearer_authentication_class() -> type | None:
    """
    edx-platform's ``BearerAuthenticationAllowInactiveUser`` (OAuth2 tokens), or None outside it.

    The REST API lists it between JWT and the session, as the peer does.
    """
    found: type | None = platform_import(
        "openedx.core.lib.api.authentication", "BearerAuthenticationAllowInactiveUser", required=False
    )
    return found


def platform_signals() -> dict[str, Any]:
    """
    The edx-platform signals the app reacts to, by name, for those importable in this process.

    ``item_deleted``/``course_published`` exist in both LMS and Studio; the others may not.
    Used by ``platform_receivers.connect`` to wire receivers; a missing one is skipped.
    """
    found = {}
    handler = platform_import("xmodule.modulestore.django", "SignalHandler", required=False)
    if handler is not None:
        found["course_published"] = handler.course_published
        found["item_deleted"] = handler.item_deleted
    cohort = platform_import(
        "openedx.core.djangoapps.course_groups.signals.signals", "COHORT_MEMBERSHIP_UPDATED", required=False
    )
    if cohort is not None:
        found["cohort_membership_updated"] = cohort
    track = platform_import("common.djangoapps.student.signals.signals", "ENROLLMENT_TRACK_UPDATED", required=False)
    if track is not None:
        found["enrollment_track_updated"] = track
    # User retirement (LMS only; plugins import these under try/except ImportError).
    retirement = "openedx.core.djangoapps.user_api.accounts.signals"
    for name in ("USER_RETIRE_LMS_MISC", "USER_RETIRE_LMS_CRITICAL"):
        signal = platform_import(retirement, name, required=False)
        if signal is not None:
            found[name.lower()] = signal
    return found
