"""
``modulestore()`` and ``SignalHandler`` (``xmodule.modulestore.django``).

The fake modulestore holds fixture courses in memory: ``modulestore().publish_fixture(...)``
(fake-only) stores a course's blocks as ``FakeXBlock`` objects, bumps its ``course_version``
and, like a real publish, sends ``SignalHandler.course_published`` (through ``send_robust``,
with the modulestore class as sender) unless ``emit_signals=False``.
"""
from __future__ import annotations

import itertools
from contextlib import contextmanager

import django.dispatch

from .exceptions import ItemNotFoundError


class SwitchedSignal(django.dispatch.Signal):
    """A signal that tests can turn off."""

    def __init__(self, name, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.name = name
        self._allow_signals = True

    def disable(self):
        self._allow_signals = False

    def enable(self):
        self._allow_signals = True

    @contextmanager
    def for_state(self, *, is_enabled):
        old = self._allow_signals
        self._allow_signals = is_enabled
        try:
            yield
        finally:
            self._allow_signals = old

    def send(self, *args, **kwargs):
        return super().send(*args, **kwargs) if self._allow_signals else []

    def send_robust(self, *args, **kwargs):
        return super().send_robust(*args, **kwargs) if self._allow_signals else []


class SignalHandler:
    """The modulestore's signals; ``sender`` is the modulestore class."""

    pre_publish = SwitchedSignal("pre_publish")
    course_published = SwitchedSignal("course_published")
    course_deleted = SwitchedSignal("course_deleted")
    library_updated = SwitchedSignal("library_updated")
    item_deleted = SwitchedSignal("item_deleted")

    _mapping = {
        signal.name: signal
        for signal in [pre_publish, course_published, course_deleted, library_updated, item_deleted]
    }

    def __init__(self, modulestore_class):
        self.modulestore_class = modulestore_class

    @classmethod
    def all_signals(cls):
        return list(cls._mapping.values())

    def send(self, signal_name, **kwargs):
        return self._mapping[signal_name].send_robust(sender=self.modulestore_class, **kwargs)


class FakeXBlock:
    """A published block: ``location``, ``category``, ``children`` and its fields as attributes."""

    def __init__(self, location, children, fields):
        self.location = location
        self.category = location.block_type
        self.children = list(children)
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def scope_ids(self):
        return self


class FakeModuleStore:
    """The Mixed modulestore, reduced to what course_blocks needs."""

    _versions = itertools.count(1)

    def __init__(self):
        self.signal_handler = SignalHandler(FakeModuleStore)
        self._courses = {}

    def make_course_usage_key(self, course_key):
        return course_key.make_usage_key("course", "course")

    def get_item(self, usage_key, depth=0, **kwargs):
        course = self._courses.get(str(usage_key.course_key))
        if course is None or usage_key not in course["blocks"]:
            raise ItemNotFoundError(usage_key)
        return course["blocks"][usage_key]

    def get_course(self, course_key, depth=0, **kwargs):
        try:
            return self.get_item(self.make_course_usage_key(course_key))
        except ItemNotFoundError:
            return None

    def has_course(self, course_key, **kwargs):
        return str(course_key) in self._courses

    def get_course_version(self, course_key):
        return self._courses[str(course_key)]["version"]

    @contextmanager
    def bulk_operations(self, course_id, emit_signals=True, ignore_case=False):
        yield

    def delete_course(self, course_key):
        self._courses.pop(str(course_key), None)
        self.signal_handler.send("course_deleted", course_key=course_key)

    def publish_fixture(self, course_key, blocks, emit_signals=True, **course_fields):
        """
        (Fake only.) Publish a course: ``blocks`` is a list of dicts with ``type``, ``id``,
        ``children`` (ids) and any xblock fields (``start``, ``visible_to_staff_only``,
        ``group_access``, ``optional_completion``…). The root is ``{"type": "course", "id": "course"}``;
        ``course_fields`` (``display_name``, ``mobile_available``) go onto it.
        """
        version = f"v{next(self._versions)}"
        by_id = {spec["id"]: course_key.make_usage_key(spec["type"], spec["id"]) for spec in blocks}
        stored = {}
        for spec in blocks:
            fields = {k: v for k, v in spec.items() if k not in {"type", "id", "children"}}
            if spec["type"] == "course":
                fields = {**course_fields, **fields, "course_version": version, "subtree_edited_on": version}
            stored[by_id[spec["id"]]] = FakeXBlock(by_id[spec["id"]], [by_id[c] for c in spec.get("children", ())], fields)
        self._courses[str(course_key)] = {"version": version, "blocks": stored}
        if emit_signals:
            self.signal_handler.send("course_published", course_key=course_key)
        return version

    def clear(self):
        """(Fake only.) Forget every course."""
        self._courses.clear()


_MODULESTORE = None


def modulestore():
    """The modulestore singleton."""
    global _MODULESTORE
    if _MODULESTORE is None:
        _MODULESTORE = FakeModuleStore()
    return _MODULESTORE
