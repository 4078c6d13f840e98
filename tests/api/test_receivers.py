"""The BlockCompletion receivers: one stale row per written or deleted completion, with few queries."""
import pytest
from completion.models import BlockCompletion
from django.db import connection, transaction
from django.db.models.signals import post_delete, pre_delete
from django.test.utils import override_settings

from completion_aggregator.models import StaleCompletion
from tests.helpers import build_course, learner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued_only")]


@pytest.fixture
def queued_only():
    """Queue without aggregating, so the stale rows the receivers write stay visible."""
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True):
        yield


def enrolled(username, course_key):
    """A learner enrolled in the course, with the enrollment's own stale row dropped."""
    user = learner(username, course_key)
    StaleCompletion.objects.filter(username=username).delete()
    return user


def completions(user, course_key, count, prefix="h"):
    """``count`` completions of ``user``, written without going through the receivers' save path."""
    rows = [
        BlockCompletion(
            user=user,
            context_key=course_key,
            block_key=course_key.make_usage_key("html", f"{prefix}{index}"),
            block_type="html",
            completion=1.0,
        )
        for index in range(count)
    ]
    BlockCompletion.objects.bulk_create(rows)  # bulk_create sends no post_save
    return rows


def stale_rows():
    return sorted(
        (row.username, str(row.course_key), str(row.block_key), row.force, row.resolved)
        for row in StaleCompletion.objects.all()
    )


# A queryset delete: SELECT the completions, DELETE them, SELECT the learner's username once,
# then one INSERT of a stale row per completion (Django sends post_delete row by row).
# Before the fix the username SELECT ran once per completion: 2 + 2N (4 and 102).
@pytest.mark.parametrize(("count", "queries"), [(1, 4), (50, 53)])
def test_deleting_n_completions_looks_the_learner_up_once(count, queries, django_assert_num_queries):
    course_key, _ = build_course()
    alex = enrolled("alex", course_key)
    rows = completions(alex, course_key, count)
    with django_assert_num_queries(queries):
        BlockCompletion.objects.filter(user=alex).delete()
    assert stale_rows() == sorted(("alex", str(course_key), str(row.block_key), False, False) for row in rows)


# edx-completion's course reset adds a SAVEPOINT and its RELEASE. Before the fix: 4 + 2N (6 and 104).
@pytest.mark.parametrize(("count", "queries"), [(1, 6), (50, 55)])
def test_course_reset_looks_the_learner_up_once(count, queries, django_assert_num_queries):
    course_key, _ = build_course()
    alex = enrolled("alex", course_key)
    completions(alex, course_key, count)
    with django_assert_num_queries(queries):
        deleted = BlockCompletion.objects.clear_learning_context_completion(alex, course_key)
    assert deleted == count
    assert StaleCompletion.objects.filter(username="alex", course_key=course_key, force=False).count() == count


def test_sync_mode_aggregates_the_deleted_completions_once_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    from completion_aggregator import api

    course_key, _ = build_course()
    with django_capture_on_commit_callbacks(execute=True):  # an earlier action, committed
        alex = enrolled("alex", course_key)
        completions(alex, course_key, 3)
    calls = []
    real = api.aggregate_learners
    monkeypatch.setattr(api, "aggregate_learners", lambda *args, **kwargs: calls.append(args) or real(*args, **kwargs))
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=False):
        with django_capture_on_commit_callbacks(execute=True):
            BlockCompletion.objects.filter(user=alex).delete()
    # One delete call, one learner: one aggregation after the commit, which reads all three stale rows.
    assert calls == [(course_key, ["alex"])]
    assert not StaleCompletion.objects.filter(resolved=False).exists()


def test_one_delete_call_of_several_learners_queues_each_under_their_own_name(django_assert_num_queries):
    course_key, _ = build_course()
    alex, sam = enrolled("alex", course_key), enrolled("sam", course_key)
    completions(alex, course_key, 3)
    completions(sam, course_key, 2)
    with django_assert_num_queries(2 + 2 + 5):  # SELECT, DELETE, one username per learner, 5 INSERTs
        BlockCompletion.objects.filter(context_key=course_key).delete()
    assert sorted(StaleCompletion.objects.values_list("username", flat=True)) == ["alex"] * 3 + ["sam"] * 2


