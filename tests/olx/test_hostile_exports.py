"""
Issue 18, point 3: ``import_course`` survives real and hostile exports.

* Linear in a block's child count (an operation count, never a wall-clock assertion).
* Values longer than their columns and deeply nested structures are a ``CommandError`` naming
  the file and the limit, or are imported correctly (display names truncated, never keys);
  never a traceback, never a partial write.
* Archive members are read lazily: an unreferenced large member is never read.
* ``videoalpha`` is a video (edx-platform registers it as ``VideoBlock``): counted.
"""
import io
import tarfile
import tracemalloc

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from opaque_keys import OpaqueKey

from completion_aggregator.standalone import olx as olx_module
from completion_aggregator.standalone.models import Course, CourseBlock, CourseStructure
from completion_aggregator.standalone.olx import OlxError, parse_course
from completion_aggregator.standalone.olx.values import decode

from .conftest import course_files, make_tar

KEY = "course-v1:Org+Num+run"


def run(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_course", str(path), *args, stdout=out, stderr=err)
    return out.getvalue()


def counted_key_comparisons(monkeypatch):
    """A list whose length is the number of usage-key equality tests made from now on."""
    calls = []
    original = OpaqueKey.__eq__

    def counting(self, other):
        calls.append(1)
        return original(self, other)

    monkeypatch.setattr(OpaqueKey, "__eq__", counting)
    return calls


def wide_unit(children: int) -> dict[str, str]:
    leaves = "".join(f'<html url_name="h{index}" display_name="H"/>' for index in range(children))
    return course_files('<chapter url_name="ch"/>', chapter__ch_xml=f"<chapter><sequential><vertical>{leaves}</vertical></sequential></chapter>")


# Linear in the child count ---------------------------------------------------------------
def test_parsing_a_wide_unit_is_linear_in_its_child_count(olx, monkeypatch):
    """A list membership test per child made 2,000 children cost ~2 million key comparisons."""
    folder = olx(wide_unit(2000))
    calls = counted_key_comparisons(monkeypatch)
    parsed = parse_course(folder)
    assert len(parsed.blocks) == 2004
    assert len(calls) <= 5 * 2000, len(calls)


@pytest.mark.django_db
def test_importing_a_unit_of_10000_children_costs_a_bounded_number_of_queries(olx):
    folder = olx(wide_unit(10_000))
    with CaptureQueriesContext(connection) as queries:
        run(folder)
    assert CourseBlock.objects.count() == 10_004
    # Course, structure, the blocks in batches (500 a batch; SQLite: 90, its bound-parameter
    # limit), the stale marks: never one query per block.
    assert len(queries) <= 10_004 // 90 + 20, len(queries)


# Values longer than their columns -------------------------------------------------------
@pytest.mark.django_db
def test_display_names_longer_than_their_column_are_truncated(olx):
    long = "D" * 300
    folder = olx(
        course_files(
            f'<chapter url_name="ch" display_name="{long}"/>',
            course_attrs=f'display_name="{long}"',
            chapter__ch_xml="<chapter><html>x</html></chapter>",
        )
    )
    run(folder)
    assert Course.objects.get().display_name == "D" * 255
    names = set(CourseBlock.objects.values_list("display_name", flat=True))
    assert "D" * 255 in names and max(len(name) for name in names) == 255


def assert_refused(path, *patterns, args=()):
    """The command fails with a CommandError naming every pattern, and writes nothing."""
    before = (Course.objects.count(), CourseStructure.objects.count(), CourseBlock.objects.count())
    with pytest.raises(CommandError) as info:
        run(path, *args)
    for pattern in patterns:
        assert pattern in str(info.value), str(info.value)
    assert (Course.objects.count(), CourseStructure.objects.count(), CourseBlock.objects.count()) == before
    return str(info.value)


@pytest.fixture
def existing(olx):
    """A course already imported once: a refused import must leave it as it was."""
    run(olx(course_files('<chapter url_name="ch"/>', chapter__ch_xml="<chapter><html>x</html></chapter>"), "good"))


@pytest.mark.django_db
def test_a_url_name_making_a_key_longer_than_255_is_refused(olx, existing):
    name = "u" * 300
    folder = olx(course_files('<chapter url_name="ch"/>', chapter__ch_xml=f'<chapter><html url_name="{name}">x</html></chapter>'))
    message = assert_refused(folder, "chapter/ch.xml", "255")
    assert "<html>" in message


@pytest.mark.django_db
def test_a_block_type_longer_than_64_is_refused(olx, existing):
    tag = "t" * 65
    folder = olx(course_files('<chapter url_name="ch"/>', chapter__ch_xml=f"<chapter><{tag}>x</{tag}></chapter>"))
    assert_refused(folder, "chapter/ch.xml", "64")


@pytest.mark.django_db
def test_a_course_key_longer_than_255_is_refused(olx, existing):
    org = "O" * 250
    files = course_files("")
    files["course.xml"] = f'<course url_name="run" org="{org}" course="Num"/>'
    assert_refused(olx(files), "course.xml", "255")
    assert_refused(olx(course_files(""), "plain"), "255", args=("--course-key", f"course-v1:{org}+Num+run"))


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["99999999999999999999", "-99999999999999999999", "2147483648"])
def test_max_count_out_of_range_means_every_child(olx, value):
    folder = olx(
        course_files(
            '<chapter url_name="ch"/>',
            chapter__ch_xml=(
                f'<chapter><sequential><vertical><library_content max_count="{value}">'
                "<html>a</html><problem>b</problem></library_content></vertical></sequential></chapter>"
            ),
        )
    )
    run(folder)
    assert CourseBlock.objects.get(block_type="library_content").max_count is None


