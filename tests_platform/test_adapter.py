"""The edx-platform adapter against the fake platform: structures, versions, enrollments, roles, cohorts."""
from __future__ import annotations

import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from opaque_keys.edx.keys import CourseKey

from completion_aggregator.adapters import get_adapter
from completion_aggregator.adapters.base import CourseNotFound
from completion_aggregator.adapters.edx_platform import EdxPlatformAdapter
from completion_aggregator.adapters.platform import platform_import
from completion_aggregator.api import graph_for

from .conftest import COURSE, cohort_in_group, key, make_user

pytestmark = pytest.mark.django_db


def leaves(structure):
    return sorted(k.rsplit("@", 1)[1] for k, b in structure.blocks.items() if b.block_type in {"html", "problem"})


def test_the_selected_adapter_is_the_edx_platform_one():
    assert isinstance(get_adapter(), EdxPlatformAdapter)


def test_a_missing_platform_module_fails_loudly(published, monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="no_such_platform_module"):
        platform_import("no_such_platform_module", "anything")
    with pytest.raises(ImproperlyConfigured, match="get_nothing"):
        platform_import("lms.djangoapps.course_blocks.api", "get_nothing")
    monkeypatch.setitem(sys.modules, "lms.djangoapps.course_blocks.api", None)  # "not installed"
    with pytest.raises(ImproperlyConfigured, match="lms.djangoapps.course_blocks.api"):
        get_adapter().get_course_structures(COURSE, [make_user("ann")])


def test_learners_see_released_non_staff_content_of_their_group(published):
    plain, group1, group2, staff = (make_user(n) for n in ("plain", "g1", "g2", "staffer"))
    from common.djangoapps.student.models import CourseAccessRole
    from openedx.core.djangoapps.course_groups.cohorts import add_user_to_cohort

    add_user_to_cohort(cohort_in_group("One", 1), group1)
    add_user_to_cohort(cohort_in_group("Two", 2), group2)
    CourseAccessRole.objects.create(user=staff, org="Fake", role="staff")  # org-wide
    structures = get_adapter().get_course_structures(COURSE, [plain, group1, group2, staff])

    assert leaves(structures[plain.pk]) == ["h1", "p1"]
    assert leaves(structures[group1.pk]) == ["h1", "h2", "p1"]
    assert leaves(structures[group2.pk]) == ["h1", "h3", "p1"]
    assert leaves(structures[staff.pk]) == ["h1", "h2", "h3", "h4", "h5", "h6", "p1"]
    course = str(key("course", "course"))
    assert graph_for(structures[plain.pk]).possible[0] == 2.0
    assert graph_for(structures[group1.pk]).possible[0] == 3.0  # not the other group's h3
    assert graph_for(structures[staff.pk]).possible[0] == 7.0
    assert structures[plain.pk].root == course
    assert structures[plain.pk].blocks[str(key("vertical", "v1"))].children == (
        str(key("html", "h1")),
        str(key("problem", "p1")),
        str(key("discussion", "d1")),
    )


def test_unreleased_blocks_count_only_when_the_setting_says_so(published, settings):
    learner = make_user("ann")
    assert "h4" not in leaves(get_adapter().get_course_structure(COURSE, learner))
    settings.COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS = True
    structure = get_adapter().get_course_structure(COURSE, learner)
    assert leaves(structure) == ["h1", "h4", "h5", "p1"]
    assert graph_for(structure).possible[0] == 4.0


def _course_version():
    from xmodule.modulestore.django import modulestore

    return modulestore().get_course_version(COURSE)


def _collected_root_stamp():
    from openedx.core.djangoapps.content.block_structure.manager import STORE
    from xmodule.modulestore.django import modulestore

    collected = STORE[modulestore().make_course_usage_key(COURSE)][1]
    return collected.get_xblock_field(collected.root_block_usage_key, "subtree_edited_on")


def _base(version: str) -> str:
    """The platform part of a structure version (before the tree digest)."""
    return version.rsplit(":", 1)[0]


def test_identical_trees_share_one_structure_object_and_version(published, platform_release):
    from openedx.core.djangoapps.course_groups.cohorts import add_user_to_cohort

    users = [make_user(f"u{i}") for i in range(5)]
    add_user_to_cohort(cohort_in_group("One", 1), users[0])
    structures = get_adapter().get_course_structures(COURSE, users)
    assert len({id(structures[u.pk]) for u in users[1:]}) == 1
    assert structures[users[0].pk] is not structures[users[1].pk]
    assert structures[users[0].pk].version != structures[users[1].pk].version
    assert {_base(structures[u.pk].version) for u in users} == {_base(structures[users[1].pk].version)}
    # A later batch with the same structure version gets the same object again.
    assert get_adapter().get_course_structure(COURSE, users[2]) is structures[users[1].pk]


