"""
``BlockStructure`` / ``BlockStructureBlockData`` / ``BlockStructureModulestoreData``, with the
documented API of edx-platform's ``openedx.core.djangoapps.content.block_structure.block_structure``.
"""
from __future__ import annotations

from copy import deepcopy


class _BlockRelations:
    def __init__(self):
        self.parents = []
        self.children = []


class BlockStructure:
    """The parent/child relations of a course's blocks, rooted at ``root_block_usage_key``."""

    def __init__(self, root_block_usage_key):
        self._block_relations = {}
        self.root_block_usage_key = root_block_usage_key
        self._add_block(self._block_relations, root_block_usage_key)

    def __iter__(self):
        return iter(self._block_relations)

    def __len__(self):
        return len(self._block_relations)

    def __contains__(self, usage_key):
        return usage_key in self._block_relations

    def get_parents(self, usage_key):
        return self._block_relations[usage_key].parents if usage_key in self else []

    def get_children(self, usage_key):
        return self._block_relations[usage_key].children if usage_key in self else []

    def set_root_block(self, usage_key):
        self.root_block_usage_key = usage_key
        self._prune_unreachable()

    def topological_traversal(self, filter_func=None, yield_descendants_of_unyielded=False, start_node=None):
        """
        Each reachable block after all of its reachable parents. A block is yielded when
        ``filter_func`` accepts it and (unless ``yield_descendants_of_unyielded``) one of its
        parents was yielded. Works on a snapshot, so ``filter_func`` may remove blocks.
        """
        start = start_node if start_node is not None else self.root_block_usage_key
        if start not in self._block_relations:
            return
        children = {key: list(rel.children) for key, rel in self._block_relations.items()}
        parents = {key: list(rel.parents) for key, rel in self._block_relations.items()}
        reachable = set()
        stack = [start]
        while stack:
            key = stack.pop()
            if key not in reachable:
                reachable.add(key)
                stack.extend(children[key])
        pending = {key: sum(1 for p in parents[key] if p in reachable) for key in reachable}
        pending[start] = 0
        order, ready = [], [start]
        while ready:
            key = ready.pop(0)
            order.append(key)
            for child in children[key]:
                if child in pending and child != start:
                    pending[child] -= 1
                    if pending[child] == 0:
                        ready.append(child)
        yielded = set()
        for key in order:
            eligible = (
                key == start
                or yield_descendants_of_unyielded
                or any(parent in yielded for parent in parents[key])
            )
            if eligible and (filter_func is None or filter_func(key)):
                yielded.add(key)
                yield key

    def post_order_traversal(self, filter_func=None, start_node=None):
        """Children before their parents (depth first)."""
        start = start_node if start_node is not None else self.root_block_usage_key
        seen = set()

        def visit(key):
            if key in seen:
                return
            seen.add(key)
            for child in self.get_children(key):
                yield from visit(child)
            if filter_func is None or filter_func(key):
                yield key

        if start in self._block_relations:
            yield from visit(start)

    def _add_relation(self, parent_key, child_key):
        self._add_block(self._block_relations, parent_key)
        self._add_block(self._block_relations, child_key)
        if child_key not in self._block_relations[parent_key].children:
            self._block_relations[parent_key].children.append(child_key)
        if parent_key not in self._block_relations[child_key].parents:
            self._block_relations[child_key].parents.append(parent_key)

    @staticmethod
    def _add_block(relations, usage_key):
        if usage_key not in relations:
            relations[usage_key] = _BlockRelations()

    def _prune_unreachable(self):
        reachable = set(self.topological_traversal(yield_descendants_of_unyielded=True))
        for key in [k for k in self._block_relations if k not in reachable]:
            self.remove_block(key, keep_descendants=False)