def test_a_renamed_learner_is_looked_up_again_by_the_next_delete_call():
    """The cache lives for one delete call: not for the queryset, the instance or the transaction."""
    course_key, _ = build_course()
    alex = enrolled("alex", course_key)
    reset = BlockCompletion.objects.filter(user=alex)
    with transaction.atomic():
        completions(alex, course_key, 2, prefix="a")
        reset.delete()
        alex.username = "alexis"
        alex.save()
        completions(alex, course_key, 2, prefix="b")
        reset.delete()  # the same queryset object, in the same transaction
        alex.username = "alexandra"
        alex.save()
        completions(alex, course_key, 1, prefix="c")
        BlockCompletion.objects.get(user_id=alex.pk).delete()  # a single instance, user not cached
    # Each call wrote the name of its time, and each rename carried the rows over (ADR 0010): a
    # name cached across calls would have left rows under "alex" or "alexis".
    assert [(row[0], row[2].rsplit("@", 1)[1]) for row in stale_rows()] == [
        ("alexandra", "a0"),
        ("alexandra", "a1"),
        ("alexandra", "b0"),
        ("alexandra", "b1"),
        ("alexandra", "c0"),
    ]


def test_an_instance_with_its_user_loaded_uses_it_without_a_query(django_assert_num_queries):
    course_key, _ = build_course()
    alex = enrolled("alex", course_key)
    (row,) = completions(alex, course_key, 1)
    row = BlockCompletion.objects.select_related("user").get(pk=row.pk)
    with django_assert_num_queries(2):  # DELETE, INSERT
        row.delete()
    assert StaleCompletion.objects.get().username == "alex"


def test_deleting_a_learner_leaves_no_stale_rows_naming_them():
    """Their completions go by cascade: nothing is left to aggregate, and no row names them (ADR 0010)."""
    course_key, _ = build_course()
    alex = enrolled("alex", course_key)
    completions(alex, course_key, 3)
    alex.delete()
    assert not StaleCompletion.objects.filter(username="alex").exists()


def test_a_completion_of_a_missing_user_fails_as_before():
    course_key, _ = build_course()
    alex = enrolled("alex", course_key)
    completions(alex, course_key, 2)
    # The user row vanishes under its completions: SQLite and PostgreSQL check foreign keys at
    # commit, MariaDB only where checks are on.
    with connection.constraint_checks_disabled():
        type(alex).objects.filter(pk=alex.pk)._raw_delete("default")
    with pytest.raises(type(alex).DoesNotExist):
        with transaction.atomic():
            BlockCompletion.objects.filter(user_id=alex.pk).delete()
    assert not StaleCompletion.objects.exists()
    with connection.constraint_checks_disabled():
        alex.save(force_insert=True)  # whole again for the end-of-test constraint check


def test_signals_sent_by_hand_are_answered_without_the_cache(django_assert_num_queries):
    course_key, _ = build_course()
    alex = enrolled("alex", course_key)
    (row,) = completions(alex, course_key, 1)
    origin = BlockCompletion.objects.all()
    pre_delete.send(sender=BlockCompletion, instance=row, origin="not weakly referenceable")
    fresh = BlockCompletion.objects.get(pk=row.pk)
    with django_assert_num_queries(2):  # user, INSERT
        post_delete.send(sender=BlockCompletion, instance=fresh, origin=origin)
    pre_delete.send(sender=BlockCompletion, instance=row, origin=origin)
    fresh = BlockCompletion.objects.get(pk=row.pk)
    with django_assert_num_queries(2):  # user, INSERT
        post_delete.send(sender=BlockCompletion, instance=fresh, origin=None)
    assert list(StaleCompletion.objects.values_list("username", flat=True)) == ["alex", "alex"]
