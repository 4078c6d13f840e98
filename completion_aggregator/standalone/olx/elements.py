"""OLX elements: parsing a file's XML (with its limits), pointers, and edx-platform's naming helpers."""
from __future__ import annotations

import copy
import hashlib
import html.entities
import re
import xml.etree.ElementTree as ET

from opaque_keys.edx.locator import BlockUsageLocator

from .rules import MAX_DEPTH, MAX_XML_DEPTH, OlxError

_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_ENTITY_RE = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def parse_xml(data: bytes, where: str, warnings: list[str]) -> ET.Element:
    """
    The root element of one file's bytes (``where``: the file as messages name it).

    A file using HTML entities (``&nbsp;``) is read with them made numeric, and a warning is
    appended to ``warnings``.

    Raises:
        OlxError: malformed XML (line and column named), or elements nested deeper than
            :data:`MAX_XML_DEPTH`.
    """
    root = _parse_xml_text(data, where, warnings)
    if element_depth(root) > MAX_XML_DEPTH:
        raise OlxError(
            f"{where}: elements nested more than {MAX_XML_DEPTH} deep (the limit; blocks may nest {MAX_DEPTH} deep)"
        )
    return root


def _parse_xml_text(data: bytes, where: str, warnings: list[str]) -> ET.Element:
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
                warnings.append(f"{where}: HTML entities converted")
                return elem
        except (UnicodeDecodeError, ET.ParseError):
            pass
    line, column = getattr(first, "position", (0, 0))
    message = str(first).split(":", 1)[0]
    raise OlxError(f"{where}: malformed XML at line {line}, column {column + 1}: {message}")


def _html_entities_to_numeric(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _XML_ENTITIES or name not in html.entities.name2codepoint:
            return match.group(0)
        return f"&#{html.entities.name2codepoint[name]};"

    return _ENTITY_RE.sub(replace, text)


def element_depth(root: ET.Element) -> int:
    """How deep the elements under ``root`` nest (``root`` alone is 1), counting no further than past the limit."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        elem, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_XML_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in elem)
    return deepest


def clean_name(value: str) -> str:
    """A ``name``/``display_name`` made a block id (``BlockUsageLocator.clean``)."""
    return str(BlockUsageLocator.clean(value))


def name_to_pathname(name: str) -> str:
    """The file path of a ``url_name`` (``:`` separates folders), without ``.xml``."""
    return name.replace(":", "/")


def hash_name(elem: ET.Element) -> str:
    """The first 12 hex digits of the SHA-1 of the element serialised without its tail."""
    shallow = copy.copy(elem)
    shallow.tail = None
    return hashlib.sha1(ET.tostring(shallow, encoding="unicode").encode("utf-8")).hexdigest()[:12]


def is_pointer(elem: ET.Element) -> bool:
    """Only the attribute ``url_name``, no children, no text: the block is defined in its own file."""
    return set(elem.attrib) == {"url_name"} and len(elem) == 0 and not (elem.text or "").strip()


def is_course_pointer(elem: ET.Element) -> bool:
    """``course.xml``'s ``<course url_name=RUN org=ORG course=NUM/>``, pointing to ``course/RUN.xml``."""
    return set(elem.attrib) == {"url_name", "org", "course"} and len(elem) == 0 and not (elem.text or "").strip()
