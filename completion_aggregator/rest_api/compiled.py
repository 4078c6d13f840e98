"""
An entry's encoder, generated as Python source from its field list.

``dataclasses`` and ``namedtuple`` generate their methods the same way. A staff page writes
a thousand learners × every block. Interpreting the field lists item by item (a loop over the
fields, a call per field) costs about three times what one function with the keys written out
costs (measured: 0.8–1.1 µs against 0.3 µs a block entry), and the
page is the whole cost of a staff walk. So the field lists of an entry and of the entries it
nests, as one request writes them, become one function, e.g. a course entry with its
chapters (v1, no option)::

    def encode(item):
        n1 = float(item.course.earned)
        n2 = float(item.course.possible)
        n3 = float(item.course.percent)
        if (n1 - n1) + (n2 - n2) + (n3 - n3) != 0.0:
            not_finite(n1, n2, n3)
        d4 = {'course_key': str(item.course_key), 'completion': {'earned': n1, ...}}
        a5 = {name: [] for name in names5}
        h6 = str(item.course_key)
        for e7 in item.blocks:
            l8 = a5.get(e7.aggregation_name)
            if l8 is not None:
                ... the block entry of e7, its numbers checked the same way ...
                l8.append({'course_key': h6, 'block_key': str(e7.block_key), 'completion': {...}})
        d4.update(a5)
        return d4

Attribute paths and field names come from :mod:`.spec` (paths are checked identifiers, names
are written with ``repr``); computed getters, context getters and the aggregation names are
the function's globals, bound per request: no value of a request is ever part of the source.
The code is compiled once per entry and set of options.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from types import CodeType
from typing import Any

from .spec import OMIT, Attribute, Computed, Context, Entry, Field, FromContext, Kind, Parent

Encoder = Callable[[Any], dict[str, Any]]
#: Makes a global of the generated function from the request: ``(context, aggregation names) -> value``.
Binder = Callable[[Context, tuple[str, ...]], Any]


def number(value: Any) -> float:
    """
    ``value`` as a finite float.

    Raises:
        ValueError: NaN or an infinity, refused as DRF's strict JSON renderer refuses them
            (a JSON encoder would write ``null`` or an invalid literal).
    """
    result = float(value)
    if result - result != 0.0:  # NaN or ±inf
        not_finite(result)
    return result


def not_finite(*values: float) -> None:
    """Raises ValueError: ``Out of range float values are not JSON compliant: …`` (DRF's message)."""
    raise ValueError(f"Out of range float values are not JSON compliant: {values!r}")


_SCALAR = {Kind.STRING: "str", Kind.INTEGER: "int"}


@dataclass
class _Source:
    """The source being generated: its lines, the names it binds, the numbers not yet checked."""

    options: Collection[str]
    lines: list[str] = field(default_factory=list)
    binders: dict[str, Binder] = field(default_factory=dict)
    unchecked: list[str] = field(default_factory=list)
    hoisted: list[str] | None = None
    #: The item whose ``Parent`` values the innermost loop hoists, and the loop's depth.
    loop_parent: str | None = None
    loop_depth: int = 0
    depth: int = 1
    counter: int = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    @contextmanager
    def block(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def check(self) -> None:
        """Refuse a NaN or an infinity among the numbers read so far, in one comparison."""
        if self.unchecked:
            numbers = self.unchecked
            self.emit(f"if {' + '.join(f'({n} - {n})' for n in numbers)} != 0.0:")
            self.emit(f"    not_finite({', '.join(numbers)})")
            self.unchecked = []

    # Reading ----------------------------------------------------------------------------
    def read(self, source: Any, item: str, parent: str | None) -> str:
        """The expression of a field's raw value."""
        if isinstance(source, Attribute):
            return f"{item}.{source.path}" if source.path else item
        if isinstance(source, Parent):
            if parent is None:
                raise ValueError("a Parent source in an entry that is not nested")
            return f"{parent}.{source.path}" if source.path else parent
        name = self.name("g")
        if isinstance(source, Computed):
            function = source.function
            self.binders[name] = lambda context, names: function
        elif isinstance(source, FromContext):
            factory = source.factory
            self.binders[name] = lambda context, names: factory(context)
        else:
            raise TypeError(f"unknown field source: {source!r}")
        return f"{name}({item})"

    # Writing ----------------------------------------------------------------------------
    def value(self, spec: Field, raw: str, item: str) -> str:
        """The expression of a field's written value (statements it needs are emitted first)."""
        if spec.kind in _SCALAR:
            return f"{_SCALAR[spec.kind]}({raw})"
        if spec.kind is Kind.NUMBER:
            local = self.name("n")
            self.emit(f"{local} = float({raw})")
            self.unchecked.append(local)
            return local
        assert spec.entry is not None, f"{spec.name}: an object or array field names its entry"
        if spec.kind is Kind.OBJECT:
            local = self.name("o")
            self.emit(f"{local} = {raw}")
            return self.entry(spec.entry, local, item)
        return self.array(spec.entry, raw, item)

    def array(self, entry: Entry, raw: str, parent: str) -> str:
        array, element = self.name("a"), self.name("e")
        self.emit(f"{array} = []")
        with self.loop(f"for {element} in {raw}:", parent):
            self.emit(f"{array}.append({self.entry(entry, element, parent)})")
        return array

    def by_aggregation(self, spec: Field, raw: str, item: str, document: str) -> None:
        assert spec.entry is not None and spec.group_by, f"{spec.name}: names its entry and group_by"
        arrays, names = self.name("a"), self.name("names")
        self.binders[names] = lambda context, aggregation_names: aggregation_names
        self.emit(f"{arrays} = {{name: [] for name in {names}}}")
        element, array = self.name("e"), self.name("l")
        with self.loop(f"for {element} in {raw}:", item):
            self.emit(f"{array} = {arrays}.get({element}.{spec.group_by})")
            self.emit(f"if {array} is not None:")
            with self.block():
                self.emit(f"{array}.append({self.entry(spec.entry, element, item)})")
        self.emit(f"{document}.update({arrays})")

    @contextmanager
    def loop(self, header: str, parent: str) -> Iterator[None]:
        """A ``for`` loop over elements of ``parent``: their ``Parent`` values are computed once, before it."""
        outer = (self.lines, self.hoisted, self.unchecked, self.loop_parent, self.loop_depth)
        self.lines, self.hoisted, self.unchecked = [], [], []
        self.loop_parent, self.loop_depth = parent, self.depth
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            body, hoisted = self.lines, self.hoisted or []
            self.lines, self.hoisted, self.unchecked, self.loop_parent, self.loop_depth = outer
            self.lines += hoisted
            self.emit(header)
            self.lines += body

    def entry(self, entry: Entry, item: str, parent: str | None) -> str:
        """Emit what ``entry`` of ``item`` needs; return the expression (or local) of its dict."""
        head: list[str] = []
        document: str | None = None
        for spec in entry.fields:
            if spec.when not in self.options:
                continue
            key = repr(spec.name)
            raw = self.read(spec.source, item, parent)
            if isinstance(spec.source, Parent) and parent == self.loop_parent and spec.kind in _SCALAR:
                local = self.name("h")
                assert self.hoisted is not None
                self.hoisted.append("    " * self.loop_depth + f"{local} = {self.value(spec, raw, item)}")
                written = local
            elif spec.may_omit or spec.kind is Kind.BY_AGGREGATION:
                written = ""
            else:
                written = self.value(spec, raw, item)
            if document is None and (spec.may_omit or spec.kind is Kind.BY_AGGREGATION):
                self.check()
                document = self.name("d")
                self.emit(f"{document} = {{{', '.join(head)}}}")
            if spec.kind is Kind.BY_AGGREGATION:
                self.by_aggregation(spec, raw, item, document or "")
            elif spec.may_omit:
                self.omittable(spec, raw, item, document or "")
            elif document is None:
                head.append(f"{key}: {written}")
            else:
                self.check()
                self.emit(f"{document}[{key}] = {written}")
        self.check()
        return document if document is not None else "{" + ", ".join(head) + "}"

    def omittable(self, spec: Field, raw: str, item: str, document: str) -> None:
        local = self.name("v")
        self.emit(f"{local} = {raw}")
        self.emit(f"if {local} is not OMIT:")
        with self.block():
            written = self.value(spec, local, item)
            self.check()
            self.emit(f"{document}[{spec.name!r}] = {written}")


def source(entry: Entry, options: Collection[str]) -> tuple[str, dict[str, Binder]]:
    """The source of ``encode(item)`` for ``entry`` with the fields ``options`` write, and the globals it needs."""
    generated = _Source(options)
    result = generated.entry(entry, "item", None)
    generated.emit(f"return {result}")
    return "def encode(item):\n" + "\n".join(generated.lines) + "\n", generated.binders


@lru_cache(maxsize=256)
def _compiled(entry: Entry, options: frozenset[str]) -> tuple[CodeType, dict[str, Binder]]:
    text, binders = source(entry, options)
    return compile(text, f"<encoder of {entry.name}>", "exec"), binders


def encoder(entry: Entry, options: frozenset[str], context: Context, aggregation_names: tuple[str, ...]) -> Encoder:
    """
    ``item -> dict``: ``entry`` of ``item`` with the fields whose ``when`` is in ``options``.

    The keys are in the entry's order; the arrays per aggregation are ``aggregation_names``, in that order.

    Raises (the returned function):
        ValueError: a NaN or an infinity among the numbers.
    """
    code, binders = _compiled(entry, options)
    namespace: dict[str, Any] = {"__builtins__": {"str": str, "int": int, "float": float}}
    namespace.update(OMIT=OMIT, not_finite=not_finite, number=number)
    namespace.update({name: bind(context, aggregation_names) for name, bind in binders.items()})
    # Our own source, generated from the field lists of spec.py, run with three builtins only.
    exec(code, namespace)
    function: Encoder = namespace["encode"]
    return function
