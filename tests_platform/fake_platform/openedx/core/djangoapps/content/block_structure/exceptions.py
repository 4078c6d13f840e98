"""Block structure exceptions (same names as edx-platform)."""


class BlockStructureException(Exception):
    """Base class."""


class TransformerException(BlockStructureException):
    """A transformer is not registered or is invalid."""


class TransformerDataIncompatible(BlockStructureException):
    """A transformer's READ_VERSION is newer than the stored data."""


class UsageKeyNotInBlockStructure(BlockStructureException):
    """The starting block is not in the structure."""


class BlockStructureNotFound(BlockStructureException):
    """No collected structure is stored for the course."""
