"""The one accessor for this app's settings."""
from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

from .event_names import DEFAULT_BLOCK_TYPES
from .settings.common import DEFAULTS

__all__ = ["DEFAULT_BLOCK_TYPES", "aggregation_names", "get_setting", "in_studio", "read_setting"]


def get_setting(name: str) -> Any:
    """
    Return the value of setting ``name``, falling back to its default in ``settings/common.py``.

    Raises:
        KeyError: ``name`` is not one of this app's settings.
    """
    if name not in DEFAULTS:
        raise KeyError(f"{name} is not a completion_aggregator setting")
    return getattr(django_settings, name, DEFAULTS[name])


def read_setting(name: str) -> Any:
    """
    This app's setting ``name`` (falling back to its default), or else the host's (None when unset).

    For lists of names that mix the two, such as ``completion_modes.MODE_SETTINGS``.
    """
    return getattr(django_settings, name, DEFAULTS.get(name))


def aggregation_names() -> frozenset[str]:
    """The aggregation names: the block types that get stored rows (``COMPLETION_AGGREGATOR_BLOCK_TYPES``)."""
    return frozenset(get_setting("COMPLETION_AGGREGATOR_BLOCK_TYPES") or ())


def in_studio() -> bool:
    """
    True in edx-platform's Studio (CMS) process, detected as edx-platform plugins do.

    ``settings.SERVICE_VARIANT`` is ``'cms'`` in Studio (``'lms'`` in the LMS), and Studio's
    ``ROOT_URLCONF`` is ``cms.urls`` (edx-platform ``cms/envs/common.py``).
    In Studio the app's receivers only queue work for the LMS (ADR 0010): Studio's
    modulestore reads the draft branch, so nothing may be computed there.
    """
    variant = getattr(django_settings, "SERVICE_VARIANT", None)
    if variant:
        return str(variant) == "cms"
    return str(getattr(django_settings, "ROOT_URLCONF", "")) == "cms.urls"
