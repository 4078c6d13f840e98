"""
A course export packed as a tar archive (``.tar.gz``, ``.tar.bz2``, ``.tar.xz`` or plain).

Archives are never extracted: a compressed archive is decompressed once into a temporary file
(in memory up to :data:`SPOOL_BYTES`, on disk beyond), its members are checked and indexed,
and only the files ``course.xml`` reaches are read (an unreferenced member costs no memory).
Members with absolute paths, ``..``, links or special files, and archives whose unpacked size
or member count exceed :data:`MAX_UNPACKED_BYTES` / :data:`MAX_MEMBERS` are rejected.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import posixpath
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import IO

from .rules import OlxError
from .sources import Source, course_xml_candidates, safe_relpath

#: Limits for archives (declared unpacked size of all members, number of members).
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_MEMBERS = 100_000
#: An archive is decompressed once into a temporary file, kept in memory up to this size.
SPOOL_BYTES = 8 * 1024 * 1024


class _ArchiveSource(Source):
    """
    Members of an uncompressed, seekable tar, read only when asked for.

    ``members`` indexes the ``.xml``/``.json`` files outside ``static``/``drafts`` by path;
    ``names`` is every file's path.
    """

    def __init__(
        self,
        archive: tarfile.TarFile,
        members: dict[str, tarfile.TarInfo],
        names: set[str],
        prefix: str,
        label: str,
    ):
        self.archive = archive
        self.members = members
        self.names = names
        self.prefix = prefix
        self.label = label

    def read(self, rel: str) -> bytes | None:
        """The member's bytes, or None when it is not indexed (see :meth:`Source.read`)."""
        member = self.members.get(self.prefix + rel)
        if member is None:
            return None
        try:
            handle = self.archive.extractfile(member)
            return handle.read() if handle is not None else b""
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise OlxError(f"{self.describe(rel)}: the archive is damaged ({exc})") from None

    def exists(self, rel: str) -> bool:
        """True when the archive has the member (any file, indexed or not)."""
        return (self.prefix + rel) in self.names

    def close(self) -> None:
        """Close the archive and its (temporary) stream."""
        stream = self.archive.fileobj
        self.archive.close()  # leaves a stream it was given open
        if stream is not None:
            stream.close()


_MAGIC = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))


def _uncompressed(path: Path) -> IO[bytes]:
    """
    The archive as a seekable, uncompressed tar stream.

    The file itself, or its decompressed copy in a temporary file (in memory up to
    :data:`SPOOL_BYTES`, on disk beyond), so that members can be read in any order without
    decompressing the archive again.

    Raises:
        OlxError: the archive is damaged, or decompresses to more than the limits allow.
    """
    with open(path, "rb") as handle:
        head = handle.read(6)
    opener = next((opener for magic, opener in _MAGIC if head.startswith(magic)), None)
    if opener is None:
        return open(path, "rb")
    # Headers and padding: at most three 512-byte blocks per member, plus the end blocks.
    limit = MAX_UNPACKED_BYTES + 3 * 512 * MAX_MEMBERS + 20 * 512
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        with opener(path, "rb") as stream:
            copied = 0
            while chunk := stream.read(1024 * 1024):
                copied += len(chunk)
                if copied > limit:
                    raise OlxError(
                        f"{path}: unpacks to more than {MAX_UNPACKED_BYTES} bytes (a decompression bomb?); "
                        "refusing the archive"
                    )
                spool.write(chunk)
    except OlxError:
        spool.close()
        raise
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        spool.close()
        raise OlxError(f"{path}: not a course export folder nor a readable .tar.gz archive ({exc})") from None
    spool.seek(0)
    return spool


def open_archive(path: Path) -> Source:
    """
    Check every member of the archive at ``path`` and index the ones that may be read; read none.

    Raises:
        OlxError: unreadable, hostile (paths, links, special files), too large, or no single
            ``course.xml``.
    """
    stream = _uncompressed(path)
    try:
        archive = tarfile.open(fileobj=stream, mode="r:")
    except (tarfile.TarError, OSError, EOFError) as exc:
        stream.close()
        raise OlxError(f"{path}: not a course export folder nor a readable .tar.gz archive ({exc})") from None
    try:
        return _index_archive(path, archive)
    except BaseException:
        archive.close()
        stream.close()
        raise


def _index_archive(path: Path, archive: tarfile.TarFile) -> _ArchiveSource:
    """Check every member (see :func:`open_archive`) and index the readable ones."""
    members: dict[str, tarfile.TarInfo] = {}
    names: set[str] = set()
    total = 0
    count = 0
    try:
        for member in archive:
            count += 1
            if count > MAX_MEMBERS:
                raise OlxError(f"{path}: more than {MAX_MEMBERS} members; refusing the archive")
            rel = safe_relpath(member.name)
            if rel is None:
                if member.isdir() and member.name.strip("./") == "":
                    continue  # the archive's own "./" entry
                raise OlxError(
                    f"{path}: member {member.name!r} escapes the archive's folder (absolute path or '..'); "
                    "refusing the archive"
                )
            if member.issym() or member.islnk():
                raise OlxError(f"{path}: member {member.name!r} is a link; refusing the archive")
            if member.isdir():
                continue
            if not member.isfile():
                raise OlxError(f"{path}: member {member.name!r} is not a regular file; refusing the archive")
            total += member.size
            if total > MAX_UNPACKED_BYTES:
                raise OlxError(
                    f"{path}: unpacks to more than {MAX_UNPACKED_BYTES} bytes (a decompression bomb?); "
                    "refusing the archive"
                )
            names.add(rel)
            top = rel.split("/")
            if rel.endswith((".xml", ".json")) and not ({"static", "drafts"} & set(top[:-1])):
                members[rel] = member
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise OlxError(f"{path}: the archive is damaged ({exc})") from None
    candidates = course_xml_candidates(sorted(members))
    if not candidates:
        raise OlxError(f"{path}: no course.xml in the archive; is it a course export?")
    if len(candidates) > 1:
        raise OlxError(f"{path}: several course.xml files in the archive ({', '.join(candidates)})")
    folder = posixpath.dirname(candidates[0])
    prefix = f"{folder}/" if folder else ""
    return _ArchiveSource(archive, members, names, prefix, f"{path}:{folder}" if folder else str(path))
