"""
Serializers: they shape frozen data (``CourseProgressData``, ``CourseStatsData``) and never
query or compute.

Context keys read by the course serializers:

* ``aggregations``: aggregation names (``chapter``, …) whose block entries to add, in order;
* ``include_optional``: add ``optional_completion`` to every course and block entry;
* ``include_username``: add ``username`` to course entries;
* ``means``: ``{course_key: mean}`` for the course entries that carry a ``mean``.

A course entry carries ``locked`` when its ``CourseProgressData.locked`` is set
(``requested_fields=locked``).

v0 differs only by the extra ``ratio`` of every completion object (subclasses below).

For the OpenAPI schema, fields present in every answer are declared writable (so they are
listed as required) and conditional ones read-only (not required, with
``COMPONENT_NO_READ_ONLY_REQUIRED``); these serializers are never used for input.
"""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..data import AggregateData, CourseProgressData
from .params import MAX_ID

LOCKED_HELP = (
    "With requested_fields=locked: the figures over the blocks the learner may not open (kept in their "
    "course by the platform with an access-denied message, e.g. graded problems for audit learners). They "
    "are part of completion too; what the learner can open is completion minus locked."
)

#: Aggregation names documented in the schema (the actual ones follow the settings).
DOCUMENTED_AGGREGATIONS = ("chapter", "sequential", "vertical")


def _main(value: AggregateData) -> dict[str, float]:
    return {"earned": value.earned, "possible": value.possible, "percent": value.percent}


def _optional(value: AggregateData) -> dict[str, float]:
    return {"earned": value.optional_earned, "possible": value.optional_possible, "percent": value.optional_percent}


class CompletionSerializer(serializers.Serializer):
    """``{"earned", "possible", "percent"}``; percent = earned / possible, 1.0 when possible is 0."""

    earned = serializers.FloatField()
    possible = serializers.FloatField()
    percent = serializers.FloatField()


class CompletionV0Serializer(CompletionSerializer):
    """v0 completion: also ``ratio`` (equal to ``percent``)."""

    ratio = serializers.FloatField(source="percent", help_text="Equal to percent.")


class BlockCompletionSerializer(serializers.Serializer):
    """A block entry: ``{"course_key", "block_key", "completion", "optional_completion"?}``."""

    course_key = serializers.CharField()
    block_key = serializers.CharField()
    completion = CompletionSerializer()
    optional_completion = CompletionSerializer(read_only=True, help_text="Only with include_optional=true.")

    def to_representation(self, instance: tuple[str, AggregateData]) -> dict[str, Any]:
        course_key, value = instance
        source = {"course_key": course_key, "block_key": value.block_key, "completion": _main(value)}
        if self.context.get("include_optional"):
            source["optional_completion"] = _optional(value)
        return super().to_representation(source)


class BlockCompletionV0Serializer(BlockCompletionSerializer):
    """A v0 block entry (completions carry ``ratio``)."""

    completion = CompletionV0Serializer()
    optional_completion = CompletionV0Serializer(read_only=True, help_text="Only with include_optional=true.")


class CourseCompletionSerializer(serializers.Serializer):
    """
    A course entry: ``{"course_key", "completion", "optional_completion"?, "locked"?, "username"?,
    "mean"?, "<aggregation name>"?: [block entries]}``.
    """

    block_serializer_class = BlockCompletionSerializer

    course_key = serializers.CharField()
    completion = CompletionSerializer()
    optional_completion = CompletionSerializer(read_only=True, help_text="Only with include_optional=true.")
    locked = CompletionSerializer(read_only=True, help_text=LOCKED_HELP)
    username = serializers.CharField(read_only=True, help_text="With requested_fields=username, or staff listings.")
    mean = serializers.FloatField(read_only=True, help_text="With requested_fields=mean: the course's mean percent.")
    chapter = BlockCompletionSerializer(many=True, read_only=True, help_text="With requested_fields=chapter.")
    sequential = BlockCompletionSerializer(many=True, read_only=True, help_text="With requested_fields=sequential.")
    vertical = BlockCompletionSerializer(many=True, read_only=True, help_text="With requested_fields=vertical.")

    def to_representation(self, instance: CourseProgressData) -> dict[str, Any]:
        context = self.context
        source: dict[str, Any] = {"course_key": instance.course_key, "completion": _main(instance.course)}
        if context.get("include_optional"):
            source["optional_completion"] = _optional(instance.course)
        if instance.locked is not None:
            source["locked"] = {
                "earned": instance.locked.earned,
                "possible": instance.locked.possible,
                "percent": instance.locked.percent,
            }
        if context.get("include_username"):
            source["username"] = instance.username
        means = context.get("means") or {}
        if instance.course_key in means:
            source["mean"] = means[instance.course_key]
        data = super().to_representation(source)
        block_serializer = self.block_serializer_class(context=context)
        for name in context.get("aggregations", ()):
            data[name] = [block_serializer.to_representation((instance.course_key, value)) for value in instance.by_type(name)]
        return data


