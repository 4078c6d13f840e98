"""
Lean writes (issue 20, point 4): the aggregation writes prepared tuples through one upsert
statement per batch (``completion_aggregator.upsert``), with the same stored values as the
``bulk_create`` fallback.
"""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from completion_aggregator import api, upsert
from completion_aggregator.api.rows import VALUE_FIELDS
from completion_aggregator.models import Aggregator
from completion_aggregator.upsert import Upsert
from tests.helpers import build_course, complete, learner

pytestmark = pytest.mark.django_db

COMPARED = ("course_key", "aggregation_name", "block_key", *VALUE_FIELDS)


def rows_of(user):
    return sorted(
        (
            tuple(
                str(getattr(row, name)) if name in ("course_key", "block_key") else getattr(row, name)
                for name in COMPARED
            ),
            row,
        )
        for row in Aggregator.objects.filter(user=user)
    )


def test_the_aggregation_builds_no_model_instance_per_row(monkeypatch):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    for leaf in leaves[:3]:
        complete(alex, leaf)
    Aggregator.objects.all().delete()
    made = []
    real = Aggregator.__init__

    def counting(self, *args, **kwargs):
        made.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(Aggregator, "__init__", counting)
    with CaptureQueriesContext(connection) as queries:
        result = api.aggregate_learners(course_key, ["alex"], force=True)
    assert made == []  # (before: one unsaved Aggregator per written row)
    table = connection.ops.quote_name(Aggregator._meta.db_table)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f"INSERT INTO {table}")]
    assert result.rows_written == Aggregator.objects.filter(user=alex).count() > 0
    assert len(inserts) == 1


def test_lean_rows_equal_the_bulk_create_fallbacks(monkeypatch):
    course_key, leaves = build_course()
    alex, bo = learner("alex", course_key), learner("bo", course_key)
    for user in (alex, bo):
        for leaf in leaves[:5]:
            complete(user, leaf)
    api.aggregate_learners(course_key, ["alex"], force=True)  # native SQL
    monkeypatch.setattr(upsert, "NATIVE_VENDORS", ())
    api.aggregate_learners(course_key, ["bo"], force=True)  # bulk_create
    lean, orm = rows_of(alex), rows_of(bo)
    assert len(lean) == len(orm) > 0
    # Same values; the completions' own timestamps differ between the two learners.
    assert [values[:-1] for values, _row in lean] == [values[:-1] for values, _row in orm]
    for _values, row in lean + orm:
        assert row.created == row.modified and row.last_modified.tzinfo is not None


def test_the_fallback_updates_by_id_and_keeps_created(monkeypatch):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"], force=True)
    before = {row.id: row.created for row in Aggregator.objects.filter(user=alex)}
    monkeypatch.setattr(upsert, "NATIVE_VENDORS", ())
    complete(alex, leaves[1])
    api.aggregate_learners(course_key, ["alex"], force=True)
    assert {row.id: row.created for row in Aggregator.objects.filter(user=alex)} == before
    assert Aggregator.objects.get(user=alex, aggregation_name="course").earned == 2.0


def test_a_batch_never_exceeds_the_backends_parameter_limit(monkeypatch):
    writer = Upsert(Aggregator, ("user_id", "earned"), ("id",), ("earned",), batch_size=1000)
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 7)
    assert writer.rows_per_statement() == 7
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: len(objs))
    assert writer.rows_per_statement() == 1000


def test_the_vendor_sql():
    writer = Upsert(Aggregator, ("id", "user_id", "earned"), ("id",), ("earned", "modified"))
    quote = connection.ops.quote_name
    earned = quote("earned")
    writer.connection = SimpleNamespace(
        vendor="mysql", mysql_is_mariadb=True, mysql_version=(10, 11, 0), ops=connection.ops
    )
    assert writer.sql(2).endswith(
        f"ON DUPLICATE KEY UPDATE {earned} = VALUES({earned}), {quote('modified')} = VALUES({quote('modified')})"
    )
    assert writer.sql(2).count("(%s, %s, %s)") == 2
    writer.connection = SimpleNamespace(
        vendor="mysql", mysql_is_mariadb=False, mysql_version=(8, 0, 36), ops=connection.ops
    )
    assert f"AS new ON DUPLICATE KEY UPDATE {earned} = new.{earned}" in writer.sql(1)
    for vendor in ("postgresql", "sqlite"):
        writer.connection = SimpleNamespace(vendor=vendor, ops=connection.ops)
        assert writer.sql(1).endswith(
            f"ON CONFLICT({quote('id')}) DO UPDATE SET {earned} = EXCLUDED.{earned}, {quote('modified')} = EXCLUDED.{quote('modified')}"
        )
    writer.connection = SimpleNamespace(vendor="oracle", ops=connection.ops)
    with pytest.raises(NotImplementedError):
        writer.sql(1)
    assert writer.write([]) == 0
