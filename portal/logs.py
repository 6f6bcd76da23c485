import logging


class WithoutTraceback(logging.Filter):
    """A client's bad request (django.security: a Host outside ALLOWED_HOSTS, a suspicious
    operation) is one line in the log, not a traceback: it is not the server's error."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True
