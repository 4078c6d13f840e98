"""Celery tasks: primitive arguments in, one api call (import paths are part of the contract)."""
