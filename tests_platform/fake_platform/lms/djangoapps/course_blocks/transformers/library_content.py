"""
``lms.djangoapps.course_blocks.transformers.library_content``: ``ContentLibraryTransformer``
(name ``library_content``, a filter) and ``ContentLibraryOrderTransformer`` (name
``library_content_randomize``, not a filter).

* ``ContentLibraryTransformer`` keeps, under each ``library_content`` / ``itembank`` block,
  only the children selected for the learner: ``max_count`` of them (all when ``max_count``
  is -1 or not below the number of children). Staff see every child. The real one keeps the
  selection in the learner's ``StudentModule`` state (a write on first selection, which the
  reference does not cover); the fake selects deterministically per learner and block
  (a stable hash), so the same learner always gets the same selection without stored state.
* ``ContentLibraryOrderTransformer`` shows the selected children in a per-learner order.
"""
from __future__ import annotations

import hashlib

from openedx.core.djangoapps.content.block_structure.transformer import (
    BlockStructureTransformer,
    FilteringTransformerMixin,
)

LIBRARY_TYPES = ("library_content", "itembank")


def _rank(user, block_key, child_key, salt=""):
    text = f"{salt}|{getattr(user, 'pk', None)}|{block_key}|{child_key}"
    return hashlib.sha1(text.encode()).hexdigest()


def selected_children(user, block_structure, block_key):
    """The children of a library block selected for ``user`` (in course order)."""
    children = list(block_structure.get_children(block_key))
    max_count = block_structure.get_xblock_field(block_key, "max_count", 1)
    if max_count is None or max_count < 0 or max_count >= len(children):
        return children
    chosen = set(sorted(children, key=lambda child: _rank(user, block_key, child))[:max_count])
    return [child for child in children if child in chosen]


class ContentLibraryTransformer(FilteringTransformerMixin):
    WRITE_VERSION = 1
    READ_VERSION = 1

    @classmethod
    def name(cls):
        return "library_content"

    @classmethod
    def collect(cls, block_structure):
        block_structure.request_xblock_fields("max_count")

    def transform_block_filters(self, usage_info, block_structure):
        if usage_info.has_staff_access:
            return [block_structure.create_universal_filter()]
        dropped = set()
        for block_key in list(block_structure):
            if block_key.block_type in LIBRARY_TYPES:
                keep = set(selected_children(usage_info.user, block_structure, block_key))
                dropped.update(child for child in block_structure.get_children(block_key) if child not in keep)
        return [block_structure.create_removal_filter(lambda key: key in dropped)]


class ContentLibraryOrderTransformer(BlockStructureTransformer):
    WRITE_VERSION = 1
    READ_VERSION = 1

    @classmethod
    def name(cls):
        return "library_content_randomize"

    def transform(self, usage_info, block_structure):
        for block_key in list(block_structure):
            if block_key.block_type in LIBRARY_TYPES:
                relations = block_structure._block_relations[block_key]
                relations.children.sort(key=lambda child: _rank(usage_info.user, block_key, child, "order"))
