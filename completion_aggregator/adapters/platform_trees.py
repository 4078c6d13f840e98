"""
edx-platform block structures read as the aggregator's trees (``BlockStructure`` objects in, our data out).

The structures are edx-platform's (``BlockStructureBlockData``), passed in by the adapter; this
module imports nothing of the platform and only calls the structures' own methods.
"""
from __future__ import annotations

import hashlib
from typing import Any

from ..data import BlockData, CourseStructureData

#: Block types whose children the platform shows in a per-learner order (ContentLibraryOrderTransformer).
_SHUFFLED_TYPES = frozenset({"library_content", "itembank"})


def children_of(structure: Any, key: Any) -> list[Any]:
    """The block's children; a library block's in key order (their shuffled order counts for nothing)."""
    children = structure.get_children(key)
    return sorted(children, key=str) if key.block_type in _SHUFFLED_TYPES else list(children)


def is_locked(structure: Any, key: Any) -> bool:
    """True when the access transformers kept the block but denied it (``authorization_denial_reason``)."""
    return bool(structure.get_xblock_field(key, "authorization_denial_reason", None))


def structure_digest(structure: Any, root: Any) -> str:
    """A digest of the tree (keys, child lists, optional and locked flags): what a compiled graph depends on."""
    digest = hashlib.sha1()
    for key in sorted(structure, key=str):
        digest.update(str(key).encode())
        if structure.get_xblock_field(key, "optional_completion", False):
            digest.update(b"?")
        if is_locked(structure, key):
            digest.update(b"!")
        digest.update(b">")
        digest.update(",".join(str(child) for child in children_of(structure, key)).encode())
        digest.update(b"\n")
    digest.update(str(root).encode())
    return digest.hexdigest()[:16]


def structure_data(course_key: str, version: str, transformed: Any) -> CourseStructureData:
    """A learner's transformed structure as ``CourseStructureData`` (``version`` given by the caller)."""
    blocks = {}
    for usage_key in transformed:
        optional = transformed.get_xblock_field(usage_key, "optional_completion", False)
        blocks[str(usage_key)] = BlockData(
            key=str(usage_key),
            block_type=usage_key.block_type,
            children=tuple(str(child) for child in children_of(transformed, usage_key)),
            optional=bool(optional),
            locked=is_locked(transformed, usage_key),
        )
    return CourseStructureData(
        course_key=course_key, root=str(transformed.root_block_usage_key), blocks=blocks, version=version
    )


def empty_structure(course_key: str, root: Any, base_version: str) -> CourseStructureData:
    """The root alone, hidden: what a learner who sees nothing of the course gets (an empty course)."""
    return CourseStructureData(
        course_key=course_key,
        root=str(root),
        blocks={str(root): BlockData(str(root), root.block_type)},
        version=f"{base_version}:empty",
        root_hidden=True,
    )
