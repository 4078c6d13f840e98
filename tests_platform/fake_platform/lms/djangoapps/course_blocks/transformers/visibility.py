"""``VisibilityTransformer``: removes ``visible_to_staff_only`` blocks (and their subtrees) for learners."""
from __future__ import annotations

from openedx.core.djangoapps.content.block_structure.transformer import FilteringTransformerMixin


class VisibilityTransformer(FilteringTransformerMixin):
    WRITE_VERSION = 1
    READ_VERSION = 1

    @classmethod
    def name(cls):
        return "visibility"

    @classmethod
    def collect(cls, block_structure):
        block_structure.request_xblock_fields("visible_to_staff_only")

    def transform_block_filters(self, usage_info, block_structure):
        if usage_info.has_staff_access:
            return [block_structure.create_universal_filter()]
        return [
            block_structure.create_removal_filter(
                lambda key: bool(block_structure.get_xblock_field(key, "visible_to_staff_only", False))
            )
        ]
