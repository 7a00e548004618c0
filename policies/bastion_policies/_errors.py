"""Exception hierarchy of :mod:`bastion_policies`.

One base (:class:`PoliciesError`); "you used it wrong" errors (:class:`ConfigurationError`) are kept
apart from runtime failures of a caller's credentials (:class:`AuthenticationError` and subclasses).
Every message is short and safe to show to an end user: it never contains a token, a secret or a
stack trace, and it says what to do next.
"""

from __future__ import annotations

from bastion_core import BastionError, BastionUsageError

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "InvalidAudienceError",
    "InvalidIssuerError",
    "InvalidSignatureError",
    "MalformedTokenError",
    "MissingClaimError",
    "PoliciesError",
    "TokenExpiredError",
    "UnknownGroupError",
    "UnsignedTokenError",
]


class PoliciesError(BastionError):
    """Base class of every error raised by :mod:`bastion_policies`."""


class ConfigurationError(PoliciesError, BastionUsageError):
    """The policies, catalog, schema or secret were set up wrongly (a developer's mistake).

    The message names the file or value at fault and how to fix it.
    """


class AuthenticationError(PoliciesError):
    """A caller's credentials were refused.

    Attributes:
        http_status: The HTTP status a server should answer with (401 unless stated otherwise).
        public_message: A short message that is safe to show to the end user.
    """

    http_status: int = 401
    default_message: str = "Authentication failed; sign in again."

    def __init__(self, message: str | None = None) -> None:
        self.public_message = message or self.default_message
        super().__init__(self.public_message)


class MalformedTokenError(AuthenticationError):
    """The bearer token is not a well-formed JWT."""

    default_message = "The access token is malformed; sign in again to get a new one."


class UnsignedTokenError(AuthenticationError):
    """The token is unsigned (``alg: none``) or uses an algorithm that is not accepted."""

    default_message = "Unsigned or wrongly signed access tokens are not accepted; sign in again."


class InvalidSignatureError(AuthenticationError):
    """The token's signature does not verify (forged or signed with another key)."""

    default_message = "The access token's signature is invalid; sign in again."


class TokenExpiredError(AuthenticationError):
    """The token's ``exp`` has passed (or its ``nbf``/``iat`` lies in the future)."""

    default_message = "The access token has expired; sign in again."


class InvalidAudienceError(AuthenticationError):
    """The token was issued for another audience."""

    default_message = "The access token was not issued for this service; sign in again."


class InvalidIssuerError(AuthenticationError):
    """The token was issued by an issuer this service does not trust."""

    default_message = "The access token comes from an untrusted issuer; sign in again."


class MissingClaimError(AuthenticationError):
    """A claim Bastion needs (``sub``, ``groups``, ``exp``, ...) is missing or has the wrong type."""

    default_message = "The access token lacks required information; sign in again."


class UnknownGroupError(AuthenticationError):
    """The token names a group that does not exist in this deployment.

    Answered with HTTP 403: the caller is authentic but asks for a role nobody can have.
    """

    http_status = 403
    default_message = "The access token names an unknown user group; ask an administrator."
