"""
``UserPartitionTransformer``: removes blocks whose ``group_access`` excludes the learner's groups.

A learner's group in a (cohort-linked content group) partition comes from their cohort's
``CourseUserGroupPartitionGroup``. Staff see everything.
"""
from __future__ import annotations

from openedx.core.djangoapps.content.block_structure.transformer import FilteringTransformerMixin


def user_groups(user, course_key):
    """{partition_id: group_id} for the user in the course."""
    from openedx.core.djangoapps.course_groups.models import CohortMembership, CourseUserGroupPartitionGroup

    cohort_ids = CohortMembership.objects.filter(user_id=user.pk, course_id=course_key).values_list(
        "course_user_group_id", flat=True
    )
    return dict(
        CourseUserGroupPartitionGroup.objects.filter(course_user_group_id__in=list(cohort_ids)).values_list(
            "partition_id", "group_id"
        )
    )


class UserPartitionTransformer(FilteringTransformerMixin):
    WRITE_VERSION = 1
    READ_VERSION = 1

    @classmethod
    def name(cls):
        return "user_partitions"

    @classmethod
    def collect(cls, block_structure):
        block_structure.request_xblock_fields("group_access")

    def transform_block_filters(self, usage_info, block_structure):
        if usage_info.has_staff_access:
            return [block_structure.create_universal_filter()]
        groups = user_groups(usage_info.user, usage_info.course_key)

        def denied(block_key):
            access = block_structure.get_xblock_field(block_key, "group_access") or {}
            return any(allowed and groups.get(int(pid)) not in allowed for pid, allowed in access.items())

        return [block_structure.create_removal_filter(denied)]
