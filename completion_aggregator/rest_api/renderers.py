"""
DRF's JSON renderer, with compact answers written by ``orjson``.

The views answer plain dicts (:mod:`.encoding`); a staff page is a thousand learners × every
block, and ``json`` writes it several times slower than ``orjson`` (ADR 0022). The answers
are the ones DRF writes, key for key and in the same order:

* the same compact separators, UTF-8 text with U+2028 and U+2029 escaped as DRF escapes them;
* floats in their shortest round-trip digits, as ``repr`` writes them, except that numbers
  below 1e-4 in magnitude are written with a bare exponent or in positional notation
  (``1e-7`` and ``0.00001`` for ``1e-07`` and ``1e-05``): the same JSON float, the same value;
* what ``orjson`` does not write as DRF does (datetimes, Decimals, lazy strings, …) goes
  through DRF's own encoder (``default``); what it cannot write at all (integers beyond 64
  bits, keys that are not strings) is rendered by DRF.

``orjson.Fragment`` s in the data (entries written beforehand: ``encoding.course_entries_json``)
are embedded as they are; a view hands them only to a renderer that :meth:`~JSONRenderer.writes_compact`.

An indented answer (``Accept: application/json; indent=2``), a host's non-compact or ASCII
settings, and the browsable API are DRF's as before. NaN and infinities never reach the
renderer: the encoders refuse them (``compiled.not_finite``), as DRF's strict mode does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from rest_framework import renderers
from rest_framework.renderers import BaseRenderer

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class JSONRenderer(renderers.JSONRenderer):
    """``rest_framework.renderers.JSONRenderer`` whose compact answers ``orjson`` writes (see the module docstring)."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        """
        The JSON bytes of ``data`` (``b""`` for None), as DRF's renderer writes them.

        Raises:
            TypeError: ``data`` holds what DRF's encoder cannot write either.
        """
        if data is None:
            return b""
        if not self.writes_compact(accepted_media_type or "", renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in body or b"\xe2\x80\xa9" in body:  # U+2028, U+2029 (DRF escapes them for JavaScript)
            body = body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return body

    def writes_compact(self, accepted_media_type: str, renderer_context: Mapping[str, Any]) -> bool:
        """
        True when DRF would write compact, strict, UTF-8 JSON: the answers ``orjson`` writes.

        Only these may hold ``orjson.Fragment`` s (JSON written beforehand, embedded as it is).
        """
        plain = self.compact and not self.ensure_ascii and self.strict
        return plain and self.get_indent(accepted_media_type, renderer_context) is None


def with_orjson(renderer_classes: Sequence[type[BaseRenderer]]) -> list[type[BaseRenderer]]:
    """The host's renderer classes, DRF's own ``JSONRenderer`` replaced by :class:`JSONRenderer` (its twin)."""
    return [JSONRenderer if cls is renderers.JSONRenderer else cls for cls in renderer_classes]