def test_each_release_versions_the_structure_from_its_own_source(published, platform_release, monkeypatch):
    """Master: ``get_block_structure_version`` (the course_version); the releases: the root's subtree_edited_on."""
    import openedx.core.djangoapps.content.block_structure.api as block_structure_api

    calls = []
    real = block_structure_api.get_course_in_cache
    monkeypatch.setattr(block_structure_api, "get_course_in_cache", lambda key: calls.append(key) or real(key))
    ann, bob = make_user("ann"), make_user("bob")
    first = get_adapter().get_course_structure(COURSE, ann)
    assert get_adapter().get_course_structure(COURSE, bob) is first
    if platform_release == "master":
        assert block_structure_api.get_block_structure_version(COURSE) == _course_version()
        assert _base(first.version) == _course_version()
        assert len(calls) == 1  # loaded once per structure version, not per batch
    else:
        assert not hasattr(block_structure_api, "get_block_structure_version")
        assert _base(first.version) == f"e:{_collected_root_stamp()}"  # collected by GradesTransformer
        assert len(calls) == 2  # no version without loading: once per batch


def test_the_version_follows_publishes_not_rebuilds(published, platform_release):
    """A rebuild of unchanged content keeps the version (real master semantics); a publish changes it."""
    from openedx.core.djangoapps.content.block_structure.api import update_course_in_cache
    from xmodule.modulestore.django import modulestore

    from .conftest import course_blocks

    learner = make_user("ann")
    before = get_adapter().get_course_structure(COURSE, learner)
    update_course_in_cache(COURSE)
    assert get_adapter().get_course_structure(COURSE, learner).version == before.version

    modulestore().publish_fixture(COURSE, course_blocks(extra_leaf=True), emit_signals=False)
    update_course_in_cache(COURSE)
    after = get_adapter().get_course_structure(COURSE, learner)
    assert _base(after.version) != _base(before.version)
    assert leaves(after) == ["h1", "h7", "p1"]


def test_a_structure_built_by_the_first_read_gets_the_platform_version(db, platform_release):
    """On master, the version of a structure the adapter's own load built is the course_version at once."""
    from openedx.core.djangoapps.content.block_structure.manager import STORE
    from xmodule.modulestore.django import modulestore

    from .conftest import course_blocks

    modulestore().publish_fixture(COURSE, course_blocks(), emit_signals=False)  # no structure stored yet
    assert not STORE
    ann, bob = make_user("ann"), make_user("bob")
    first = get_adapter().get_course_structure(COURSE, ann)
    assert get_adapter().get_course_structure(COURSE, bob) is first
    expected = _course_version() if platform_release == "master" else f"e:{_collected_root_stamp()}"
    assert _base(first.version) == expected


def test_an_unknown_course_is_course_not_found(db):
    with pytest.raises(CourseNotFound):
        get_adapter().get_course_structures(CourseKey.from_string("course-v1:No+Such+Course"), [make_user("ann")])
    assert get_adapter().course_exists(CourseKey.from_string("course-v1:No+Such+Course")) is False


def test_optional_completion_comes_from_the_xblock_field(db):
    from openedx.core.djangoapps.content.block_structure.api import update_course_in_cache
    from xmodule.modulestore.django import modulestore

    blocks = [
        {"type": "course", "id": "course", "children": ["v"]},
        {"type": "vertical", "id": "v", "children": ["a", "b"]},
        {"type": "html", "id": "a", "optional_completion": True},
        {"type": "html", "id": "b"},
    ]
    modulestore().publish_fixture(COURSE, blocks, emit_signals=False)
    update_course_in_cache(COURSE)
    structure = get_adapter().get_course_structure(COURSE, make_user("ann"))
    assert structure.blocks[str(key("html", "a"))].optional is True
    assert structure.blocks[str(key("html", "b"))].optional is False
    graph = graph_for(structure)
    assert graph.possible[0] == 1.0 and graph.optional_possible[0] == 1.0


