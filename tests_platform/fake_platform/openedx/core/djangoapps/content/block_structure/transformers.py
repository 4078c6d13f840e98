"""``BlockStructureTransformers``: an ordered collection of transformers plus ``usage_info``."""
from __future__ import annotations

from .exceptions import TransformerDataIncompatible, TransformerException
from .transformer import FilteringTransformerMixin, combine_filters
from .transformer_registry import TransformerRegistry


class BlockStructureTransformers:
    """The transformers to run on a block structure for one usage."""

    def __init__(self, transformers=None, usage_info=None):
        self.usage_info = usage_info
        self._transformers = {"supports_filter": [], "no_filter": []}
        if transformers:
            self.__iadd__(transformers)

    def __iadd__(self, transformers):
        unregistered = TransformerRegistry.find_unregistered(transformers)
        if unregistered:
            raise TransformerException(f"The following requested transformers are not registered: {unregistered}")
        for transformer in transformers:
            if isinstance(transformer, FilteringTransformerMixin):
                self._transformers["supports_filter"].append(transformer)
            else:
                self._transformers["no_filter"].append(transformer)
        return self

    def __iter__(self):
        return iter(self._transformers["supports_filter"] + self._transformers["no_filter"])

    @classmethod
    def collect(cls, block_structure):
        """Run ``collect`` of every registered transformer, then gather the requested xblock fields."""
        for transformer in sorted(TransformerRegistry.get_registered_transformers(), key=lambda t: t.name()):
            if not transformer.WRITE_VERSION:
                raise TransformerException(f"{transformer.name()} has WRITE_VERSION 0")
            block_structure.set_transformer_data(transformer, "_version", transformer.WRITE_VERSION)
            transformer.collect(block_structure)
        block_structure._collect_requested_xblock_fields()

    @classmethod
    def verify_versions(cls, block_structure):
        for transformer in TransformerRegistry.get_registered_transformers():
            stored = block_structure.get_transformer_data(transformer, "_version")
            if stored is None or transformer.READ_VERSION > stored:
                raise TransformerDataIncompatible(transformer.name())
        return True

    def transform(self, block_structure):
        """Filtering transformers in one combined pass, the others in order, then prune."""
        filters = []
        for transformer in self._transformers["supports_filter"]:
            filters.extend(transformer.transform_block_filters(self.usage_info, block_structure))
        if filters:
            block_structure.filter_topological_traversal(combine_filters(block_structure, filters))
        for transformer in self._transformers["no_filter"]:
            transformer.transform(self.usage_info, block_structure)
        block_structure._prune_unreachable()
