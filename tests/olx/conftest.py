"""Shared helpers of the OLX import tests: the real demo export and small synthetic exports."""
from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest

#: ``../shared/data/olx`` beside the repository (present locally and in CI).
OLX_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "olx"
DEMO_DIR = OLX_DATA / "openedx-demo-course"
DEMO_TAR = OLX_DATA / "openedx-demo-course.tar.gz"
DEMO_KEY = "course-v1:OpenedX+DemoX+DemoCourse"

needs_demo = pytest.mark.skipif(
    not DEMO_DIR.is_dir() or not DEMO_TAR.is_file(),
    reason=f"the Open edX demo course export is absent ({DEMO_DIR} and {DEMO_TAR.name}: ../shared is not here)",
)

COURSE_XML = '<course url_name="run" org="Org" course="Num"/>'


def write_olx(root: Path, files: dict[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root`` and return ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def course_files(body: str, course_attrs: str = 'display_name="Synthetic"', **extra: str) -> dict[str, str]:
    """A pointer ``course.xml`` plus ``course/run.xml`` holding ``body``; ``extra`` adds files."""
    files = {"course.xml": COURSE_XML, "course/run.xml": f"<course {course_attrs}>{body}</course>"}
    # Keyword names stand for paths: "chapter__ch_xml" is "chapter/ch.xml".
    files.update({re.sub(r"_(xml|html|json)$", r".\1", rel.replace("__", "/")): text for rel, text in extra.items()})
    return files


def make_tar(path: Path, folder: Path | None = None, arcname: str = "course", members=()) -> Path:
    """A .tar.gz of ``folder`` (as ``arcname``) plus raw ``(TarInfo, bytes | None)`` members."""
    with tarfile.open(path, "w:gz") as archive:
        if folder is not None:
            archive.add(folder, arcname=arcname)
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def tar_member(name: str, data: bytes = b"<x/>", kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tuple:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        return info, data
    return info, None


@pytest.fixture
def olx(tmp_path):
    """``olx(files, name="export")`` writes a synthetic export under tmp_path and returns its folder."""

    def build(files: dict[str, str], name: str = "export") -> Path:
        return write_olx(tmp_path / name, files)

    return build
