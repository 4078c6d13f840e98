"""``load_demo``: a generated course with learners and completions, for trying the app."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ....conf import get_setting
from ...demo import DEFAULT_SHAPE, load_demo, validate_shape


class Command(BaseCommand):
    """Create the demo course, the staff user and learners with seeded random completions."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the arguments and options that ``--help`` lists."""
        parser.add_argument("--learners", type=int, default=10, help="number of learners (default 10)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed of the completions")
        parser.add_argument(
            "--breadth",
            type=int,
            nargs=4,
            metavar=("CHAPTERS", "SEQUENTIALS", "VERTICALS", "LEAVES"),
            default=list(DEFAULT_SHAPE),
            help="chapters, sequentials per chapter, verticals per sequential, leaves per vertical "
            f"(default {' '.join(map(str, DEFAULT_SHAPE))}; each at least 1)",
        )
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000",
            help="where the site is served, for the printed links (make demo passes http://HOST:PORT)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the command with the parsed ``options``."""
        if not 1 <= options["learners"] <= 10000:
            raise CommandError("--learners must be between 1 and 10000")
        try:
            shape = validate_shape(options["breadth"])
        except ValueError as exc:
            raise CommandError(f"--breadth: {exc}") from None
        summary = load_demo(learner_count=options["learners"], seed=options["seed"], shape=shape)
        base = options["url"].rstrip("/")
        # Asynchronous mode: the completions are in the queue until run_aggregator_service runs.
        done = "queued for aggregation" if get_setting("COMPLETION_AGGREGATOR_ASYNC_AGGREGATION") else "aggregated"
        lines = [
            f"Demo course {summary.course_key}: {summary.blocks} blocks, {len(summary.usernames)} learners, "
            f"{summary.completions} completions ({done}).",
            "",
            f"  {base}/                                      links",
            f"  {base}/admin/                                admin (staff / staff)",
            f"  {base}/completion-aggregator/v1/course/      your courses (learner1 / learner)",
            f"  {base}/completion-aggregator/v1/course/{summary.course_key}/?requested_fields=chapter",
            f"  {base}/completion-aggregator/v1/stats/{summary.course_key}/   (staff)",
            f"  {base}/completion-aggregator/api/docs/       API docs",
            f"  {base}/completion-aggregator/progress_bar/{summary.course_key}/   progress bar (a learner)",
            f"  {base}/completion-aggregator/report/{summary.course_key}/   course progress report (staff)",
            f"  {base}/completion-aggregator/report/{summary.course_key}/csv/   its CSV (staff)",
            "",
            f"Logins: staff / staff; learner1 … learner{len(summary.usernames)} / learner",
        ]
        self.stdout.write("\n".join(lines))
