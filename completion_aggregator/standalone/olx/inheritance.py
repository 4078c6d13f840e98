"""
Effective settings, computed parents-first over the block DAG.

``start`` = the latest of the ancestors' and the block's own; ``visible_to_staff_only`` = any
ancestor (or the block) staff-only; ``optional_completion`` inherits like an inheritable XBlock
field (the block's explicit value wins). A block with several parents takes the most visible
path: the earliest start, staff-only only if staff-only along every path, optional only if
optional along every path.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from opaque_keys.edx.keys import UsageKey

from .results import ident
from .values import later
from .walker import Node


def inherit(nodes: dict[tuple[str, str], Node], root: UsageKey) -> None:
    """Set every reachable block's parents and effective start / staff-only / optional (a DAG: every path counts)."""
    for key in _parents_first(nodes, root):
        node = nodes[ident(key)]
        block = node.block
        if not block.parents:
            block.start = node.own_start
            block.visible_to_staff_only = node.own_staff_only
            block.optional_completion = bool(node.own_optional)
            continue
        starts: list[datetime] = []
        staff: list[bool] = []
        optional: list[bool] = []
        for parent_key in block.parents:
            parent = nodes[ident(parent_key)].block
            start = later(parent.start, node.own_start)
            if start is not None:
                starts.append(start)
            staff.append(parent.visible_to_staff_only or node.own_staff_only)
            optional.append(node.own_optional if node.own_optional is not None else parent.optional_completion)
        # No start along some path: the block is open along it.
        block.start = min(starts) if len(starts) == len(block.parents) else None
        block.visible_to_staff_only = all(staff)
        block.optional_completion = all(optional)


def _parents_first(nodes: dict[tuple[str, str], Node], root: UsageKey) -> list[UsageKey]:
    """The blocks reachable from ``root`` in reverse post-order, recording each block's parents on the way."""
    order: list[UsageKey] = []
    state: set[tuple[str, str]] = {ident(root)}
    stack: list[tuple[UsageKey, Iterator[UsageKey]]] = [(root, iter(nodes[ident(root)].block.children))]
    while stack:
        key, kids = stack[-1]
        child = next(kids, None)
        if child is None:
            stack.pop()
            order.append(key)
            continue
        nodes[ident(child)].block.parents.append(key)
        if ident(child) not in state:
            state.add(ident(child))
            stack.append((child, iter(nodes[ident(child)].block.children)))
    order.reverse()
    return order
