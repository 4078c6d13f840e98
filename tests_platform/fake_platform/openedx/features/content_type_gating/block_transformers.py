"""
``openedx.features.content_type_gating.block_transformers.ContentTypeGateTransformer``:
not a filter.

When gating is enabled for the learner's enrollment, every graded, scored block with a
non-zero weight gets ``group_access[51] = [full access]`` (an xblock-field override). The
UserPartitionTransformer, which runs after it, then **keeps** the block for a limited-access
(audit) learner, locked with the partition's access-denied reason and message.
"""
from __future__ import annotations

from openedx.core.djangoapps.content.block_structure.transformer import BlockStructureTransformer

from .models import ContentTypeGatingConfig
from .partitions import CONTENT_GATING_PARTITION_ID, FULL_ACCESS


class ContentTypeGateTransformer(BlockStructureTransformer):
    WRITE_VERSION = 1
    READ_VERSION = 1

    @classmethod
    def name(cls):
        return "content_type_gate"

    @classmethod
    def collect(cls, block_structure):
        block_structure.request_xblock_fields("group_access", "graded", "has_score", "weight")

    def transform(self, usage_info, block_structure):
        if not ContentTypeGatingConfig.enabled_for_enrollment(user=usage_info.user, course_key=usage_info.course_key):
            return
        for block_key in block_structure.topological_traversal():
            graded = block_structure.get_xblock_field(block_key, "graded", False)
            has_score = block_structure.get_xblock_field(block_key, "has_score", False)
            weight = block_structure.get_xblock_field(block_key, "weight", None)
            if graded and has_score and weight != 0:
                access = dict(block_structure.get_xblock_field(block_key, "group_access") or {})
                access.setdefault(CONTENT_GATING_PARTITION_ID, [FULL_ACCESS])
                block_structure.override_xblock_field(block_key, "group_access", access)
