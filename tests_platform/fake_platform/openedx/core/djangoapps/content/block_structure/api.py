"""``openedx.core.djangoapps.content.block_structure.api``."""
from __future__ import annotations

from django.core.cache import cache
from xmodule.modulestore.django import modulestore

from .manager import STORE, BlockStructureManager


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


def get_block_structure_version(course_key):
    """``block_structure_version:{course_key}`` from the cache, else the stored data_version, else ''."""
    version = cache.get(f"block_structure_version:{course_key}")
    if version:
        return version
    stored = STORE.get(modulestore().make_course_usage_key(course_key))
    return stored[0] if stored else ""
