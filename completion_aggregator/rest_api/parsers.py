"""
Request body parsers of the REST API.

DRF's ``JSONParser`` turns malformed JSON into a 400 (``ParseError``) but lets Python's
``RecursionError`` through: a body nested about 1,000 deep (``[[[[…]]]]``) answered 500.
:class:`JSONParser` here answers 400 for it too (issue 18).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested too deep to decode is a ``ParseError`` (400), not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        """
        The decoded JSON body.

        Raises:
            ParseError: malformed JSON (DRF's message), or nested too deep to decode
                ("JSON parse error - nested too deeply").
        """
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


#: What the completion endpoints accept: DRF's default parsers, JSON through the safe one.
PARSER_CLASSES = (JSONParser, parsers.FormParser, parsers.MultiPartParser)
