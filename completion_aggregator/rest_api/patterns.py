"""URL regex fragments shared by the versioned URL modules."""

#: A course key: anything without a slash (invalid ones reach the view, which answers
#: "Invalid course key: '…'."), or a deprecated ``org/course/run`` key.
COURSE_KEY_PATTERN = r"(?P<course_key>[^/]+(?:/[^/]+/[^/]+)?)"
#: A usage key: the rest of the path before the final slash, so that old-Mongo keys
#: (``i4x://org/course/type/name``, slashes included) reach the view.
BLOCK_KEY_PATTERN = r"(?P<block_key>.+)"
