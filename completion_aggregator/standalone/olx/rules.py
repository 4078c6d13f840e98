"""What OLX types mean to the parser, the limits it enforces, and the error it raises."""
from __future__ import annotations

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
#: Types of which a learner gets ``max_count`` children (``randomize``: one).
SELECTING_TYPES = frozenset({"library_content", "itembank", "randomize"})
#: The ``xblock-family`` of XBlock asides (child elements that are not blocks).
ASIDE_FAMILY = "xblock_asides.v1"
#: Settings kept (JSON-decoded) on :attr:`ParsedBlock.extra` for per-learner visibility rules.
EXTRA_SETTINGS = (
    "group_access", "user_partitions", "user_partition_id", "group_id_to_child", "max_count",
    "source_library_id", "sources", "hide_from_toc",
)
#: Settings decoded as JSON (checked against :data:`MAX_JSON_DEPTH` first).
DECODED_SETTINGS = ("start", "visible_to_staff_only", "optional_completion", *EXTRA_SETTINGS)

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


class OlxError(ValueError):
    """The export cannot be imported; the message names the file (and line) at fault."""


class JsonTooDeep(OlxError):
    """A JSON value nested deeper than :data:`MAX_JSON_DEPTH` (the caller names the file)."""
