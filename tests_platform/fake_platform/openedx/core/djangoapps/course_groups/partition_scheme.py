"""
``openedx.core.djangoapps.course_groups.partition_scheme.CohortPartitionScheme``: content groups
linked to cohorts.

``get_group_for_user`` reads the learner's cohort with ``get_cohort(user, course_key,
use_cached=…)``, i.e. with ``assign=True``: for a learner without a cohort in a cohorted course
it **creates the membership** (and sends the cohort signals) as the real scheme does. The group
is the one the cohort is linked to for this partition (``CourseUserGroupPartitionGroup``), or None.
"""
from __future__ import annotations

from .cohorts import get_cohort
from .models import CourseUserGroupPartitionGroup


class CohortPartitionScheme:
    """The ``cohort`` scheme."""

    @classmethod
    def get_group_for_user(cls, course_key, user, user_partition, use_cached=True):
        cohort = get_cohort(user, course_key, use_cached=use_cached)  # assign=True: a side effect
        if cohort is None:
            return None
        link = CourseUserGroupPartitionGroup.objects.filter(
            course_user_group=cohort, partition_id=user_partition["id"]
        ).first()
        return None if link is None else link.group_id
