"""
Read an Open edX course export (OLX) into a block tree, and publish it into the standalone host.

:func:`parse_course` is pure: it reads a folder or a ``.tar.gz`` and touches no database.
:func:`import_course` parses fully first and only then calls
:func:`~completion_aggregator.standalone.publishing.publish_structure` (one transaction), so
bad input writes nothing.

What is read (``docs``: ``../shared/reference/olx.md``):

* ``course.xml`` (a pointer ``<course url_name=RUN org=ORG course=NUM/>`` to
  ``course/RUN.xml``, or the whole course), ``policies/RUN/policy.json`` (or the legacy
  ``policies/RUN.json``; policy overrides XML attributes).
* Pointer elements (only the attribute ``url_name``, no children, no text) are resolved to
  ``<tag>/<url_name>.xml`` (``:`` becomes ``/``); every other element is an inline definition.
  ``filename=`` on a non-html element is resolved like edx-platform's ``load_definition``
  (``<tag>/<filename>.xml``; problems also ``problems/…`` and the bare name); the element's
  own attributes win over the file's.
* Only container types (:data:`CONTAINER_TYPES`) have child blocks; child elements of any
  other block (a problem's ``<choiceresponse>``, a video's ``<source>``) are content. Under
  ``course`` the ``wiki``/``textbook`` elements and under ``conditional`` the ``show``
  elements are skipped, as are XBlock asides (``xblock-family="xblock_asides.v1"``).
* Ids: ``url_name``, ``slug``, cleaned ``name``, cleaned ``display_name``, else
  ``<tag>_<sha1(serialized element)[:12]>`` (edx-platform's order). The serialisation is
  ElementTree's, so hash ids are stable across imports of the same export but are not the
  LMS's. A name seen before is renamed ``<tag>_<name>_<sha1[:12]>`` for the types in
  :data:`UNIQUE_NAME_TYPES`; for other types the later element *is* the earlier block (one
  block, several parents).
* Effective values, computed parents-first over the DAG: ``start`` = the latest of the
  ancestors' and the block's own; ``visible_to_staff_only`` = any ancestor (or the block)
  staff-only; ``optional_completion`` inherits like an inheritable XBlock field (the block's
  explicit value wins). A block with several parents takes the most visible path: the
  earliest start, staff-only only if staff-only along every path, optional only if optional
  along every path.
* ``drafts/``, ``static/`` and files nothing points to are never read.
* Per-learner settings (``group_access``, a library's ``max_count``, a split_test's
  ``user_partition_id``/``group_id_to_child``, the course's ``user_partitions``) are published
  with the blocks (:meth:`ParsedBlock.per_learner_settings`); the host's rules are in
  ``docs/standalone.rst``.

Archives are never extracted: a compressed archive is decompressed once into a temporary file
(in memory up to :data:`SPOOL_BYTES`, on disk beyond), its members are checked and indexed,
and only the files ``course.xml`` reaches are read (an unreferenced member costs no memory).
Members with absolute paths, ``..``, links or special files, and archives whose unpacked size
or member count exceed :data:`MAX_UNPACKED_BYTES` / :data:`MAX_MEMBERS` are rejected.

Limits (``docs/standalone.rst``): keys longer than their columns, over-long block types and
structures nested too deep (elements, blocks, JSON values) are an :class:`OlxError` naming the
file and the limit; display names are truncated and out-of-range ``max_count`` values mean
"every child" when published. The walker is linear in the number of blocks and children.
"""
from __future__ import annotations

import bz2
import copy
import gzip
import hashlib
import html.entities
import json
import lzma
import os
import posixpath
import re
import tarfile
import tempfile
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey
from opaque_keys.edx.locator import BlockUsageLocator, CourseLocator

from ..keys import parse_course_key, parse_usage_key

#: Types whose child elements are blocks; every other type is a leaf.
CONTAINER_TYPES = frozenset(
    {
        "course", "chapter", "sequential", "vertical", "videosequence", "split_test", "conditional",
        "library_content", "itembank", "randomize", "wrapper", "unit",
    }
)
#: Child elements of a container that are not blocks.
SKIPPED_CHILDREN = {"course": frozenset({"wiki", "textbook"}), "conditional": frozenset({"show"})}
#: Types whose repeated names edx-platform renames (``ImportSystem``'s ``need_uniq_names``).
UNIQUE_NAME_TYPES = frozenset(
    {"problem", "sequential", "video", "course", "chapter", "videosequence", "poll_question", "vertical"}
)
#: Limits for archives (declared unpacked size of all members, number of members).
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_MEMBERS = 100_000
#: Limit of element nesting followed from the course root.
MAX_DEPTH = 100
#: Limit of element nesting inside one XML file (deeper files are refused before walking).
MAX_XML_DEPTH = 200
#: Limit of nesting of a JSON value (an attribute such as ``group_access``, ``policy.json``).
MAX_JSON_DEPTH = 100
#: Column sizes of the standalone host (and of the aggregator's key columns): a serialized
#: course or usage key, a block type. Keys and types are never truncated (an export that would
#: need it is refused); display names are truncated when published (``publishing``).
MAX_KEY_LENGTH = 255
MAX_BLOCK_TYPE_LENGTH = 64
#: An archive is decompressed once into a temporary file, kept in memory up to this size.
SPOOL_BYTES = 8 * 1024 * 1024
#: Settings decoded as JSON (checked against :data:`MAX_JSON_DEPTH` first).

