"""What parsing an export gives: the blocks (:class:`ParsedBlock`), the course, and its summary."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey

from ...keys import parse_usage_key
from .rules import CONTAINER_TYPES, SELECTING_TYPES
from .values import as_int

if TYPE_CHECKING:
    from ..publishing import BlockSpec


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

    def spec(self) -> BlockSpec:
        """This block as a :class:`~completion_aggregator.standalone.publishing.BlockSpec`."""
        from ..publishing import BlockSpec

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
            max_count = as_int(self.extra.get("max_count"))
            if max_count is not None and max_count < 0:
                max_count = None
        extra: dict[str, Any] = {}
        if isinstance(self.extra.get("user_partitions"), list):
            extra["user_partitions"] = self.extra["user_partitions"]
        if self.block_type == "split_test":
            partition = as_int(self.extra.get("user_partition_id"))
            if partition is not None:
                extra["user_partition_id"] = partition
            mapping = self.extra.get("group_id_to_child")
            children = {str(child): child for child in self.children}
            resolved: dict[str, str] = {}
            if isinstance(mapping, dict):
                for group, target in mapping.items():
                    child = _resolve_child(self.key.course_key, str(target), children)
                    if child is not None and as_int(group) is not None:
                        resolved[str(as_int(group))] = child
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

    def specs(self) -> list[BlockSpec]:
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
        from ...completion_modes import BUILTIN_MODES, installed_mode, mode_lookup
        from ...conf import get_setting
        from ...data import CompletionMode

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
        index = {ident(block.key): block for block in self.blocks}
        completable: set[tuple[str, str]] = set()
        seen = {ident(self.root)}
        stack = [ident(self.root)]
        while stack:
            block = index[stack.pop()]
            mode = modes[block.block_type]
            if mode is CompletionMode.COMPLETABLE:
                completable.add(ident(block.key))
            elif mode is CompletionMode.AGGREGATOR:
                for child in map(ident, block.children):
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


def ident(key: UsageKey) -> tuple[str, str]:
    """A usage key of the course being parsed as a cheaply hashed tuple (block type, block id)."""
    return (key.block_type, key.block_id)


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
