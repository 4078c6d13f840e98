"""The transformer contract (``…block_structure.transformer``)."""
from __future__ import annotations


class BlockStructureTransformer:
    """Base class of block structure transformers."""

    WRITE_VERSION = 0
    READ_VERSION = 0

    @classmethod
    def name(cls):
        raise NotImplementedError

    @classmethod
    def collect(cls, block_structure):
        """Whole-tree work at build time (with modulestore access)."""

    def transform(self, usage_info, block_structure):
        raise NotImplementedError


class FilteringTransformerMixin(BlockStructureTransformer):
    """Transformers that only remove blocks: ``transform_block_filters`` returns filter functions."""

    def transform(self, usage_info, block_structure):
        for _ in block_structure.topological_traversal(
            filter_func=combine_filters(block_structure, self.transform_block_filters(usage_info, block_structure))
        ):
            pass

    def transform_block_filters(self, usage_info, block_structure):
        raise NotImplementedError


def combine_filters(block_structure, filters):
    """One filter that keeps a block only when every filter keeps it."""

    def _filter(block_key):
        return all(filter_func(block_key) for filter_func in filters)

    return _filter
