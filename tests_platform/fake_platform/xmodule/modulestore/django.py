"""
``modulestore()`` and ``SignalHandler`` (``xmodule.modulestore.django``).

The fake modulestore holds fixture courses in memory, on two branches as split-mongo does
(``xmodule.modulestore.split_mongo.split_draft.DraftVersioningModuleStore``): ``published``
(what the LMS reads) and ``draft`` (what Studio edits).

* Reads follow the branch setting of the process, as the real Mixed modulestore's
  ``branch_setting_func`` (``_get_modulestore_branch_setting``) does: ``settings.MODULESTORE_BRANCH``,
  ``published-only`` in the LMS and ``draft-preferred`` in Studio (``cms/envs/common.py``), unless
  a ``branch_setting(...)`` context overrides it. A ``draft-preferred`` read sees unpublished
  edits.
* ``publish_fixture(...)`` (fake only) publishes a course: both branches get the blocks, the
  ``course_version`` changes, and, like a real publish, ``SignalHandler.course_published`` is
  sent (``send_robust``, modulestore class as sender) with ``course_key.for_branch(None)``
  unless ``emit_signals=False``.
* ``update_draft(...)`` (fake only) is a Studio edit: the draft branch only, no signal.
* ``delete_item(usage_key, user_id, revision=None)`` deletes from the draft branch (and the
  published one with ``RevisionOption.all``) and sends ``SignalHandler.item_deleted`` once per
  branch with the **branch-qualified** key ``location.for_branch(branch)``, as split's draft store
  does.
"""
from __future__ import annotations

import itertools
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import django.dispatch
from django.conf import settings

from . import ModuleStoreEnum
from .exceptions import ItemNotFoundError

_branch = threading.local()
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


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

    def copy(self):
        """The same block on another branch (its own child list)."""
        fields = {k: v for k, v in vars(self).items() if k not in {"location", "category", "children"}}
        return FakeXBlock(self.location, self.children, fields)


