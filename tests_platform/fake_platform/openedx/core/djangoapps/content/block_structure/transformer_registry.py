"""
``TransformerRegistry``: the ``openedx.block_structure_transformer`` plugins.

Like edx-platform it reads the entry point group; because the app under test is installed
in development mode (its entry points may predate the source tree), the fake also reads
``settings.FAKE_PLATFORM_BLOCK_STRUCTURE_TRANSFORMERS`` (``name -> "module:Class"``), which
stands in for the entry points of installed distributions (edx-platform's own included).
"""
from __future__ import annotations

import functools
import hashlib
from importlib import import_module
from importlib.metadata import entry_points

from django.conf import settings

NAMESPACE = "openedx.block_structure_transformer"


@functools.cache
def _entry_point_plugins():
    plugins = {}
    for entry_point in entry_points(group=NAMESPACE):
        try:
            plugins[entry_point.name] = entry_point.load()
        except ImportError:
            continue
    return tuple(plugins.items())


@functools.cache
def _load(path):
    module, _, attr = path.partition(":")
    return getattr(import_module(module), attr)


class TransformerRegistry:
    """Registered block structure transformers."""

    NAMESPACE = NAMESPACE
    USE_PLUGIN_MANAGER = True

    @classmethod
    def get_available_plugins(cls):
        """The plugins by name (entry points are read once, as edx-django-utils' PluginManager caches them)."""
        plugins = dict(_entry_point_plugins())
        for name, path in getattr(settings, "FAKE_PLATFORM_BLOCK_STRUCTURE_TRANSFORMERS", {}).items():
            plugins[name] = _load(path)
        return plugins

    @classmethod
    def get_registered_transformers(cls):
        return set(cls.get_available_plugins().values())

    @classmethod
    def find_unregistered(cls, transformers):
        registered = {t.name() for t in cls.get_registered_transformers()}
        return {t for t in transformers if t.name() not in registered}

    @classmethod
    def get_write_version_hash(cls):
        versions = sorted(f"{t.name()}:{t.WRITE_VERSION}" for t in cls.get_registered_transformers())
        return hashlib.sha1("|".join(versions).encode()).hexdigest()
