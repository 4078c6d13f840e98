"""The files of one export, read one at a time: the base :class:`Source` and a folder on disk."""
from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from .rules import OlxError


def safe_relpath(rel: str) -> str | None:
    """``rel`` normalised, or None when it is absolute or climbs out with ``..``."""
    rel = rel.replace("\\", "/")
    if rel.startswith("/") or re.match(r"^[A-Za-z]:", rel):
        return None
    parts = [part for part in rel.split("/") if part not in ("", ".")]
    if not parts or any(part == ".." for part in parts):
        return None
    return "/".join(parts)


class Source:
    """Files of one export, addressed relative to the folder holding ``course.xml``."""

    label = ""

    def read(self, rel: str) -> bytes | None:
        """
        The file's bytes, or None when the export has no such file.

        Raises:
            OlxError: the file cannot be read safely (outside the export, a damaged archive).
        """
        raise NotImplementedError

    def exists(self, rel: str) -> bool:
        """True when the export has the file ``rel`` (a path relative to ``course.xml``'s folder)."""
        raise NotImplementedError

    def describe(self, rel: str) -> str:
        """The file as messages name it (the source's label, then ``rel``)."""
        return f"{self.label}/{rel}" if self.label else rel

    def close(self) -> None:
        """Release what the source holds open (an archive's temporary file)."""


class FolderSource(Source):
    """The export as a folder on disk; links leading outside it are refused when read."""

    def __init__(self, root: Path, label: str):
        self.root = root.resolve()
        self.label = label

    def _path(self, rel: str) -> Path | None:
        path = (self.root / rel).resolve()
        if path != self.root and self.root not in path.parents:
            raise OlxError(f"{self.describe(rel)} leads outside the course folder (a link?)")
        return path

    def read(self, rel: str) -> bytes | None:
        """The file's bytes, or None (see :meth:`Source.read`)."""
        path = self._path(rel)
        if path is None or not path.is_file():
            return None
        return path.read_bytes()

    def exists(self, rel: str) -> bool:
        """True when ``rel`` is a file inside the folder (see :meth:`Source.exists`)."""
        path = self._path(rel)
        return bool(path and path.is_file())


def course_xml_candidates(rel_paths: list[str]) -> list[str]:
    """The shallowest ``course.xml`` files outside ``static``/``drafts`` folders."""
    found = [
        rel
        for rel in rel_paths
        if posixpath.basename(rel) == "course.xml"
        and not ({"static", "drafts"} & set(rel.split("/")[:-1]))
    ]
    if not found:
        return []
    depth = min(rel.count("/") for rel in found)
    return sorted(rel for rel in found if rel.count("/") == depth)


def open_folder(path: Path) -> Source:
    """
    The export in the folder ``path``: the folder itself, or the one folder below it holding ``course.xml``.

    Raises:
        OlxError: no ``course.xml``, or several at the same (shallowest) depth.
    """
    if (path / "course.xml").is_file():
        return FolderSource(path, str(path))
    rels = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d not in ("static", "drafts") and not d.startswith("."))
        if "course.xml" in filenames:
            rels.append(Path(dirpath, "course.xml").relative_to(path).as_posix())
    candidates = course_xml_candidates(rels)
    if not candidates:
        raise OlxError(f"{path}: no course.xml in this folder or below it; is it a course export?")
    if len(candidates) > 1:
        raise OlxError(f"{path}: several course.xml files ({', '.join(candidates)}); point at one course folder")
    root = path / posixpath.dirname(candidates[0])
    return FolderSource(root, str(root))
