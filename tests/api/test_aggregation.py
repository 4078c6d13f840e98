"""The write path and the store path of the Python API, on the standalone host."""
import pytest
from completion.models import BlockCompletion
from django.db import connection
from django.test.utils import override_settings

from completion_aggregator import api
from completion_aggregator.api import totals
from completion_aggregator.models import Aggregator, StaleCompletion
from tests.helpers import build_course, complete, learner

pytestmark = pytest.mark.django_db


def stored(user, course_key, block_type="course"):
    rows = Aggregator.objects.filter(user=user, course_key=course_key, aggregation_name=block_type)
    return {str(row.block_key): (row.earned, row.possible, row.percent) for row in rows}


def test_completion_queues_and_sync_mode_aggregates_after_commit(django_capture_on_commit_callbacks):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        complete(alex, leaves[0])
        # Queued in the writer's transaction; nothing aggregated yet.
        assert StaleCompletion.objects.filter(username="alex", resolved=False, force=False).count() == 1
        assert not Aggregator.objects.filter(user=alex).exists()
    for callback in callbacks:
        callback()
    assert stored(alex, course_key) == {str(course_key.make_usage_key("course", "course")): (1.0, 16.0, 1 / 16)}
    assert not StaleCompletion.objects.filter(username="alex", resolved=False).exists()
    # One row per stored aggregator: course, 2 chapters, 4 sequentials, 8 verticals.
    assert Aggregator.objects.filter(user=alex).count() == 15


