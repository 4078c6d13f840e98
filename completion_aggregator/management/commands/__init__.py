"""One module per ``manage.py`` command of the app (the service, cleanup, reaggregation, totals)."""
