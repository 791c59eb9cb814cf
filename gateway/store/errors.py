"""The named errors the store raises; the doors' handlers turn them into responses (gateway/errors.py)."""


class GatewayError(Exception):
    """Base class: ``status`` is the HTTP status, ``code`` the FHIR issue type."""

    status = 500
    code = "exception"

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class ChartError(GatewayError):
    """A chart write that the store refuses (unknown table, bad foreign key, missing column)."""

    status = 400
    code = "invalid"
