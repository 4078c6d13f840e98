"""
Course completion documents as plain dicts, shaped from frozen ``CourseProgressData``.

The REST views answer with these; they never query or compute. The documents are exactly
those the course serializers of ``serializers.py`` describe (same keys in the same order,
every number a float, every key a string): the serializers stay the OpenAPI schema's source,
while a page of a thousand learners × 85 block entries is shaped here without DRF's
per-field machinery (several times faster, and the page is the whole cost of a staff walk).

``Shaping`` holds what the serializer context held:

* ``aggregations``: aggregation names (``chapter``, …) whose block entries to add, in order;
* ``include_optional``: add ``optional_completion`` to every course and block entry;
* ``include_username``: add ``username`` to course entries;
* ``means``: ``{course_key: mean}`` for the course entries that carry a ``mean``;
* ``with_ratio``: v0 completions also carry ``ratio`` (equal to ``percent``).

A course entry carries ``locked`` when its ``CourseProgressData.locked`` is set
(``requested_fields=locked``, ADR 0011).
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from ..data import CourseProgressData

Completion = dict[str, float]


def completion(earned: float, possible: float, percent: float) -> Completion:
    """``{"earned", "possible", "percent"}`` (v1)."""
    return {"earned": float(earned), "possible": float(possible), "percent": float(percent)}


def completion_v0(earned: float, possible: float, percent: float) -> Completion:
    """``{"earned", "possible", "percent", "ratio"}`` (v0: ``ratio`` equals ``percent``)."""
    percent = float(percent)
    return {"earned": float(earned), "possible": float(possible), "percent": percent, "ratio": percent}


def consumed(items: list[CourseProgressData]) -> Iterator[CourseProgressData]:
    """
    The items in order, each dropped from ``items`` (left empty) as it is handed out.

    A staff page's progress (a thousand learners × every block) would otherwise stay alive
    while its entries are shaped, and each full garbage collection the new dicts trigger
    traverses all of it: released as it goes, shaping a page takes about half the time.
    """
    items.reverse()
    while items:
        yield items.pop()


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Shaping:
    """What to put in each course entry (see the module docstring)."""

    aggregations: tuple[str, ...] = ()
    include_optional: bool = False
    include_username: bool = False
    means: Mapping[str, float | None] = field(default_factory=dict)
    with_ratio: bool = False

    @property
    def completion(self) -> Callable[[float, float, float], Completion]:
        """The completion object builder of this API version."""
        return completion_v0 if self.with_ratio else completion

    def course_entry(self, progress: CourseProgressData) -> dict[str, Any]:
        """
        One course entry, with its block entries when ``aggregations`` name any.

        ``{"course_key", "completion", "optional_completion"?, "locked"?, "username"?, "mean"?,
        "<aggregation name>"?: [block entries]}``; a block entry is ``{"course_key",
        "block_key", "completion", "optional_completion"?}``.
        """
        shape = self.completion
        course = progress.course
        course_key = str(progress.course_key)
        entry: dict[str, Any] = {
            "course_key": course_key,
            "completion": shape(course.earned, course.possible, course.percent),
        }
        if self.include_optional:
            optional_values = (course.optional_earned, course.optional_possible, course.optional_percent)
            entry["optional_completion"] = shape(*optional_values)
        if progress.locked is not None:
            entry["locked"] = shape(progress.locked.earned, progress.locked.possible, progress.locked.percent)
        if self.include_username:
            entry["username"] = str(progress.username)
        if progress.course_key in self.means:
            entry["mean"] = _optional_float(self.means[progress.course_key])
        if self.aggregations:
            by_type: dict[str, list[dict[str, Any]]] = {name: [] for name in self.aggregations}
            # The hot loop of a staff page (a thousand learners × every block): no call per entry
            # (``shape``'s dict is built inline) but for optional completions.
            optional, ratio = self.include_optional, self.with_ratio
            for value in progress.blocks:
                entries = by_type.get(value.block_type)
                if entries is None:
                    continue
                percent = float(value.percent)
                main = {"earned": float(value.earned), "possible": float(value.possible), "percent": percent}
                if ratio:
                    main["ratio"] = percent
                block: dict[str, Any] = {
                    "course_key": course_key,
                    "block_key": str(value.block_key),
                    "completion": main,
                }
                if optional:
                    block["optional_completion"] = shape(
                        value.optional_earned, value.optional_possible, value.optional_percent
                    )
                entries.append(block)
            entry.update(by_type)
        return entry

    def course_entries(self, progress: Iterable[CourseProgressData]) -> list[dict[str, Any]]:
        """One course entry per item, in order."""
        return [self.course_entry(item) for item in progress]


def _number(value: float) -> str:
    """A float as DRF's strict JSON renderer writes it (``float.__repr__``); refuses NaN and infinities as it does."""
    number = float(value)
    if number - number != 0.0:  # NaN or ±inf
        raise ValueError(f"Out of range float values are not JSON compliant: {number!r}")
    return repr(number)