def test_enrollments_roles_cohorts_and_mobile(published):
    from common.djangoapps.student.models import CourseAccessRole, CourseEnrollment
    from openedx.core.djangoapps.course_groups.cohorts import add_user_to_cohort
    from openedx.core.djangoapps.course_groups.models import CohortMembership

    adapter = get_adapter()
    ann, bob, cy, teacher, other_org = (make_user(n) for n in ("ann", "bob", "cy", "teacher", "other"))
    CourseEnrollment.objects.create(user=ann, course_id=COURSE)
    CourseEnrollment.objects.create(user=bob, course_id=COURSE, is_active=False)
    assert list(adapter.enrolled_users(COURSE)) == [ann]
    assert adapter.is_enrolled(ann, COURSE) and not adapter.is_enrolled(bob, COURSE)
    assert adapter.user_course_keys(ann) == [COURSE] and adapter.user_course_keys(bob) == []

    CourseAccessRole.objects.create(user=teacher, course_id=COURSE, role="instructor")
    CourseAccessRole.objects.create(user=cy, org="fake", role="staff")  # org-wide, any case
    CourseAccessRole.objects.create(user=other_org, org="Other", role="staff")
    CourseAccessRole.objects.create(user=bob, course_id=COURSE, role="beta_testers")
    assert adapter.role_holder_ids(COURSE, ["staff", "instructor"]) == {teacher.pk, cy.pk}
    assert adapter.role_holder_ids(COURSE) == {teacher.pk, cy.pk, bob.pk}
    assert adapter.is_course_staff(teacher, COURSE) and not adapter.is_course_staff(ann, COURSE)

    cohort = cohort_in_group("One", 1)
    add_user_to_cohort(cohort, ann)
    memberships = CohortMembership.objects.count()
    assert adapter.cohort_member_ids(COURSE, cohort.id) == {ann.pk}
    assert adapter.cohort_member_ids(COURSE, cohort.id + 1000) == set()
    adapter.get_course_structures(COURSE, [bob, cy])
    assert CohortMembership.objects.count() == memberships  # reading never assigns a cohort

    other = CourseKey.from_string("course-v1:Fake+Other+2026")
    assert adapter.mobile_available([COURSE, other]) == {COURSE}
    assert adapter.course_exists(COURSE) and adapter.all_course_keys() == [COURSE]


def test_a_course_that_starts_later_is_an_empty_tree_for_learners(db, settings):
    from datetime import timedelta

    from django.utils import timezone
    from openedx.core.djangoapps.content.block_structure.api import update_course_in_cache
    from xmodule.modulestore.django import modulestore

    from .conftest import course_blocks

    blocks = course_blocks()
    blocks[0] = {**blocks[0], "start": timezone.now() + timedelta(days=3)}
    modulestore().publish_fixture(COURSE, blocks, emit_signals=False)
    update_course_in_cache(COURSE)
    structure = get_adapter().get_course_structure(COURSE, make_user("ann"))
    assert list(structure.blocks) == [str(key("course", "course"))]
    assert structure.version.endswith(":empty") and structure.root_hidden
    assert graph_for(structure).possible[0] == 0.0
    settings.COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS = True
    assert graph_for(get_adapter().get_course_structure(COURSE, make_user("bob"))).possible[0] == 4.0


def test_library_content_mode_follows_the_platform_setting(db, settings):
    from openedx.core.djangoapps.content.block_structure.api import update_course_in_cache
    from xmodule.modulestore.django import modulestore

    blocks = [
        {"type": "course", "id": "course", "children": ["v"]},
        {"type": "vertical", "id": "v", "children": ["lib", "h"]},
        {"type": "library_content", "id": "lib", "children": ["a", "b"], "max_count": 2},
        {"type": "html", "id": "a"},
        {"type": "html", "id": "b"},
        {"type": "html", "id": "h"},
    ]
    modulestore().publish_fixture(COURSE, blocks, emit_signals=False)
    update_course_in_cache(COURSE)
    structure = get_adapter().get_course_structure(COURSE, make_user("ann"))
    assert graph_for(structure).possible[0] == 3.0  # an aggregator: its two children count
    from completion_aggregator.api import clear_graph_cache

    settings.MARK_LIBRARY_CONTENT_BLOCK_COMPLETE_ON_VIEW = True
    clear_graph_cache()
    assert graph_for(structure).possible[0] == 2.0  # completable on view: counts once


def test_display_names_come_from_the_collected_structure(db):
    """Issue 19: the report and the progress bar label sections with the xblock ``display_name``."""
    from openedx.core.djangoapps.content.block_structure.api import update_course_in_cache
    from xmodule.modulestore.django import modulestore

    blocks = [
        {"type": "course", "id": "course", "children": ["ch"], "display_name": "The course"},
        {"type": "chapter", "id": "ch", "children": ["s"], "display_name": "Module 1: Basics"},
        {"type": "sequential", "id": "s", "children": []},
    ]
    modulestore().publish_fixture(COURSE, blocks, emit_signals=False)
    update_course_in_cache(COURSE)
    names = get_adapter().block_display_names(COURSE, [str(key("chapter", "ch")), str(key("sequential", "s")), "nonsense"])
    assert names == {str(key("chapter", "ch")): "Module 1: Basics"}  # unnamed and unknown blocks left out
    with pytest.raises(CourseNotFound):
        get_adapter().block_display_names(CourseKey.from_string("course-v1:No+Such+Course"), [])