#: Settings kept (JSON-decoded) on :attr:`ParsedBlock.extra` for per-learner visibility rules.
EXTRA_SETTINGS = (
    "group_access", "user_partitions", "user_partition_id", "group_id_to_child", "max_count",
    "source_library_id", "sources", "hide_from_toc",
)
DECODED_SETTINGS = ("start", "visible_to_staff_only", "optional_completion", *EXTRA_SETTINGS)
#: Types of which a learner gets ``max_count`` children (``randomize``: one).
SELECTING_TYPES = frozenset({"library_content", "itembank", "randomize"})
_ASIDE_FAMILY = "xblock_asides.v1"
_BLOCK_TYPE_RE = re.compile(r"^[\w\-~.:]+\Z", re.UNICODE)
_BLOCK_ID_RE = re.compile(r"^[\w\-~.:%]+\Z", re.UNICODE)
_INVALID_NAME_CHARS = re.compile(r"[^\w.:%-]", re.UNICODE)
_FALLBACK_RE = re.compile(r"[0-9a-fA-F]{12}\Z")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_ENTITY_RE = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


class OlxError(ValueError):
    """The export cannot be imported; the message names the file (and line) at fault."""


class _JsonTooDeep(OlxError):
    """A JSON value nested deeper than :data:`MAX_JSON_DEPTH` (the caller names the file)."""


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass
class ParsedBlock:
    """One block of the parsed tree, with its effective (inherited) settings."""

    key: UsageKey
    block_type: str
    url_name: str
    children: list[UsageKey] = field(default_factory=list)
    display_name: str = ""
    start: datetime | None = None
    visible_to_staff_only: bool = False
    optional_completion: bool = False
    source: str = ""  # the file that defines it
    content_tags: tuple[str, ...] = ()  # child element tags of a leaf (content, not blocks)
    parents: list[UsageKey] = field(default_factory=list)
    #: Raw settings (:data:`EXTRA_SETTINGS`), JSON-decoded; :meth:`per_learner_settings` gives
    #: the stored form of those the per-learner rules use (``docs/standalone.rst``).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_leaf(self) -> bool:
        """Not a container type (an empty vertical is not a leaf)."""
        return self.block_type not in CONTAINER_TYPES

    def spec(self):
        """This block as a :class:`~completion_aggregator.standalone.publishing.BlockSpec`."""
        from .publishing import BlockSpec

        group_access, max_count, extra = self.per_learner_settings()
        return BlockSpec(
            key=self.key,
            block_type=self.block_type,
            children=list(self.children),
            display_name=self.display_name,
            start=self.start,
            visible_to_staff_only=self.visible_to_staff_only,
            optional_completion=self.optional_completion,
            group_access=group_access,
            max_count=max_count,
            extra=extra,
        )

    def per_learner_settings(self) -> tuple[dict[str, list[int]], int | None, dict[str, Any]]:
        """
        ``(group_access, max_count, extra)`` as the host stores them (``docs/standalone.rst``).

        * ``group_access``: ``{partition id: [group ids]}``; unreadable values are dropped.
        * ``max_count``: for :data:`SELECTING_TYPES` (``randomize`` is 1); None means all.
        * ``extra``: ``user_partitions`` (course root); a split_test's ``user_partition_id`` and
          ``group_id_to_child`` resolved to this course's child keys (``i4x://``, ``block-v1:``
          or bare ids), mappings to non-children dropped.
        """
        group_access: dict[str, list[int]] = {}
        raw = self.extra.get("group_access")
        if isinstance(raw, dict):
            for partition, groups in raw.items():
                try:
                    ids = sorted({int(group) for group in (groups or [])})
                    group_access[str(int(partition))] = ids
                except (TypeError, ValueError):
                    continue
            group_access = {partition: ids for partition, ids in group_access.items() if ids}
        max_count = None
        if self.block_type == "randomize":
            max_count = 1
        elif self.block_type in SELECTING_TYPES:
            max_count = _as_int(self.extra.get("max_count"))
            if max_count is not None and max_count < 0:
                max_count = None
        extra: dict[str, Any] = {}
        if isinstance(self.extra.get("user_partitions"), list):
            extra["user_partitions"] = self.extra["user_partitions"]
        if self.block_type == "split_test":
            partition = _as_int(self.extra.get("user_partition_id"))
            if partition is not None:
                extra["user_partition_id"] = partition
            mapping = self.extra.get("group_id_to_child")
            children = {str(child): child for child in self.children}
            resolved = {}
            if isinstance(mapping, dict):
                for group, target in mapping.items():
                    child = _resolve_child(self.key.course_key, str(target), children)
                    if child is not None and _as_int(group) is not None:
                        resolved[str(_as_int(group))] = child
            extra["group_id_to_child"] = resolved
        return group_access, max_count, extra


