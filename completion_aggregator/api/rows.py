"""Reading stored Aggregator rows as AggregateData (the columns, in one place)."""
from __future__ import annotations

from collections.abc import Iterator

from django.db.models import CharField, ExpressionWrapper, F, QuerySet

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


def stored_string(column: str) -> ExpressionWrapper[F]:
    """
    A key column (``block_key``, ``course_key``) as the stored string: the bare column, read as text.

    Selecting the key field itself makes Django parse every value into an opaque key, which
    we would only turn back into the same string: on a million completions that parsing costs
    several times the query itself. Unlike a ``CAST``, the bare column leaves the database free
    to answer from an index (a loose index scan for ``DISTINCT``, a covering index).
    """
    return ExpressionWrapper(F(column), output_field=CharField())


def raw_block_key() -> ExpressionWrapper[F]:
    """``block_key`` as the stored string (see :func:`stored_string`)."""
    return stored_string("block_key")


def read_rows(queryset: QuerySet[Aggregator]) -> Iterator[tuple[int, AggregateData]]:
    """``(user_id, AggregateData)`` for each row of an Aggregator queryset (one query, no instances)."""
    for user_id, block_key, aggregation_name, *values in queryset.annotate(raw_key=raw_block_key()).values_list(
        *ROW_FIELDS
    ):
        yield user_id, AggregateData(block_key, aggregation_name, *values)
