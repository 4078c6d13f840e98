"""
The tables of the app.

``Aggregator``, ``StaleCompletion`` and ``CacheGroupInvalidation`` keep the names and columns of
openedx-completion-aggregator's tables; ``CourseTotal``, ``BlockTotal``, ``TotalShard`` and
``CountedLearner`` are ours (the statistics' running totals,
docs/decisions/0009-statistics-from-running-totals.rst and 0020-parallel-writers-of-one-course.rst).

Models stay thin: reads and writes go through :mod:`completion_aggregator.api`.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from model_utils.models import TimeStampedModel
from opaque_keys.edx.django.models import CourseKeyField, UsageKeyField


class Aggregator(TimeStampedModel):
    """
    One learner's completion of one aggregating block (course, chapter, sequential, vertical).

    ``percent`` is ``earned / possible`` and 1.0 when ``possible`` is 0; the ``optional_*``
    columns hold the same sums over blocks marked optional.
    """

    id = models.AutoField(primary_key=True)  # int(11): the existing tables' key type.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    course_key = CourseKeyField(max_length=255)
    aggregation_name = models.CharField(max_length=255)
    block_key = UsageKeyField(max_length=255)
    earned = models.FloatField()
    possible = models.FloatField()
    percent = models.FloatField()
    last_modified = models.DateTimeField()
    optional_earned = models.FloatField(default=0.0)
    optional_possible = models.FloatField(default=0.0)
    optional_percent = models.FloatField(default=1.0)

    class Meta:
        app_label = "completion_aggregator"
        unique_together = [("course_key", "block_key", "user", "aggregation_name")]
        indexes = [
            models.Index(fields=["user", "aggregation_name", "course_key"], name="aggr_name_user_course_idx"),
            models.Index(
                fields=["course_key", "aggregation_name", "block_key", "percent"],
                name="aggr_name_course_block_per_idx",
            ),
            models.Index(fields=["user", "course_key"], name="aggr_user_course_idx"),
        ]

    def __str__(self) -> str:
        return f"Aggregator({self.user_id}, {self.block_key}: {self.earned}/{self.possible})"

    def clean(self) -> None:
        """
        Check the invariants of a row.

        Raises:
            ValidationError: a negative value, ``earned > possible`` or a percent outside [0, 1].
        """
        errors = {}
        for prefix in ("", "optional_"):
            earned = getattr(self, f"{prefix}earned")
            possible = getattr(self, f"{prefix}possible")
            percent = getattr(self, f"{prefix}percent")
            if earned is not None and earned < 0:
                errors[f"{prefix}earned"] = "must not be negative"
            if possible is not None and possible < 0:
                errors[f"{prefix}possible"] = "must not be negative"
            if earned is not None and possible is not None and earned > possible + 1e-9:
                errors[f"{prefix}earned"] = "must not exceed possible"
            if percent is not None and not 0.0 <= percent <= 1.0:
                errors[f"{prefix}percent"] = "must be between 0.0 and 1.0"
        if errors:
            raise ValidationError(errors)


class StaleCompletion(TimeStampedModel):
    """
    A durable queue entry: this enrollment changed and its aggregators must be recomputed.

    ``block_key`` null means the whole course; ``force`` recomputes even when nothing seems
    changed. Rows are resolved by id, exactly those an aggregation read.
    """

    id = models.AutoField(primary_key=True)
    username = models.CharField(max_length=255)
    course_key = CourseKeyField(max_length=255)
    block_key = UsageKeyField(max_length=255, null=True, blank=True)
    force = models.BooleanField(default=False)
    resolved = models.BooleanField(default=False)

    class Meta:
        app_label = "completion_aggregator"
        indexes = [
            models.Index(
                fields=["username", "course_key", "created", "resolved"], name="stale_user_course_resolved_idx"
            ),
            models.Index(fields=["resolved", "id"], name="stale_resolved_id_idx"),
        ]

    def __str__(self) -> str:
        return f"StaleCompletion({self.username}, {self.course_key}, {self.block_key}, resolved={self.resolved})"


class CacheGroupInvalidation(models.Model):
    """When a named cache group (such as a course's cached answers) was last invalidated."""

    id = models.AutoField(primary_key=True)
    group = models.CharField(max_length=150, unique=True)
    invalidated_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "completion_aggregator"

    def __str__(self) -> str:
        return f"CacheGroupInvalidation({self.group}, {self.invalidated_at})"


class CourseTotal(models.Model):
    """
    A course's running statistics totals: their lock row, state and learner count.

    Every write of the course's Aggregator rows locks this row in share mode, every enrollment
    sync, user deletion and rebuild exclusively (``SELECT … FOR UPDATE``), before reading or
    changing the totals: writers run side by side, the others one at a time and alone.
    ``built`` null: the totals are not kept yet (the statistics compute from the rows).
    ``learners``: how many ``CountedLearner`` rows the course has.
    """

    id = models.AutoField(primary_key=True)
    course_key = CourseKeyField(max_length=255, unique=True)
    learners = models.IntegerField(default=0)
    built = models.DateTimeField(null=True, blank=True)
    modified = models.DateTimeField(auto_now=True)
    shards = models.PositiveSmallIntegerField(default=0)  # how many TotalShard rows the course has

    class Meta:
        app_label = "completion_aggregator"

    def __str__(self) -> str:
        return f"CourseTotal({self.course_key}, learners={self.learners}, built={self.built})"


class BlockTotal(models.Model):
    """
    A share of the sums of the counted learners' Aggregator rows of one block (see ``CountedLearner``).

    ``learners`` is how many such rows there are, ``completed`` how many have percent >= 1.
    A block's totals are the sums over its ``shard`` rows: writers of one course add their
    changes to different shards, so they do not wait for each other
    (docs/decisions/0020-parallel-writers-of-one-course.rst).
    """

    id = models.AutoField(primary_key=True)
    course_key = CourseKeyField(max_length=255)
    shard = models.PositiveSmallIntegerField(default=0)
    aggregation_name = models.CharField(max_length=255)
    block_key = UsageKeyField(max_length=255)
    learners = models.IntegerField(default=0)
    earned = models.FloatField(default=0.0)
    possible = models.FloatField(default=0.0)
    percent = models.FloatField(default=0.0)
    completed = models.IntegerField(default=0)

    class Meta:
        app_label = "completion_aggregator"
        unique_together = [("course_key", "shard", "aggregation_name", "block_key")]

    def __str__(self) -> str:
        return f"BlockTotal({self.block_key} #{self.shard}, learners={self.learners}, earned={self.earned})"


class TotalShard(models.Model):
    """
    One shard of a course's block totals, to claim: a writer locks one for its transaction.

    The aggregation write path locks one of these rows (``SELECT … FOR UPDATE SKIP LOCKED``)
    before adding to the ``BlockTotal`` rows of that ``shard``, so that no two writers add to
    the same shard at once (docs/decisions/0020-parallel-writers-of-one-course.rst).
    """

    id = models.AutoField(primary_key=True)
    course_key = CourseKeyField(max_length=255)
    shard = models.PositiveSmallIntegerField()

    class Meta:
        app_label = "completion_aggregator"
        unique_together = [("course_key", "shard")]

    def __str__(self) -> str:
        return f"TotalShard({self.course_key} #{self.shard})"


class CountedLearner(models.Model):
    """A learner whose rows the course's totals hold: active enrollment when last synced."""

    id = models.AutoField(primary_key=True)
    course_key = CourseKeyField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        app_label = "completion_aggregator"
        unique_together = [("course_key", "user")]

    def __str__(self) -> str:
        return f"CountedLearner({self.user_id} in {self.course_key})"


class ComputedLearner(models.Model):
    """
    A learner whose Aggregator rows of a course this app last computed in full, and against which graph.

    ``graph_digest`` is :func:`completion_aggregator.path_only.graph_digest` of the compiled
    course graph of that full computation. While it matches the learner's current graph, their
    stored rows are this app's own and consistent, so a change may be recomputed along its path
    only (docs/decisions/0018-path-only-updates.rst). Rows written by the peer package, or by
    a version of the structure other than the current one, never have a matching row here.
    """

    id = models.AutoField(primary_key=True)
    course_key = CourseKeyField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    graph_digest = models.CharField(max_length=64)
    computed = models.DateTimeField()

    class Meta:
        app_label = "completion_aggregator"
        unique_together = [("course_key", "user")]

    def __str__(self) -> str:
        return f"ComputedLearner({self.user_id} in {self.course_key}: {self.graph_digest})"