def course_entries_json(
    shaping: Shaping, progress: Iterable[CourseProgressData], encode: Callable[[Any], str]
) -> list[str]:
    """
    The JSON text of each course entry, exactly as ``encode(shaping.course_entry(item))`` would write it.

    ``encode`` is a compact JSON encoder's ``encode`` (the renderer's encoder class, separators
    ``(",", ":")``). The course entry's own fields are encoded as a small dict; the block
    entries — a thousand learners × every block on a staff page — are written as text from a
    prefix cached per block key, so a page builds no dict per block and its memory is strings
    only (which the garbage collector never traverses).
    """
    head_shaping = Shaping(
        include_optional=shaping.include_optional,
        include_username=shaping.include_username,
        means=shaping.means,
        with_ratio=shaping.with_ratio,
    )
    names = [(name, "," + encode(name) + ":[") for name in shaping.aggregations]
    prefixes: dict[tuple[str, str], str] = {}
    optional, ratio = shaping.include_optional, shaping.with_ratio
    texts = []
    for item in progress:
        head = encode(head_shaping.course_entry(item))
        if not names:
            texts.append(head)
            continue
        course_key = str(item.course_key)
        by_type: dict[str, list[str]] = {name: [] for name, _opening in names}
        for value in item.blocks:
            entries = by_type.get(value.block_type)
            if entries is None:
                continue
            block_key = str(value.block_key)
            prefix = prefixes.get((course_key, block_key))
            if prefix is None:
                prefix = prefixes[(course_key, block_key)] = (
                    '{"course_key":' + encode(course_key) + ',"block_key":' + encode(block_key) + ',"completion":'
                )
            earned, possible, percent = float(value.earned), float(value.possible), float(value.percent)
            total = earned + possible + percent
            if total - total != 0.0:  # a NaN or an infinity among them
                raise ValueError(f"Out of range float values are not JSON compliant: {value}")
            text = f'{prefix}{{"earned":{earned!r},"possible":{possible!r},"percent":{percent!r}'
            if ratio:
                text += f',"ratio":{percent!r}'
            text += "}"
            if optional:
                optional_percent = _number(value.optional_percent)
                text += (
                    f',"optional_completion":{{"earned":{_number(value.optional_earned)},'
                    f'"possible":{_number(value.optional_possible)},"percent":{optional_percent}'
                )
                if ratio:
                    text += f',"ratio":{optional_percent}'
                text += "}"
            entries.append(text + "}")
        texts.append(
            head[:-1] + "".join(opening + ",".join(by_type[name]) + "]" for name, opening in names) + "}"
        )
    return texts


def text_encoder(request: Request) -> Callable[[Any], str] | None:
    """
    The compact encoder of the request's JSON renderer, or None when the answer is not compact JSON.

    None for the browsable API, an ``indent`` asked in the media type, or a host whose
    renderer is not compact: those answers are rendered from dicts as usual.
    """
    renderer = getattr(request, "accepted_renderer", None)
    if not isinstance(renderer, JSONRenderer) or not renderer.compact:
        return None
    if renderer.get_indent(getattr(request, "accepted_media_type", "") or "", {}) is not None:
        return None
    return renderer.encoder_class(
        ensure_ascii=renderer.ensure_ascii, allow_nan=not renderer.strict, separators=(",", ":")
    ).encode


class TextResultsResponse(Response):
    """
    A paginated answer whose ``results`` are JSON texts, spliced into the rendered envelope.

    ``data`` is the envelope with ``"results": []`` (what DRF renders, with its headers);
    the texts take the empty list's place. Used only with the renderer ``text_encoder`` accepted.
    """

    def __init__(self, data: dict[str, Any], texts: list[str]) -> None:
        super().__init__(data)
        self.texts: list[str] | None = texts
        self._spliced: bytes | None = None

    @property
    def rendered_content(self) -> bytes:  # type: ignore[override]
        """
        The envelope as DRF renders it, with the texts as its results.

        The texts are released once spliced (a page's worth of memory): the result is kept.
        """
        if self._spliced is None:
            body = super().rendered_content
            opening = b'{"results":['
            if not body.startswith(opening + b"]"):
                raise ValueError("the pagination envelope does not start with its results")
            results = ",".join(self.texts or ()).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
            self.texts = None
            self._spliced = b"".join((opening, results.encode(), body[len(opening) :]))
        return self._spliced


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """
    Pause CPython's cyclic garbage collector while a staff page is built (reference counting goes on).

    A page of a thousand learners × every block allocates some 170,000 objects that all live
    until the page is written; each allocation burst makes the collector traverse every object
    of the process, again and again (measured: 15 % of a page). None of these objects forms a
    cycle, so nothing is left for the collector to find. The collector's state is restored as
    found: a host that keeps it off keeps it off, and overlapping requests in threads never
    leave it off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
