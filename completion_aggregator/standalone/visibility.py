"""
The standalone host's per-learner rules (``docs/standalone.rst``): which blocks a learner sees.

Pure functions of a :class:`~.structure.StoredStructure` and the learner's groups: a learner's
group in each partition, the library children they get, the blocks they cannot reach, and the
visible blocks content type gating locks. Randomness is a stable hash (:func:`rank`): no state
is stored, the same learner gets the same answer on every read.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping

from .structure import (
    FULL_ACCESS_GROUP_ID,
    LIMITED_ACCESS_GROUP_ID,
    LIMITED_ACCESS_MODES,
    Partition,
    StoredStructure,
    enrollment_mode_ids,
)

#: ``{partition id: the learner's group id}`` (None: no group in that partition).
Groups = Mapping[int, int | None]
#: ``(partition id, group id)`` of a learner's cohort (``Cohort``'s nullable columns).
CohortGroup = tuple[int | None, int | None]


def rank(*parts: object) -> bytes:
    """A stable pseudo-random rank of ``parts`` (no state is stored: recomputed on every read)."""
    return hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()


def learner_groups(
    full: StoredStructure, user_id: int, cohort_group: CohortGroup | None, mode: str | None = None
) -> dict[int, int | None]:
    """
    The learner's group in each partition the structure uses (None: no group).

    The enrollment-track partition's group is the id of the learner's enrollment mode
    (:func:`~.structure.enrollment_mode_ids`; an unknown mode has none); content type gating's
    is limited access for the modes in :data:`~.structure.LIMITED_ACCESS_MODES`, full access
    otherwise; a cohort partition's is the learner's cohort's group; a random partition's a
    stable hash of the learner, the course and the partition.
    """
    return {
        partition_id: _group_in(full, full.partitions.get(partition_id), partition_id, user_id, cohort_group, mode)
        for partition_id in full.used_partitions
    }


def _group_in(
    full: StoredStructure,
    partition: Partition | None,
    partition_id: int,
    user_id: int,
    cohort_group: CohortGroup | None,
    mode: str | None,
) -> int | None:
    """The learner's group in one partition (see :func:`learner_groups`)."""
    if partition is not None and partition.scheme == "enrollment_track":
        return enrollment_mode_ids().get(mode) if mode is not None else None
    if partition is not None and partition.scheme == "content_type_gate":
        if mode is None:
            return None
        return LIMITED_ACCESS_GROUP_ID if mode in LIMITED_ACCESS_MODES else FULL_ACCESS_GROUP_ID
    if partition is None or not partition.groups:
        return None
    if partition.scheme == "cohort":
        if cohort_group is not None and cohort_group[0] == partition_id:
            return cohort_group[1]
        return None
    if partition.scheme == "random":
        index = int.from_bytes(rank(user_id, full.course_key, "partition", partition_id)[:8], "big")
        return partition.groups[index % len(partition.groups)]
    return None


def allowed(full: StoredStructure, key: str, groups: Groups) -> bool:
    """The block's own ``group_access`` lets this learner in (inactive partitions are ignored)."""
    for partition_id, allowed_groups in full.group_access.get(key, ()):
        partition = full.partitions.get(partition_id)
        if partition is None:
            return False  # a restriction to an unknown partition: nobody (as edx-platform)
        if not partition.active or partition.scheme == "content_type_gate":
            # Content type gating never removes a block: the platform keeps it, locked, with
            # an access-denied message (``content_type_gating``'s transformer), and a locked block counts.
            continue
        if groups.get(partition_id) not in allowed_groups:
            return False
    return True


def library_picks(
    full: StoredStructure, user_id: int, groups: Groups, base_hidden: frozenset[str]
) -> dict[str, tuple[str, ...]]:
    """For each library-like block, the ``max_count`` children this learner gets (stable hash)."""
    picks = {}
    for key, max_count in full.max_counts.items():
        candidates = [
            child for child in full.blocks[key].children if child not in base_hidden and allowed(full, child, groups)
        ]
        if max_count < len(candidates):
            ranked = sorted(candidates, key=lambda child: rank(user_id, key, child))
            candidates = sorted(ranked[:max_count])
        picks[key] = tuple(candidates)
    return picks


def hidden_blocks(
    full: StoredStructure, groups: Groups, picks: Mapping[str, tuple[str, ...]], base_hidden: frozenset[str]
) -> frozenset[str]:
    """Every block the learner cannot reach from the root (canonical: equal trees, equal sets)."""
    visible = {full.root}
    stack = [full.root]
    while stack:
        key = stack.pop()
        children = full.blocks[key].children
        if key in full.splits:
            partition_id, mapping = full.splits[key]
            group = groups.get(partition_id) if partition_id is not None else None
            chosen = mapping.get(group) if group is not None else None
            children = (chosen,) if chosen is not None and chosen in children else ()
        elif key in picks:
            children = picks[key]
        for child in children:
            if (
                child not in visible
                and child in full.blocks
                and child not in base_hidden
                and allowed(full, child, groups)
            ):
                visible.add(child)
                stack.append(child)
    return frozenset(full.blocks) - visible


def locked_blocks(full: StoredStructure, groups: Groups, hidden: frozenset[str]) -> frozenset[str]:
    """
    The visible blocks content type gating locks for this learner (ADR 0011).

    A block whose ``group_access`` on a ``content_type_gate`` partition excludes the learner's
    group, and its subtree. They stay in the tree and count in ``possible``.
    """
    stack = [
        key
        for key, access in full.group_access.items()
        if key not in hidden
        and any(
            (partition := full.partitions.get(partition_id)) is not None
            and partition.active
            and partition.scheme == "content_type_gate"
            and groups.get(partition_id) not in allowed_groups
            for partition_id, allowed_groups in access
        )
    ]
    locked: set[str] = set()
    while stack:
        key = stack.pop()
        if key in locked or key in hidden or key not in full.blocks:
            continue
        locked.add(key)
        stack.extend(full.blocks[key].children)
    return frozenset(locked)
