"""
The OpenAPI components of the answers, built from the field lists of :mod:`.spec`.

The views name their answers with :func:`schema_serializer` (``responses={200:
schema_serializer(COURSE_ENTRY)}``): a serializer class that only stands for an entry and
is never used to read or write. :class:`EntrySchema`, a drf-spectacular extension, writes
its component when the schema is generated, so that the arrays per aggregation name follow
``COMPLETION_AGGREGATOR_BLOCK_TYPES`` as it is then (:func:`.params.requestable_aggregation_names`).

Fields present in every answer (``when=ALWAYS``, and ``ratio`` in v0) are required; the
others are read-only (not required, with ``COMPONENT_NO_READ_ONLY_REQUIRED``) and described by
their ``help``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, ClassVar

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from .params import requestable_aggregation_names
from .spec import ALWAYS, RATIO, Entry, Field, Kind

#: A component's reference: ``{"$ref": "#/components/schemas/<name>"}``.
Reference = Callable[[Entry], dict[str, Any]]

_SCALARS: dict[Kind, dict[str, Any]] = {
    Kind.STRING: {"type": "string"},
    Kind.NUMBER: {"type": "number", "format": "double"},
    Kind.INTEGER: {"type": "integer"},
}


def component_name(entry: Entry, with_ratio: bool) -> str:
    """``entry.name``, with ``V0`` when v0's ``ratio`` changes it (it holds completion objects)."""
    return entry.name + ("V0" if with_ratio and entry.has_ratio() else "")


def _nested(spec: Field) -> Entry:
    """
    The entry a nested field holds (an object, an array of them, an array per aggregation name).

    Raises:
        ValueError: the field names no entry (a mistake in ``spec.py``).
    """
    if spec.entry is None:
        raise ValueError(f"the {spec.kind.name} field {spec.name!r} names no nested entry")
    return spec.entry


def _field_schema(spec: Field, reference: Reference, required: bool) -> dict[str, Any]:
    if spec.kind in _SCALARS:
        schema = dict(_SCALARS[spec.kind])
    elif spec.kind is Kind.ARRAY:
        schema = {"type": "array", "items": reference(_nested(spec))}
    else:
        plain = required and not spec.help  # a bare $ref takes no sibling keys
        schema = reference(_nested(spec)) if plain else {"allOf": [reference(_nested(spec))]}
    if not required:
        schema["readOnly"] = True
    if spec.help:
        schema["description"] = spec.help
    return schema


def component(entry: Entry, with_ratio: bool, aggregation_names: Iterable[str], reference: Reference) -> dict[str, Any]:
    """
    The OpenAPI schema object of ``entry``, its properties in the entry's order.

    A ``BY_AGGREGATION`` field gives one array per name of ``aggregation_names``; the fields present
    in every answer are required; nested entries are written by ``reference``.
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    for spec in entry.fields:
        if spec.when == RATIO and not with_ratio:
            continue
        always = spec.when in (ALWAYS, RATIO)
        if spec.kind is Kind.BY_AGGREGATION:
            for name in aggregation_names:
                items = reference(_nested(spec))
                properties[name] = {
                    "type": "array",
                    "items": items,
                    "readOnly": True,
                    "description": f"With requested_fields={name}.",
                }
            continue
        properties[spec.name] = _field_schema(spec, reference, always)
        if always:
            required.append(spec.name)
    schema: dict[str, Any] = {"type": "object", "description": entry.description, "properties": properties}
    if required:
        schema["required"] = required
    return schema


class EntrySerializer(serializers.Serializer[Any]):
    """Stands for an entry of :mod:`.spec` in the schema (see :func:`schema_serializer`)."""

    entry: ClassVar[Entry]
    with_ratio: ClassVar[bool] = False


@cache
def schema_serializer(entry: Entry, with_ratio: bool = False) -> type[EntrySerializer]:
    """The serializer class naming ``entry`` (v0's when ``with_ratio``) in ``extend_schema``."""
    name = component_name(entry, with_ratio)
    attributes = {"entry": entry, "with_ratio": with_ratio, "__doc__": entry.description, "__module__": __name__}
    return type(f"{name}Serializer", (EntrySerializer,), attributes)


class EntrySchema(OpenApiSerializerExtension):
    """drf-spectacular: the component of an :class:`EntrySerializer`, from its entry's field list."""

    target_class = EntrySerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        """The component of the target's entry (v0's when its ``with_ratio``), nested entries by reference."""
        target: type[EntrySerializer] = self.target if isinstance(self.target, type) else type(self.target)

        def reference(nested: Entry) -> dict[str, Any]:
            resolved = auto_schema.resolve_serializer(schema_serializer(nested, target.with_ratio), direction)
            ref: dict[str, Any] = resolved.ref
            return ref

        return component(target.entry, target.with_ratio, requestable_aggregation_names(), reference)
