"""
REST documents as plain dicts, written from frozen data by the field lists of :mod:`.spec`.

The views answer with these and never query or compute here. A :class:`Shaping` holds what
one request asked for; :meth:`Shaping.encoder` turns an entry's field list into a function
``item -> dict`` once per request (:mod:`.compiled`): the fields this request leaves out are
dropped then, not per item.

Every number is a float (``4.0``, never ``4``), and a NaN or an infinity is refused with
``ValueError``, as DRF's strict JSON renderer refuses them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import compiled
from .spec import (
    AGGREGATION_NAMES,
    ALWAYS,
    COURSE_ENTRY,
    COURSE_STATS_RESPONSE,
    LOCKED,
    MEAN,
    OPTIONAL,
    RATIO,
    USERNAME,
    Context,
    Entry,
)

Encoder = compiled.Encoder


@dataclass(frozen=True)
class Shaping:
    """
    What one request puts in its entries.

    * ``aggregation_names``: aggregation names (``chapter``, …) whose arrays to add, in request order;
    * ``include_optional``: add ``optional_completion`` to every course and block entry;
    * ``include_username``: add ``username`` to course entries;
    * ``means``: ``{course_key: mean}`` for the entries that carry a ``mean``;
    * ``with_ratio``: v0 completions also carry ``ratio`` (equal to ``percent``).

    ``locked`` is written when the item has it (``CourseProgressData.locked``, computed only
    for ``requested_fields=locked``).
    """

    aggregation_names: tuple[str, ...] = ()
    include_optional: bool = False
    include_username: bool = False
    means: Mapping[str, float] = field(default_factory=dict)
    with_ratio: bool = False

    def options(self) -> frozenset[str]:
        """The ``when`` values (:mod:`.spec`) of the fields this request writes."""
        chosen = {
            ALWAYS: True,
            OPTIONAL: self.include_optional,
            LOCKED: True,
            USERNAME: self.include_username,
            MEAN: bool(self.means),
            RATIO: self.with_ratio,
            AGGREGATION_NAMES: bool(self.aggregation_names),
        }
        return frozenset(name for name, on in chosen.items() if on)

    @property
    def context(self) -> Context:
        """What the getters read besides the item."""
        return Context({str(key): value for key, value in self.means.items()})

    def encoder(self, entry: Entry) -> Encoder:
        """``item -> dict`` for ``entry``: the fields this request writes, in the entry's order."""
        return compiled.encoder(entry, self.options(), self.context, self.aggregation_names)

    def course_entries(self, progress: Iterable[Any]) -> list[dict[str, Any]]:
        """One course entry (``spec.COURSE_ENTRY``) per ``CourseProgressData``, in order."""
        encode = self.encoder(COURSE_ENTRY)
        return [encode(item) for item in progress]

    def course_entries_json(self, progress: Iterable[Any]) -> list[orjson.Fragment]:
        """
        Each course entry written to JSON as soon as it is built, for ``renderers.JSONRenderer``.

        A staff page is a thousand learners × every block: held as dicts until the page is
        rendered, its 170,000 objects make each full collection of the cyclic garbage collector
        traverse them all, again and again; as bytes, each entry's dicts are freed at once.
        ``orjson`` embeds the fragments as they are (ADR 0022).
        """
        encode, dumps = self.encoder(COURSE_ENTRY), orjson.dumps
        return [orjson.Fragment(dumps(encode(item))) for item in progress]

    def course_entry(self, progress: Any) -> dict[str, Any]:
        """The course entry of one ``CourseProgressData``."""
        return self.encoder(COURSE_ENTRY)(progress)

    def stats_response(self, stats: Any) -> dict[str, Any]:
        """``{"results": [course statistics]}`` of one ``CourseStatsData`` (``spec.COURSE_STATS_RESPONSE``)."""
        return self.encoder(COURSE_STATS_RESPONSE)(stats)
