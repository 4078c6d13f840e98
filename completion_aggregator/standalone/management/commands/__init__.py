"""One module per ``manage.py`` command of the standalone host (demo, import, enrollment, tokens)."""
