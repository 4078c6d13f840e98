"""
The data of the course progress report page and its CSV, built only on :mod:`.reports`.

The page costs a fixed number of queries whatever the number of learners: the statistics
and the histogram are database aggregates, and the learner table reads one page of learners
and their stored rows (:func:`reports.get_stored_progress_many`). The CSV walks every active
enrollment by id in chunks (keyset pagination), so its memory stays flat.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from opaque_keys.edx.keys import CourseKey

from ..conf import get_setting
from ..data import CourseProgressData
from ..keys import parse_usage_key
from . import reports
from .sums import BlockStatsData, CourseStatsData

CHAPTER = "chapter"
SEQUENTIAL = "sequential"


def block_id(block_key: str) -> str:
    """The part of a usage key after ``block@`` (what the progress bar URLs use)."""
    try:
        return parse_usage_key(block_key).block_id
    except Exception:  # pylint: disable=broad-except
        return block_key.rsplit("@", 1)[-1]


def whole_percent(percent: float) -> int:
    """A ratio as a whole percent (halves round up), the way the pages show it."""
    return int(math.floor(percent * 100 + 0.5 + 1e-9))


@dataclass(frozen=True)
class HistogramBin:
    """One bar of the histogram: learners whose whole course percent is ``low`` up to (not including) ``high``."""

    low: int
    high: int
    count: int
    share: float  # bar length, 0..1 of the tallest bin

    @property
    def label(self) -> str:
        """The bin as people read it: ``10–20 %``."""
        return f"{self.low}–{self.high} %"


@dataclass(frozen=True)
class BlockRow:
    """A chapter (with its sequentials as ``children``) or a sequential: the learners' mean percent and completions."""

    block_key: str
    block_id: str
    mean_percent: float
    completed_count: int
    children: tuple[BlockRow, ...] = ()
    display_name: str = ""

    @property
    def whole_percent(self) -> int:
        """The mean as the page shows it (:func:`whole_percent`)."""
        return whole_percent(self.mean_percent)

    @property
    def label(self) -> str:
        """What people read: the display name, else the block id."""
        return self.display_name or self.block_id


def column_header(block_key: str, display_name: str) -> str:
    """A CSV column's header: ``display_name (block_id)`` (the block id alone when unnamed)."""
    return f"{display_name} ({block_id(block_key)})" if display_name else block_id(block_key)


@dataclass(frozen=True)
class LearnerRow:
    """One learner's line of the table: course percent and each chapter's (None: a chapter they do not see)."""

    username: str
    course_percent: float
    chapter_percents: tuple[float | None, ...]

    @property
    def whole_percent(self) -> int:
        """The course percent as the page shows it."""
        return whole_percent(self.course_percent)

    @property
    def chapter_whole_percents(self) -> tuple[int | None, ...]:
        """The chapter percents as the page shows them."""
        return tuple(None if value is None else whole_percent(value) for value in self.chapter_percents)


@dataclass(frozen=True)
class CourseReport:
    """Everything the report page shows: the statistics, the histogram, the outline and one page of learners."""

    course_key: str
    learner_count: int
    mean_percent: float
    histogram: tuple[HistogramBin, ...]
    chapters: tuple[BlockRow, ...]
    chapter_keys: tuple[str, ...]
    page: Page[Any]
    rows: tuple[LearnerRow, ...]
    query: str

    @property
    def mean_whole_percent(self) -> int:
        """The mean course percent as the page shows it."""
        return whole_percent(self.mean_percent)


def _learner_row(progress: CourseProgressData, chapter_keys: tuple[str, ...]) -> LearnerRow:
    chapters = {block.block_key: block.percent for block in progress.blocks if block.aggregation_name == CHAPTER}
    return LearnerRow(progress.username, progress.course.percent, tuple(chapters.get(key) for key in chapter_keys))


def _learners(course_key: CourseKey, query: str) -> QuerySet[Any]:
    learners = reports.enrolled_learners(course_key)
    if query:
        learners = learners.filter(Q(username__icontains=query) | Q(email__icontains=query))
    return learners


def histogram_bins(counts: Sequence[int]) -> tuple[HistogramBin, ...]:
    """The bars of ten bins' learner counts (:func:`~completion_aggregator.api.stats.get_completion_histogram`)."""
    tallest = max(counts, default=0) or 1
    return tuple(
        HistogramBin(low=index * 10, high=index * 10 + 10 if index < 9 else 100, count=count, share=count / tallest)
        for index, count in enumerate(counts)
    )


