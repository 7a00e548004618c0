"""An ``httpx.Auth`` flow that sends a freshly exchanged MCP access token on every request."""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx

__all__ = ["ExchangedTokenAuth"]


class ExchangedTokenAuth(httpx.Auth):
    """Sets ``Authorization: Bearer <token>`` with a token minted for each request.

    Exchanged tokens are short-lived and cheap to mint (HS256), so minting one per request means a
    long conversation never sends an expired token, and a refresh of the user's own token never
    changes the conversation's session (the session lives in the token's signed ``sid`` claim and in
    the server-side store). Source: RFC 8693 (OAuth 2.0 Token Exchange).

    Args:
        mint: Returns a new access token (e.g. ``lambda: exchanger.exchange(principal, sid)``).
    """

    def __init__(self, mint: Callable[[], str]) -> None:
        self._mint = mint

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """Add the bearer header and send the request once."""
        request.headers["Authorization"] = "Bearer " + self._mint()
        yield request