# Deep structures -------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("named", [True, False], ids=["named", "unnamed"])
def test_100000_nested_containers_are_refused(olx, existing, named):
    depth = 100_000
    attr = ' display_name="v"' if named else ""
    body = f"<vertical{attr}>" * depth + "</vertical>" * depth
    folder = olx(course_files('<chapter url_name="ch"/>', chapter__ch_xml=f"<chapter>{body}</chapter>"))
    assert_refused(folder, "chapter/ch.xml", f"nested more than {olx_module.MAX_XML_DEPTH} deep")


@pytest.mark.django_db
def test_deep_json_in_group_access_is_refused(olx, existing):
    deep = "[" * 100_000 + "]" * 100_000
    folder = olx(course_files('<chapter url_name="ch"/>', chapter__ch_xml=f"<chapter><html group_access='{deep}'>x</html></chapter>"))
    assert_refused(folder, "chapter/ch.xml", "group_access", f"{olx_module.MAX_JSON_DEPTH}")


@pytest.mark.django_db
def test_deep_json_in_policy_json_is_refused(olx, existing):
    deep = '{"a": ' * 100_000 + "1" + "}" * 100_000
    files = course_files('<chapter url_name="ch"/>', chapter__ch_xml="<chapter><html>x</html></chapter>")
    files["policies/run/policy.json"] = '{"course/run": {"start": "2020-01-01"}, "html/x": ' + deep + "}"
    assert_refused(olx(files), "policies/run/policy.json", f"{olx_module.MAX_JSON_DEPTH}")


def test_json_nested_within_the_limit_is_read():
    assert decode('{"1": [2, 3]}') == {"1": [2, 3]}
    nested = "[" * olx_module.MAX_JSON_DEPTH + "]" * olx_module.MAX_JSON_DEPTH
    assert decode(nested) is not None
    with pytest.raises(OlxError):
        decode("[" + nested + "]")
    # Brackets inside strings do not count.
    assert decode('["' + "[" * 500 + '"]') == ["[" * 500]


# Archives: lazy reads --------------------------------------------------------------------
def big_archive(tmp_path, size):
    """A .tar.gz of a small export plus an unreferenced ``problem/huge.xml`` of ``size`` bytes."""
    path = tmp_path / "big.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        for rel, text in course_files('<chapter url_name="ch"/>', chapter__ch_xml="<chapter><html>x</html></chapter>").items():
            data = text.encode()
            info = tarfile.TarInfo(f"course/{rel}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("course/problem/huge.xml")
        info.size = size

        class Zeros(io.RawIOBase):
            left = size

            def readable(self):
                return True

            def readinto(self, buffer):
                count = min(len(buffer), self.left)
                buffer[:count] = b"\0" * count
                self.left -= count
                return count

        archive.addfile(info, io.BufferedReader(Zeros(), 1 << 20))
    return path


def test_an_unreferenced_large_member_is_never_read(tmp_path, monkeypatch):
    path = big_archive(tmp_path, 64 * 1024 * 1024)
    read = []
    original = tarfile.TarFile.extractfile

    def recording(self, member):
        read.append(member if isinstance(member, str) else member.name)
        return original(self, member)

    monkeypatch.setattr(tarfile.TarFile, "extractfile", recording)
    tracemalloc.start()
    try:
        parsed = parse_course(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(parsed.blocks) == 3
    assert "course/problem/huge.xml" not in read
    assert set(read) == {"course/chapter/ch.xml", "course/course.xml", "course/course/run.xml"}
    assert peak < 24 * 1024 * 1024, peak  # the 64 MiB member never in memory


def test_a_referenced_member_is_read_from_the_archive(tmp_path):
    files = course_files('<chapter url_name="ch"/>', chapter__ch_xml='<chapter><problem url_name="p"/></chapter>')
    files["problem/p.xml"] = "<problem>" + "x" * 2_000_000 + "</problem>"
    folder = tmp_path / "export"
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    parsed = parse_course(make_tar(tmp_path / "c.tar.gz", folder))
    assert [block.block_type for block in parsed.blocks] == ["course", "chapter", "problem"]


# videoalpha ------------------------------------------------------------------------------
def test_videoalpha_is_a_counted_video(olx):
    folder = olx(course_files('<chapter url_name="ch"/>', chapter__ch_xml='<chapter><videoalpha youtube="1.0:x"/><video/></chapter>'))
    summary = parse_course(folder).summary()
    assert summary.unknown_types == {}
    assert summary.completable == 2
