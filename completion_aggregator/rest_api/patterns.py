"""URL regex fragments shared by the versioned URL modules."""

#: A course key: anything without a slash (invalid ones reach the view, which answers
#: "Invalid course key: '…'."), or a deprecated ``org/course/run`` key.
COURSE_KEY_PATTERN = r"(?P<course_key>[^/]+(?:/[^/]+/[^/]+)?)"
#: A usage key (non-deprecated keys have no slash).
BLOCK_KEY_PATTERN = r"(?P<block_key>[^/]+)"
