"""
``edx_when.field_data.DateOverrideTransformer(user)``: not a filter,
the last of the access transformers.

It overrides the ``start`` and ``due`` xblock fields of the blocks that have dates in edx-when
with the learner's own dates (a personalised override wins over the course-wide date). Being a
non-filter transformer it runs after the filtering pass: what it changes is the dates the
learner's tree shows, not which blocks ``StartDateTransformer`` kept.
"""
from __future__ import annotations

from openedx.core.djangoapps.content.block_structure.transformer import BlockStructureTransformer

from .api import get_dates_for_course


class DateOverrideTransformer(BlockStructureTransformer):
    WRITE_VERSION = 1
    READ_VERSION = 1

    def __init__(self, user):
        self.user = user

    @classmethod
    def name(cls):
        return "load_date_data"

    @classmethod
    def collect(cls, block_structure):
        block_structure.request_xblock_fields("due", "start")

    def transform(self, usage_info, block_structure):
        for (block_key, field), value in get_dates_for_course(usage_info.course_key, self.user).items():
            if block_key in block_structure:
                block_structure.override_xblock_field(block_key, field, value)
