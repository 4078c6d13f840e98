"""
Django system checks of this app's settings (run by ``manage.py check`` and before every command).

``completion_aggregator.E001``: ``COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE`` is not a whole number
of at least 1 (:func:`completion_aggregator.dispatch.chunk_size`, ADR 0024).
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from . import dispatch


def check_task_chunk_size(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """An error when ``COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE`` is not a whole number of at least 1."""
    try:
        dispatch.chunk_size()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc),
                hint="Set it to the number of learners one aggregation task may take (default 200).",
                id="completion_aggregator.E001",
            )
        ]
    return []


def register() -> None:
    """Register the checks (``AppConfig.ready``)."""
    checks.register(check_task_chunk_size)
