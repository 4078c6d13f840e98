"""Reading stored Aggregator rows as AggregateData (the columns, in one place)."""
from __future__ import annotations

from collections.abc import Iterator

from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast

from ..data import AggregateData
from ..models import Aggregator

#: The value columns of an Aggregator row, in AggregateData's order after block_key and type.
VALUE_FIELDS = (
    "earned",
    "possible",
    "percent",
    "optional_earned",
    "optional_possible",
    "optional_percent",
    "last_modified",
)
ROW_FIELDS = ("user_id", "raw_key", "aggregation_name", *VALUE_FIELDS)


def raw_block_key() -> Cast:
    """
    ``block_key`` as the stored string.

    Selecting the key field itself makes Django parse every value into a UsageKey, which we
    would only turn back into the same string: on a million completions that parsing costs
    several times the query itself.
    """
    return Cast("block_key", output_field=CharField(max_length=255))


def read_rows(queryset: QuerySet[Aggregator]) -> Iterator[tuple[int, AggregateData]]:
    """``(user_id, AggregateData)`` for each row of an Aggregator queryset (one query, no instances)."""
    for user_id, block_key, aggregation_name, *values in queryset.annotate(raw_key=raw_block_key()).values_list(
        *ROW_FIELDS
    ):
        yield user_id, AggregateData(block_key, aggregation_name, *values)
