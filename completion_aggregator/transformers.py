"""
The block-structure transformer edx-platform loads (entry point ``completion_aggregator_annotator``).

The entry point group is ``openedx.block_structure_transformer``.

Its name and READ/WRITE versions (1/1) are the peer's, so swapping packages leaves
edx-platform's transformer schema hash, and therefore every stored course structure, valid.

It imports nothing from edx-platform: the registry only needs ``name()``, the two versions,
``collect`` and ``transform`` (the contract of ``BlockStructureTransformer``).
"""
from __future__ import annotations

from typing import Any

from .completion_modes import mode_lookup
from .data import CompletionMode


def _mode(value: Any) -> CompletionMode | None:
    """A block's ``completion_mode`` field (an XBlockCompletionMode or its value) as ours; None if unset or unknown."""
    value = getattr(value, "value", value)
    try:
        return CompletionMode(str(value).lower()) if value is not None else None
    except ValueError:
        return None


class AggregatorAnnotationTransformer:
    """Annotates each non-excluded block with the keys of the aggregators that contain it."""

    READ_VERSION = 1
    WRITE_VERSION = 1
    #: Transformer block field holding the list of containing aggregator keys (strings).
    AGGREGATORS = "aggregators"

    @classmethod
    def name(cls) -> str:
        """The entry-point name (edx-platform requires them to be equal)."""
        return "completion_aggregator_annotator"

    @classmethod
    def collect(cls, block_structure: Any) -> None:
        """
        Ask for the xblock fields the app reads.

        The completion mode and the optional flag (the aggregation), and the display name the
        pages label sections with (the course blocks API collects it too).
        """
        block_structure.request_xblock_fields("completion_mode", "optional_completion", "display_name")

    def transform(self, usage_info: Any, block_structure: Any) -> None:
        """
        Annotate every non-excluded block with its AGGREGATOR ancestors.

        Sets the transformer block field ``aggregators`` to their sorted keys. EXCLUDED blocks,
        and blocks reachable only through them, get no annotation. Touches neither the
        modulestore nor XBlocks.
        """
        lookup = mode_lookup()
        containing: dict[Any, tuple[set[str], CompletionMode]] = {}
        for block_key in block_structure.topological_traversal():
            mode = _mode(block_structure.get_xblock_field(block_key, "completion_mode")) or lookup(block_key.block_type)
            parents = [parent for parent in block_structure.get_parents(block_key) if parent in containing]
            if mode == CompletionMode.EXCLUDED or (parents == [] and block_key != block_structure.root_block_usage_key):
                continue
            ancestors: set[str] = set()
            for parent in parents:
                ancestors |= containing[parent][0]
                if containing[parent][1] == CompletionMode.AGGREGATOR:
                    ancestors.add(str(parent))
            containing[block_key] = (ancestors, mode)
            block_structure.set_transformer_block_field(block_key, self, self.AGGREGATORS, sorted(ancestors))
