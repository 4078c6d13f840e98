"""
The REST answers, each entry declared once as an ordered field list.

An :class:`Entry` lists its :class:`Field` s in the order their keys appear in the JSON
document (the order the existing package's clients read, documented in docs/rest_api.rst).
Two things are built from these lists and nothing else:

* the documents the views answer (:mod:`.encoding`: plain dicts, keys in this order);
* the OpenAPI components of the schema (:mod:`.openapi`), where the fields present in every
  answer (``when=ALWAYS``) are required and the others are documented with the condition
  that adds them.

A field's ``when`` names the request option that adds it (``ALWAYS``: every entry has it).
A field of kind ``BY_AGGREGATION`` stands for one array per aggregation name: the configured block
types but ``course`` (``COMPLETION_AGGREGATOR_BLOCK_TYPES``) in the schema, the requested
ones (in request order) in an answer. v0 differs from v1 only by ``ratio`` (``when=RATIO``)
in every completion object.

To add a field to an answer: add it here, at its place in the order, with a getter that
reads it from the entry's item; the documents and the schema follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple

from ..data import AggregateData, CourseProgressData

# When a field is present ---------------------------------------------------------------
ALWAYS = "always"
#: ``include_optional=true``.
OPTIONAL = "include_optional"
#: ``requested_fields=locked`` (ADR 0011).
LOCKED = "locked"
#: ``requested_fields=username``, and every entry of a staff listing.
USERNAME = "username"
#: ``requested_fields=mean``.
MEAN = "mean"
#: v0 completion objects.
RATIO = "ratio"
#: ``requested_fields=<aggregation name>``.
AGGREGATION_NAMES = "aggregation_names"

#: What a getter returns for a field this item leaves out (e.g. ``locked`` when not computed).
OMIT: Any = object()


class Kind(Enum):
    """A field's JSON type: how its value is written and documented."""

    STRING = "string"  # str(value)
    NUMBER = "number"  # float(value): always a JSON float (4.0, never 4)
    INTEGER = "integer"  # int(value)
    OBJECT = "object"  # the field's ``entry``, written from the value
    ARRAY = "array"  # an array of ``entry``, written from each item the getter returns
    BY_AGGREGATION = "by_aggregation"  # one array of ``entry`` per aggregation name, from (name, item) pairs


#: Reads a field's value from an entry's item (returns :data:`OMIT` to leave the field out).
Getter = Callable[[Any], Any]


def _checked_path(path: str) -> str:
    if path and not all(part.isidentifier() for part in path.split(".")):
        raise ValueError(f"not an attribute path: {path!r}")
    return path


@dataclass(frozen=True)
class Attribute:
    """A field read as the item's attribute ``path`` (dotted for nested attributes; ``""``: the item itself)."""

    path: str

    def __post_init__(self) -> None:
        _checked_path(self.path)


@dataclass(frozen=True)
class Parent:
    """A field read as attribute ``path`` of the item of the entry this one is nested in (the same for its items)."""

    path: str

    def __post_init__(self) -> None:
        _checked_path(self.path)


@dataclass(frozen=True)
class Computed:
    """A field computed from the item by ``function`` (which may return :data:`OMIT`)."""

    function: Getter


@dataclass(frozen=True)
class FromContext:
    """A field read by the getter ``factory`` makes of the request's :class:`Context` (once per request)."""

    factory: Callable[[Context], Getter]


#: Where a field's value comes from.
Source = Attribute | Parent | Computed | FromContext


@dataclass(frozen=True)
class Field:
    """One key of an entry (see the module docstring)."""

    name: str
    kind: Kind
    source: Source
    when: str = ALWAYS
    help: str = ""
    entry: Entry | None = None
    #: The getter may return :data:`OMIT` (the field is then left out of that item's entry).
    may_omit: bool = False
    #: ``BY_AGGREGATION``: the attribute of each element that names its aggregation.
    group_by: str = ""


@dataclass(frozen=True)
class Entry:
    """An ordered field list; ``name`` is its OpenAPI component (v0 adds ``V0`` when it holds completions)."""

    name: str
    description: str
    fields: tuple[Field, ...]

    def has_ratio(self) -> bool:
        """True when the entry or one it nests holds a completion object (so v0 has its own component)."""
        return any(
            field.when == RATIO or (field.entry is not None and field.entry.has_ratio()) for field in self.fields
        )


class Context(NamedTuple):
    """What getters may read besides the item: the course means asked for (``{course_key: mean}``)."""

    means: dict[str, float]


class Recorded(NamedTuple):
    """The item of ``BLOCK_COMPLETION_RESULT``: the completion the v0 block POST recorded."""

    course_key: Any
    block_key: Any
    completion: float


class Figures(NamedTuple):
    """The three figures of a completion object, from wherever they are stored."""

    earned: float
    possible: float
    percent: float


def _mean(context: Context) -> Getter:
    means = context.means
    return lambda item: means.get(str(item.course_key), OMIT)


