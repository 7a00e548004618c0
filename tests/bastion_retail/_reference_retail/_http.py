"""An async HTTP client for legacy APIs that folds the OAuth2 client-credentials hop.

It fetches a token from the token endpoint, caches it until shortly before it expires, and on a
401 refreshes it once and retries the request once. Legacy error envelopes become
:class:`LegacyAPIError`, 5xx/timeouts/connection failures become :class:`UpstreamError`.
Idea: RFC 6749 section 4.4 (client credentials grant).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx
from bastion_facades._errors import ConfigurationError, LegacyAPIError, LegacyAuthError, UpstreamError
from bastion_facades._types import LegacyJson

from _reference_retail._trim import fold_pages

logger = logging.getLogger(__name__)

QueryParams = Mapping[str, str | int]


class LegacyClient:
    """Authenticated JSON client for one legacy API.

    Args:
        base_url: Root URL of the legacy API (e.g. the uvicorn address on 127.0.0.1).
        client_id: OAuth2 client id.
        client_secret: OAuth2 client secret (never logged, never put in an error message).
        token_path: Path of the token endpoint.
        transport: An httpx transport; tests pass ``httpx.ASGITransport(app=...)`` or
            ``httpx.MockTransport(...)``.
        timeout_seconds: Per-request timeout (connect, read, write, pool).
        refresh_margin_seconds: Refresh the token this long before it expires (capped at a tenth
            of the token's lifetime).
        clock: Monotonic seconds, injectable for tests.

    Raises:
        ConfigurationError: Empty base URL or credentials, or a non-positive timeout.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        token_path: str = "/oauth/token",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_seconds: float = 10.0,
        refresh_margin_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not base_url or not client_id or not client_secret:
            raise ConfigurationError("LegacyClient needs a base_url, a client_id and a client_secret.")
        if timeout_seconds <= 0:
            raise ConfigurationError("LegacyClient timeout_seconds must be positive.")
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_path = token_path
        self._margin = refresh_margin_seconds
        self._clock = clock
        self._http = httpx.AsyncClient(
            base_url=base_url, transport=transport, timeout=httpx.Timeout(timeout_seconds)
        )
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = asyncio.Lock()
        self.token_fetches = 0
        """How many tokens were fetched (for tests and metrics)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying HTTP connections."""
        await self._http.aclose()

    def invalidate_token(self) -> None:
        """Forget the cached token; the next request fetches a new one."""
        self._token = None
        self._token_expires_at = 0.0

    async def _access_token(self, *, force: bool = False) -> str:
        async with self._token_lock:
            if not force and self._token is not None and self._clock() < self._token_expires_at:
                return self._token
            response = await self._send(
                "POST",
                self._token_path,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
            )
            if response.status_code in (400, 401, 403):
                raise LegacyAuthError(
                    f"The legacy system rejected the facade's client credentials (HTTP "
                    f"{response.status_code}); check client_id and client_secret."
                )
            body = self._decode(response)
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise UpstreamError(
                    "The legacy token endpoint returned no access token.", response.status_code
                )
            expires_in = float(body.get("expires_in") or 60)
            self._token = token
            self._token_expires_at = self._clock() + expires_in - min(self._margin, expires_in / 10)
            self.token_fetches += 1
            logger.debug("expires_in=<%s> | fetched legacy access token", expires_in)
            return token

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            logger.debug("method=<%s>, path=<%s> | legacy request timed out", method, path)
            raise UpstreamError(
                "The retail system did not answer in time. Check the current state (e.g. the order's "
                "status) before retrying a change; if it keeps failing, transfer to a human agent."
            ) from None
        except httpx.TransportError as exc:
            logger.debug("error_type=<%s> | legacy request failed", type(exc).__name__)
            raise UpstreamError(
                "The retail system cannot be reached right now. Try again shortly; if it keeps failing, "
                "transfer to a human agent."
            ) from None

    @staticmethod
    def _decode(response: httpx.Response) -> LegacyJson:
        if response.status_code >= 500:
            trace = LegacyClient._envelope(response).get("traceId")
            raise UpstreamError(
                f"The retail system failed (HTTP {response.status_code}"
                + (f", trace {trace}" if isinstance(trace, str) else "")
                + "). Try again shortly; if it keeps failing, transfer to a human agent.",
                response.status_code,
            )
        if response.status_code >= 400:
            error = LegacyClient._envelope(response)
            code = error.get("code")
            message = error.get("message")
            trace = error.get("traceId")
            raise LegacyAPIError(
                response.status_code,
                code if isinstance(code, str) else f"HTTP-{response.status_code}",
                message if isinstance(message, str) else response.reason_phrase,
                trace if isinstance(trace, str) else None,
            )
        try:
            body = response.json()
        except ValueError:
            raise UpstreamError(
                "The retail system returned an unreadable response.", response.status_code
            ) from None
        if not isinstance(body, dict):
            raise UpstreamError("The retail system returned an unexpected response.", response.status_code)
        return body  # pyright: ignore[reportUnknownVariableType]

    @staticmethod
    def _envelope(response: httpx.Response) -> LegacyJson:
        try:
            body = response.json()
        except ValueError:
            return {}
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, dict) else {}  # pyright: ignore[reportUnknownVariableType]

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: object = None,
    ) -> LegacyJson:
        """Send an authenticated request and return the JSON object it answered.

        Args:
            method: HTTP method.
            path: Path relative to ``base_url`` (already URL-quoted).
            params: Query parameters.
            json: JSON body, if any.

        Returns:
            The decoded JSON object of a 2xx response.

        Raises:
            LegacyAPIError: A 4xx answer (other than a 401 cured by one token refresh).
            LegacyAuthError: Credentials rejected, or still 401 with a fresh token.
            UpstreamError: 5xx, timeout, connection failure or unreadable body.
        """
        kwargs: dict[str, Any] = {"params": dict(params) if params else None}
        if json is not None:
            kwargs["json"] = json
        token = await self._access_token()
        response = await self._send(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if response.status_code == 401:
            logger.debug("path=<%s> | legacy answered 401, refreshing token once", path)
            self.invalidate_token()
            token = await self._access_token(force=True)
            response = await self._send(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
            if response.status_code == 401:
                raise LegacyAuthError("The legacy system refused a freshly issued token.")
        return self._decode(response)

    async def get(self, path: str, params: QueryParams | None = None) -> LegacyJson:
        """``GET`` (see :meth:`request`)."""
        return await self.request("GET", path, params=params)

    async def post(self, path: str, json: object) -> LegacyJson:
        """``POST`` with a JSON body (see :meth:`request`)."""
        return await self.request("POST", path, json=json)

    async def put(self, path: str, json: object) -> LegacyJson:
        """``PUT`` with a JSON body (see :meth:`request`)."""
        return await self.request("PUT", path, json=json)

    async def get_all(
        self, path: str, params: QueryParams | None = None, *, page_size: int = 25, max_items: int = 500
    ) -> tuple[list[LegacyJson], int]:
        """Fetch every page of a paginated list endpoint, up to ``max_items`` items.

        Uses the legacy paging envelope ``{"data": [...], "paging": {"totalItems", "totalPages"}}``
        with ``page``/``pageSize`` query parameters.

        Returns:
            The items fetched (at most ``max_items``) and the total the legacy system reported.
        """

        async def fetch(page: int) -> LegacyJson:
            return await self.get(path, {**(params or {}), "page": page, "pageSize": page_size})

        return await fold_pages(fetch, max_items=max_items)