class BlockData:
    """One block's collected data: ``location``, xblock fields as attributes, ``transformer_data``."""

    def __init__(self, usage_key):
        self.location = usage_key
        self.xblock_fields = {}
        self.transformer_data = {}

    def __getattr__(self, name):
        fields = self.__dict__.get("xblock_fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(name)


def _transformer_name(transformer):
    return transformer if isinstance(transformer, str) else transformer.name()


class BlockStructureBlockData(BlockStructure):
    """A block structure with per-block xblock fields and transformer data."""

    VERSION = 2

    def __init__(self, root_block_usage_key):
        self._block_data_map = {}
        self.transformer_data = {}
        super().__init__(root_block_usage_key)

    def __getitem__(self, usage_key):
        if usage_key not in self._block_data_map:
            raise KeyError(usage_key)
        return self._block_data_map[usage_key]

    def iteritems(self):
        return iter(self._block_data_map.items())

    def itervalues(self):
        return iter(self._block_data_map.values())

    def copy(self):
        """An independent copy (relations, xblock fields and transformer data; values shared)."""
        new = BlockStructureBlockData(self.root_block_usage_key)
        new._block_relations = {}
        for key, relations in self._block_relations.items():
            copied = new._block_relations[key] = _BlockRelations()
            copied.parents, copied.children = list(relations.parents), list(relations.children)
        new._block_data_map = {}
        for key, block in self._block_data_map.items():
            copied = new._block_data_map[key] = BlockData(key)
            copied.xblock_fields = dict(block.xblock_fields)
            copied.transformer_data = {name: dict(data) for name, data in block.transformer_data.items()}
        new.transformer_data = {name: dict(data) for name, data in self.transformer_data.items()}
        return new

    def get_xblock_field(self, usage_key, field_name, default=None):
        block = self._block_data_map.get(usage_key)
        return block.xblock_fields.get(field_name, default) if block is not None else default

    def override_xblock_field(self, usage_key, field_name, override_data):
        self._get_or_create_block(usage_key).xblock_fields[field_name] = override_data

    def get_transformer_data(self, transformer, key, default=None):
        return self.transformer_data.get(_transformer_name(transformer), {}).get(key, default)

    def set_transformer_data(self, transformer, key, data):
        self.transformer_data.setdefault(_transformer_name(transformer), {})[key] = data

    def get_transformer_block_data(self, usage_key, transformer):
        return self._block_data_map[usage_key].transformer_data[_transformer_name(transformer)]

    def get_transformer_block_field(self, usage_key, transformer, key, default=None):
        try:
            return self.get_transformer_block_data(usage_key, transformer).get(key, default)
        except KeyError:
            return default

    def set_transformer_block_field(self, usage_key, transformer, key, value):
        block = self._get_or_create_block(usage_key)
        block.transformer_data.setdefault(_transformer_name(transformer), {})[key] = value

    def remove_transformer_block_field(self, usage_key, transformer, key):
        try:
            self.get_transformer_block_data(usage_key, transformer).pop(key, None)
        except KeyError:
            pass

    def remove_block(self, usage_key, keep_descendants):
        relations = self._block_relations.get(usage_key)
        if relations is None:
            return
        children, parents = list(relations.children), list(relations.parents)
        for child in children:
            self._block_relations[child].parents.remove(usage_key)
        for parent in parents:
            self._block_relations[parent].children.remove(usage_key)
        self._block_relations.pop(usage_key, None)
        self._block_data_map.pop(usage_key, None)
        if keep_descendants:
            for child in children:
                for parent in parents:
                    self._add_relation(parent, child)

    def create_universal_filter(self):
        return lambda block_key: True

    def create_removal_filter(self, removal_condition, keep_descendants=False):
        def filter_func(block_key):
            if removal_condition(block_key):
                self.remove_block(block_key, keep_descendants)
                return False
            return True

        return filter_func

    def retain_or_remove(self, block_key, keep_descendants=False):
        """Kept for API parity: True when the block stays."""
        return block_key in self

    def remove_block_traversal(self, removal_condition, keep_descendants=False):
        self.filter_topological_traversal(self.create_removal_filter(removal_condition, keep_descendants))

    def filter_topological_traversal(self, filter_func, **kwargs):
        for _ in self.topological_traversal(filter_func=filter_func, **kwargs):
            pass

    def _get_or_create_block(self, usage_key):
        block = self._block_data_map.get(usage_key)
        if block is None:
            block = self._block_data_map[usage_key] = BlockData(usage_key)
        return block


class BlockStructureModulestoreData(BlockStructureBlockData):
    """Exists only while collecting: ``request_xblock_fields`` and ``get_xblock``."""

    def __init__(self, root_block_usage_key):
        super().__init__(root_block_usage_key)
        self._xblock_map = {}
        self._requested_xblock_fields = set()

    def request_xblock_fields(self, *field_names):
        self._requested_xblock_fields.update(field_names)

    def get_xblock(self, usage_key):
        return self._xblock_map[usage_key]

    def _collect_requested_xblock_fields(self):
        for key, xblock in self._xblock_map.items():
            for name in self._requested_xblock_fields:
                if hasattr(xblock, name):
                    self._get_or_create_block(key).xblock_fields[name] = getattr(xblock, name)
                else:
                    self._get_or_create_block(key)

    def as_block_data(self):
        """The collected structure without the xblocks (what edx-platform stores)."""
        plain = BlockStructureBlockData(self.root_block_usage_key)
        plain._block_relations = deepcopy(self._block_relations)
        plain._block_data_map = deepcopy(self._block_data_map)
        plain.transformer_data = deepcopy(self.transformer_data)
        return plain
