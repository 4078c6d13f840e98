"""
Request bodies, for the OpenAPI schema only: parsing and validation are in ``params``.

The answers are described from the field lists of ``spec`` (``openapi.schema_serializer``).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .params import MAX_ID


class CourseDetailRequestSerializer(serializers.Serializer[Any]):
    """The POST body of the v1 course detail endpoint (documentation; parsing is in ``params``)."""

    username = serializers.CharField(required=False)
    requested_fields = serializers.ListField(child=serializers.CharField(), required=False)
    root_block = serializers.CharField(
        required=False, help_text="A usage key: the block lists hold only that subtree; completion stays the course's."
    )
    user_ids = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=MAX_ID), required=False)
    include_optional = serializers.BooleanField(required=False)


class BlockCompletionRequestSerializer(serializers.Serializer[Any]):
    """
    The POST body of the v0 block completion endpoint (documentation).

    JSON, form-encoded or multipart; ``completion`` a number or a numeric string.
    """

    completion = serializers.FloatField(
        min_value=0.0, max_value=1.0, help_text="0.0–1.0 (a number or a numeric string)."
    )
