"""Importing an export: parse it fully, then publish it as a new structure version."""
from __future__ import annotations

import os

from opaque_keys.edx.keys import CourseKey

from .course import parse_course
from .results import ImportSummary
from .rules import OlxError


def import_course(path: str | os.PathLike[str], course_key: str | CourseKey | None = None) -> ImportSummary:
    """
    Parse the export at ``path`` fully, then publish it as a new structure version.

    Raises:
        OlxError: as :func:`parse_course`, or the structure is refused by
            :func:`~completion_aggregator.standalone.publishing.publish_structure`; nothing is
            written then (one transaction).
    """
    from ..publishing import publish_structure

    parsed = parse_course(path, course_key)
    summary = parsed.summary()
    try:
        structure = publish_structure(
            parsed.course_key,
            parsed.root,
            parsed.specs(),
            display_name=parsed.display_name,
            mobile_available=parsed.mobile_available,
        )
    except ValueError as exc:  # the structure was refused before anything was written
        raise OlxError(f"{parsed.source}: {exc}") from None
    summary.structure_version = structure.version
    return summary
