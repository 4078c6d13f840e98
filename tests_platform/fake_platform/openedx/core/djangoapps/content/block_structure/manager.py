"""``BlockStructureManager``: collected structures (built from the modulestore, stored) and transforms."""
from __future__ import annotations

from .block_structure import BlockStructureModulestoreData
from .exceptions import TransformerDataIncompatible, UsageKeyNotInBlockStructure
from .transformers import BlockStructureTransformers

# The fake's storage: {root usage key: (data_version, collected BlockStructureBlockData)}.
STORE = {}


class BlockStructureFactory:
    """Builds collected structures."""

    @classmethod
    def create_from_modulestore(cls, root_block_usage_key, modulestore):
        """Walk the published blocks from the root (raises ItemNotFoundError for an unknown course)."""
        structure = BlockStructureModulestoreData(root_block_usage_key)
        stack = [modulestore.get_item(root_block_usage_key)]
        seen = set()
        while stack:
            xblock = stack.pop()
            if xblock.location in seen:
                continue
            seen.add(xblock.location)
            structure._xblock_map[xblock.location] = xblock
            structure._get_or_create_block(xblock.location)
            for child_key in xblock.children:
                structure._add_relation(xblock.location, child_key)
                stack.append(modulestore.get_item(child_key))
        return structure


class BlockStructureManager:
    """Loads, stores and transforms one course's block structure."""

    def __init__(self, root_block_usage_key, modulestore, cache):
        self.root_block_usage_key = root_block_usage_key
        self.modulestore = modulestore
        self.cache = cache

    def get_transformed(self, transformers, starting_block_usage_key=None, collected_block_structure=None, user=None):
        """The structure transformed by ``transformers`` (a ``BlockStructureTransformers``)."""
        starting = starting_block_usage_key or self.root_block_usage_key
        if collected_block_structure is not None:
            structure = collected_block_structure.copy()
        else:
            structure = self.get_collected(user)
        if starting not in structure:
            raise UsageKeyNotInBlockStructure(f"{starting} is not in the block structure")
        structure.set_root_block(starting)
        transformers.transform(structure)
        return structure

    def get_collected(self, user=None):
        """The stored collected structure (rebuilt when missing or incompatible); a fresh object."""
        stored = STORE.get(self.root_block_usage_key)
        if stored is not None:
            try:
                BlockStructureTransformers.verify_versions(stored[1])
                return stored[1].copy()
            except TransformerDataIncompatible:
                pass
        return self.update_collected_if_needed()

    def update_collected_if_needed(self):
        """Rebuild from the modulestore, collect, store; the data version changes."""
        built = BlockStructureFactory.create_from_modulestore(self.root_block_usage_key, self.modulestore)
        BlockStructureTransformers.collect(built)
        collected = built.as_block_data()
        course_key = self.root_block_usage_key.course_key
        version = f"{self.modulestore.get_course_version(course_key)}.{_next_build()}"
        STORE[self.root_block_usage_key] = (version, collected)
        self.cache.set(f"block_structure_version:{course_key}", version, None)
        return collected.copy()

    def clear(self):
        STORE.pop(self.root_block_usage_key, None)
        self.cache.delete(f"block_structure_version:{self.root_block_usage_key.course_key}")


_builds = [0]


def _next_build():
    _builds[0] += 1
    return _builds[0]
