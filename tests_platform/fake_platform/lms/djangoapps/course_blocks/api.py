"""``lms.djangoapps.course_blocks.api``."""
from __future__ import annotations

from openedx.core.djangoapps.content.block_structure.api import get_block_structure_manager
from openedx.core.djangoapps.content.block_structure.transformers import BlockStructureTransformers

from .transformers.library_content import ContentLibraryOrderTransformer, ContentLibraryTransformer
from .transformers.start_date import StartDateTransformer
from .transformers.user_partitions import UserPartitionTransformer
from .transformers.visibility import VisibilityTransformer
from .usage_info import CourseUsageInfo


def get_course_block_access_transformers(user):
    """
    The seven access transformers, as a plain list in the platform's order: ContentLibrary,
    ContentLibraryOrder, StartDate, ContentTypeGate, UserPartition, Visibility and edx-when's
    DateOverride(user). (``OverrideDataTransformer`` is only added with an individual field
    override provider, which the fake does not model.)
    """
    from edx_when.field_data import DateOverrideTransformer
    from openedx.features.content_type_gating.block_transformers import ContentTypeGateTransformer

    return [
        ContentLibraryTransformer(),
        ContentLibraryOrderTransformer(),
        StartDateTransformer(),
        ContentTypeGateTransformer(),
        UserPartitionTransformer(),
        VisibilityTransformer(),
        DateOverrideTransformer(user),
    ]


def get_course_blocks(
    user,
    starting_block_usage_key,
    transformers=None,
    collected_block_structure=None,
    allow_start_dates_in_future=False,
    include_completion=False,
    include_has_scheduled_content=False,
):
    """The course's blocks as ``user`` may see them (a transformed ``BlockStructureBlockData``)."""
    if not transformers:
        transformers = BlockStructureTransformers(get_course_block_access_transformers(user))
    if include_completion:
        raise NotImplementedError("the fake platform has no BlockCompletionTransformer")
    transformers.usage_info = CourseUsageInfo(
        starting_block_usage_key.course_key, user, allow_start_dates_in_future, include_has_scheduled_content
    )
    return get_block_structure_manager(starting_block_usage_key.course_key).get_transformed(
        transformers, starting_block_usage_key, collected_block_structure, user
    )
