"""Errors of the legacy retail API and its error envelope.

Every failure leaves the service as a JSON body of the form
``{"error": {"code": "ORD-404", "message": "...", "status": 404, "traceId": "..."}}``.
"""

from __future__ import annotations


class LegacyError(Exception):
    """Base class of every error raised by ``bastion_legacy``."""


class LegacyConfigurationError(LegacyError):
    """The service or store was set up wrongly (missing seed file, empty credentials...)."""


class LegacyApiError(LegacyError):
    """A request failed with an HTTP status and a legacy error code.

    Args:
        status: HTTP status code (400, 401, 404, 409, 422, 500).
        code: Legacy error code, e.g. ``ORD-404``.
        message: Human-readable text. For business rule violations this is the benchmark's
            exact error text (e.g. ``Non-pending order cannot be cancelled``).
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(code: str, message: str) -> LegacyApiError:
    """A 404 error (``CUS-404``, ``ORD-404``, ``PRD-404``, ``ITM-404``)."""
    return LegacyApiError(404, code, message)


def conflict(message: str) -> LegacyApiError:
    """A 409 error: the order is in a status that forbids the write (``ORD-409``)."""
    return LegacyApiError(409, "ORD-409", message)


def unprocessable(code: str, message: str) -> LegacyApiError:
    """A 422 error: the write's arguments break a business rule (``ORD-422``, ``PAY-422``)."""
    return LegacyApiError(422, code, message)
