"""
xAPI statements for our tracking events, through edx-event-routing-backends (optional).

edx-event-routing-backends (the ``xapi`` extra: ``pip install "completion-aggregator[xapi]"``)
ships no transformer for the ``openedx.completion_aggregator.…`` names, so when it is
installed we register our own in its ``XApiTransformersRegistry`` (at app ready) and add the
names to its ``EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS`` (in ``plugin_settings``). When it
is not installed, both are no-ops.

* ``openedx.completion_aggregator.progress.{type}`` → verb ``progressed``; object: the block's
  xblock IRI, activity type course (course) or module (the others); ``result.completion``
  true only at 100 %; result extension progress = percent × 100.
* ``openedx.completion_aggregator.completion.{type}`` → verb ``completed``; activity type
  course (course), module (chapter, sequential), lesson (vertical); ``result.completion`` true.
"""
from __future__ import annotations

import importlib
import logging
from typing import Any

from .event_names import COMPLETION_EVENT_PREFIX, EVENT_NAMES, EVENT_TYPES, PROGRESS_EVENT_PREFIX

log = logging.getLogger(__name__)

ACTIVITY_COURSE = "http://adlnet.gov/expapi/activities/course"
ACTIVITY_MODULE = "http://adlnet.gov/expapi/activities/module"
ACTIVITY_LESSON = "http://adlnet.gov/expapi/activities/lesson"
PROGRESS_ACTIVITY_TYPES = {
    "course": ACTIVITY_COURSE,
    "chapter": ACTIVITY_MODULE,
    "sequential": ACTIVITY_MODULE,
    "vertical": ACTIVITY_MODULE,
}
COMPLETION_ACTIVITY_TYPES = {
    "course": ACTIVITY_COURSE,
    "chapter": ACTIVITY_MODULE,
    "sequential": ACTIVITY_MODULE,
    "vertical": ACTIVITY_LESSON,
}

_registered: dict[str, type] = {}


def is_available() -> bool:
    """True when edx-event-routing-backends (and its xAPI transformers) can be imported."""
    try:
        importlib.import_module("event_routing_backends.processors.xapi.registry")
        importlib.import_module("event_routing_backends.processors.xapi.transformer")
    except ImportError:
        return False
    return True


def register_transformers() -> bool:
    """
    Register our transformers in edx-event-routing-backends' xAPI registry (idempotent).

    A name the registry already maps to another transformer (the operator's, or a newer
    package's) is left alone. Returns False (and does nothing) when the package is not
    installed, or not in ``INSTALLED_APPS`` (its transformer module imports its models).
    """
    from django.apps import apps

    if not apps.is_installed("event_routing_backends"):
        return False
    try:
        from event_routing_backends.processors.xapi.registry import XApiTransformersRegistry
    except ImportError:
        return False
    transformers = _transformer_classes()
    if transformers is None:
        return False
    progress, completion = transformers
    pairs = ((PROGRESS_EVENT_PREFIX, progress), (COMPLETION_EVENT_PREFIX, completion))
    for block_type in EVENT_TYPES:
        for prefix, transformer in pairs:
            name = prefix + block_type
            existing = XApiTransformersRegistry.mapping.get(name)
            if existing is not None and existing is not _registered.get(name):
                continue  # the operator (or a newer package) registered its own: keep it
            XApiTransformersRegistry.register(name)(transformer)
            _registered[name] = transformer
    return True


def _get_object(self: Any) -> Any:
    """The block as an xAPI activity (its xblock IRI), typed by ``activity_types``."""
    from tincan import Activity, ActivityDefinition

    block_type = self.get_data("data.type") or self.get_data("name", True).rsplit(".", 1)[-1]
    return Activity(
        id=self.get_object_iri("xblock", self.get_data("data.block_id", True)),
        definition=ActivityDefinition(type=self.activity_types.get(block_type, ACTIVITY_MODULE)),
    )


def _progress_result(self: Any) -> Any:
    """``completion`` true only at 100 %; the progress extension is percent × 100."""
    from event_routing_backends.processors.xapi import constants
    from tincan import Extensions, Result

    percent = float(self.get_data("data.percent") or 0.0)
    return Result(
        completion=percent >= 1.0,
        extensions=Extensions({constants.XAPI_ACTIVITY_PROGRESS: percent * 100}),
    )


def _completion_result(self: Any) -> Any:
    """``completion`` true, progress 100."""
    from event_routing_backends.processors.xapi import constants
    from tincan import Extensions, Result

    return Result(completion=True, extensions=Extensions({constants.XAPI_ACTIVITY_PROGRESS: 100.0}))


def _transformer_classes() -> tuple[type, type] | None:
    """
    Our ``(progress, completion)`` transformer classes, built on the package's ``XApiTransformer``.

    None when the package (or tincan) cannot be imported. Built at call time: the base class
    exists only when the package is installed.
    """
    try:
        from event_routing_backends.processors.xapi import constants
        from event_routing_backends.processors.xapi.transformer import XApiTransformer
        from tincan import LanguageMap, Verb
    except ImportError:
        return None

    # The classes are built with ``type()``: the package has no type hints, and a class
    # statement over its base would subclass an untyped class (mypy --strict refuses it).
    shared = type(
        "_AggregatorTransformer",
        (XApiTransformer,),
        {
            "__doc__": "Shared: the object is the block, typed by the event's ``type``.",
            "additional_fields": ("result",),
            "activity_types": {},
            "get_object": _get_object,
        },
    )
    progress = type(
        "ProgressTransformer",
        (shared,),
        {
            "__doc__": "``openedx.completion_aggregator.progress.*`` → ``progressed``.",
            "_verb": Verb(id=constants.XAPI_VERB_PROGRESSED, display=LanguageMap({constants.EN: constants.PROGRESSED})),
            "activity_types": PROGRESS_ACTIVITY_TYPES,
            "get_result": _progress_result,
        },
    )
    completion = type(
        "CompletionTransformer",
        (shared,),
        {
            "__doc__": "``openedx.completion_aggregator.completion.*`` → ``completed``.",
            "_verb": Verb(id=constants.XAPI_VERB_COMPLETED, display=LanguageMap({constants.EN: constants.COMPLETED})),
            "activity_types": COMPLETION_ACTIVITY_TYPES,
            "get_result": _completion_result,
        },
    )
    return progress, completion


def configure_settings(settings: Any) -> bool:
    """
    Allow our event names through event-routing-backends' xAPI backend (plugin settings).

    Rebuilds ``EVENT_TRACKING_BACKENDS`` with the package's ``event_tracking_backends_config``.

    Returns False (settings untouched) when the package is not installed.
    """
    try:
        from event_routing_backends.utils.settings import event_tracking_backends_config
    except ImportError:
        return False
    allowed = list(getattr(settings, "EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS", None) or [])
    allowed += [name for name in EVENT_NAMES if name not in allowed]
    settings.EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS = allowed
    caliper = list(getattr(settings, "EVENT_TRACKING_BACKENDS_ALLOWED_CALIPER_EVENTS", None) or [])
    if not hasattr(settings, "LMS_ROOT_URL"):  # the caliper envelope needs it; the LMS always has it
        return True
    backends = dict(getattr(settings, "EVENT_TRACKING_BACKENDS", None) or {})
    backends.update(event_tracking_backends_config(settings, allowed, caliper))
    settings.EVENT_TRACKING_BACKENDS = backends
    return True
