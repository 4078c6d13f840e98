"""Parsing a whole export: ``course.xml``, the course key, the walk and the inheritance."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from opaque_keys.edx.keys import CourseKey
from opaque_keys.edx.locator import CourseLocator

from ...keys import parse_course_key
from .archive import open_archive
from .elements import clean_name, is_course_pointer, name_to_pathname
from .files import CourseFiles
from .inheritance import inherit
from .results import ParsedCourse, ident
from .rules import MAX_KEY_LENGTH, OlxError
from .sources import Source, open_folder, safe_relpath
from .values import as_bool, as_text
from .walker import BlockName, Walker


def parse_course(path: str | os.PathLike[str], course_key: str | CourseKey | None = None) -> ParsedCourse:
    """
    Read the export at ``path`` (a folder or a ``.tar.gz``) into a :class:`ParsedCourse`.

    The course key is ``course-v1:{org}+{course}+{url_name}`` from ``course.xml`` unless
    ``course_key`` is given; the root block's id is ``course``. Pure: no database.

    Raises:
        OlxError: the path is not an export, ``course.xml`` is missing, a file is malformed,
            a pointer names a missing file, the archive is hostile, the key is invalid, or a
            limit is exceeded (``docs/standalone.rst``, "Import limits": a course or block key
            over :data:`MAX_KEY_LENGTH` characters, a block type over
            :data:`MAX_BLOCK_TYPE_LENGTH`, blocks nested over :data:`MAX_DEPTH`, elements of a
            file over :data:`MAX_XML_DEPTH`, JSON over :data:`MAX_JSON_DEPTH`). The message
            names the file and the limit.
    """
    explicit = _course_key_from(course_key) if course_key is not None and course_key != "" else None
    source = _open(Path(path))
    try:
        return _parse(source, explicit)
    finally:
        source.close()


def _open(path: Path) -> Source:
    if path.is_dir():
        return open_folder(path)
    if path.is_file():
        return open_archive(path)
    raise OlxError(f"{path}: no such file or folder; give a course export folder or a .tar.gz")


def _course_key_from(value: str | CourseKey) -> CourseKey:
    """A ``course-v1:`` key of at most :data:`MAX_KEY_LENGTH` characters (raises OlxError)."""
    try:
        key = parse_course_key(value, strip=True)
    except ValueError as exc:
        raise OlxError(str(exc)) from None
    if not isinstance(key, CourseLocator) or key.deprecated:
        raise OlxError(f"invalid course key {value!r}: expected course-v1:ORG+NUMBER+RUN")
    if len(str(key)) > MAX_KEY_LENGTH:
        raise OlxError(
            f"the course key {str(key)[:60]!r}… has {len(str(key))} characters; the limit is {MAX_KEY_LENGTH}"
        )
    return key


@dataclass
class _CourseElement:
    """``course.xml`` read: the run, the element defining the course, its file and attributes."""

    run: str
    definition: ET.Element
    file: str
    attrs: dict[str, str]


def _course_element(files: CourseFiles) -> _CourseElement:
    """
    ``course.xml``, and the ``course/RUN.xml`` it points to if it is a pointer.

    Raises:
        OlxError: the root element is not ``<course>``, or the pointer is broken.
    """
    top = files.load("course.xml")
    top_file = files.describe("course.xml")
    if top.tag != "course":
        raise OlxError(f"{top_file}: the root element is <{top.tag}>, expected <course>")
    if not is_course_pointer(top):
        name = top.get("name")
        run = top.get("url_name") or top.get("slug") or (clean_name(name) if name else "")
        return _CourseElement(run, top, top_file, dict(top.attrib))
    run = top.attrib["url_name"]
    definition_path = safe_relpath(f"course/{name_to_pathname(run)}.xml")
    if definition_path is None:
        raise OlxError(f'{top_file}: url_name="{run}" points outside the course folder')
    if files.source.read(definition_path) is None:
        raise OlxError(
            f'{top_file}: <course url_name="{run}"> points to {files.describe(definition_path)}, '
            "which does not exist"
        )
    definition = files.load(definition_path, top_file)
    definition_file = files.describe(definition_path)
    if definition.tag != "course":
        raise OlxError(f"{definition_file}: the root element is <{definition.tag}>, expected <course>")
    attrs = dict(definition.attrib)
    attrs.update(top.attrib)
    return _CourseElement(run, definition, definition_file, attrs)


def _course_key(course: _CourseElement, explicit: CourseKey | None, top_file: str) -> CourseKey:
    """``explicit``, else ``course-v1:{org}+{course}+{run}`` from ``course.xml`` (org ``edx`` by default)."""
    if explicit is not None:
        return explicit
    org = course.attrs.get("org") or "edx"
    number = course.attrs.get("course") or ""
    if not course.run or not number:
        raise OlxError(f"{top_file}: names no course run or number; give --course-key")
    try:
        return _course_key_from(f"course-v1:{org}+{number}+{course.run}")
    except OlxError as exc:
        raise OlxError(f"{top_file}: {exc} (give --course-key)") from None


def _parse(source: Source, explicit: CourseKey | None) -> ParsedCourse:
    files = CourseFiles(source)
    course = _course_element(files)
    key = _course_key(course, explicit, source.describe("course.xml"))
    run = course.run
    walker = Walker(files, key, files.load_policy(run or "course"), run)
    root = key.make_usage_key("course", "course")
    course_attrs = {name: value for name, value in course.attrs.items() if name not in ("url_name", "org", "course")}
    merged = dict(course_attrs)
    merged.update(walker.policy.get(f"course/{run}", {}))
    walker.add(BlockName("course", run, root, "course"), course.definition, course_attrs, course.file, 0)
    inherit(walker.nodes, root)
    return ParsedCourse(
        course_key=key,
        root=root,
        blocks=[walker.nodes[ident(block_key)].block for block_key in walker.order],
        run=run,
        display_name=as_text(merged.get("display_name")),
        mobile_available=as_bool(merged.get("mobile_available")) if "mobile_available" in merged else None,
        source=source.label,
        warnings=files.warnings,
    )
