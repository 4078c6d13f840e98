"""Archives: the export as a .tar.gz, and hostile archives that must be refused (no database)."""
import tarfile

import pytest

from completion_aggregator.standalone.olx import OlxError, parse_course
from completion_aggregator.standalone.olx import archive as olx_archive

from .conftest import course_files, make_tar, tar_member


@pytest.fixture
def export(olx):
    return olx(course_files('<chapter url_name="ch"/>', chapter__ch_xml="<chapter><html>x</html></chapter>"))


def test_folder_and_tarball_give_identical_ids(export, tmp_path):
    from_folder = parse_course(export)
    from_tar = parse_course(make_tar(tmp_path / "c.tar.gz", export))
    assert [str(block.key) for block in from_tar.blocks] == [str(block.key) for block in from_folder.blocks]
    assert len(from_tar.blocks) == 3


def test_static_and_drafts_in_an_archive_are_not_read(export, tmp_path):
    members = [
        tar_member("course/static/big.bin", b"\0" * 1000),
        tar_member("course/drafts/vertical/v.xml", b"<vertical><html/></vertical>"),
        tar_member("course/static/course.xml", b"<not-a-course/>"),
    ]
    parsed = parse_course(make_tar(tmp_path / "c.tar.gz", export, members=members))
    assert len(parsed.blocks) == 3


@pytest.mark.parametrize(
    "member, message",
    [
        (tar_member("course/../../evil.xml"), r"member 'course/../../evil.xml' escapes the archive's folder"),
        (tar_member("/etc/evil.xml"), r"member '/etc/evil.xml' escapes the archive's folder"),
        (tar_member("course/link.xml", kind=tarfile.SYMTYPE, linkname="/etc/passwd"), r"member 'course/link.xml' is a link"),
        (
            tar_member("course/hard.xml", kind=tarfile.LNKTYPE, linkname="course/course.xml"),
            r"member 'course/hard.xml' is a link",
        ),
        (tar_member("course/fifo", kind=tarfile.FIFOTYPE), r"member 'course/fifo' is not a regular file"),
    ],
    ids=["dotdot", "absolute", "symlink", "hardlink", "fifo"],
)
def test_hostile_members_refuse_the_archive(export, tmp_path, member, message):
    with pytest.raises(OlxError, match=message):
        parse_course(make_tar(tmp_path / "evil.tar.gz", export, members=[member]))


def test_decompression_bomb_is_refused(export, tmp_path, monkeypatch):
    tar = make_tar(tmp_path / "bomb.tar.gz", export, members=[tar_member("course/static/zeros.bin", b"\0" * 200_000)])
    assert tar.stat().st_size < 5_000  # compresses ~100x
    monkeypatch.setattr(olx_archive, "MAX_UNPACKED_BYTES", 100_000)
    with pytest.raises(OlxError, match="unpacks to more than 100000 bytes"):
        parse_course(tar)
    monkeypatch.setattr(olx_archive, "MAX_UNPACKED_BYTES", 10_000_000)
    monkeypatch.setattr(olx_archive, "MAX_MEMBERS", 3)
    with pytest.raises(OlxError, match="more than 3 members"):
        parse_course(tar)


def test_archive_without_or_with_several_course_xml(olx, tmp_path):
    empty = olx({"chapter/ch.xml": "<chapter/>"}, "empty")
    with pytest.raises(OlxError, match="no course.xml in the archive"):
        parse_course(make_tar(tmp_path / "empty.tar.gz", empty))
    one = olx(course_files(""), "one")
    tar = make_tar(tmp_path / "two.tar.gz", one, arcname="a", members=[tar_member("b/course.xml", b"<course/>")])
    with pytest.raises(OlxError, match=r"several course.xml files in the archive \(a/course.xml, b/course.xml\)"):
        parse_course(tar)


def test_truncated_archive(export, tmp_path):
    tar = make_tar(tmp_path / "c.tar.gz", export)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(tar.read_bytes()[: tar.stat().st_size // 2])
    with pytest.raises(OlxError, match="cut.tar.gz"):
        parse_course(cut)