def chapter_rows(stats: CourseStatsData, course_key: CourseKey, viewer: AbstractBaseUser) -> tuple[BlockRow, ...]:
    """
    The chapters of the statistics in course order, each with its sequentials in ``viewer``'s outline.

    Raises:
        CourseNotFound: the host has no such course.
    """
    outline = reports.get_course_outline(course_key, viewer)
    names = reports.get_block_display_names(course_key, [key for chapter, seqs in outline for key in (chapter, *seqs)])
    parent = {seq: chapter for chapter, seqs in outline for seq in seqs}

    def row(block: BlockStatsData, children: tuple[BlockRow, ...] = ()) -> BlockRow:
        return BlockRow(
            block.block_key,
            block_id(block.block_key),
            block.mean_completion.percent,
            block.completed_count,
            children,
            display_name=names.get(block.block_key, ""),
        )

    sequentials = stats.by_aggregation_name(SEQUENTIAL)
    return tuple(
        row(chapter, tuple(row(seq) for seq in sequentials if parent.get(seq.block_key) == chapter.block_key))
        for chapter in stats.by_aggregation_name(CHAPTER)
    )


def build_course_report(
    course_key: CourseKey, viewer: AbstractBaseUser, page_number: str | None = None, query: str = ""
) -> CourseReport:
    """
    Everything the report page shows (same functions as the stats and list endpoints).

    ``page_number``: the learner table's page (Django's paginator: a bad number gives the last
    or first page); ``query``: only learners whose username or email contains it.

    Raises:
        CourseNotFound: the host has no such course.
    """
    query = (query or "").strip()
    stats = reports.get_course_stats(course_key, aggregation_names=[CHAPTER, SEQUENTIAL], viewer=viewer)
    histogram = histogram_bins(reports.get_completion_histogram(course_key, bins=10))
    chapters = chapter_rows(stats, course_key, viewer)
    chapter_keys = tuple(chapter.block_key for chapter in chapters)
    paginator = Paginator(_learners(course_key, query), int(get_setting("COMPLETION_AGGREGATOR_REPORT_PAGE_SIZE")))
    page = paginator.get_page(page_number)
    progress = reports.get_stored_progress_many(course_key, list(page.object_list), [CHAPTER])
    return CourseReport(
        course_key=str(course_key),
        learner_count=stats.learner_count,
        mean_percent=stats.mean_completion.percent,
        histogram=histogram,
        chapters=chapters,
        chapter_keys=chapter_keys,
        page=page,
        rows=tuple(_learner_row(entry, chapter_keys) for entry in progress),
        query=query,
    )


class _Echo:
    """A file-like object whose ``write`` returns the line (for streaming csv.writer output)."""

    def write(self, value: str) -> str:
        return value


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """
    ``value`` as a CSV cell no spreadsheet reads as a formula.

    Prefixed with ``'`` when it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return (OWASP's CSV injection advice). Usernames may start with ``+``, ``-`` or ``@`` in
    edx-platform; the ``'`` keeps them readable (spreadsheets show it as a text marker).
    """
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _percent_cell(percent: float | None) -> str:
    return "" if percent is None else f"{percent * 100:.2f}"


def iter_course_csv(course_key: CourseKey, viewer: AbstractBaseUser) -> Iterator[str]:
    """
    CSV lines of every active enrollment: username, course percent, then each chapter's percent.

    The chapter columns are headed ``display_name (block_id)`` (:func:`column_header`).

    Percentages are 0–100 with two decimals; a chapter the learner cannot see is empty. Every
    cell goes through :func:`spreadsheet_safe` (a username like ``@SUM`` is written ``'@SUM``).
    Learners are read by id in chunks of ``COMPLETION_AGGREGATOR_REPORT_CSV_CHUNK_SIZE``.

    Raises:
        CourseNotFound: the host has no such course (raised before the first line).
    """
    outline = reports.get_course_outline(course_key, viewer)
    learners = reports.enrolled_learners(course_key)
    chapter_keys = tuple(chapter for chapter, _seqs in outline)
    names = reports.get_block_display_names(course_key, chapter_keys)
    chunk = max(1, int(get_setting("COMPLETION_AGGREGATOR_REPORT_CSV_CHUNK_SIZE")))

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())

        def line(cells: list[str]) -> str:  # every cell, headers included, through spreadsheet_safe
            return str(writer.writerow([spreadsheet_safe(cell) for cell in cells]))

        yield line(["username", "course_percent", *(column_header(key, names.get(key, "")) for key in chapter_keys)])
        last_id = 0
        while True:
            users = list(learners.filter(id__gt=last_id)[:chunk])
            if not users:
                return
            last_id = users[-1].pk
            for entry in reports.get_stored_progress_many(course_key, users, [CHAPTER]):
                row = _learner_row(entry, chapter_keys)
                yield line(
                    [row.username, _percent_cell(row.course_percent), *map(_percent_cell, row.chapter_percents)]
                )
            if len(users) < chunk:
                return

    return lines()
