"""The one accessor for this app's settings."""
from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

from .settings.common import DEFAULTS


def get_setting(name: str) -> Any:
    """
    Return the value of setting ``name``, falling back to its default in ``settings/common.py``.

    Raises:
        KeyError: ``name`` is not one of this app's settings.
    """
    if name not in DEFAULTS:
        raise KeyError(f"{name} is not a completion_aggregator setting")
    return getattr(django_settings, name, DEFAULTS[name])


def block_types() -> frozenset[str]:
    """The aggregator block types that get stored rows."""
    return frozenset(get_setting("COMPLETION_AGGREGATOR_BLOCK_TYPES") or ())
