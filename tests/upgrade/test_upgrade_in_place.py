"""
A database of openedx-completion-aggregator migrates to ours with every row kept.

The peer's schema is written here from the DDL facts of the contract (not by the peer's
code), its seven migrations are recorded, rows are inserted, then ``migrate`` runs.
"""
from datetime import UTC, datetime

import pytest
from completion.models import BlockCompletion
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test.utils import override_settings
from rest_framework.test import APIClient

from completion_aggregator import api
from completion_aggregator.api import totals
from completion_aggregator.models import Aggregator, ComputedLearner, CourseTotal, StaleCompletion
from tests.helpers import build_course, learner

pytestmark = pytest.mark.django_db(transaction=True)

PEER_MIGRATIONS = [
    "0001_initial",
    "0002_aggregator_last_modified",
    "0003_stalecompletion",
    "0004_index_stalecompletion",
    "0005_cachegroupinvalidation",
    "0006_rename_index_together_to_indexes",
    "0007_aggregator_optional_completion",
]

MYSQL_DDL = [
    """CREATE TABLE completion_aggregator_aggregator (
      id int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY,
      created datetime(6) NOT NULL, modified datetime(6) NOT NULL,
      course_key varchar(255) NOT NULL, aggregation_name varchar(255) NOT NULL,
      block_key varchar(255) NOT NULL,
      earned double NOT NULL, possible double NOT NULL, percent double NOT NULL,
      user_id int(11) NOT NULL,
      last_modified datetime(6) NOT NULL,
      optional_earned double NOT NULL, optional_possible double NOT NULL, optional_percent double NOT NULL,
      UNIQUE KEY completion_aggregator_aggr_course_key_block_key_u_7c7a3b5d_uniq (course_key, block_key, user_id, aggregation_name),
      KEY aggr_name_user_course_idx (user_id, aggregation_name, course_key),
      KEY aggr_name_course_block_per_idx (course_key, aggregation_name, block_key, percent),
      CONSTRAINT completion_aggregator_user_id_fk_auth_user_id FOREIGN KEY (user_id) REFERENCES auth_user (id)
    ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    """CREATE TABLE completion_aggregator_stalecompletion (
      id int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY,
      created datetime(6) NOT NULL, modified datetime(6) NOT NULL,
      username varchar(255) NOT NULL, course_key varchar(255) NOT NULL,
      block_key varchar(255) NULL,
      `force` tinyint(1) NOT NULL,
      resolved tinyint(1) NOT NULL,
      KEY stale_user_course_resolved_idx (username, course_key, created, resolved)
    ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    """CREATE TABLE completion_aggregator_cachegroupinvalidation (
      id int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY,
      `group` varchar(150) NOT NULL UNIQUE,
      invalidated_at datetime(6) NOT NULL, KEY completion_aggregator_cachegroupinvalidation_invalidated_at_idx (invalidated_at)
    ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
]

SQLITE_DDL = [
    """CREATE TABLE "completion_aggregator_aggregator" (
      "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
      "created" datetime NOT NULL, "modified" datetime NOT NULL,
      "course_key" varchar(255) NOT NULL, "aggregation_name" varchar(255) NOT NULL,
      "block_key" varchar(255) NOT NULL,
      "earned" real NOT NULL, "possible" real NOT NULL, "percent" real NOT NULL,
      "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED,
      "last_modified" datetime NOT NULL,
      "optional_earned" real NOT NULL, "optional_possible" real NOT NULL, "optional_percent" real NOT NULL)""",
    """CREATE UNIQUE INDEX "completion_aggregator_aggregator_uniq"
      ON "completion_aggregator_aggregator" ("course_key", "block_key", "user_id", "aggregation_name")""",
    """CREATE INDEX "aggr_name_user_course_idx" ON "completion_aggregator_aggregator" ("user_id", "aggregation_name", "course_key")""",
    """CREATE INDEX "aggr_name_course_block_per_idx"
      ON "completion_aggregator_aggregator" ("course_key", "aggregation_name", "block_key", "percent")""",
    """CREATE TABLE "completion_aggregator_stalecompletion" (
      "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
      "created" datetime NOT NULL, "modified" datetime NOT NULL,
      "username" varchar(255) NOT NULL, "course_key" varchar(255) NOT NULL,
      "block_key" varchar(255) NULL, "force" bool NOT NULL, "resolved" bool NOT NULL)""",
    """CREATE INDEX "stale_user_course_resolved_idx"
      ON "completion_aggregator_stalecompletion" ("username", "course_key", "created", "resolved")""",
    """CREATE TABLE "completion_aggregator_cachegroupinvalidation" (
      "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
      "group" varchar(150) NOT NULL UNIQUE, "invalidated_at" datetime NOT NULL)""",
    """CREATE INDEX "completion_aggregator_cachegroupinvalidation_invalidated_at_idx"
      ON "completion_aggregator_cachegroupinvalidation" ("invalidated_at")""",
]

POSTGRESQL_DDL = [
    """CREATE TABLE "completion_aggregator_aggregator" (
      "id" serial NOT NULL PRIMARY KEY,
      "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL,
      "course_key" varchar(255) NOT NULL, "aggregation_name" varchar(255) NOT NULL,
      "block_key" varchar(255) NOT NULL,
      "earned" double precision NOT NULL, "possible" double precision NOT NULL, "percent" double precision NOT NULL,
      "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED,
      "last_modified" timestamp with time zone NOT NULL,
      "optional_earned" double precision NOT NULL, "optional_possible" double precision NOT NULL,
      "optional_percent" double precision NOT NULL,
      CONSTRAINT "completion_aggregator_aggregator_uniq" UNIQUE ("course_key", "block_key", "user_id", "aggregation_name"))""",
    """CREATE INDEX "aggr_name_user_course_idx" ON "completion_aggregator_aggregator" ("user_id", "aggregation_name", "course_key")""",
    """CREATE INDEX "aggr_name_course_block_per_idx"
      ON "completion_aggregator_aggregator" ("course_key", "aggregation_name", "block_key", "percent")""",
    """CREATE TABLE "completion_aggregator_stalecompletion" (
      "id" serial NOT NULL PRIMARY KEY,
      "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL,
      "username" varchar(255) NOT NULL, "course_key" varchar(255) NOT NULL,
      "block_key" varchar(255) NULL, "force" boolean NOT NULL, "resolved" boolean NOT NULL)""",
    """CREATE INDEX "stale_user_course_resolved_idx"
      ON "completion_aggregator_stalecompletion" ("username", "course_key", "created", "resolved")""",
    """CREATE TABLE "completion_aggregator_cachegroupinvalidation" (
      "id" serial NOT NULL PRIMARY KEY,
      "group" varchar(150) NOT NULL UNIQUE, "invalidated_at" timestamp with time zone NOT NULL)""",
    """CREATE INDEX "completion_aggregator_cachegroupinvalidation_invalidated_at_idx"
      ON "completion_aggregator_cachegroupinvalidation" ("invalidated_at")""",
]

DDL = {"mysql": MYSQL_DDL, "sqlite": SQLITE_DDL, "postgresql": POSTGRESQL_DDL}

WHEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _peer_database():
    """Replace our tables by the peer's, with the peer's migration history recorded."""
    call_command("migrate", "completion_aggregator", "zero", verbosity=0)
    with connection.cursor() as cursor:
        for statement in DDL[connection.vendor]:
            cursor.execute(statement)
    recorder = MigrationRecorder(connection)
    for name in PEER_MIGRATIONS:
        recorder.record_applied("completion_aggregator", name)


def _insert_peer_rows(user_ids, course_key, blocks):
    """Rows as the peer wrote them: raw SQL, deliberately not matching any recomputation."""
    agg = []
    for user_id in user_ids:
        for block_type, block_key, earned, possible in blocks:
            agg.append((WHEN, WHEN, str(course_key), block_type, block_key, earned, possible, earned / possible, user_id, WHEN, 0.0, 0.0, 1.0))
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO completion_aggregator_aggregator (created, modified, course_key, aggregation_name, block_key,"
            " earned, possible, percent, user_id, last_modified, optional_earned, optional_possible, optional_percent)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            agg,
        )
    return len(agg)


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_peer_database_migrates_and_keeps_every_row():
    course_key, leaves = build_course(shape=(2, 1, 1, 2))
    kept = learner("kept", course_key)  # rows, no pending work
    queued = learner("queued", course_key)  # rows and an unresolved stale row
    try:
        _peer_database()
        # Every aggregator of the course, with values no recomputation would give (no completions).
        key = course_key.make_usage_key
        blocks = [("course", str(key("course", "course")), 3.0, 4.0)]
        for chapter in ("ch0", "ch1"):
            blocks += [
                ("chapter", str(key("chapter", chapter)), 1.5, 2.0),
                ("sequential", str(key("sequential", f"{chapter}_se0")), 1.5, 2.0),
                ("vertical", str(key("vertical", f"{chapter}_se0_ve0")), 1.5, 2.0),
            ]
        inserted = _insert_peer_rows([kept.pk, queued.pk], course_key, blocks)
        q = connection.ops.quote_name  # `force` and `group` are reserved words
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO completion_aggregator_stalecompletion"
                f" (created, modified, username, course_key, block_key, {q('force')}, resolved)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [WHEN, WHEN, "queued", str(course_key), str(leaves[0]), False, False],
            )
            cursor.execute(
                f"INSERT INTO completion_aggregator_cachegroupinvalidation ({q('group')}, invalidated_at) VALUES (%s, %s)",
                ["course-v1:edX+Agg+2026", WHEN],
            )
        # The learner's completion that the peer had queued but not yet aggregated.
        BlockCompletion.objects.bulk_create(
            [BlockCompletion(user=queued, context_key=course_key, block_key=leaves[0], block_type="html", completion=1.0)]
        )

        call_command("migrate", "completion_aggregator", verbosity=0)

        applied = {name for app, name in MigrationRecorder(connection).applied_migrations() if app == "completion_aggregator"}
        assert "0001_squashed_0007_aggregator_optional_completion" in applied
        assert "0008_add_lookup_indexes" in applied
        assert "0009_add_statistics_covering_index" in applied
        assert "0010_add_statistics_totals" in applied
        assert "0012_computed_learners" in applied
        assert not CourseTotal.objects.exists()  # built later, by the service or the command
        assert Aggregator.objects.count() == inserted
        assert StaleCompletion.objects.filter(resolved=False).count() == 1
        with connection.cursor() as cursor:
            indexes = connection.introspection.get_constraints(cursor, "completion_aggregator_aggregator")
        assert "aggr_user_course_idx" in indexes and "aggr_name_user_course_idx" in indexes
        assert "aggr_crs_block_user_vals_idx" not in indexes  # 0009 is empty (ADR 0009)

        # Served unchanged for a learner with no pending work (stored, not recomputed).
        progress = api.get_course_progress(kept, course_key)
        assert not progress.fresh
        assert (progress.course.earned, progress.course.possible, progress.course.percent) == (3.0, 4.0, 0.75)
        assert progress.course.last_modified == WHEN
        assert [(b.aggregation_name, b.earned, b.possible) for b in progress.by_aggregation_name("chapter")] == [("chapter", 1.5, 2.0)] * 2
        client = APIClient()
        client.force_authenticate(kept)
        response = client.get(f"/completion-aggregator/v1/course/{course_key}/?requested_fields=chapter")
        assert response.status_code == 200, response.content
        entry = response.json()["results"][0]
        assert entry["completion"] == {"earned": 3.0, "possible": 4.0, "percent": 0.75}
        assert [c["completion"] for c in entry["chapter"]] == [{"earned": 1.5, "possible": 2.0, "percent": 0.75}] * 2
        staff = learner("upgrade_staff", is_staff=True)
        client.force_authenticate(staff)
        listing = client.get(f"/completion-aggregator/v1/course/{course_key}/").json()["results"]
        assert {e["username"]: e["completion"]["earned"] for e in listing} == {"kept": 3.0, "queued": 3.0}

        # One service run resolves the peer's stale row and updates that learner correctly.
        call_command("run_aggregator_service", verbosity=0)
        assert not StaleCompletion.objects.filter(resolved=False).exists()
        row = Aggregator.objects.get(user=queued, aggregation_name="course")
        assert (row.earned, row.possible, row.percent) == (1.0, 4.0, 0.25)
        assert row.created == WHEN  # updated in place, not re-inserted
        untouched = Aggregator.objects.get(user=kept, aggregation_name="course")
        assert (untouched.earned, untouched.possible) == (3.0, 4.0)
        # That run also queued the build of the course's statistics totals, from the peer's rows.
        assert CourseTotal.objects.get(course_key=course_key).built is not None
        assert totals.check(course_key) == []
        stats = api.get_course_stats(course_key)
        assert (stats.learner_count, stats.mean_completion.earned) == (2, 2.0)

        # Path-only updates (ADR 0018) never build on the peer's rows: the queued learner was
        # recomputed in full, which marks their rows as ours; the kept learner's next change
        # recomputes them in full too, so the peer's values beside its path are replaced.
        assert set(ComputedLearner.objects.values_list("user_id", flat=True)) == {queued.pk}
        BlockCompletion.objects.create(user=kept, context_key=course_key, block_key=leaves[3], block_type="html", completion=1.0)
        call_command("run_aggregator_service", verbosity=0)
        chapters = Aggregator.objects.filter(user=kept, aggregation_name="chapter").order_by("block_key")
        assert [(row.earned, row.possible) for row in chapters] == [(0.0, 2.0), (1.0, 2.0)]
        assert Aggregator.objects.get(user=kept, aggregation_name="course").earned == 1.0
        assert set(ComputedLearner.objects.values_list("user_id", flat=True)) == {queued.pk, kept.pk}
        # The queued learner's next change follows their path only, from their own rows.
        BlockCompletion.objects.create(user=queued, context_key=course_key, block_key=leaves[1], block_type="html", completion=1.0)
        result = api.aggregate_learners(course_key, ["queued"])
        assert (result.path_learner_count, result.rows_written) == (1, 4)
        assert Aggregator.objects.get(user=queued, aggregation_name="course").earned == 2.0
        assert totals.check(course_key) == []

        # Rolling back (docs/switching.rst) drops our indexes and keeps every row.
        rows = Aggregator.objects.count()
        call_command("migrate", "completion_aggregator", "0001_squashed_0007_aggregator_optional_completion", verbosity=0)
        with connection.cursor() as cursor:
            indexes = connection.introspection.get_constraints(cursor, "completion_aggregator_aggregator")
        assert "aggr_user_course_idx" not in indexes
        assert "aggr_name_user_course_idx" in indexes and "aggr_name_course_block_per_idx" in indexes
        assert Aggregator.objects.count() == rows
        tables = set(connection.introspection.table_names())
        assert not tables & {
            "completion_aggregator_coursetotal",
            "completion_aggregator_blocktotal",
            "completion_aggregator_countedlearner",
            "completion_aggregator_totalshard",
            "completion_aggregator_computedlearner",
        }
    finally:
        # Leave the test database with our own schema for the tests that follow.
        call_command("migrate", "completion_aggregator", "zero", verbosity=0)
        call_command("migrate", "completion_aggregator", verbosity=0)


def test_models_and_migrations_are_in_sync():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