class CourseCompletionV0Serializer(CourseCompletionSerializer):
    """A v0 course entry (completions carry ``ratio``)."""

    block_serializer_class = BlockCompletionV0Serializer

    completion = CompletionV0Serializer()
    optional_completion = CompletionV0Serializer(read_only=True, help_text="Only with include_optional=true.")
    locked = CompletionV0Serializer(read_only=True, help_text=LOCKED_HELP)
    chapter = BlockCompletionV0Serializer(many=True, read_only=True, help_text="With requested_fields=chapter.")
    sequential = BlockCompletionV0Serializer(many=True, read_only=True, help_text="With requested_fields=sequential.")
    vertical = BlockCompletionV0Serializer(many=True, read_only=True, help_text="With requested_fields=vertical.")


class BlockStatsSerializer(serializers.Serializer):
    """Per block: ``{"block_key", "mean_completion", "completed_count"}``."""

    block_key = serializers.CharField()
    mean_completion = CompletionSerializer()
    completed_count = serializers.IntegerField(help_text="Learners who completed the block.")


class CourseStatsSerializer(serializers.Serializer):
    """``{"course_key", "mean_completion", "mean"?, "<aggregation name>"?: [block statistics]}``."""

    course_key = serializers.CharField()
    mean_completion = CompletionSerializer()
    mean = serializers.FloatField(read_only=True, help_text="With requested_fields=mean.")
    chapter = BlockStatsSerializer(many=True, read_only=True, help_text="With requested_fields=chapter.")
    sequential = BlockStatsSerializer(many=True, read_only=True, help_text="With requested_fields=sequential.")
    vertical = BlockStatsSerializer(many=True, read_only=True, help_text="With requested_fields=vertical.")

    def to_representation(self, instance) -> dict[str, Any]:
        context = self.context
        source: dict[str, Any] = {"course_key": instance.course_key, "mean_completion": instance.mean_completion}
        means = context.get("means") or {}
        if instance.course_key in means:
            source["mean"] = means[instance.course_key]
        data = super().to_representation(source)
        block_serializer = BlockStatsSerializer(context=context)
        for name in context.get("aggregations", ()):
            data[name] = [block_serializer.to_representation(block) for block in instance.by_type(name)]
        return data


class CourseStatsResponseSerializer(serializers.Serializer):
    """The stats response: ``{"results": [course statistics]}``."""

    results = CourseStatsSerializer(many=True)


class CourseDetailRequestSerializer(serializers.Serializer):
    """The POST body of the v1 course detail endpoint (documentation; parsing is in ``params``)."""

    username = serializers.CharField(required=False)
    requested_fields = serializers.ListField(child=serializers.CharField(), required=False)
    root_block = serializers.CharField(
        required=False, help_text="A usage key: the block lists hold only that subtree; completion stays the course's."
    )
    user_ids = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=MAX_ID), required=False)
    include_optional = serializers.BooleanField(required=False)


class BlockCompletionRequestSerializer(serializers.Serializer):
    """
    The POST body of the v0 block completion endpoint (documentation): JSON, form-encoded or
    multipart; ``completion`` a number or a numeric string.
    """

    completion = serializers.FloatField(min_value=0.0, max_value=1.0, help_text="0.0–1.0 (a number or a numeric string).")


class BlockCompletionResultSerializer(serializers.Serializer):
    """The v0 block completion answer."""

    course_key = serializers.CharField()
    block_key = serializers.CharField()
    completion = serializers.FloatField()