@dataclass
class ImportSummary:
    """
    What an import contains.

    * ``leaves``: blocks of non-container types.
    * ``completable``: COMPLETABLE blocks the engine counts for a learner who sees everything
      (reachable from the root through AGGREGATOR blocks).
    * ``excluded``: blocks whose mode is EXCLUDED, unknown types included.
    * ``unknown_types``: ``{type: count}`` of types neither built in, installed nor overridden.
    * ``unreleased``: blocks whose effective start is in the future; ``staff_only``: blocks
      whose effective ``visible_to_staff_only`` is true.
    """

    course_key: str
    root: str
    display_name: str
    blocks: int
    blocks_by_type: dict[str, int]
    leaves: int
    completable: int
    excluded: int
    unknown_types: dict[str, int]
    unreleased: int
    staff_only: int
    optional: int = 0
    warnings: list[str] = field(default_factory=list)
    structure_version: int | None = None

    JSON_KEYS = (
        "course_key", "blocks", "blocks_by_type", "leaves", "completable", "excluded",
        "unknown_types", "unreleased", "staff_only",
    )

    def as_json(self) -> dict[str, Any]:
        """The summary as the ``--json`` object (exactly :attr:`JSON_KEYS`)."""
        return {name: getattr(self, name) for name in self.JSON_KEYS}


@dataclass
class ParsedCourse:
    """A parsed export: the course key, the root's usage key and the blocks in course order."""

    course_key: CourseKey
    root: UsageKey
    blocks: list[ParsedBlock]
    run: str
    display_name: str = ""
    mobile_available: bool | None = None
    source: str = ""
    warnings: list[str] = field(default_factory=list)

    def block(self, key: UsageKey | str) -> ParsedBlock:
        """The block with this usage key."""
        wanted = str(key)
        for block in self.blocks:
            if str(block.key) == wanted:
                return block
        raise KeyError(wanted)

    def specs(self) -> list:
        """The blocks as ``BlockSpec`` objects for :func:`publish_structure`."""
        return [block.spec() for block in self.blocks]

    def summary(
        self, mode_of: Callable[[str], Any] | None = None, now: datetime | None = None
    ) -> ImportSummary:
        """
        Count the blocks (see :class:`ImportSummary`).

        ``mode_of`` defaults to :func:`completion_aggregator.completion_modes.mode_lookup`
        (settings, no database).
        """
        from ..completion_modes import BUILTIN_MODES, installed_mode, mode_lookup
        from ..conf import get_setting
        from ..data import CompletionMode

        if mode_of is None:
            mode_of = mode_lookup()
        now = now or datetime.now(UTC)
        overrides = set(get_setting("COMPLETION_AGGREGATOR_COMPLETION_MODE_OVERRIDES") or {})
        use_classes = bool(get_setting("COMPLETION_AGGREGATOR_USE_XBLOCK_CLASSES"))
        by_type = Counter(block.block_type for block in self.blocks)
        modes = {block_type: mode_of(block_type) for block_type in by_type}
        unknown = {
            block_type: count
            for block_type, count in sorted(by_type.items())
            if block_type not in BUILTIN_MODES
            and block_type not in overrides
            and not (use_classes and installed_mode(block_type) is not None)
        }
        index = {_ident(block.key): block for block in self.blocks}
        completable: set = set()
        seen = {_ident(self.root)}
        stack = [_ident(self.root)]
        while stack:
            block = index[stack.pop()]
            mode = modes[block.block_type]
            if mode is CompletionMode.COMPLETABLE:
                completable.add(_ident(block.key))
            elif mode is CompletionMode.AGGREGATOR:
                for child in map(_ident, block.children):
                    if child not in seen:
                        seen.add(child)
                        stack.append(child)
        return ImportSummary(
            course_key=str(self.course_key),
            root=str(self.root),
            display_name=self.display_name,
            blocks=len(self.blocks),
            blocks_by_type=dict(sorted(by_type.items(), key=lambda item: (-item[1], item[0]))),
            leaves=sum(1 for block in self.blocks if block.is_leaf),
            completable=len(completable),
            excluded=sum(1 for block in self.blocks if modes[block.block_type] is CompletionMode.EXCLUDED),
            unknown_types=unknown,
            unreleased=sum(1 for block in self.blocks if block.start is not None and block.start > now),
            staff_only=sum(1 for block in self.blocks if block.visible_to_staff_only),
            optional=sum(1 for block in self.blocks if block.optional_completion),
            warnings=list(self.warnings),
        )