def _optional_figures(value: AggregateData) -> Figures:
    return Figures(value.optional_earned, value.optional_possible, value.optional_percent)


def _locked(progress: CourseProgressData) -> Any:
    return OMIT if progress.locked is None else progress.locked


ONLY_OPTIONAL = "Only with include_optional=true."
LOCKED_HELP = (
    "With requested_fields=locked: the figures over the blocks the learner may not open (kept in their "
    "course by the platform with an access-denied message, e.g. graded problems for audit learners). They "
    "are part of completion too; what the learner can open is completion minus locked."
)

COMPLETION = Entry(
    "Completion",
    '``{"earned", "possible", "percent"}`` (v0: and ``ratio``); percent = earned / possible, 1.0 when possible is 0.',
    (
        Field("earned", Kind.NUMBER, Attribute("earned")),
        Field("possible", Kind.NUMBER, Attribute("possible")),
        Field("percent", Kind.NUMBER, Attribute("percent")),
        Field("ratio", Kind.NUMBER, Attribute("percent"), when=RATIO, help="v0 only: equal to percent."),
    ),
)

BLOCK_ENTRY = Entry(
    "BlockCompletion",
    'A block entry: ``{"course_key", "block_key", "completion", "optional_completion"?}``.',
    (
        Field("course_key", Kind.STRING, Parent("course_key")),
        Field("block_key", Kind.STRING, Attribute("block_key")),
        Field("completion", Kind.OBJECT, Attribute(""), entry=COMPLETION),
        Field(
            "optional_completion",
            Kind.OBJECT,
            Computed(_optional_figures),
            when=OPTIONAL,
            help=ONLY_OPTIONAL,
            entry=COMPLETION,
        ),
    ),
)

COURSE_ENTRY = Entry(
    "CourseCompletion",
    'A course entry: ``{"course_key", "completion", "optional_completion"?, "locked"?, "username"?, "mean"?, '
    '"<aggregation name>"?: [block entries]}``.',
    (
        Field("course_key", Kind.STRING, Attribute("course_key")),
        Field("completion", Kind.OBJECT, Attribute("course"), entry=COMPLETION),
        Field(
            "optional_completion",
            Kind.OBJECT,
            Computed(lambda progress: _optional_figures(progress.course)),
            when=OPTIONAL,
            help=ONLY_OPTIONAL,
            entry=COMPLETION,
        ),
        Field("locked", Kind.OBJECT, Computed(_locked), when=LOCKED, help=LOCKED_HELP, entry=COMPLETION, may_omit=True),
        Field(
            "username",
            Kind.STRING,
            Attribute("username"),
            when=USERNAME,
            help="With requested_fields=username, or staff listings.",
        ),
        Field(
            "mean",
            Kind.NUMBER,
            FromContext(_mean),
            when=MEAN,
            help="With requested_fields=mean: the course's mean percent.",
            may_omit=True,
        ),
        Field(
            "<aggregation name>",
            Kind.BY_AGGREGATION,
            Attribute("blocks"),
            when=AGGREGATION_NAMES,
            entry=BLOCK_ENTRY,
            group_by="aggregation_name",
        ),
    ),
)

BLOCK_STATS = Entry(
    "BlockStats",
    'Per block: ``{"block_key", "mean_completion", "completed_count"}``.',
    (
        Field("block_key", Kind.STRING, Attribute("block_key")),
        Field("mean_completion", Kind.OBJECT, Attribute("mean_completion"), entry=COMPLETION),
        Field("completed_count", Kind.INTEGER, Attribute("completed_count"), help="Learners who completed the block."),
    ),
)

COURSE_STATS = Entry(
    "CourseStats",
    '``{"course_key", "mean_completion", "mean"?, "<aggregation name>"?: [block statistics]}``.',
    (
        Field("course_key", Kind.STRING, Attribute("course_key")),
        Field("mean_completion", Kind.OBJECT, Attribute("mean_completion"), entry=COMPLETION),
        Field("mean", Kind.NUMBER, FromContext(_mean), when=MEAN, help="With requested_fields=mean.", may_omit=True),
        Field(
            "<aggregation name>",
            Kind.BY_AGGREGATION,
            Attribute("blocks"),
            when=AGGREGATION_NAMES,
            entry=BLOCK_STATS,
            group_by="aggregation_name",
        ),
    ),
)

COURSE_STATS_RESPONSE = Entry(
    "CourseStatsResponse",
    'The stats response: ``{"results": [course statistics]}`` (one entry).',
    (Field("results", Kind.ARRAY, Computed(lambda stats: (stats,)), entry=COURSE_STATS),),
)

BLOCK_COMPLETION_RESULT = Entry(
    "BlockCompletionResult",
    "The v0 block completion answer.",
    (
        Field("course_key", Kind.STRING, Attribute("course_key")),
        Field("block_key", Kind.STRING, Attribute("block_key")),
        Field("completion", Kind.NUMBER, Attribute("completion")),
    ),
)
