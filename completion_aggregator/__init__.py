"""Course, section and unit completion for Open edX, kept ready and served over REST."""

__version__ = "0.1.0"
