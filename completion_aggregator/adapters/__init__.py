"""
The door to the host LMS.

``get_adapter()`` returns the one chosen by ``COMPLETION_AGGREGATOR_ADAPTER`` (a dotted class path).
"""
from __future__ import annotations

import functools

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..conf import get_setting
from .base import HostAdapter

#: Class paths that moved, and where they are now: the standalone host's adapter moved into its
#: own app (ADR 0023), and the setting may still name the old module.
MOVED_ADAPTERS = {
    "completion_aggregator.adapters.standalone.StandaloneAdapter": (
        "completion_aggregator.standalone.adapter.StandaloneAdapter"
    ),
}


def get_adapter() -> HostAdapter:
    """
    The configured host adapter (one instance per class path).

    Raises:
        ImproperlyConfigured: the setting does not name an importable HostAdapter.
    """
    path = get_setting("COMPLETION_AGGREGATOR_ADAPTER")
    return _adapter(MOVED_ADAPTERS.get(path, path))


@functools.cache
def _adapter(path: str) -> HostAdapter:
    try:
        adapter_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"COMPLETION_AGGREGATOR_ADAPTER = {path!r} cannot be imported: {exc}") from exc
    if not (isinstance(adapter_class, type) and issubclass(adapter_class, HostAdapter)):
        raise ImproperlyConfigured(f"COMPLETION_AGGREGATOR_ADAPTER = {path!r} is not a HostAdapter subclass")
    return adapter_class()


__all__ = ["HostAdapter", "get_adapter"]
