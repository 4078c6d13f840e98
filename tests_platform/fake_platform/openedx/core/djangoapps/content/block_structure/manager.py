"""
``BlockStructureManager`` (``openedx.core.djangoapps.content.block_structure.manager``):
collected structures, built from the modulestore and stored, and transforms.

* The stored ``data_version`` is the course's ``course_version`` (``BlockStructureModel``): a
  rebuild of unchanged content keeps it; a rebuild after a publish changes it.
* ``get_collected()`` rebuilds a missing or incompatible structure from **the calling process's
  modulestore** and stores it where every process reads it. On master that rebuild
  runs in a ``published-only`` branch context; on the named releases it reads with the process's
  branch setting, so a rebuild in Studio (``draft-preferred``) stores draft content the LMS then
  serves.
"""
from __future__ import annotations

from xmodule.modulestore import ModuleStoreEnum

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
        from .api import release

        if release() == "master":
            with self.modulestore.branch_setting(ModuleStoreEnum.Branch.published_only, self.root_block_usage_key.course_key):
                return self.update_collected_if_needed()
        return self.update_collected_if_needed()

    def update_collected_if_needed(self):
        """Rebuild from the modulestore (the process's branch), collect, store; ``data_version`` = course_version."""
        built = BlockStructureFactory.create_from_modulestore(self.root_block_usage_key, self.modulestore)
        BlockStructureTransformers.collect(built)
        collected = built.as_block_data()
        course_key = self.root_block_usage_key.course_key
        version = self.modulestore.get_course_version(course_key)
        STORE[self.root_block_usage_key] = (version, collected)
        self.cache.set(f"block_structure_version:{course_key}", version, None)
        return collected.copy()

    def clear(self):
        STORE.pop(self.root_block_usage_key, None)
        self.cache.delete(f"block_structure_version:{self.root_block_usage_key.course_key}")
