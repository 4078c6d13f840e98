"""``import_course PATH [--course-key KEY] [--json]``: publish an Open edX course export (OLX)."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...olx import OlxError, import_course


class Command(BaseCommand):
    """Import an OLX course export into the standalone host."""

    help = (
        'Import an Open edX course export (a folder or .tar.gz holding course.xml) into the standalone '
        'host as a new structure version of the course, and print a summary.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the arguments and options that ``--help`` lists."""
        parser.add_argument("path", help="the export folder or .tar.gz archive")
        parser.add_argument(
            "--course-key",
            default=None,
            help="import into this course-v1: key instead of the one course.xml gives",
        )
        parser.add_argument("--json", action="store_true", help="print only the summary, as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the command with the parsed ``options``."""
        try:
            summary = import_course(options["path"], options["course_key"])
        except OlxError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_json(), sort_keys=False))
            for warning in summary.warnings:
                self.stderr.write(f"warning: {warning}")
            return
        by_type = ", ".join(f"{block_type} {count}" for block_type, count in summary.blocks_by_type.items())
        unknown = ", ".join(f"{block_type} {count}" for block_type, count in summary.unknown_types.items())
        lines = [
            summary.course_key,
            f"Imported {summary.display_name!r} as structure version {summary.structure_version}.",
            f"Blocks: {summary.blocks} ({by_type})",
            f"Leaves: {summary.leaves}; completable: {summary.completable}; excluded: {summary.excluded}",
            f"Unknown types (counted as excluded): {unknown or 'none'}",
            f"Not yet released (start in the future): {summary.unreleased}",
            f"Staff-only: {summary.staff_only}",
        ]
        if summary.optional:
            lines.append(f"Optional: {summary.optional}")
        if summary.warnings:
            lines.append(f"Warnings ({len(summary.warnings)}):")
            lines.extend(f"  {warning}" for warning in summary.warnings)
        self.stdout.write("\n".join(lines))
