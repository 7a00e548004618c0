"""OAuth2 client-credentials token issuing and checking (in memory)."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from bastion_legacy._errors import LegacyApiError


@dataclass(frozen=True)
class IssuedToken:
    """An access token and its lifetime in seconds."""

    access_token: str
    expires_in: int


def _unauthorized(message: str) -> LegacyApiError:
    return LegacyApiError(401, "AUTH-401", message)


def parse_basic(authorization: str | None) -> tuple[str, str] | None:
    """The (client id, secret) of an HTTP Basic ``Authorization`` header, or None."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


class TokenAuthority:
    """Issues opaque bearer tokens to the configured client and validates them.

    Args:
        client_id: The accepted client id.
        client_secret: The accepted client secret.
        ttl_seconds: Token lifetime.
        clock: Seconds since the epoch.
    """

    def __init__(
        self, client_id: str, client_secret: str, ttl_seconds: float, clock: Callable[[], float]
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._ttl = ttl_seconds
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def credentials_valid(self, client_id: str, client_secret: str) -> bool:
        """Constant-time comparison of client credentials."""
        id_ok = hmac.compare_digest(client_id.encode(), self._client_id.encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), self._client_secret.encode())
        return id_ok and secret_ok

    def issue_from_request(self, body: bytes, content_type: str, authorization: str | None) -> IssuedToken:
        """Handle a token request (form body and/or HTTP Basic credentials).

        Raises:
            LegacyApiError: 400 ``AUTH-400`` for a malformed request or wrong grant type, 401
                ``AUTH-401`` for unknown client credentials.
        """
        if "application/x-www-form-urlencoded" not in content_type:
            raise LegacyApiError(400, "AUTH-400", "Token requests must be application/x-www-form-urlencoded.")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items() if v}
        if form.get("grant_type") != "client_credentials":
            raise LegacyApiError(400, "AUTH-400", "Unsupported grant_type; use client_credentials.")
        basic = parse_basic(authorization)
        client_id, secret = basic if basic else (form.get("client_id", ""), form.get("client_secret", ""))
        if not self.credentials_valid(client_id, secret):
            raise _unauthorized("Invalid client credentials.")
        return self.issue()

    def issue(self) -> IssuedToken:
        """A new token valid for ``ttl_seconds``."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self._ttl
        return IssuedToken(token, int(self._ttl))

    def check(self, authorization: str | None) -> None:
        """Accept a valid, unexpired ``Bearer`` token.

        Raises:
            LegacyApiError: 401 ``AUTH-401`` when the header is missing, the token unknown or expired.
        """
        if not authorization or not authorization.lower().startswith("bearer "):
            raise _unauthorized("Missing bearer token. Obtain one from POST /oauth/token.")
        token = authorization[7:].strip()
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            raise _unauthorized("Invalid access token.")
        if self._clock() >= expiry:
            raise _unauthorized("Access token expired.")

    def check_admin(self, authorization: str | None) -> None:
        """Accept a valid bearer token or the client credentials as HTTP Basic.

        Raises:
            LegacyApiError: 401 ``AUTH-401`` otherwise.
        """
        basic = parse_basic(authorization)
        if basic is not None:
            if not self.credentials_valid(*basic):
                raise _unauthorized("Invalid client credentials.")
            return
        self.check(authorization)
