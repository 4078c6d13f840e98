"""Modulestore exceptions."""


class ItemNotFoundError(Exception):
    """No such item (or course) in the modulestore."""
