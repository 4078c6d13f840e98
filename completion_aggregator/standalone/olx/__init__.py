"""
Read an Open edX course export (OLX) into a block tree, and publish it into the standalone host.

:func:`parse_course` is pure: it reads a folder or a ``.tar.gz`` and touches no database.
:func:`import_course` parses fully first and only then calls
:func:`~completion_aggregator.standalone.publishing.publish_structure` (one transaction), so
bad input writes nothing.

What is read (``docs/standalone.rst`` describes it for users):

* ``course.xml`` (a pointer ``<course url_name=RUN org=ORG course=NUM/>`` to
  ``course/RUN.xml``, or the whole course), ``policies/RUN/policy.json`` (or the legacy
  ``policies/RUN.json``; policy overrides XML attributes).
* Pointer elements (only the attribute ``url_name``, no children, no text) are resolved to
  ``<tag>/<url_name>.xml`` (``:`` becomes ``/``); every other element is an inline definition.
  ``filename=`` on a non-html element is resolved like edx-platform's ``load_definition``
  (``<tag>/<filename>.xml``; problems also ``problems/…`` and the bare name); the element's
  own attributes win over the file's.
* Only container types (:data:`CONTAINER_TYPES`) have child blocks; child elements of any
  other block (a problem's ``<choiceresponse>``, a video's ``<source>``) are content. Under
  ``course`` the ``wiki``/``textbook`` elements and under ``conditional`` the ``show``
  elements are skipped, as are XBlock asides (``xblock-family="xblock_asides.v1"``).
* Ids: ``url_name``, ``slug``, cleaned ``name``, cleaned ``display_name``, else
  ``<tag>_<sha1(serialized element)[:12]>`` (edx-platform's order). The serialisation is
  ElementTree's, so hash ids are stable across imports of the same export but are not the
  LMS's. A name seen before is renamed ``<tag>_<name>_<sha1[:12]>`` for the types in
  :data:`UNIQUE_NAME_TYPES`; for other types the later element *is* the earlier block (one
  block, several parents).
* Effective values, computed parents-first over the DAG: ``start`` = the latest of the
  ancestors' and the block's own; ``visible_to_staff_only`` = any ancestor (or the block)
  staff-only; ``optional_completion`` inherits like an inheritable XBlock field (the block's
  explicit value wins). A block with several parents takes the most visible path: the
  earliest start, staff-only only if staff-only along every path, optional only if optional
  along every path.
* ``drafts/``, ``static/`` and files nothing points to are never read.
* Per-learner settings (``group_access``, a library's ``max_count``, a split_test's
  ``user_partition_id``/``group_id_to_child``, the course's ``user_partitions``) are published
  with the blocks (:meth:`ParsedBlock.per_learner_settings`); the host's rules are in
  ``docs/standalone.rst``.

Archives are never extracted (:mod:`.archive`).

Limits (``docs/standalone.rst``): keys longer than their columns, over-long block types and
structures nested too deep (elements, blocks, JSON values) are an :class:`OlxError` naming the
file and the limit; display names are truncated and out-of-range ``max_count`` values mean
"every child" when published. The walker is linear in the number of blocks and children.

The modules, one job each: :mod:`.rules` (types, limits, :class:`OlxError`), :mod:`.sources`
and :mod:`.archive` (reading an export's files), :mod:`.elements` (XML and naming helpers),
:mod:`.values` (setting values), :mod:`.files` (parsed files and the policy), :mod:`.walker`
(blocks), :mod:`.inheritance` (effective settings), :mod:`.results` (what parsing gives),
:mod:`.course` (:func:`parse_course`) and :mod:`.importing` (:func:`import_course`). The names
below are the package's public interface.
"""
from __future__ import annotations

from .archive import MAX_MEMBERS, MAX_UNPACKED_BYTES, SPOOL_BYTES
from .course import parse_course
from .importing import import_course
from .results import ImportSummary, ParsedBlock, ParsedCourse
from .rules import (
    CONTAINER_TYPES,
    DECODED_SETTINGS,
    EXTRA_SETTINGS,
    MAX_BLOCK_TYPE_LENGTH,
    MAX_DEPTH,
    MAX_JSON_DEPTH,
    MAX_KEY_LENGTH,
    MAX_XML_DEPTH,
    SELECTING_TYPES,
    SKIPPED_CHILDREN,
    UNIQUE_NAME_TYPES,
    OlxError,
)

__all__ = [
    "CONTAINER_TYPES",
    "DECODED_SETTINGS",
    "EXTRA_SETTINGS",
    "MAX_BLOCK_TYPE_LENGTH",
    "MAX_DEPTH",
    "MAX_JSON_DEPTH",
    "MAX_KEY_LENGTH",
    "MAX_MEMBERS",
    "MAX_UNPACKED_BYTES",
    "MAX_XML_DEPTH",
    "SELECTING_TYPES",
    "SKIPPED_CHILDREN",
    "SPOOL_BYTES",
    "UNIQUE_NAME_TYPES",
    "ImportSummary",
    "OlxError",
    "ParsedBlock",
    "ParsedCourse",
    "import_course",
    "parse_course",
]