# --------------------------------------------------------------------------------------------
# Sources: a folder or an archive, read per file
# --------------------------------------------------------------------------------------------
def _safe_relpath(rel: str) -> str | None:
    """``rel`` normalised, or None when it is absolute or climbs out with ``..``."""
    rel = rel.replace("\\", "/")
    if rel.startswith("/") or re.match(r"^[A-Za-z]:", rel):
        return None
    parts = [part for part in rel.split("/") if part not in ("", ".")]
    if not parts or any(part == ".." for part in parts):
        return None
    return "/".join(parts)


class _Source:
    """Files of one export, addressed relative to the folder holding ``course.xml``."""

    label = ""

    def read(self, rel: str) -> bytes | None:  # pragma: no cover - interface
        raise NotImplementedError

    def exists(self, rel: str) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self, rel: str) -> str:
        return f"{self.label}/{rel}" if self.label else rel

    def close(self) -> None:
        """Release what the source holds open (an archive's temporary file)."""


class _FolderSource(_Source):
    def __init__(self, root: Path, label: str):
        self.root = root.resolve()
        self.label = label

    def _path(self, rel: str) -> Path | None:
        path = (self.root / rel).resolve()
        if path != self.root and self.root not in path.parents:
            raise OlxError(f"{self.describe(rel)} leads outside the course folder (a link?)")
        return path

    def read(self, rel: str) -> bytes | None:
        path = self._path(rel)
        if path is None or not path.is_file():
            return None
        return path.read_bytes()

    def exists(self, rel: str) -> bool:
        path = self._path(rel)
        return bool(path and path.is_file())


class _ArchiveSource(_Source):
    """
    Members of an uncompressed, seekable tar, read only when asked for.

    ``members`` indexes the ``.xml``/``.json`` files outside ``static``/``drafts`` by path;
    ``names`` is every file's path.
    """

    def __init__(
        self, archive: tarfile.TarFile, members: dict[str, tarfile.TarInfo], names: set[str], prefix: str, label: str
    ):
        self.archive = archive
        self.members = members
        self.names = names
        self.prefix = prefix
        self.label = label

    def read(self, rel: str) -> bytes | None:
        member = self.members.get(self.prefix + rel)
        if member is None:
            return None
        try:
            handle = self.archive.extractfile(member)
            return handle.read() if handle is not None else b""
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise OlxError(f"{self.describe(rel)}: the archive is damaged ({exc})") from None

    def exists(self, rel: str) -> bool:
        return (self.prefix + rel) in self.names

    def close(self) -> None:
        stream = self.archive.fileobj
        self.archive.close()  # leaves a stream it was given open
        if stream is not None:
            stream.close()


def _course_xml_candidates(rel_paths: list[str]) -> list[str]:
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


def _open_folder(path: Path) -> _Source:
    if (path / "course.xml").is_file():
        return _FolderSource(path, str(path))
    rels = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d not in ("static", "drafts") and not d.startswith("."))
        if "course.xml" in filenames:
            rels.append(Path(dirpath, "course.xml").relative_to(path).as_posix())
    candidates = _course_xml_candidates(rels)
    if not candidates:
        raise OlxError(f"{path}: no course.xml in this folder or below it; is it a course export?")
    if len(candidates) > 1:
        raise OlxError(f"{path}: several course.xml files ({', '.join(candidates)}); point at one course folder")
    root = path / posixpath.dirname(candidates[0])
    return _FolderSource(root, str(root))


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
    return spool  # type: ignore[return-value]


def _open_archive(path: Path) -> _Source:
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
    members: dict[str, tarfile.TarInfo] = {}
    names: set[str] = set()
    total = 0
    count = 0
    try:
        for member in archive:
            count += 1
            if count > MAX_MEMBERS:
                raise OlxError(f"{path}: more than {MAX_MEMBERS} members; refusing the archive")
            rel = _safe_relpath(member.name)
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
    candidates = _course_xml_candidates(sorted(members))
    if not candidates:
        raise OlxError(f"{path}: no course.xml in the archive; is it a course export?")
    if len(candidates) > 1:
        raise OlxError(f"{path}: several course.xml files in the archive ({', '.join(candidates)})")
    folder = posixpath.dirname(candidates[0])
    prefix = f"{folder}/" if folder else ""
    return _ArchiveSource(archive, members, names, prefix, f"{path}:{folder}" if folder else str(path))


