"""
The walker: from the course element down, every block's id, usage key, definition and own settings.

Ids follow edx-platform's OLX import (``xmodule``'s XML import): ``url_name``, ``slug``,
cleaned ``name``, cleaned ``display_name``, else ``<tag>_<sha1(serialized element)[:12]>``; a
name seen before is renamed for :data:`UNIQUE_NAME_TYPES`, and for other types the later
element *is* the earlier block (one block, several parents). The walk is linear in the number
of blocks and children.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opaque_keys.edx.keys import CourseKey, UsageKey

from .elements import clean_name, hash_name, is_pointer, name_to_pathname
from .files import CourseFiles
from .results import ParsedBlock, ident
from .rules import (
    ASIDE_FAMILY,
    CONTAINER_TYPES,
    DECODED_SETTINGS,
    EXTRA_SETTINGS,
    MAX_BLOCK_TYPE_LENGTH,
    MAX_DEPTH,
    MAX_JSON_DEPTH,
    MAX_KEY_LENGTH,
    SKIPPED_CHILDREN,
    UNIQUE_NAME_TYPES,
    JsonTooDeep,
    OlxError,
)
from .sources import safe_relpath
from .values import as_bool, as_datetime, as_text, decode

_BLOCK_TYPE_RE = re.compile(r"^[\w\-~.:]+\Z", re.UNICODE)
_BLOCK_ID_RE = re.compile(r"^[\w\-~.:%]+\Z", re.UNICODE)
_INVALID_NAME_CHARS = re.compile(r"[^\w.:%-]", re.UNICODE)
_FALLBACK_RE = re.compile(r"[0-9a-fA-F]{12}\Z")


@dataclass
class Node:
    """A parsed block with its own (not yet inherited) start, staff-only and optional settings."""

    block: ParsedBlock
    own_start: datetime | None = None
    own_staff_only: bool = False
    own_optional: bool | None = None


@dataclass(frozen=True)
class BlockName:
    """A block met by the walker: its type (tag), its name in the course, usage key and block id."""

    tag: str
    name: str
    key: UsageKey
    block_id: str


class Walker:
    """
    Walks one course's elements into :class:`Node` objects, in course order (:attr:`order`).

    ``policy``: ``{"type/name": {setting: value}}`` (``policy.json``; it wins over the XML
    attributes); ``run``: the course's url_name, already taken by the course root.
    """

    def __init__(self, files: CourseFiles, course_key: CourseKey, policy: dict[str, dict[str, Any]], run: str):
        self.files = files
        self.course_key = course_key
        self.policy = policy
        self.warnings = files.warnings
        # Keyed by (block type, block id): a usage key's own hash is recomputed on every use
        # (opaque-keys), which made a wide unit's import slow.
        self.nodes: dict[tuple[str, str], Node] = {}
        self.order: list[UsageKey] = []
        self.used_names: dict[str, set[str]] = {"course": {run} if run else set()}
        self.in_progress: set[tuple[str, str]] = set()

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
            name = clean_name(attrib["name"])
        elif attrib.get("display_name"):
            name = clean_name(attrib["display_name"])
        if not name:
            name = f"{tag}_{hash_name(elem)}"
        used = self.used_names.setdefault(tag, set())
        if name in used and tag in UNIQUE_NAME_TYPES:
            original = name
            if original.startswith(tag) and _FALLBACK_RE.search(original):
                original = original[len(tag) + 1 : -12].strip("_")
            middle = f"_{original}" if original else ""
            name = f"{tag}{middle}_{hash_name(elem)}"
        used.add(name)
        return name

    def usage_key(self, tag: str, name: str, where: str) -> tuple[UsageKey, str]:
        """
        The usage key and block id of the name (invalid characters become ``_``, with a warning).

        Raises:
            OlxError: the key is longer than :data:`MAX_KEY_LENGTH`.
        """
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

    def definition(self, elem: ET.Element, where: str) -> tuple[ET.Element, dict[str, str], str]:
        """
        The element defining the block, its merged attributes and its file.

        A pointer is resolved to ``<tag>/<url_name>.xml``; then ``filename=`` on a non-html
        element to ``<tag>/<filename>.xml`` (problems also ``problems/…`` and the bare name), as
        edx-platform's ``load_definition``; the element's own attributes win over the file's.

        Raises:
            OlxError: a pointer leads outside the export or to a missing file.
        """
        tag = elem.tag
        attrs: dict[str, str] = {}
        file = where
        if is_pointer(elem):
            pointer = f'<{tag} url_name="{elem.attrib["url_name"]}">'
            path = safe_relpath(f"{tag}/{name_to_pathname(elem.attrib['url_name'])}.xml")
            if path is None or not path.startswith(f"{tag}/"):
                raise OlxError(f"{where}: {pointer} points outside the course folder")
            if not self.files.exists(path):
                raise OlxError(f"{where}: {pointer} points to {self.files.describe(path)}, which does not exist")
            elem = self.files.load(path, where)
            file = self.files.describe(path)
            if elem.tag != tag:
                self.warnings.append(f"{file}: root element <{elem.tag}> where <{tag}> was expected")
            attrs.update(elem.attrib)
            attrs.pop("url_name", None)
        else:
            attrs.update(elem.attrib)
        filename = attrs.get("filename")
        if filename and tag != "html":
            return self._filename_definition(elem, attrs, file)
        if filename:
            stem = name_to_pathname(filename)
            options = [f"html/{stem}", f"html/{stem}.html", f"html/{stem}.xml"]
            if not any((safe := safe_relpath(option)) is not None and self.files.exists(safe) for option in options):
                self.warnings.append(f'{file}: <html filename="{filename}">: no such file; block kept without it')
        return elem, attrs, file

    def _filename_definition(
        self, elem: ET.Element, attrs: dict[str, str], file: str
    ) -> tuple[ET.Element, dict[str, str], str]:
        """:meth:`definition` for ``filename=`` on a non-html element (a missing file: a warning)."""
        tag = elem.tag
        filename = attrs["filename"]
        stem = name_to_pathname(filename)
        candidates = [f"{tag}/{stem}.xml"]
        if tag == "problem":
            candidates += [f"problems/{stem}.xml", f"{stem}.xml"]
        for candidate in candidates:
            found = safe_relpath(candidate)
            if found is not None and self.files.source.read(found) is not None:
                loaded = self.files.load(found, file)
                merged = dict(loaded.attrib)
                merged.update(attrs)
                merged.pop("filename", None)
                return loaded, merged, self.files.describe(found)
        self.warnings.append(f'{file}: <{tag} filename="{filename}">: no such file; block kept without it')
        return elem, attrs, file

    def settings(
        self, tag: str, name: str, attrs: dict[str, str], file: str
    ) -> tuple[dict[str, Any], datetime | None, bool, bool | None]:
        """
        Attributes with the policy applied, and the block's own start / staff-only / optional.

        An unreadable ``start`` is ignored with a warning.

        Raises:
            OlxError: a setting of :data:`DECODED_SETTINGS` is JSON nested deeper than
                :data:`MAX_JSON_DEPTH`.
        """
        merged: dict[str, Any] = dict(attrs)
        merged.update(self.policy.get(f"{tag}/{name}", {}))
        for setting in DECODED_SETTINGS:
            if setting in merged:
                try:
                    decode(merged[setting])
                except JsonTooDeep:
                    raise OlxError(
                        f"{file}: <{tag}> {name}: {setting} is JSON nested more than {MAX_JSON_DEPTH} deep (the limit)"
                    ) from None
        start = None
        if "start" in merged:
            try:
                start = as_datetime(merged["start"])
            except (ValueError, TypeError):
                self.warnings.append(f"{file}: <{tag}> {name}: unreadable start {merged['start']!r}; ignored")
        staff_only = bool(as_bool(merged.get("visible_to_staff_only")))
        optional = as_bool(merged["optional_completion"]) if "optional_completion" in merged else None
        return merged, start, staff_only, optional

    def visit(self, elem: ET.Element, where: str, depth: int) -> UsageKey | None:
        """
        The usage key of the block ``elem`` defines (walked with its subtree the first time).

        None for comments, processing instructions and tags that are not block types (a
        warning). ``where``: the file holding ``elem``; ``depth``: the course root's is 0.

        Raises:
            OlxError: a limit (:data:`MAX_DEPTH`, :data:`MAX_BLOCK_TYPE_LENGTH`,
                :data:`MAX_KEY_LENGTH`) is exceeded, a pointer is broken, or a block contains itself.
        """
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
        if ident(key) in self.in_progress:
            raise OlxError(f"{where}: <{tag}> {name} contains itself (a cycle of pointers)")
        if ident(key) in self.nodes:
            return key  # a repeated name: the same block under another parent
        definition, attrs, file = self.definition(elem, where)
        return self.add(BlockName(tag, name, key, block_id), definition, attrs, file, depth)

    def add(
        self, block_name: BlockName, definition: ET.Element, attrs: dict[str, str], file: str, depth: int
    ) -> UsageKey:
        """
        Record the block defined by ``definition`` (in ``file``) and walk its children.

        Raises:
            OlxError: as :meth:`visit`, for the block or its subtree.
        """
        tag, key = block_name.tag, block_name.key
        merged, start, staff_only, optional = self.settings(tag, block_name.name, attrs, file)
        block = ParsedBlock(
            key=key,
            block_type=tag,
            url_name=block_name.block_id,
            display_name=as_text(merged.get("display_name")),
            source=file,
            extra={name: decode(merged[name]) for name in EXTRA_SETTINGS if name in merged},
        )
        self.nodes[ident(key)] = Node(block, start, staff_only, optional)
        self.order.append(key)
        self.in_progress.add(ident(key))
        try:
            if tag in CONTAINER_TYPES:
                block.children = self._children(tag, definition, file, depth)
            else:
                block.content_tags = tuple(dict.fromkeys(c.tag for c in definition if isinstance(c.tag, str)))
        finally:
            self.in_progress.discard(ident(key))
        return key

    def _children(self, tag: str, definition: ET.Element, file: str, depth: int) -> list[UsageKey]:
        """The child blocks of a container, in order, each once (skipped elements and asides left out)."""
        skipped = SKIPPED_CHILDREN.get(tag, frozenset())
        children: dict[tuple[str, str], UsageKey] = {}  # ordered, one entry per child (linear)
        for child in definition:
            if not isinstance(child.tag, str) or child.tag in skipped:
                continue
            if child.get("xblock-family") == ASIDE_FAMILY:
                continue
            child_key = self.visit(child, file, depth + 1)
            if child_key is not None:
                children.setdefault(ident(child_key), child_key)
        return list(children.values())
