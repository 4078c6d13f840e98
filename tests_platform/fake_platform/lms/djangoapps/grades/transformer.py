"""
``GradesTransformer`` (``lms.djangoapps.grades.transformer``), registered by edx-platform as
``grades`` in ``openedx.block_structure_transformer``.

Its ``collect`` requests, for every block, the xblock fields the grades code reads, among them
``course_version`` and ``subtree_edited_on``. So in a real LMS the collected root carries
``subtree_edited_on``: the version a release without ``get_block_structure_version`` (Sumac,
Teak, Ulmo, Verawood) can read from the collected structure. It filters nothing.
"""
from __future__ import annotations

from openedx.core.djangoapps.content.block_structure.transformer import BlockStructureTransformer


class GradesTransformer(BlockStructureTransformer):
    """Collects the grading fields; ``transform`` leaves the structure as it is."""

    WRITE_VERSION = 4
    READ_VERSION = 4
    FIELDS_TO_COLLECT = ["due", "format", "graded", "has_score", "weight", "course_version", "subtree_edited_on", "show_correctness"]

    @classmethod
    def name(cls):
        return "grades"

    @classmethod
    def collect(cls, block_structure):
        block_structure.request_xblock_fields(*cls.FIELDS_TO_COLLECT)

    def transform(self, usage_info, block_structure):
        pass
