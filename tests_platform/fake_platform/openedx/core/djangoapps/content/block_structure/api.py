"""
``openedx.core.djangoapps.content.block_structure.api``.

``get_block_structure_version`` exists on edx-platform **master** only (PR openedx-platform#38785): it returns the cached ``block_structure_version:{course_key}`` or the stored
``BlockStructureModel.data_version``, i.e. the course's ``course_version``, which changes when
content is published, not when a stored structure is merely rebuilt. Sumac, Teak, Ulmo and
Verawood have no such function; the fake hides it unless ``settings.FAKE_PLATFORM_RELEASE`` is
``"master"`` (see :func:`release`), so ``getattr(api, "get_block_structure_version")`` raises
``AttributeError`` there as an import from those releases does.
"""
from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from xmodule.modulestore.django import modulestore

from .manager import STORE, BlockStructureManager

RELEASES = ("sumac", "teak", "ulmo", "verawood", "master")


def release() -> str:
    """(Fake only.) The edx-platform release the fake plays: ``settings.FAKE_PLATFORM_RELEASE``."""
    name = getattr(settings, "FAKE_PLATFORM_RELEASE", "master")
    if name not in RELEASES:
        raise ValueError(f"FAKE_PLATFORM_RELEASE must be one of {RELEASES}, not {name!r}")
    return name


def get_block_structure_manager(course_key):
    store = modulestore()
    return BlockStructureManager(store.make_course_usage_key(course_key), store, cache)


def get_course_in_cache(course_key):
    """The collected (not transformed) structure of the course."""
    return get_block_structure_manager(course_key).get_collected()


def update_course_in_cache(course_key):
    return get_block_structure_manager(course_key).update_collected_if_needed()


def clear_course_from_cache(course_key):
    get_block_structure_manager(course_key).clear()


def _get_block_structure_version(course_key):
    """``block_structure_version:{course_key}`` from the cache, else the stored data_version, else ''."""
    version = cache.get(f"block_structure_version:{course_key}")
    if version:
        return version
    stored = STORE.get(modulestore().make_course_usage_key(course_key))
    return stored[0] if stored else ""


def __getattr__(name):
    """``get_block_structure_version`` exists on master only."""
    if name == "get_block_structure_version" and release() == "master":
        return _get_block_structure_version
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
