"""
Operator overrides (edx-platform ``production`` hook).

Current releases merge the YAML config into the settings namespace before this runs, so
overrides are already visible as attributes; ``ENV_TOKENS`` is still honoured for sites
that set them there (the peer's legacy behaviour).
"""
from __future__ import annotations

from typing import Any

from .common import DEFAULTS

# The peer copied these from ENV_TOKENS; the two cache-tuning settings were not among them.
_NOT_FROM_ENV_TOKENS = {
    "COMPLETION_AGGREGATOR_UPDATER_CACHE_TIMEOUT",
    "COMPLETION_AGGREGATOR_USE_COLLECTED_BLOCK_STRUCTURE",
}
_ENV_TOKEN_NAMES = [
    name for name in DEFAULTS if name.startswith("COMPLETION_AGGREGATOR_") and name not in _NOT_FROM_ENV_TOKENS
] + ["ENABLE_COURSE_ACTIVITY_SIGNALS"]


def plugin_settings(settings: Any) -> None:
    """Apply overrides from ``ENV_TOKENS`` and normalise types (sets from YAML lists)."""
    env_tokens = getattr(settings, "ENV_TOKENS", None) or {}
    for name in _ENV_TOKEN_NAMES:
        if name in env_tokens:
            setattr(settings, name, env_tokens[name])
    for name in ("COMPLETION_AGGREGATOR_BLOCK_TYPES", "COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES"):
        value = getattr(settings, name, None)
        if isinstance(value, (list, tuple)):
            setattr(settings, name, set(value))
