"""Reading stored Aggregator rows as AggregateData (the columns, in one place)."""
from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

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
ROW_FIELDS = ("user_id", "block_key", "aggregation_name", *VALUE_FIELDS)


def read_rows(queryset: QuerySet[Aggregator]) -> Iterator[tuple[int, AggregateData]]:
    """``(user_id, AggregateData)`` for each row of an Aggregator queryset (one query, no instances)."""
    for user_id, block_key, aggregation_name, *values in queryset.values_list(*ROW_FIELDS):
        yield user_id, AggregateData(str(block_key), aggregation_name, *values)
