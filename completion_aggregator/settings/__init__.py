"""Plugin settings modules (``common`` sets every default, ``production`` applies overrides)."""