def _open(path: str | os.PathLike) -> _Source:
    path = Path(path)
    if path.is_dir():
        return _open_folder(path)
    if path.is_file():
        return _open_archive(path)
    raise OlxError(f"{path}: no such file or folder; give a course export folder or a .tar.gz")


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------
def _as_int(value: Any) -> int | None:
    """An int from an int or numeric string; None otherwise (``True`` is not a number)."""
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _resolve_child(course_key: CourseKey, target: str, children: dict[str, UsageKey]) -> str | None:
    """A split_test mapping value (``i4x://org/num/type/id``, ``block-v1:…`` or an id) as a child key."""
    target = target.strip()
    candidates = []
    if target.startswith("i4x://"):
        parts = target[len("i4x://") :].split("/")
        if len(parts) >= 4:
            candidates.append(str(course_key.make_usage_key(parts[2], parts[3])))
    elif target.startswith("block-v1:"):
        try:
            usage = parse_usage_key(target)
            candidates.append(str(course_key.make_usage_key(usage.block_type, usage.block_id)))
        except InvalidKeyError:
            pass
    else:
        candidates.extend(str(child) for child in children.values() if child.block_id == target)
    return next((candidate for candidate in candidates if candidate in children), None)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _json_depth(text: str) -> int:
    """How deep JSON ``text`` nests arrays and objects (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _loads(text: str) -> Any:
    """``json.loads``, refusing values nested deeper than :data:`MAX_JSON_DEPTH` (raises ``_JsonTooDeep``)."""
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise _JsonTooDeep(f"JSON nested more than {MAX_JSON_DEPTH} deep")
    return json.loads(text)


def _decode(value: Any) -> Any:
    """
    An attribute or policy value: JSON-decoded when it is JSON (``"\\"2013-…\\""``, ``true``).

    Raises:
        _JsonTooDeep: the value is JSON nested deeper than :data:`MAX_JSON_DEPTH`.
    """
    for _ in range(2):
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return text
        if _json_depth(text) > MAX_JSON_DEPTH:
            raise _JsonTooDeep(f"JSON nested more than {MAX_JSON_DEPTH} deep")
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        if decoded == value:
            return decoded
        value = decoded
    return value


def _as_text(value: Any) -> str:
    """A String field: a JSON-quoted string is unquoted, anything else is kept as written."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith('"'):
            try:
                decoded = json.loads(text)
            except ValueError:
                return value
            return decoded if isinstance(decoded, str) else value
        return value
    return str(value)


def _as_bool(value: Any) -> bool | None:
    value = _decode(value)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _as_datetime(value: Any) -> datetime | None:
    """A date as XBlock's Date field reads it (naive means UTC); raises ValueError if unreadable."""
    value = _decode(value)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a date: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _clean(value: str) -> str:
    return BlockUsageLocator.clean(value)


def _name_to_pathname(name: str) -> str:
    return name.replace(":", "/")


def _serialize(elem: ET.Element) -> str:
    shallow = copy.copy(elem)
    shallow.tail = None
    return ET.tostring(shallow, encoding="unicode")


