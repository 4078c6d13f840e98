"""
``lms.djangoapps.course_blocks.transformers.user_partitions.UserPartitionTransformer``.
Not a filter: it runs after the filtering transformers, in list order.

* Staff (``usage_info.has_staff_access``) see everything: nothing is read or written.
* Otherwise the learner's group in **every** partition of the course is read first, as
  ``get_user_partition_groups(course_key, user_partitions, user, 'id')`` does: the course's own
  partitions (the root's ``user_partitions``, e.g. content groups of the ``cohort`` scheme) plus
  the dynamic ones the platform adds at run time (enrollment track 50, content type gating 51).
  The cohort scheme's ``get_group_for_user`` calls ``get_cohort(user, course_key)`` with
  ``assign=True``: in a cohorted course a learner without a cohort is **assigned one** here.
* A block whose (merged: its own and its ancestors') ``group_access`` denies the learner is
  **kept, locked** (xblock fields ``authorization_denial_reason`` / ``authorization_denial_message``
  set) when the denying partition has an access-denied message, and removed with its subtree
  when it has none. ``group_access`` naming a partition the course does not have is ignored.
"""
from __future__ import annotations

from openedx.core.djangoapps.content.block_structure.transformer import BlockStructureTransformer


def _scheme(name):
    if name == "cohort":
        from openedx.core.djangoapps.course_groups.partition_scheme import CohortPartitionScheme

        return CohortPartitionScheme
    if name == "enrollment_track":
        from openedx.core.djangoapps.verified_track_content.partition_scheme import EnrollmentTrackPartitionScheme

        return EnrollmentTrackPartitionScheme
    if name == "content_type_gate":
        from openedx.features.content_type_gating.partitions import ContentTypeGatingPartitionScheme

        return ContentTypeGatingPartitionScheme
    raise ValueError(f"unknown partition scheme {name!r}")


def get_course_partitions(static_partitions):
    """The course's partitions: its own plus the dynamic ones (ids 50 and 51), by id."""
    from openedx.core.djangoapps.verified_track_content.partition_scheme import enrollment_track_partition
    from openedx.features.content_type_gating.partitions import content_gating_partition

    partitions = {int(p["id"]): p for p in static_partitions or ()}
    for dynamic in (enrollment_track_partition(), content_gating_partition()):
        partitions.setdefault(dynamic["id"], dynamic)
    return partitions


def get_user_partition_groups(course_key, user_partitions, user, partition_dict_key="id"):
    """``{partition id: group id or None}``: every partition's scheme asked (side effects included)."""
    return {
        partition[partition_dict_key]: _scheme(partition["scheme"]).get_group_for_user(course_key, user, partition)
        for partition in user_partitions
    }


class UserPartitionTransformer(BlockStructureTransformer):
    WRITE_VERSION = 1
    READ_VERSION = 1

    @classmethod
    def name(cls):
        return "user_partitions"

    @classmethod
    def collect(cls, block_structure):
        block_structure.request_xblock_fields("group_access")
        root = block_structure.get_xblock(block_structure.root_block_usage_key)
        block_structure.set_transformer_data(cls, "user_partitions", list(getattr(root, "user_partitions", None) or []))

    def transform(self, usage_info, block_structure):
        if usage_info.has_staff_access:
            return
        partitions = get_course_partitions(block_structure.get_transformer_data(self, "user_partitions"))
        groups = get_user_partition_groups(usage_info.course_key, list(partitions.values()), usage_info.user, "id")
        denied_by = {}  # block key -> the partition denying it (None: accessible)
        for block_key in block_structure.topological_traversal():
            parents = [p for p in block_structure.get_parents(block_key) if p in denied_by]
            inherited = None
            if parents and all(denied_by[p] is not None for p in parents):
                inherited = denied_by[parents[0]]
            own = None
            for partition_id, allowed in (block_structure.get_xblock_field(block_key, "group_access") or {}).items():
                partition = partitions.get(int(partition_id))
                if partition is not None and allowed and groups.get(partition["id"]) not in allowed:
                    own = partition
                    break
            denied = inherited or own
            denied_by[block_key] = denied
            if denied is None:
                continue
            if denied.get("access_denied_message"):
                block_structure.override_xblock_field(
                    block_key, "authorization_denial_reason", denied.get("access_denied_reason") or denied.get("name", "")
                )
                block_structure.override_xblock_field(
                    block_key, "authorization_denial_message", denied["access_denied_message"]
                )
            else:
                block_structure.remove_block(block_key, keep_descendants=False)
