"""``StartDateTransformer``: removes blocks whose start date is in the future (not for staff)."""
from __future__ import annotations

from django.utils import timezone
from openedx.core.djangoapps.content.block_structure.transformer import FilteringTransformerMixin


class StartDateTransformer(FilteringTransformerMixin):
    WRITE_VERSION = 1
    READ_VERSION = 1

    @classmethod
    def name(cls):
        return "start_date"

    @classmethod
    def collect(cls, block_structure):
        block_structure.request_xblock_fields("start", "days_early_for_beta")

    def transform_block_filters(self, usage_info, block_structure):
        if usage_info.has_staff_access or usage_info.allow_start_dates_in_future:
            return [block_structure.create_universal_filter()]
        now = timezone.now()

        def unreleased(block_key):
            start = block_structure.get_xblock_field(block_key, "start")
            return start is not None and start > now

        return [block_structure.create_removal_filter(unreleased)]