def _sha12(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _is_pointer(elem: ET.Element) -> bool:
    return set(elem.attrib) == {"url_name"} and len(elem) == 0 and not (elem.text or "").strip()


def _is_course_pointer(elem: ET.Element) -> bool:
    return set(elem.attrib) == {"url_name", "org", "course"} and len(elem) == 0 and not (elem.text or "").strip()


def _html_entities_to_numeric(text: str) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name in _XML_ENTITIES or name not in html.entities.name2codepoint:
            return match.group(0)
        return f"&#{html.entities.name2codepoint[name]};"

    return _ENTITY_RE.sub(replace, text)


def _element_depth(root: ET.Element) -> int:
    """How deep the elements under ``root`` nest (``root`` alone is 1); iterative."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        elem, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_XML_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in elem)
    return deepest


# --------------------------------------------------------------------------------------------
# The walker
# --------------------------------------------------------------------------------------------
@dataclass
class _Node:
    block: ParsedBlock
    own_start: datetime | None = None
    own_staff_only: bool = False
    own_optional: bool | None = None


class _Parser:
    def __init__(self, source: _Source):
        self.source = source
        self.files: dict[str, ET.Element] = {}
        self.warnings: list[str] = []
        # Keyed by (block type, block id): a usage key's own hash is recomputed on every use
        # (opaque-keys), which made a wide unit's import slow.
        self.nodes: dict[tuple[str, str], _Node] = {}
        self.order: list[UsageKey] = []
        self.used_names: dict[str, set[str]] = {}
        self.in_progress: set[tuple[str, str]] = set()
        self.policy: dict[str, dict] = {}
        self.course_key: CourseKey | None = None

    # Files ------------------------------------------------------------------------------
    def load(self, rel: str, referrer: str = "") -> ET.Element:
        if rel in self.files:
            return self.files[rel]
        data = self.source.read(rel)
        if data is None:
            where = f"{referrer}: " if referrer else ""
            raise OlxError(f"{where}{self.source.describe(rel)} does not exist")
        self.files[rel] = self._parse_xml(data, rel)
        return self.files[rel]

    def _parse_xml(self, data: bytes, rel: str) -> ET.Element:
        root = self._parse_xml_text(data, rel)
        depth = _element_depth(root)
        if depth > MAX_XML_DEPTH:
            raise OlxError(
                f"{self.source.describe(rel)}: elements nested more than {MAX_XML_DEPTH} deep (the limit; "
                f"blocks may nest {MAX_DEPTH} deep)"
            )
        return root

    def _parse_xml_text(self, data: bytes, rel: str) -> ET.Element:
        try:
            return ET.fromstring(data)
        except ET.ParseError as exc:
            first = exc
        if "undefined entity" in str(first):
            # Hand-written files may use HTML entities (&nbsp;): retry with them made numeric.
            try:
                text = data.decode("utf-8")
                fixed = _html_entities_to_numeric(text)
                if fixed != text:
                    elem = ET.fromstring(fixed.encode("utf-8"))
                    self.warnings.append(f"{self.source.describe(rel)}: HTML entities converted")
                    return elem
            except (UnicodeDecodeError, ET.ParseError):
                pass
        line, column = getattr(first, "position", (0, 0))
        message = str(first).split(":", 1)[0]
        raise OlxError(f"{self.source.describe(rel)}: malformed XML at line {line}, column {column + 1}: {message}")

    def exists(self, rel: str) -> bool:
        return self.source.exists(rel)

    def load_policy(self, run: str) -> None:
        for rel in (f"policies/{run}/policy.json", f"policies/{run}.json"):
            data = self.source.read(rel)
            if data is None:
                continue
            try:
                policy = _loads(data.decode("utf-8-sig"))
            except UnicodeDecodeError as exc:
                raise OlxError(f"{self.source.describe(rel)}: not UTF-8 ({exc})") from None
            except _JsonTooDeep:
                raise OlxError(
                    f"{self.source.describe(rel)}: JSON nested more than {MAX_JSON_DEPTH} deep (the limit)"
                ) from None
            except json.JSONDecodeError as exc:
                raise OlxError(
                    f"{self.source.describe(rel)}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
                ) from None
            if not isinstance(policy, dict):
                raise OlxError(f"{self.source.describe(rel)}: expected a JSON object")
            self.policy = {key: value for key, value in policy.items() if isinstance(value, dict)}
            return

    # Names ------------------------------------------------------------------------------
    def name_of(self, elem: ET.Element) -> str:
        """edx-platform's ``make_name_unique``: the element's url_name in this course."""
        tag = elem.tag
        attrib = elem.attrib
        name = None
        if attrib.get("url_name"):
            name = attrib["url_name"]
        elif attrib.get("slug"):
            name = attrib["slug"]
        elif attrib.get("name"):
            name = _clean(attrib["name"])
        elif attrib.get("display_name"):
            name = _clean(attrib["display_name"])
        if not name:
            name = f"{tag}_{_sha12(_serialize(elem))}"
        used = self.used_names.setdefault(tag, set())
        if name in used and tag in UNIQUE_NAME_TYPES:
            original = name
            if original.startswith(tag) and _FALLBACK_RE.search(original):
                original = original[len(tag) + 1 : -12].strip("_")
            middle = f"_{original}" if original else ""
            name = f"{tag}{middle}_{_sha12(_serialize(elem))}"
        used.add(name)
        return name

    def usage_key(self, tag: str, name: str, where: str) -> tuple[UsageKey, str]:
        block_id = name
        if not _BLOCK_ID_RE.match(block_id):
            block_id = re.sub("_+", "_", _INVALID_NAME_CHARS.sub("_", block_id)) or "_"
            self.warnings.append(f"{where}: <{tag}> id {name!r} is not a valid block id; using {block_id!r}")
        key = self.course_key.make_usage_key(tag, block_id)
        if len(str(key)) > MAX_KEY_LENGTH:
            raise OlxError(
                f"{where}: <{tag}> id {block_id[:40]!r}… makes a block key of {len(str(key))} characters; "
                f"the limit is {MAX_KEY_LENGTH} (rename the block's url_name)"
            )
        return key, block_id

    # Walking ----------------------------------------------------------------------------
    def definition(self, elem: ET.Element, name: str, where: str) -> tuple[ET.Element, dict, str]:
        """The element defining the block, its merged attributes and its file."""
        tag = elem.tag
        attrs: dict[str, str] = {}
        file = where
        if _is_pointer(elem):
            pointer = f'<{tag} url_name="{elem.attrib["url_name"]}">'
            path = _safe_relpath(f"{tag}/{_name_to_pathname(elem.attrib['url_name'])}.xml")
            if path is None or not path.startswith(f"{tag}/"):
                raise OlxError(f"{where}: {pointer} points outside the course folder")
            if not self.exists(path):
                raise OlxError(f"{where}: {pointer} points to {self.source.describe(path)}, which does not exist")
            elem = self.load(path, where)
            file = self.source.describe(path)
            if elem.tag != tag:
                self.warnings.append(f"{file}: root element <{elem.tag}> where <{tag}> was expected")
            attrs.update(elem.attrib)
            attrs.pop("url_name", None)
        else:
            attrs.update(elem.attrib)
        filename = attrs.get("filename")
        if filename and tag != "html":
            found = None
            stem = _name_to_pathname(filename)
            candidates = [f"{tag}/{stem}.xml"]
            if tag == "problem":
                candidates += [f"problems/{stem}.xml", f"{stem}.xml"]
            for candidate in candidates:
                safe = _safe_relpath(candidate)
                if safe is not None and self.source.read(safe) is not None:
                    found = safe
                    break
            if found is None:
                self.warnings.append(f'{file}: <{tag} filename="{filename}">: no such file; block kept without it')
            else:
                loaded = self.load(found, file)
                merged = dict(loaded.attrib)
                merged.update(attrs)
                merged.pop("filename", None)
                attrs = merged
                elem = loaded
                file = self.source.describe(found)
        elif filename and tag == "html":
            stem = _name_to_pathname(filename)
            options = [f"html/{stem}", f"html/{stem}.html", f"html/{stem}.xml"]
            if not any((safe := _safe_relpath(option)) is not None and self.exists(safe) for option in options):
                self.warnings.append(f'{file}: <html filename="{filename}">: no such file; block kept without it')
        return elem, attrs, file

    def settings(
        self, tag: str, name: str, attrs: dict, file: str
    ) -> tuple[dict, datetime | None, bool, bool | None]:
        """Attributes with the policy applied, and the block's own start / staff-only / optional."""
        merged = dict(attrs)
        merged.update(self.policy.get(f"{tag}/{name}", {}))
        for setting in DECODED_SETTINGS:
            if setting in merged:
                try:
                    _decode(merged[setting])
                except _JsonTooDeep:
                    raise OlxError(
                        f"{file}: <{tag}> {name}: {setting} is JSON nested more than {MAX_JSON_DEPTH} deep (the limit)"
                    ) from None
        start = None
        if "start" in merged:
            try:
                start = _as_datetime(merged["start"])
            except (ValueError, TypeError):
                self.warnings.append(f"{file}: <{tag}> {name}: unreadable start {merged['start']!r}; ignored")
        staff_only = bool(_as_bool(merged.get("visible_to_staff_only")))
        optional = _as_bool(merged["optional_completion"]) if "optional_completion" in merged else None
        return merged, start, staff_only, optional

    def visit(self, elem: ET.Element, where: str, depth: int) -> UsageKey | None:
        tag = elem.tag
        if not isinstance(tag, str):
            return None  # comments, processing instructions
        if not _BLOCK_TYPE_RE.match(tag):
            self.warnings.append(f"{where}: element <{tag}> is not a valid block type; skipped")
            return None
        if depth > MAX_DEPTH:
            raise OlxError(f"{where}: blocks nested more than {MAX_DEPTH} deep (the limit)")
        if len(tag) > MAX_BLOCK_TYPE_LENGTH:
            raise OlxError(
                f"{where}: <{tag[:40]}…> is a block type of {len(tag)} characters; "
                f"the limit is {MAX_BLOCK_TYPE_LENGTH}"
            )
        name = self.name_of(elem)
        key, block_id = self.usage_key(tag, name, where)
        if _ident(key) in self.in_progress:
            raise OlxError(f"{where}: <{tag}> {name} contains itself (a cycle of pointers)")
        if _ident(key) in self.nodes:
            return key  # a repeated name: the same block under another parent
        definition, attrs, file = self.definition(elem, name, where)
        return self.add(tag, name, key, block_id, definition, attrs, file, depth)

    def add(self, tag, name, key, block_id, definition, attrs, file, depth) -> UsageKey:
        merged, start, staff_only, optional = self.settings(tag, name, attrs, file)
        block = ParsedBlock(
            key=key,
            block_type=tag,
            url_name=block_id,
            display_name=_as_text(merged.get("display_name")),
            source=file,
            extra={name: _decode(merged[name]) for name in EXTRA_SETTINGS if name in merged},
        )
        self.nodes[_ident(key)] = _Node(block, start, staff_only, optional)
        self.order.append(key)
        self.in_progress.add(_ident(key))
        try:
            if tag in CONTAINER_TYPES:
                skipped = SKIPPED_CHILDREN.get(tag, frozenset())
                children: dict[tuple[str, str], UsageKey] = {}  # ordered, one entry per child (linear)
                for child in definition:
                    if not isinstance(child.tag, str) or child.tag in skipped:
                        continue
                    if child.get("xblock-family") == _ASIDE_FAMILY:
                        continue
                    child_key = self.visit(child, file, depth + 1)
                    if child_key is not None:
                        children.setdefault(_ident(child_key), child_key)
                block.children = list(children.values())
            else:
                block.content_tags = tuple(dict.fromkeys(c.tag for c in definition if isinstance(c.tag, str)))
        finally:
            self.in_progress.discard(_ident(key))
        return key

    # Inheritance ------------------------------------------------------------------------
    def inherit(self, root: UsageKey) -> None:
        """Effective start / staff-only / optional, parents first (a DAG: every path counts)."""
        order: list[UsageKey] = []
        state: set[tuple[str, str]] = {_ident(root)}
        stack = [(root, iter(self.nodes[_ident(root)].block.children))]
        while stack:
            key, kids = stack[-1]
            child = next(kids, None)
            if child is None:
                stack.pop()
                order.append(key)
                continue
            self.nodes[_ident(child)].block.parents.append(key)
            if _ident(child) not in state:
                state.add(_ident(child))
                stack.append((child, iter(self.nodes[_ident(child)].block.children)))
        order.reverse()
        for key in order:
            node = self.nodes[_ident(key)]
            block = node.block
            if not block.parents:
                block.start = node.own_start
                block.visible_to_staff_only = node.own_staff_only
                block.optional_completion = bool(node.own_optional)
                continue
            starts, staff, optional = [], [], []
            for parent_key in block.parents:
                parent = self.nodes[_ident(parent_key)].block
                starts.append(_later(parent.start, node.own_start))
                staff.append(parent.visible_to_staff_only or node.own_staff_only)
                optional.append(node.own_optional if node.own_optional is not None else parent.optional_completion)
            block.start = None if any(start is None for start in starts) else min(starts)
            block.visible_to_staff_only = all(staff)
            block.optional_completion = all(optional)


def _ident(key: UsageKey) -> tuple[str, str]:
    """A usage key of the course being parsed as a cheaply hashed tuple (block type, block id)."""
    return (key.block_type, key.block_id)


def _later(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None:
        return second
    if second is None:
        return first
    return max(first, second)


def _course_key_from(value: str | CourseKey) -> CourseKey:
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


def parse_course(path: str | os.PathLike, course_key: str | CourseKey | None = None) -> ParsedCourse:
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
    explicit = _course_key_from(course_key) if course_key not in (None, "") else None
    source = _open(path)
    try:
        return _parse(source, explicit)
    finally:
        source.close()


def _parse(source: _Source, explicit: CourseKey | None) -> ParsedCourse:
    parser = _Parser(source)
    top = parser.load("course.xml")
    top_file = source.describe("course.xml")
    if top.tag != "course":
        raise OlxError(f"{top_file}: the root element is <{top.tag}>, expected <course>")
    if _is_course_pointer(top):
        run = top.attrib["url_name"]
        definition_path = _safe_relpath(f"course/{_name_to_pathname(run)}.xml")
        if definition_path is None:
            raise OlxError(f'{top_file}: url_name="{run}" points outside the course folder')
        if source.read(definition_path) is None:
            raise OlxError(
                f'{top_file}: <course url_name="{run}"> points to {source.describe(definition_path)}, '
                "which does not exist"
            )
        definition = parser.load(definition_path, top_file)
        definition_file = source.describe(definition_path)
        if definition.tag != "course":
            raise OlxError(f"{definition_file}: the root element is <{definition.tag}>, expected <course>")
        attrs = dict(definition.attrib)
        attrs.update(top.attrib)
    else:
        run = top.get("url_name") or top.get("slug") or (_clean(top.get("name")) if top.get("name") else "")
        definition, definition_file = top, top_file
        attrs = dict(top.attrib)
    org = attrs.get("org") or "edx"
    number = attrs.get("course") or ""
    if explicit is not None:
        key = explicit
    else:
        if not run or not number:
            raise OlxError(f"{top_file}: names no course run or number; give --course-key")
        try:
            key = _course_key_from(f"course-v1:{org}+{number}+{run}")
        except OlxError as exc:
            raise OlxError(f"{top_file}: {exc} (give --course-key)") from None
    parser.course_key = key
    parser.load_policy(run or "course")
    root = key.make_usage_key("course", "course")
    parser.used_names["course"] = {run} if run else set()
    course_attrs = {name: value for name, value in attrs.items() if name not in ("url_name", "org", "course")}
    merged = dict(course_attrs)
    merged.update(parser.policy.get(f"course/{run}", {}))
    parser.add("course", run, root, "course", definition, course_attrs, definition_file, 0)
    parser.inherit(root)
    mobile = _as_bool(merged.get("mobile_available")) if "mobile_available" in merged else None
    display_name = _as_text(merged.get("display_name"))
    return ParsedCourse(
        course_key=key,
        root=root,
        blocks=[parser.nodes[_ident(block_key)].block for block_key in parser.order],
        run=run,
        display_name=display_name,
        mobile_available=mobile,
        source=source.label,
        warnings=parser.warnings,
    )


def import_course(path: str | os.PathLike, course_key: str | CourseKey | None = None) -> ImportSummary:
    """
    Parse the export at ``path`` fully, then publish it as a new structure version.

    Raises:
        OlxError: as :func:`parse_course`, or the structure is refused by
            :func:`~completion_aggregator.standalone.publishing.publish_structure`; nothing is
            written then (one transaction).
    """
    from .publishing import publish_structure

    parsed = parse_course(path, course_key)
    summary = parsed.summary()
    try:
        structure = publish_structure(
            parsed.course_key,
            parsed.root,
            parsed.specs(),
            display_name=parsed.display_name,
            mobile_available=parsed.mobile_available,
        )
    except ValueError as exc:  # the structure was refused before anything was written
        raise OlxError(f"{parsed.source}: {exc}") from None
    summary.structure_version = structure.version
    return summary
