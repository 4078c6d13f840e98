"""Per-learner content in the standalone host (docs/standalone.rst): content groups, split_test, libraries."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from opaque_keys.edx.keys import CourseKey

from completion_aggregator import api
from completion_aggregator.adapters import get_adapter
from completion_aggregator.standalone.models import Cohort, CohortMembership, CourseAccessRole, CourseBlock
from completion_aggregator.standalone.publishing import BlockSpec, publish_structure
from tests.helpers import complete, learner

pytestmark = pytest.mark.django_db

KEY = CourseKey.from_string("course-v1:Rules+R1+2026")
COHORTS = 50  # content groups: A = 1, B = 2
EXPERIMENT = 60  # random: groups 10, 11
PARTITIONS = [
    {"id": COHORTS, "name": "Content groups", "scheme": "cohort", "active": True,
     "groups": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}]},
    {"id": EXPERIMENT, "name": "Experiment", "scheme": "random", "active": True,
     "groups": [{"id": 10, "name": "control"}, {"id": 11, "name": "test"}]},
    {"id": 70, "name": "Retired", "scheme": "cohort", "active": False, "groups": [{"id": 7, "name": "old"}]},
]


def key(block_type, block_id):
    return KEY.make_usage_key(block_type, block_id)


def publish(library_max=2, library_size=5, split=True, extra_leaves=(), partitions=PARTITIONS):
    """course > chapter > sequential > vertical > [all, only_a, only_b, lib(p*), split(va: 2 html, vb: 1 html)]."""
    specs = []

    def spec(block_type, block_id, children=(), **fields):
        specs.append(BlockSpec(key=key(block_type, block_id), block_type=block_type, children=list(children), **fields))
        return key(block_type, block_id)

    leaves = [
        spec("html", "all"),
        spec("html", "only_a", group_access={COHORTS: [1]}),
        spec("html", "only_b", group_access={str(COHORTS): ["2"]}),
    ]
    problems = [spec("problem", f"p{i}") for i in range(library_size)]
    leaves.append(spec("library_content", "lib", problems, max_count=library_max))
    if split:
        va = spec("vertical", "va", [spec("html", "a1"), spec("html", "a2")])
        vb = spec("vertical", "vb", [spec("html", "b1")])
        leaves.append(
            spec("split_test", "split", [va, vb],
                 extra={"user_partition_id": EXPERIMENT, "group_id_to_child": {10: str(va), "11": str(vb)}})
        )
    leaves.extend(spec("html", name, **fields) for name, fields in extra_leaves)
    vertical = spec("vertical", "v", leaves)
    root = spec("course", "course", [spec("chapter", "ch", [spec("sequential", "s", [vertical])])],
                extra={"user_partitions": partitions})
    publish_structure(KEY, root, specs)
    return root


def many(prefix, count):
    """``count`` users without enrollments or passwords (hashing passwords is slow)."""
    model = get_user_model()
    model.objects.bulk_create([model(username=f"{prefix}{i}") for i in range(count)])
    return list(model.objects.filter(username__startswith=prefix).order_by("id"))


def cohort(name, group=None, partition=COHORTS):
    return Cohort.objects.create(course_key=KEY, name=name, partition_id=partition if group else None, group_id=group)


def join(user, group_cohort):
    CohortMembership.objects.create(cohort=group_cohort, user=user, course_key=KEY)


def visible(structure, block_type=None):
    return {k.split("@")[-1] for k, b in structure.blocks.items() if block_type is None or b.block_type == block_type}


def structures(*users):
    adapter = get_adapter()
    adapter.clear_cache()
    return adapter.get_course_structures(KEY, list(users))


def test_publishing_stores_the_settings():
    publish(library_max=-1)
    rows = {str(b.block_key).split("@")[-1]: b for b in CourseBlock.objects.all()}
    assert rows["only_a"].group_access == {"50": [1]}
    assert rows["only_b"].group_access == {"50": [2]}
    assert rows["all"].group_access == {} and rows["all"].max_count is None
    assert rows["lib"].max_count is None  # -1: all children
    assert rows["split"].extra["group_id_to_child"] == {"10": str(key("vertical", "va")), "11": str(key("vertical", "vb"))}
    assert rows["course"].extra["user_partitions"][0]["scheme"] == "cohort"


def test_content_groups_follow_the_learners_cohort():
    publish(split=False, library_max=None)
    none, in_a, in_b, unmapped, staff, course_staff = (
        learner(name, KEY) for name in ("none", "in_a", "in_b", "unmapped", "staff", "course_staff")
    )
    staff.is_staff = True
    CourseAccessRole.objects.create(user=course_staff, course_key=KEY, org=KEY.org, role="staff")
    join(in_a, cohort("Alpha", 1))
    join(in_b, cohort("Beta", 2))
    join(unmapped, cohort("Plain"))
    found = structures(none, in_a, in_b, unmapped, staff, course_staff)
    html = {user.username: visible(found[user.pk], "html") for user in (none, in_a, in_b, unmapped, staff, course_staff)}
    assert html["none"] == html["unmapped"] == {"all"}
    assert html["in_a"] == {"all", "only_a"}
    assert html["in_b"] == {"all", "only_b"}
    assert html["staff"] == html["course_staff"] == {"all", "only_a", "only_b"}
    # Equal trees share one object (one compiled graph); different trees do not.
    assert found[none.pk] is found[unmapped.pk]
    assert found[staff.pk] is found[course_staff.pk]
    assert found[in_a.pk] is not found[in_b.pk] and found[in_a.pk].version != found[in_b.pk].version
    # possible through the api: 1 + the 5 library problems (+1 for a matching group).
    assert api.compute_course_progress(none, KEY).course.possible == 6
    assert api.compute_course_progress(in_a, KEY).course.possible == 7
    assert api.compute_course_progress(staff, KEY).course.possible == 8


def test_unknown_partitions_hide_and_inactive_partitions_are_ignored():
    publish(split=False, library_max=None, extra_leaves=[("ghost", {"group_access": {99: [1]}}), ("retired", {"group_access": {70: [7]}})])
    alice, boss = learner("alice", KEY), learner("boss", KEY, is_staff=True)
    found = structures(alice, boss)
    assert "ghost" not in visible(found[alice.pk]) and "retired" in visible(found[alice.pk])
    assert {"ghost", "retired"} <= visible(found[boss.pk])


def test_library_content_gives_each_learner_max_count_children_deterministically():
    publish(split=False, library_max=2, library_size=5)
    users = many("l", 30)
    first = structures(*users)
    picks = {user.pk: visible(first[user.pk], "problem") for user in users}
    assert all(len(chosen) == 2 for chosen in picks.values())
    assert len({frozenset(chosen) for chosen in picks.values()}) > 3  # spread over the learners
    again = structures(*reversed(users))  # cache cleared, other batch order: same choice
    assert {user.pk: visible(again[user.pk], "problem") for user in users} == picks
    alone = structures(users[7])
    assert visible(alone[users[7].pk], "problem") == picks[users[7].pk]
    # Same selection, same object.
    by_pick = {}
    for user in users:
        by_pick.setdefault(frozenset(picks[user.pk]), set()).add(id(first[user.pk]))
    assert all(len(ids) == 1 for ids in by_pick.values())
    # The library's children in the learner's tree are exactly the picked ones, in course order.
    library = first[users[0].pk].blocks[str(key("library_content", "lib"))]
    assert [c.split("@")[-1] for c in library.children] == sorted(picks[users[0].pk])
    assert api.compute_course_progress(users[0], KEY).course.possible == 1 + 2


@pytest.mark.parametrize("max_count, expected", [(None, 3), (-1, 3), (3, 3), (7, 3), (1, 1), (0, 0)])
def test_library_max_count_edges(max_count, expected):
    publish(split=False, library_max=max_count, library_size=3)
    alice = learner("alice", KEY)
    assert len(visible(structures(alice)[alice.pk], "problem")) == expected


def test_library_picks_among_the_children_the_learner_may_see():
    specs_leaves = [("x", {})]
    publish(split=False, library_max=2, library_size=3, extra_leaves=specs_leaves)
    # Restrict two of the three problems to group B: a learner outside it gets the only other one.
    CourseBlock.objects.filter(block_key__in=[key("problem", "p0"), key("problem", "p1")]).update(group_access={"50": [2]})
    outsider = learner("outsider", KEY)
    member = learner("member", KEY)
    join(member, cohort("Beta", 2))
    found = structures(outsider, member)
    assert visible(found[outsider.pk], "problem") == {"p2"}
    assert len(visible(found[member.pk], "problem")) == 2


def test_split_test_shows_one_group_per_learner():
    publish(library_max=None, library_size=1)
    users = many("l", 30)
    boss = get_user_model().objects.create(username="boss", is_staff=True)
    found = structures(boss, *users)
    seen = {}
    for user in users:
        html = visible(found[user.pk], "html") & {"a1", "a2", "b1"}
        assert html in ({"a1", "a2"}, {"b1"})
        seen.setdefault(frozenset(html), []).append(user)
        split = found[user.pk].blocks[str(key("split_test", "split"))]
        assert len(split.children) == 1
    assert len(seen) == 2  # both groups occur among 30 learners
    assert visible(found[boss.pk], "html") >= {"a1", "a2", "b1"}
    again = structures(*users)
    assert all(visible(again[u.pk], "html") == visible(found[u.pk], "html") for u in users)
    group_a = seen[frozenset({"a1", "a2"})]
    assert len({id(found[user.pk]) for user in group_a}) == 1  # one shared structure per group
    # possible: all + library(1) + the group's html.
    assert api.compute_course_progress(group_a[0], KEY).course.possible == 1 + 1 + 2
    assert api.compute_course_progress(seen[frozenset({"b1"})][0], KEY).course.possible == 1 + 1 + 1


def test_split_test_on_a_cohort_partition_follows_the_cohort():
    publish(library_max=None, library_size=1)
    CourseBlock.objects.filter(block_key=key("split_test", "split")).update(
        extra={"user_partition_id": COHORTS, "group_id_to_child": {"1": str(key("vertical", "va")), "2": str(key("vertical", "vb"))}}
    )
    in_a, in_b, none = learner("in_a", KEY), learner("in_b", KEY), learner("none", KEY)
    join(in_a, cohort("Alpha", 1))
    join(in_b, cohort("Beta", 2))
    found = structures(in_a, in_b, none)
    assert visible(found[in_a.pk], "html") & {"a1", "a2", "b1"} == {"a1", "a2"}
    assert visible(found[in_b.pk], "html") & {"a1", "a2", "b1"} == {"b1"}
    assert visible(found[none.pk], "html") & {"a1", "a2", "b1"} == set()


def test_cohorts_are_read_in_one_query_for_the_whole_batch():
    publish()
    group = cohort("Alpha", 1)
    small = many("s", 3)
    large = many("b", 40)
    for user in small + large[::2]:
        join(user, group)
    adapter = get_adapter()
    adapter.get_course_structures(KEY, small)  # warm the structure cache
    with CaptureQueriesContext(connection) as few:
        adapter.get_course_structures(KEY, small)
    with CaptureQueriesContext(connection) as lots:
        adapter.get_course_structures(KEY, large)
    assert len(few) == len(lots)
    assert sum("cohortmembership" in query["sql"].lower() for query in lots.captured_queries) == 1


def test_completions_of_hidden_blocks_do_not_count_and_aggregates_are_stored():
    publish(split=False, library_max=None)
    alice = learner("alice", KEY)
    complete(alice, key("html", "all"))
    complete(alice, key("html", "only_a"))  # hidden from alice: no credit
    api.aggregate_learners(KEY, ["alice"], force=True)
    progress = api.get_course_progress(alice, KEY)
    assert (progress.course.earned, progress.course.possible) == (1.0, 6.0)
    # Joining the group's cohort shows the block: the membership signal marks her stale.
    join(alice, cohort("Alpha", 1))
    api.aggregate_learners(KEY, ["alice"])
    progress = api.get_course_progress(alice, KEY)
    assert (progress.course.earned, progress.course.possible) == (2.0, 7.0)
