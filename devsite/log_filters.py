"""
Logging filters of the development project.

An invalid or expired JWT is an expected 401, yet ``edx-drf-extensions`` logs it with
``logger.exception`` (a whole traceback per request). :class:`OneLine` folds the exception
into the message, so each such request is one log line that still says why.
"""
import logging


class OneLine(logging.Filter):
    """Replace a record's traceback by ``message (ExceptionType: text)`` on the same line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
