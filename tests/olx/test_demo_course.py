"""The real Open edX demo course export, parsed without a database and checked against the files."""
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from completion_aggregator.standalone.olx import parse_course

from .conftest import DEMO_DIR, DEMO_KEY, DEMO_TAR, needs_demo

pytestmark = needs_demo

#: The figures issue 6 asks for.
EXPECTED_BY_TYPE = {
    "html": 266, "vertical": 58, "problem": 29, "sequential": 17, "video": 11, "chapter": 6,
    "openassessment": 2, "lti": 2, "course": 1, "drag-and-drop-v2": 1, "edx_sga": 1,
    "staffgradedxblock": 1, "done": 1, "library_content": 1, "annotatable": 1, "discussion": 1,
    "poll": 1, "survey": 1,
}
INLINE_XBLOCKS = ("openassessment", "drag-and-drop-v2", "poll", "survey", "done", "discussion", "edx_sga", "staffgradedxblock")


@pytest.fixture(scope="module")
def demo():
    return parse_course(DEMO_DIR)


@pytest.fixture(scope="module")
def demo_tar():
    return parse_course(DEMO_TAR)


def _children(path):
    """Direct child elements of a definition file's root: (tag, attributes)."""
    return [(child.tag, child.attrib) for child in ET.parse(path).getroot()]


def test_course_key_root_and_totals(demo):
    assert str(demo.course_key) == DEMO_KEY
    assert str(demo.root) == "block-v1:OpenedX+DemoX+DemoCourse+type@course+block@course"
    assert demo.display_name == "Open edX Demo Course"
    summary = demo.summary()
    assert summary.blocks == 401
    assert summary.blocks_by_type == dict(sorted(EXPECTED_BY_TYPE.items(), key=lambda item: (-item[1], item[0])))
    assert summary.leaves == 318
    # Every leaf type is known; the discussion is the only EXCLUDED one.
    assert summary.unknown_types == {}
    assert (summary.completable, summary.excluded) == (317, 1)
    assert (summary.unreleased, summary.staff_only) == (0, 0)
    assert demo.warnings == []


def test_counts_match_an_independent_reading_of_the_files(demo):
    """Walk the export by hand, level by level, and compare with the parser's tree."""
    course_file = DEMO_DIR / "course" / (ET.parse(DEMO_DIR / "course.xml").getroot().get("url_name") + ".xml")
    chapters = [attrs["url_name"] for tag, attrs in _children(course_file) if tag == "chapter"]
    sequentials = [
        attrs["url_name"] for ch in chapters for tag, attrs in _children(DEMO_DIR / "chapter" / f"{ch}.xml")
    ]
    verticals = [
        attrs["url_name"] for seq in sequentials for tag, attrs in _children(DEMO_DIR / "sequential" / f"{seq}.xml")
    ]
    in_verticals = Counter(
        tag for vert in verticals for tag, attrs in _children(DEMO_DIR / "vertical" / f"{vert}.xml")
    )
    library = Counter(tag for tag, attrs in _children(next((DEMO_DIR / "library_content").glob("*.xml"))))
    by_type = Counter(block.block_type for block in demo.blocks)
    assert by_type["chapter"] == len(chapters) == 6
    assert by_type["sequential"] == len(sequentials) == 17
    assert by_type["vertical"] == len(verticals) == 58
    assert by_type["problem"] == in_verticals["problem"] + library["problem"] == 23 + 6
    for tag, count in in_verticals.items():
        assert by_type[tag] == count + library.get(tag, 0), tag
    # Studio writes html/problem/video as pointers: one definition file each, none unreferenced.
    for folder in ("chapter", "sequential", "vertical", "problem", "video", "lti", "annotatable", "library_content"):
        assert by_type[folder] == len(list((DEMO_DIR / folder).glob("*.xml"))), folder
    assert by_type["html"] == len(list((DEMO_DIR / "html").glob("*.xml")))