def test_deleted_completions_lower_the_stored_aggregates(django_capture_on_commit_callbacks):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    with django_capture_on_commit_callbacks(execute=True):
        for leaf in leaves[:4]:
            complete(alex, leaf)
    assert list(stored(alex, course_key).values()) == [(4.0, 16.0, 0.25)]
    with django_capture_on_commit_callbacks(execute=True):
        deleted = BlockCompletion.objects.clear_learning_context_completion(alex, course_key)
    assert deleted == 4
    assert list(stored(alex, course_key).values()) == [(0.0, 16.0, 0.0)]
    assert all(row.earned == 0.0 for row in Aggregator.objects.filter(user=alex))


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_completion_committed_during_an_aggregation_is_never_resolved_uncounted():
    """Interleave deterministically: a completion commits after the run has read the completions."""
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    injected = []

    def writer_commits_between_reads(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not injected and "completion_aggregator_aggregator" in sql and sql.lstrip().upper().startswith("SELECT"):
            injected.append(leaves[1])
            complete(alex, leaves[1])  # another request's completion lands now
        return result

    with connection.execute_wrapper(writer_commits_between_reads):
        api.aggregate_learners(course_key, ["alex"])
    assert injected
    # The run counted only what it read, and resolved only the stale row it read.
    assert list(stored(alex, course_key).values()) == [(1.0, 16.0, 1 / 16)]
    pending = StaleCompletion.objects.filter(username="alex", resolved=False)
    assert [str(row.block_key) for row in pending] == [str(leaves[1])]
    # The fresh answer already counts it; the next run stores it.
    assert api.get_course_progress(alex, course_key).course.earned == 2.0
    api.aggregate_learners(course_key, ["alex"])
    assert list(stored(alex, course_key).values()) == [(2.0, 16.0, 2 / 16)]
    assert not StaleCompletion.objects.filter(username="alex", resolved=False).exists()


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_a_chunk_of_learners_costs_a_fixed_number_of_queries(django_assert_num_queries):
    course_key, leaves = build_course()
    # 4 learners x 15 rows fit one INSERT batch on SQLite too (its variable limit splits larger ones).
    users = [learner(f"l{i}", course_key) for i in range(4)]
    for index, user in enumerate(users):
        for leaf in leaves[: index + 1]:
            complete(user, leaf)
    names = [user.username for user in users]
    # candidate stale ids; the course's totals row: absent, so its shard rows and it inserted
    # (unbuilt: select, insert, insert); savepoint; stale rows locked by id; users; structure
    # head, blocks, roles; the learners' marks (ADR 0018); completions; stored rows; the totals
    # row locked; upsert; marks upserted; resolve; release.
    with django_assert_num_queries(18):
        result = api.aggregate_learners(course_key, names)
    assert result.learner_count == 4 and result.rows_written == 4 * 15
    for index, user in enumerate(users):
        assert list(stored(user, course_key).values()) == [(index + 1.0, 16.0, (index + 1) / 16)]
    # Unchanged learners: nothing is rewritten; a second chunk reuses the cached structure.
    complete(users[0], leaves[5])
    # The structure's blocks come from the cache now; the learner's mark matches its graph, so
    # the rows along the path and the completions under it are read instead of all (ADR 0018).
    with django_assert_num_queries(14):
        result = api.aggregate_learners(course_key, names)
    assert result.learner_count == 1  # only learners with stale work are touched
    assert result.rows_written == 4  # course, chapter, sequential, vertical above leaf 5
    # Built totals: after the lock, the counted learners, the claim of a shard and one upsert
    # adding to its block totals (no read of the totals first: ADR 0020). SQLite claims none.
    totals.rebuild(course_key)
    complete(users[1], leaves[6])
    with django_assert_num_queries(16 if connection.vendor == "sqlite" else 17):  # and the mark (ADR 0018)
        result = api.aggregate_learners(course_key, names)
    assert result.rows_written == 4
    assert totals.check(course_key) == []


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_publishing_marks_every_active_enrollment_stale_including_learners_who_never_started(
    django_capture_on_commit_callbacks,
):
    course_key, leaves = build_course()
    alex, sam = learner("alex", course_key), learner("sam", course_key)
    learner("outsider")
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])
    StaleCompletion.objects.update(resolved=True)  # (sam's enrollment row)
    with django_capture_on_commit_callbacks(execute=True):
        build_course(shape=(1, 1, 1, 2))  # a new version of the same course
    forced = StaleCompletion.objects.filter(resolved=False, force=True)
    assert sorted(forced.values_list("username", flat=True)) == ["alex", "sam"]
    api.aggregate_learners(course_key, ["alex", "sam"])
    assert list(stored(alex, course_key).values()) == [(1.0, 2.0, 0.5)]
    assert list(stored(sam, course_key).values()) == [(0.0, 2.0, 0.0)]
    # Rows of blocks that left the course are gone.
    assert Aggregator.objects.filter(user=alex).count() == 4


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_unknown_users_and_missing_courses_resolve_their_stale_rows():
    course_key, _leaves = build_course()
    StaleCompletion.objects.create(username="ghost", course_key=course_key)
    StaleCompletion.objects.create(username="ghost2", course_key="course-v1:edX+Gone+1")
    learner("ghost2")
    result = api.aggregate_learners(course_key, ["ghost"])
    assert result.unknown_users == ["ghost"]
    api.aggregate_learners("course-v1:edX+Gone+1", ["ghost2"])
    assert not StaleCompletion.objects.filter(resolved=False).exists()


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_staff_only_and_unreleased_blocks_are_not_counted_for_learners():
    from datetime import timedelta

    from django.utils import timezone

    future = timezone.now() + timedelta(days=3)
    course_key, leaves = build_course(
        shape=(2, 1, 1, 2),
        extra={"ch0": {"visible_to_staff_only": True}, "ch1_se0_ve0_ht1": {"start": future}},
    )
    alex = learner("alex", course_key)
    staff = learner("boss", course_key, is_staff=True)
    complete(alex, leaves[2])
    progress = api.get_course_progress(alex, course_key)
    assert (progress.course.earned, progress.course.possible) == (1.0, 1.0)
    assert api.get_course_progress(staff, course_key).course.possible == 4.0
    with override_settings(COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS=True):
        assert api.get_course_progress(alex, course_key).course.possible == 2.0


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_fresh_answer_when_work_is_pending_and_stored_answer_otherwise(django_assert_num_queries):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    progress = api.get_course_progress(alex, course_key)
    assert progress.fresh and progress.course.earned == 1.0
    assert not Aggregator.objects.exists()  # read-only
    api.aggregate_learners(course_key, ["alex"])
    api.clear_graph_cache()
    with django_assert_num_queries(4):  # structure head, roles, pending check, stored rows
        progress = api.get_course_progress(alex, course_key)
    assert not progress.fresh and progress.course.earned == 1.0
    chapter = course_key.make_usage_key("chapter", "ch0")
    under = api.get_course_progress(alex, course_key, root_block=chapter)
    assert under.course.block_key == str(course_key.make_usage_key("course", "course"))  # the course's own
    assert under.course.percent == 1 / 16 and under.by_aggregation_name("chapter")[0].percent == 1 / 8
    assert {agg.aggregation_name for agg in under.blocks} == {"chapter", "sequential", "vertical"}
    with pytest.raises(api.BlockNotInCourse):
        api.get_course_progress(alex, course_key, root_block=course_key.make_usage_key("chapter", "nope"))


def test_changed_rows_are_written_by_their_stored_id_and_new_rows_by_the_unique_key():
    from django.test.utils import CaptureQueriesContext

    from completion_aggregator.api.aggregation import write_rows

    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True):
        complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])
    before = {row.id: (str(row.block_key), row.created) for row in Aggregator.objects.filter(user=alex)}
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True):
        complete(alex, leaves[1])
    with CaptureQueriesContext(connection) as queries:
        result = api.aggregate_learners(course_key, ["alex"])
    inserts = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("INSERT")]
    assert result.rows_written == 4 and len(inserts) == 1  # vertical, sequential, chapter, course
    quoted_id = connection.ops.quote_name("id")
    assert f"{quoted_id}, {connection.ops.quote_name('user_id')}" in inserts[0]  # the stored ids are sent
    after = {row.id: (str(row.block_key), row.created) for row in Aggregator.objects.filter(user=alex)}
    assert after == before  # updated in place: same ids, same keys, `created` kept
    assert stored(alex, course_key) == {str(course_key.make_usage_key("course", "course")): (2.0, 16.0, 2 / 16)}

    # A row read with an id that vanished before the write is inserted again under that id.
    row = Aggregator.objects.filter(user=alex, aggregation_name="course").get()
    Aggregator.objects.filter(pk=row.pk).delete()
    row.earned = 3.0
    write_rows([row])
    assert Aggregator.objects.get(pk=row.pk).earned == 3.0
