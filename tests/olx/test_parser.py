"""The OLX parser on small synthetic exports (no database)."""
import json
import re
from datetime import UTC, datetime

import pytest

from completion_aggregator.standalone.olx import OlxError, parse_course

from .conftest import COURSE_XML, course_files

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def by_id(parsed):
    return {block.url_name: block for block in parsed.blocks}


def ids(parsed, keys):
    return [parsed.block(key).url_name for key in keys]


def dt(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Structure -----------------------------------------------------------------------------------
def test_pointers_inline_children_and_the_course_key(olx):
    path = olx(
        course_files(
            '<chapter url_name="ch1"/><wiki slug="Org.Num.run"/>',
            chapter__ch1_xml='<chapter display_name="One"><sequential url_name="sub:seq1"/></chapter>',
            sequential__sub__seq1_xml=(
                '<sequential display_name="S"><vertical url_name="v1" display_name="V">'
                '<html url_name="h1"/><problem url_name="p_inline" display_name="Inline">'
                "<choiceresponse><checkboxgroup/></choiceresponse></problem></vertical></sequential>"
            ),
            html__h1_xml='<html filename="h1" display_name="Hello"/>',
            html__h1_html="<p>Hello</p>",
        )
    )
    parsed = parse_course(path)
    assert str(parsed.course_key) == "course-v1:Org+Num+run"
    assert str(parsed.root) == "block-v1:Org+Num+run+type@course+block@course"
    assert parsed.display_name == "Synthetic"
    blocks = by_id(parsed)
    assert [(b.block_type, b.url_name) for b in parsed.blocks] == [
        ("course", "course"), ("chapter", "ch1"), ("sequential", "sub:seq1"), ("vertical", "v1"),
        ("html", "h1"), ("problem", "p_inline"),
    ]
    assert ids(parsed, blocks["v1"].children) == ["h1", "p_inline"]
    assert blocks["h1"].display_name == "Hello" and blocks["ch1"].display_name == "One"
    assert blocks["p_inline"].children == [] and blocks["p_inline"].content_tags == ("choiceresponse",)
    assert parsed.warnings == []
    assert parsed.summary(now=NOW).as_json()["leaves"] == 2


def test_content_elements_inside_leaves_and_skipped_container_children(olx):
    body = (
        '<chapter url_name="ch"><sequential url_name="s"><vertical url_name="v">'
        '<video url_name="vid"><source src="a.mp4"/><transcript language="en" src="t.srt"/></video>'
        '<problem-builder url_name="pb"><pb-mcq name="q"/><pb-answer name="a"/></problem-builder>'
        '<conditional url_name="cond" sources="i4x://Org/Num/problem/x"><show sources="x"/>'
        '<html url_name="shown">Shown</html></conditional>'
        '<split_test url_name="split" user_partition_id="1">'
        '<vertical url_name="group_a"><html url_name="ha">A</html></vertical>'
        '<vertical url_name="group_b"><html url_name="hb">B</html></vertical></split_test>'
        '<library_content url_name="lib" max_count="1"><problem url_name="lp1"/><problem url_name="lp2"/></library_content>'
        '<html url_name="with_aside">x<tagging_aside xblock-family="xblock_asides.v1" tags="a"/></html>'
        "</vertical></sequential></chapter>"
        '<textbook title="Book" book_url="x"/>'
    )
    path = olx(
        course_files(
            body,
            problem__lp1_xml='<problem display_name="L1"><multiplechoiceresponse/></problem>',
            problem__lp2_xml='<problem display_name="L2"/>',
        )
    )
    parsed = parse_course(path)
    blocks = by_id(parsed)
    assert set(blocks) == {
        "course", "ch", "s", "v", "vid", "pb", "cond", "shown", "split", "group_a", "ha", "group_b", "hb",
        "lib", "lp1", "lp2", "with_aside",
    }
    assert ids(parsed, blocks["v"].children) == ["vid", "pb", "cond", "split", "lib", "with_aside"]
    assert blocks["vid"].content_tags == ("source", "transcript")
    assert blocks["pb"].children == [] and blocks["pb"].content_tags == ("pb-mcq", "pb-answer")
    assert ids(parsed, blocks["cond"].children) == ["shown"]
    assert ids(parsed, blocks["split"].children) == ["group_a", "group_b"]
    assert ids(parsed, blocks["lib"].children) == ["lp1", "lp2"]
    assert blocks["lp1"].display_name == "L1"
    summary = parsed.summary(now=NOW)
    assert summary.leaves == 8  # vid, pb, shown, ha, hb, lp1, lp2, with_aside
    assert summary.completable == 8


def test_tree_shape_is_not_fixed(olx):
    body = (
        '<chapter url_name="ch"><html url_name="depth2">x</html>'
        '<sequential url_name="s"><html url_name="depth3">x</html>'
        '<vertical url_name="outer"><vertical url_name="inner"><html url_name="depth5">x</html></vertical></vertical>'
        '</sequential><videosequence url_name="vs"><video url_name="legacy"/></videosequence></chapter>'
    )
    parsed = parse_course(olx(course_files(body, video__legacy_xml="<video/>")))
    blocks = by_id(parsed)
    assert ids(parsed, blocks["ch"].children) == ["depth2", "s", "vs"]
    assert ids(parsed, blocks["outer"].children) == ["inner"]
    assert ids(parsed, blocks["vs"].children) == ["legacy"]
    assert parsed.summary(now=NOW).leaves == 4


def test_xml_comments_are_not_blocks(olx):
    body = (
        "<!-- Level 1 --><chapter url_name=\"ch\"><!-- a comment -->"
        '<sequential url_name="s"><vertical url_name="v"><!-- before -->'
        '<html url_name="h1"><!-- only a comment: still a pointer --></html>'
        "<!-- between --><html url_name=\"h2\">inline</html></vertical></sequential></chapter>"
    )
    parsed = parse_course(olx(course_files(body, html__h1_xml='<html display_name="From file"/>')))
    blocks = by_id(parsed)
    assert ids(parsed, blocks["v"].children) == ["h1", "h2"]
    assert blocks["h1"].display_name == "From file"
    assert len(parsed.blocks) == 6


def test_drafts_static_and_unreferenced_files_are_ignored(olx):
    files = course_files(
        '<chapter url_name="ch"/>',
        chapter__ch_xml="<chapter/>",
        chapter__orphan_xml='<chapter><sequential url_name="never"/></chapter>',
        drafts__vertical__d1_xml=(
            '<vertical parent_url="block-v1:Org+Num+run+type@sequential+block@x"><html url_name="dh"/></vertical>'
        ),
        static__course_xml="<course><chapter url_name=\"bogus\"/></course>",
    )
    parsed = parse_course(olx(files))
    assert [block.url_name for block in parsed.blocks] == ["course", "ch"]


def test_course_xml_may_hold_the_whole_course(olx):
    files = {
        "course.xml": (
            '<course url_name="2013_Spring" course="Old" display_name="Hand written">'
            '<chapter url_name="c"><html url_name="h">x</html></chapter></course>'
        )
    }
    parsed = parse_course(olx(files))
    assert str(parsed.course_key) == "course-v1:edx+Old+2013_Spring"  # missing org -> edx
    assert [block.url_name for block in parsed.blocks] == ["course", "c", "h"]
    assert parsed.display_name == "Hand written"


def test_tarball_root_folder_is_found_whatever_its_name(olx, tmp_path):
    from .conftest import make_tar

    folder = olx(course_files('<chapter url_name="ch"/>', chapter__ch_xml="<chapter/>"))
    tar = make_tar(tmp_path / "export.tar.gz", folder, arcname="some-export-2026")
    parsed = parse_course(tar)
    assert [block.url_name for block in parsed.blocks] == ["course", "ch"]
    assert parsed.source.endswith(":some-export-2026")


# Ids ------------------------------------------------------------------------------------------
def test_ids_follow_edx_platform_order_and_hashes_are_stable(olx, tmp_path):
    body = (
        '<chapter url_name="ch"><sequential url_name="s"><vertical url_name="v">'
        '<html slug="from_slug">a</html>'
        '<html name="Some name: here!">b</html>'
        '<html display_name="Hello World (2)">c</html>'
        "<html>no name at all</html>"
        '<discussion discussion_id="d1"/>'
        "</vertical></sequential></chapter>"
    )
    first = parse_course(olx(course_files(body), "one"))
    names = ids(first, by_id(first)["v"].children)
    assert names[:3] == ["from_slug", "Some_name_here_", "Hello_World_2_"]
    assert re.fullmatch(r"html_[0-9a-f]{12}", names[3])
    assert re.fullmatch(r"discussion_[0-9a-f]{12}", names[4])
    again = parse_course(olx(course_files(body), "two"))
    assert ids(again, by_id(again)["v"].children) == names
    changed = parse_course(olx(course_files(body.replace("no name at all", "changed")), "three"))
    changed_names = ids(changed, by_id(changed)["v"].children)
    assert changed_names[3] != names[3] and changed_names[4] == names[4]


def test_shared_blocks_have_two_parents_and_unique_types_are_renamed(olx):
    body = (
        '<chapter url_name="ch"><sequential url_name="s">'
        '<vertical url_name="v1"><html url_name="shared"/><problem url_name="p"/>'
        '<html display_name="Feedback">one</html></vertical>'
        '<vertical url_name="v2"><html url_name="shared"/><problem url_name="p"/>'
        '<html display_name="Feedback">two</html></vertical>'
        "</sequential></chapter>"
    )
    parsed = parse_course(
        olx(course_files(body, html__shared_xml='<html display_name="Shared"/>', problem__p_xml='<problem display_name="P"/>'))
    )
    blocks = by_id(parsed)
    shared = blocks["shared"]
    assert [parsed.block(key).url_name for key in shared.parents] == ["v1", "v2"]
    assert ids(parsed, blocks["v1"].children)[0] == ids(parsed, blocks["v2"].children)[0] == "shared"
    # html keeps one key for a repeated name (even with other content); problem is renamed.
    assert ids(parsed, blocks["v1"].children)[2] == ids(parsed, blocks["v2"].children)[2] == "Feedback"
    renamed = ids(parsed, blocks["v2"].children)[1]
    assert re.fullmatch(r"problem_p_[0-9a-f]{12}", renamed)
    assert blocks[renamed].display_name == "P"
    summary = parsed.summary(now=NOW)
    assert summary.blocks_by_type["html"] == 2 and summary.blocks_by_type["problem"] == 2
    assert summary.completable == 4


def test_a_pointer_cycle_is_an_error(olx):
    files = course_files(
        '<chapter url_name="ch"><sequential url_name="s"><split_test url_name="loop"/></sequential></chapter>',
        split_test__loop_xml='<split_test user_partition_id="1"><split_test url_name="loop"/></split_test>',
    )
    with pytest.raises(OlxError, match="cycle"):
        parse_course(olx(files))


# Inheritance -----------------------------------------------------------------------------------
INHERIT_BODY = (
    '<chapter url_name="late" start="2030-01-01T00:00:00Z">'
    '<sequential url_name="s1"><vertical url_name="v1">'
    '<html url_name="earlier" start="2025-01-01T00:00">x</html>'
    '<html url_name="later" start="&quot;2040-05-01T00:00:00+00:00&quot;">x</html>'
    "</vertical></sequential></chapter>"
    '<chapter url_name="open">'
    '<sequential url_name="hidden" visible_to_staff_only="true"><vertical url_name="v2">'
    '<html url_name="h_hidden" visible_to_staff_only="false">x</html></vertical></sequential>'
    '<sequential url_name="s3"><vertical url_name="v3"><html url_name="h_open" start="null">x</html></vertical></sequential>'
    "</chapter>"
)


def test_start_and_staff_only_inherit_down(olx):
    parsed = parse_course(olx(course_files(INHERIT_BODY, 'start="2020-01-01T00:00:00Z"')))
    blocks = by_id(parsed)
    assert blocks["course"].start == dt("2020-01-01T00:00:00")
    for name in ("late", "s1", "v1", "earlier"):
        assert blocks[name].start == dt("2030-01-01T00:00:00"), name  # only ever later
    assert blocks["later"].start == dt("2040-05-01T00:00:00")  # JSON-quoted attribute
    assert blocks["h_open"].start == blocks["open"].start == dt("2020-01-01T00:00:00")
    for name in ("hidden", "v2", "h_hidden"):
        assert blocks[name].visible_to_staff_only, name  # an ancestor's true wins
    assert not blocks["h_open"].visible_to_staff_only
    summary = parsed.summary(now=NOW)
    assert summary.unreleased == 5
    assert summary.staff_only == 3


def test_policy_json_overrides_attributes_with_json_quoted_values(olx):
    policy = {
        "course/run": {"start": "2010-01-01T00:00:00Z", "display_name": "From policy", "mobile_available": True},
        "chapter/open": {"start": "\"2031-02-05T05:00:00Z\""},
        "sequential/hidden": {"visible_to_staff_only": False},
        "sequential/s3": {"visible_to_staff_only": "true"},
        "html/earlier": {"display_name": "\"Quoted name\""},
        "chapter/unknown": {"start": "not a date"},
    }
    files = course_files(INHERIT_BODY, 'start="2020-01-01T00:00:00Z" display_name="From XML"')
    files["policies/run/policy.json"] = json.dumps(policy)
    parsed = parse_course(olx(files))
    blocks = by_id(parsed)
    assert parsed.display_name == "From policy" and parsed.mobile_available is True
    assert blocks["course"].start == dt("2010-01-01T00:00:00")
    assert blocks["open"].start == blocks["h_open"].start == dt("2031-02-05T05:00:00")
    assert not blocks["hidden"].visible_to_staff_only and not blocks["h_hidden"].visible_to_staff_only
    assert blocks["s3"].visible_to_staff_only and blocks["h_open"].visible_to_staff_only
    assert blocks["earlier"].display_name == "Quoted name"


def test_legacy_policy_file_and_only_the_named_run_counts(olx):
    files = course_files('<chapter url_name="ch"/>', chapter__ch_xml="<chapter/>")
    files["policies/run.json"] = json.dumps({"chapter/ch": {"visible_to_staff_only": True}})
    files["policies/other_run/policy.json"] = json.dumps({"chapter/ch": {"start": "2099-01-01"}})
    parsed = parse_course(olx(files))
    assert by_id(parsed)["ch"].visible_to_staff_only
    assert by_id(parsed)["ch"].start is None


def test_a_shared_block_takes_its_most_visible_path(olx):
    body = (
        '<chapter url_name="c1" start="2030-01-01"><html url_name="both"/></chapter>'
        '<chapter url_name="c2" visible_to_staff_only="true"><html url_name="both"/></chapter>'
        '<chapter url_name="c3"><html url_name="both"/></chapter>'
    )
    parsed = parse_course(olx(course_files(body, 'start="2020-01-01"', html__both_xml="<html/>")))
    both = by_id(parsed)["both"]
    assert len(both.parents) == 3
    assert both.start == dt("2020-01-01T00:00:00") and not both.visible_to_staff_only


def test_optional_completion_is_recorded_and_inherited(olx):
    body = (
        '<chapter url_name="ch"><sequential url_name="s">'
        '<vertical url_name="opt" optional_completion="true"><html url_name="a">x</html>'
        '<html url_name="b" optional_completion="false">x</html></vertical>'
        '<vertical url_name="req"><html url_name="c">x</html></vertical>'
        "</sequential></chapter>"
    )
    files = course_files(body)
    files["policies/run/policy.json"] = json.dumps({"html/c": {"optional_completion": True}})
    parsed = parse_course(olx(files))
    blocks = by_id(parsed)
    assert [name for name in "abc" if blocks[name].optional_completion] == ["a", "c"]
    assert parsed.specs()[0].__class__.__name__ == "BlockSpec"
    assert {str(spec.key): spec.optional_completion for spec in parsed.specs()}[str(blocks["a"].key)] is True


# Leaves and indirections -----------------------------------------------------------------------
def test_filename_indirection_and_unknown_types(olx):
    body = (
        '<chapter url_name="ch"><sequential url_name="s"><vertical url_name="v">'
        '<problem url_name="p1" filename="lab1" display_name="Pointer wins"/>'
        '<problem url_name="p2" filename="old_lab"/>'
        '<problem url_name="p3" filename="gone"/>'
        '<html url_name="h" filename="missing_html"/>'
        '<recommender url_name="r" xblock-family="xblock.v1"/><google-document url_name="g" display_name="G"/>'
        '<combinedopenended url_name="coe" max_score="1"/>'
        "</vertical></sequential></chapter>"
    )
    files = course_files(
        body,
        problem__lab1_xml='<problem display_name="From file" weight="2"/>',
        problems__old_lab_xml='<problem display_name="Backcompat"/>',
    )
    parsed = parse_course(olx(files))
    blocks = by_id(parsed)
    assert blocks["p1"].display_name == "Pointer wins"
    assert blocks["p2"].display_name == "Backcompat"
    assert blocks["p3"].display_name == ""
    assert any('filename="gone"' in warning for warning in parsed.warnings)
    assert any('filename="missing_html"' in warning for warning in parsed.warnings)
    summary = parsed.summary(now=NOW)
    assert summary.unknown_types == {"combinedopenended": 1}
    assert summary.excluded == 1 and summary.completable == 6


def test_html_entities_are_retried_as_characters(olx):
    files = course_files(
        '<chapter url_name="ch"/>',
        chapter__ch_xml='<chapter display_name="A&nbsp;B"><html url_name="h">&eacute;</html></chapter>',
    )
    parsed = parse_course(olx(files))
    assert by_id(parsed)["ch"].display_name == "A\u00a0B"
    assert any("HTML entities" in warning for warning in parsed.warnings)


# Errors ----------------------------------------------------------------------------------------
def test_malformed_xml_names_the_file_and_line(olx):
    files = course_files('<chapter url_name="ch"/>', chapter__ch_xml='<chapter>\n  <sequential url_name="s">\n</chapter>')
    with pytest.raises(OlxError, match=r"chapter/ch\.xml: malformed XML at line 3"):
        parse_course(olx(files))


def test_missing_pointer_target_and_escaping_pointer(olx):
    missing = r'course/run\.xml: <chapter url_name="nope"> points to .*chapter/nope\.xml, which does not exist'
    with pytest.raises(OlxError, match=missing):
        parse_course(olx(course_files('<chapter url_name="nope"/>'), "a"))
    with pytest.raises(OlxError, match="points outside the course folder"):
        parse_course(olx(course_files('<chapter url_name="..:..:etc:passwd"/>'), "b"))
    with pytest.raises(OlxError, match=r"points to .*course/missing\.xml"):
        parse_course(olx({"course.xml": '<course url_name="missing" org="O" course="C"/>'}, "c"))


def test_not_an_export(olx, tmp_path):
    with pytest.raises(OlxError, match="no such file or folder"):
        parse_course(tmp_path / "absent")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(OlxError, match="not a course export folder nor a readable .tar.gz"):
        parse_course(tmp_path / "notes.txt")
    with pytest.raises(OlxError, match="no course.xml"):
        parse_course(olx({"chapter/ch.xml": "<chapter/>"}, "empty"))


def test_invalid_course_keys(olx):
    path = olx(course_files(""))
    for bad in ("not a key", "Org/Num/run", "library-v1:Org+Lib"):
        with pytest.raises(OlxError, match="invalid course key"):
            parse_course(path, course_key=bad)
    with pytest.raises(OlxError, match="invalid course key"):
        parse_course(olx({"course.xml": '<course url_name="r u n" org="O" course="C"/>', "course/r u n.xml": "<course/>"}, "x"))


# Finding the course ---------------------------------------------------------------------------
def test_course_xml_is_searched_below_the_given_folder(olx, tmp_path):
    olx(course_files('<chapter url_name="ch"/>', chapter__ch_xml="<chapter/>"), "outer/course")
    (tmp_path / "outer" / "static").mkdir()
    (tmp_path / "outer" / "static" / "course.xml").write_text("<course/>")
    parsed = parse_course(tmp_path / "outer")
    assert [block.url_name for block in parsed.blocks] == ["course", "ch"]
    olx({"course.xml": COURSE_XML}, "outer/second")
    with pytest.raises(OlxError, match="several course.xml files"):
        parse_course(tmp_path / "outer")


def test_archive_made_from_inside_the_folder(olx, tmp_path):
    from .conftest import make_tar

    folder = olx(course_files('<chapter url_name="ch"/>', chapter__ch_xml="<chapter/>"))
    parsed = parse_course(make_tar(tmp_path / "dot.tar.gz", folder, arcname="."))
    assert [block.url_name for block in parsed.blocks] == ["course", "ch"]


def test_a_symlink_out_of_the_folder_is_refused(olx, tmp_path):
    outside = tmp_path / "secret.xml"
    outside.write_text("<chapter/>")
    folder = olx(course_files('<chapter url_name="ch"/>'))
    (folder / "chapter").mkdir()
    (folder / "chapter" / "ch.xml").symlink_to(outside)
    with pytest.raises(OlxError, match=r"chapter/ch\.xml leads outside the course folder"):
        parse_course(folder)


def test_per_learner_settings_of_split_test_and_library(olx):
    """split_test mappings (i4x://, block-v1: or bare ids) become child keys; max_count -1 means all."""
    body = (
        '<chapter url_name="ch"><sequential url_name="s"><vertical url_name="v">'
        '<split_test url_name="split" user_partition_id="7" group_id_to_child="{&quot;1&quot;: '
        '&quot;i4x://Org/Num/vertical/ga&quot;, &quot;2&quot;: &quot;block-v1:X+Y+Z+type@vertical+block@gb&quot;, '
        '&quot;3&quot;: &quot;i4x://Org/Num/vertical/elsewhere&quot;}">'
        '<vertical url_name="ga"><html url_name="ha">A</html></vertical>'
        '<vertical url_name="gb"><html url_name="hb">B</html></vertical></split_test>'
        '<library_content url_name="all" max_count="-1"><problem url_name="p1"/></library_content>'
        '<library_content url_name="two" max_count="&quot;2&quot;"><problem url_name="p2"/></library_content>'
        '<randomize url_name="r"><html url_name="r1">1</html><html url_name="r2">2</html></randomize>'
        '<html url_name="grouped" group_access="{&quot;7&quot;: [1, &quot;2&quot;], &quot;8&quot;: []}">g</html>'
        "</vertical></sequential></chapter>"
    )
    path = olx(course_files(body, problem__p1_xml="<problem/>", problem__p2_xml="<problem/>"))
    parsed = parse_course(path)
    split = parsed.block("block-v1:Org+Num+run+type@split_test+block@split").spec()
    assert split.extra == {
        "user_partition_id": 7,
        "group_id_to_child": {
            "1": "block-v1:Org+Num+run+type@vertical+block@ga",
            "2": "block-v1:Org+Num+run+type@vertical+block@gb",
        },
    }
    assert parsed.block("block-v1:Org+Num+run+type@library_content+block@all").spec().max_count is None
    assert parsed.block("block-v1:Org+Num+run+type@library_content+block@two").spec().max_count == 2
    assert parsed.block("block-v1:Org+Num+run+type@randomize+block@r").spec().max_count == 1
    assert parsed.block("block-v1:Org+Num+run+type@html+block@grouped").spec().group_access == {"7": [1, 2]}