def test_inline_xblocks_inside_verticals_are_found(demo):
    """Pure XBlocks are written inline in the vertical (not pointers): they must still be blocks."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in (DEMO_DIR / "vertical").glob("*.xml"))
    for tag in INLINE_XBLOCKS:
        ids = re.findall(rf'^  <{re.escape(tag)} url_name="([^"]+)" ', text, flags=re.M)
        assert ids, tag
        found = {block.url_name for block in demo.blocks if block.block_type == tag}
        assert found == set(ids), tag
        for block in demo.blocks:
            if block.block_type == tag:
                assert block.children == [] and block.parents and demo.block(block.parents[0]).block_type == "vertical"
    # Their content elements (the ORA rubric, a problem's <choiceresponse>) are not blocks.
    ora = next(block for block in demo.blocks if block.block_type == "openassessment")
    assert {"rubric", "assessments", "prompts"} <= set(ora.content_tags)
    assert not any(block.block_type in ("rubric", "choiceresponse", "source", "transcript") for block in demo.blocks)


def test_library_content_keeps_its_six_problems(demo):
    library = next(block for block in demo.blocks if block.block_type == "library_content")
    assert len(library.children) == 6
    assert {demo.block(key).block_type for key in library.children} == {"problem"}
    assert all(demo.block(key).parents == [library.key] for key in library.children)


def test_leaves_sit_at_depth_four_or_five(demo):
    depth = {demo.root: 0}
    for block in demo.blocks:  # course order: parents come first
        for child in block.children:
            depth.setdefault(child, depth[block.key] + 1)
    leaf_depths = Counter(depth[block.key] for block in demo.blocks if block.is_leaf)
    assert leaf_depths == {4: 312, 5: 6}


def test_effective_start_comes_from_the_course(demo):
    assert {block.start.isoformat() for block in demo.blocks} == {"2020-01-01T00:00:00+00:00"}


def test_folder_and_tarball_give_the_same_tree(demo, demo_tar):
    assert str(demo_tar.course_key) == DEMO_KEY
    assert [(str(b.key), [str(c) for c in b.children]) for b in demo.blocks] == [
        (str(b.key), [str(c) for c in b.children]) for b in demo_tar.blocks
    ]
    assert demo.summary().as_json() == demo_tar.summary().as_json()


def test_reparsing_gives_identical_ids(demo):
    again = parse_course(DEMO_DIR)
    assert [str(block.key) for block in again.blocks] == [str(block.key) for block in demo.blocks]


def test_an_explicit_course_key_moves_every_block(demo):
    moved = parse_course(DEMO_TAR, course_key="course-v1:Else+Where+2026")
    assert str(moved.root) == "block-v1:Else+Where+2026+type@course+block@course"
    assert [block.url_name for block in moved.blocks] == [block.url_name for block in demo.blocks]
    assert all(str(block.key).startswith("block-v1:Else+Where+2026+") for block in moved.blocks)


def test_visibility_settings_are_kept_for_the_per_learner_rules(demo):
    """group_access (content groups), library max_count, user_partitions: parsed and handed to publishing."""
    grouped = [block for block in demo.blocks if "group_access" in block.extra]
    assert [block.block_type for block in grouped] == ["html", "html"]
    assert sorted(block.extra["group_access"]["18587404"][0] for block in grouped) == [205150518, 1819362822]
    assert sorted(block.spec().group_access["18587404"][0] for block in grouped) == [205150518, 1819362822]
    library = next(block for block in demo.blocks if block.block_type == "library_content")
    assert library.extra["max_count"] == 2
    assert library.spec().max_count == 2
    course = demo.block(demo.root)
    assert course.extra["user_partitions"][0]["scheme"] == "cohort"
    assert course.spec().extra["user_partitions"][0]["id"] == 18587404
    plain = [block.spec() for block in demo.blocks if block not in grouped and block is not library and block is not course]
    assert all(spec.group_access == {} and spec.max_count is None and spec.extra == {} for spec in plain)