class FakeModuleStore:
    """The Mixed modulestore (split courses), reduced to what course_blocks needs."""

    _versions = itertools.count(1)

    def __init__(self):
        self.signal_handler = SignalHandler(FakeModuleStore)
        # {course key string: {"published": {key: FakeXBlock}, "draft": {...}, "version", "draft_version"}}
        self._courses = {}

    # Branches ---------------------------------------------------------------------------
    def get_branch_setting(self, course_id=None):
        """The branch reads prefer: a ``branch_setting`` context, else ``settings.MODULESTORE_BRANCH``."""
        override = getattr(_branch, "setting", None)
        if override is not None:
            return override
        return getattr(settings, "MODULESTORE_BRANCH", ModuleStoreEnum.Branch.published_only)

    @contextmanager
    def branch_setting(self, branch_setting, course_id=None):
        """Read with ``branch_setting`` (``ModuleStoreEnum.Branch.…``) inside the block."""
        previous = getattr(_branch, "setting", None)
        _branch.setting = branch_setting
        try:
            yield
        finally:
            _branch.setting = previous

    def _branch_name(self, key):
        branch = getattr(key, "branch", None)
        if branch in (ModuleStoreEnum.BranchName.draft, ModuleStoreEnum.BranchName.published):
            return "draft" if branch == ModuleStoreEnum.BranchName.draft else "published"
        return "draft" if self.get_branch_setting() == ModuleStoreEnum.Branch.draft_preferred else "published"

    # Reads ------------------------------------------------------------------------------
    def make_course_usage_key(self, course_key):
        return course_key.make_usage_key("course", "course")

    def get_item(self, usage_key, depth=0, **kwargs):
        course = self._courses.get(str(usage_key.course_key.for_branch(None)))
        plain = usage_key.for_branch(None)
        blocks = course[self._branch_name(usage_key)] if course is not None else {}
        if plain not in blocks:
            raise ItemNotFoundError(usage_key)
        return blocks[plain]

    def get_course(self, course_key, depth=0, **kwargs):
        try:
            return self.get_item(self.make_course_usage_key(course_key))
        except ItemNotFoundError:
            return None

    def has_course(self, course_key, **kwargs):
        return str(course_key.for_branch(None)) in self._courses

    def get_course_version(self, course_key):
        """The ``course_version`` of the branch this process reads."""
        course = self._courses[str(course_key.for_branch(None))]
        return course["draft_version"] if self._branch_name(course_key) == "draft" else course["version"]

    @contextmanager
    def bulk_operations(self, course_id, emit_signals=True, ignore_case=False):
        yield

    # Writes -----------------------------------------------------------------------------
    def delete_course(self, course_key):
        self._courses.pop(str(course_key), None)
        self.signal_handler.send("course_deleted", course_key=course_key)

    def _build(self, course_key, blocks, version, course_fields):
        by_id = {spec["id"]: course_key.make_usage_key(spec["type"], spec["id"]) for spec in blocks}
        stored = {}
        for spec in blocks:
            fields = {k: v for k, v in spec.items() if k not in {"type", "id", "children"}}
            if spec["type"] == "course":
                # split keeps ``subtree_edited_on`` (a datetime) per block; the root's moves with every edit.
                edited_on = _EPOCH + timedelta(seconds=int(version[1:]))
                fields = {**course_fields, **fields, "course_version": version, "subtree_edited_on": edited_on}
            stored[by_id[spec["id"]]] = FakeXBlock(by_id[spec["id"]], [by_id[c] for c in spec.get("children", ())], fields)
        return stored

    def publish_fixture(self, course_key, blocks, emit_signals=True, **course_fields):
        """
        (Fake only.) Publish a course: ``blocks`` is a list of dicts with ``type``, ``id``,
        ``children`` (ids) and any xblock fields (``start``, ``visible_to_staff_only``,
        ``group_access``, ``optional_completion``…). The root is ``{"type": "course", "id": "course"}``;
        ``course_fields`` (``display_name``, ``mobile_available``) go onto it. Both branches
        get the blocks (a publish leaves no pending draft).
        """
        version = f"v{next(self._versions)}"
        stored = self._build(course_key, blocks, version, course_fields)
        self._courses[str(course_key)] = {
            "version": version,
            "published": stored,
            "draft_version": version,
            "draft": {key: block.copy() for key, block in stored.items()},
            "fields": course_fields,
        }
        if emit_signals:
            self.signal_handler.send("course_published", course_key=course_key.for_branch(None))
        return version

    def update_draft(self, course_key, blocks):
        """(Fake only.) A Studio edit: the draft branch gets ``blocks``; nothing is published or sent."""
        course = self._courses[str(course_key)]
        version = f"v{next(self._versions)}"
        course["draft"] = self._build(course_key, blocks, version, course["fields"])
        course["draft_version"] = version
        return version

    def delete_item(self, usage_key, user_id, revision=None, **kwargs):
        """
        Delete a block (with its subtree) as split's draft store does: from the draft branch
        (``revision=None``) or both (``RevisionOption.all``), sending ``item_deleted`` with
        the branch-qualified key for each branch.
        """
        course = self._courses[str(usage_key.course_key.for_branch(None))]
        location = usage_key.for_branch(None)
        if revision == ModuleStoreEnum.RevisionOption.all:
            branches = [ModuleStoreEnum.BranchName.published, ModuleStoreEnum.BranchName.draft]
        elif revision == ModuleStoreEnum.RevisionOption.published_only:
            branches = [ModuleStoreEnum.BranchName.published]
        else:
            branches = [ModuleStoreEnum.BranchName.draft]
        for branch in branches:
            blocks = course["draft" if branch == ModuleStoreEnum.BranchName.draft else "published"]
            doomed = [location]
            while doomed:
                key = doomed.pop()
                block = blocks.pop(key, None)
                if block is not None:
                    doomed.extend(block.children)
            for block in blocks.values():
                if location in block.children:
                    block.children = [child for child in block.children if child != location]
            self._new_version(course, "draft" if branch == ModuleStoreEnum.BranchName.draft else "published")
            self.signal_handler.send("item_deleted", usage_key=location.for_branch(branch), user_id=user_id)

    def _new_version(self, course, branch):
        """Split writes a new structure for every change: the branch's course_version and root edit time move."""
        version = f"v{next(self._versions)}"
        course["version" if branch == "published" else "draft_version"] = version
        for block in course[branch].values():
            if block.category == "course":
                block.course_version = version
                block.subtree_edited_on = _EPOCH + timedelta(seconds=int(version[1:]))

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
