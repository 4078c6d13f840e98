"""
Completion modes of block types, looked up in this order (:func:`mode_lookup`).

1. The overrides (``COMPLETION_AGGREGATOR_COMPLETION_MODE_OVERRIDES``, and ``library_content``/
   ``itembank`` COMPLETABLE under edx-platform's ``MARK_LIBRARY_CONTENT_BLOCK_COMPLETE_ON_VIEW``).
2. With ``COMPLETION_AGGREGATOR_USE_XBLOCK_CLASSES``, the installed XBlock class's
   ``completion_mode``.
3. The built-in table :data:`BUILTIN_MODES`.

A type found nowhere is EXCLUDED (never an error).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from .conf import get_setting
from .data import CompletionMode

log = logging.getLogger(__name__)

A, C, E = CompletionMode.AGGREGATOR, CompletionMode.COMPLETABLE, CompletionMode.EXCLUDED

#: The standard Open edX types (edx-platform, xblocks-contrib and common XBlocks).
BUILTIN_MODES: dict[str, CompletionMode] = {
    # Containers.
    "course": A, "chapter": A, "sequential": A, "vertical": A, "unit": A,
    "split_test": A, "conditional": A, "library_content": A, "itembank": A,
    "videosequence": A, "randomize": A, "wrapper": A,
    # Content learners complete.
    "html": C, "problem": C, "video": C, "word_cloud": C, "annotatable": C, "poll_question": C,
    "lti": C, "lti_consumer": C, "drag-and-drop-v2": C, "openassessment": C, "poll": C,
    "survey": C, "done": C, "edx_sga": C, "staffgradedxblock": C, "google-document": C,
    "google-calendar": C, "pdf": C, "imageannotation": C, "textannotation": C,
    "videoannotation": C, "recommender": C, "freetextresponse": C, "scorm": C,
    "problem-builder": C, "step-builder": C, "ubcpi": C, "oppia": C, "h5pxblock": C,
    "feedback": C, "audio": C, "invideoquiz": C,
    # Old exports' name of the video block (edx-platform registers "videoalpha" as VideoBlock).
    "videoalpha": C,
    # Not counted.
    "discussion": E, "static_tab": E, "about": E, "course_info": E, "wiki": E,
    "textbook": E, "custom_tag_template": E,
}

_BY_NAME = {mode.value: mode for mode in CompletionMode}

#: Every setting :func:`mode_lookup` reads (this app's and the host's): a compiled graph is
#: cached per value of each (``api/graphs.py``).
MODE_SETTINGS = (
    "COMPLETION_AGGREGATOR_COMPLETION_MODE_OVERRIDES",
    "COMPLETION_AGGREGATOR_USE_XBLOCK_CLASSES",
    "MARK_LIBRARY_CONTENT_BLOCK_COMPLETE_ON_VIEW",
)


def mode_lookup() -> Callable[[str], CompletionMode]:
    """
    A lookup reflecting the current settings (overrides, library_content on view).

    Raises:
        ImproperlyConfigured: an override names a mode that does not exist.
    """
    overrides = {}
    for block_type, name in (get_setting("COMPLETION_AGGREGATOR_COMPLETION_MODE_OVERRIDES") or {}).items():
        mode = _BY_NAME.get(str(getattr(name, "value", name)).lower())
        if mode is None:
            raise ImproperlyConfigured(
                f"COMPLETION_AGGREGATOR_COMPLETION_MODE_OVERRIDES[{block_type!r}] = {name!r}: "
                f"use one of {sorted(_BY_NAME)}"
            )
        overrides[block_type] = mode
    if getattr(django_settings, "MARK_LIBRARY_CONTENT_BLOCK_COMPLETE_ON_VIEW", False):
        overrides.setdefault("library_content", C)
        overrides.setdefault("itembank", C)
    use_classes = bool(get_setting("COMPLETION_AGGREGATOR_USE_XBLOCK_CLASSES"))

    def lookup(block_type: str) -> CompletionMode:
        if block_type in overrides:
            return overrides[block_type]
        if use_classes:
            installed = installed_mode(block_type)
            if installed is not None:
                return installed
        return BUILTIN_MODES.get(block_type, E)

    return lookup


@functools.cache
def installed_mode(block_type: str) -> CompletionMode | None:
    """
    The ``completion_mode`` of the installed XBlock class for ``block_type``.

    COMPLETABLE when the class declares none (XBlock's default); None when no class is
    installed, it cannot be loaded (logged), or its mode is not one of ours.
    """
    try:
        from xblock.core import XBlock
        from xblock.plugin import PluginMissingError
    except ImportError:  # pragma: no cover - XBlock is a base requirement
        return None
    try:
        block_class = XBlock.load_class(block_type)
    except PluginMissingError:
        return None
    except Exception:  # a broken plugin must not break aggregation
        log.warning("Could not load the XBlock class of %r; using the built-in table", block_type, exc_info=True)
        return None
    value = getattr(block_class, "completion_mode", None)
    value = getattr(value, "value", value)
    return _BY_NAME.get(str(value).lower()) if value is not None else C
