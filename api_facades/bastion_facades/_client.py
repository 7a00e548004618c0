"""A legacy-system client assembled from pluggable parts: auth flow, codec, envelope, retries, paging.

Failures are sorted for the facade: an error the system reports (4xx, or inside a 2xx body)
becomes :class:`LegacyAPIError` for the operation's error mapping; an outage (5xx, timeout,
connection failure, unreadable body) becomes :class:`UpstreamError` with a message naming the
system (``system_name``) and saying what to do next; refused credentials are
:class:`LegacyAuthError` (raised by the auth flow).
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Self

import httpx

from bastion_facades._codecs import Codec, CodecError, JsonCodec
from bastion_facades._errors import ConfigurationError, LegacyAPIError, UpstreamError
from bastion_facades._scope import CallScope
from bastion_facades._types import JsonValue
from bastion_facades._wire import (
    ErrorEnvelope,
    FieldErrorEnvelope,
    OutageMessages,
    Paging,
    QueryParams,
    ReportedError,
    RetryPolicy,
)

logger = logging.getLogger(__name__)


class SystemClient:
    """Async client of one legacy system.

    Args:
        base_url: Root URL of the system.
        system_name: How messages name the system (e.g. ``"billing system"``).
        auth: The auth hop (:class:`OAuth2ClientCredentials`, :class:`SessionCookieLogin`,
            :class:`ApiKeyHeader` or any ``httpx.Auth``), or None.
        codec: Body codec (JSON by default).
        envelope: Where the system reports errors (default ``{"error": {code, message, traceId}}``).
        retry: Retry policy for idempotent reads, or None for no retries.
        messages: Outage message templates.
        transport: An httpx transport (tests pass ``httpx.MockTransport`` or ``httpx.ASGITransport``).
        timeout_seconds: Per-request timeout.
        headers: Extra headers sent with every request.

    Raises:
        ConfigurationError: Empty base URL or system name, or a non-positive timeout.
    """

    def __init__(
        self,
        base_url: str,
        *,
        system_name: str,
        auth: httpx.Auth | None = None,
        codec: Codec | None = None,
        envelope: ErrorEnvelope | None = None,
        retry: RetryPolicy | None = None,
        messages: OutageMessages | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_seconds: float = 10.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not base_url or not system_name:
            raise ConfigurationError("SystemClient needs a base_url and a system_name.")
        if timeout_seconds <= 0:
            raise ConfigurationError("SystemClient timeout_seconds must be positive.")
        self.system_name = system_name
        self._codec = codec or JsonCodec()
        self._envelope = envelope or FieldErrorEnvelope()
        self._retry = retry
        self._messages = messages or OutageMessages()
        self._http = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            transport=transport,
            timeout=httpx.Timeout(timeout_seconds),
            headers={"Accept": self._codec.content_type, **(headers or {})},
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        body: JsonValue = None,
        scope: CallScope | None = None,
    ) -> JsonValue:
        """Send one request and return the decoded answer.

        A GET with a ``scope`` is answered from it if the scope already holds the same method, URL and
        parameters (errors included); any other method clears the scope.

        Args:
            method: HTTP method.
            path: Path relative to ``base_url``, already encoded (see ``render_path``).
            params: Query parameters.
            body: Request body (encoded by the codec), or None for no body.
            scope: The call's scope, if any.

        Returns:
            The decoded body (None if empty).

        Raises:
            LegacyAPIError: The system reported an error (4xx, or inside a 2xx body).
            LegacyAuthError: The system refused the facade's credentials.
            UpstreamError: 5xx, timeout, connection failure, unreadable or refused body.
        """
        method = method.upper()
        if method != "GET" or scope is None:
            try:
                return await self._send(method, path, params, body)
            finally:
                if scope is not None:
                    scope.clear()
        key = CallScope.key(method, str(self._http.base_url.join(path)), params)
        if key in scope:
            logger.debug("path=<%s> | answered from the call scope", path)
            return scope.answer(key)
        try:
            value = await self._send(method, path, params, body)
        except LegacyAPIError as exc:
            scope.keep_error(key, exc)
            raise
        scope.keep(key, value)
        return value

    async def fetch_all(
        self,
        path: str,
        params: QueryParams | None = None,
        *,
        paging: Paging,
        max_items: int,
        scope: CallScope | None = None,
    ) -> tuple[list[JsonValue], int]:
        """GET every page of a list, up to ``max_items`` items.

        Returns:
            The items (at most ``max_items``) and the total the system reported (else the count fetched).

        Raises:
            LegacyAPIError, LegacyAuthError, UpstreamError: As :meth:`request`.
        """
        items: list[JsonValue] = []
        page_params = paging.first()
        while True:
            merged = {**(params or {}), **page_params}
            page = paging.read(await self.request("GET", path, params=merged, scope=scope), merged)
            items.extend(page.items)
            total = page.total if page.total is not None else len(items)
            if len(items) >= max_items or page.next is None:
                return items[:max_items], total
            page_params = page.next

    async def _send(self, method: str, path: str, params: QueryParams | None, body: JsonValue) -> JsonValue:
        retry = self._retry if self._retry is not None and method in self._retry.methods else None
        attempts = retry.attempts if retry is not None else 1
        attempt = 1
        while True:
            try:
                response = await self._attempt(method, path, params, body)
            except UpstreamError as exc:
                retryable = retry is not None and (
                    retry.on_timeout if exc.status is None else exc.status in retry.statuses
                )
                if not retryable or attempt >= attempts or retry is None:
                    raise
                logger.debug(
                    "path=<%s>, attempt=<%d>, status=<%s> | retrying read", path, attempt, exc.status
                )
                await retry.sleep(retry.delay(attempt))
                attempt += 1
                continue
            return response

    async def _attempt(
        self, method: str, path: str, params: QueryParams | None, body: JsonValue
    ) -> JsonValue:
        content = None if body is None else self._codec.encode(body)
        headers = {} if content is None else {"Content-Type": self._codec.content_type}
        try:
            response = await self._http.request(
                method, path, params=dict(params) if params else None, content=content, headers=headers
            )
        except httpx.TimeoutException:
            logger.debug("method=<%s>, path=<%s> | request timed out", method, path)
            raise UpstreamError(self._messages.timeout.format(system=self.system_name)) from None
        except httpx.TransportError as exc:
            logger.debug("error_type=<%s> | request failed", type(exc).__name__)
            raise UpstreamError(self._messages.unreachable.format(system=self.system_name)) from None
        return self._read(response)

    def _read(self, response: httpx.Response) -> JsonValue:
        status = response.status_code
        try:
            decoded = self._codec.decode(response.content)
            problem = None
        except CodecError as exc:
            decoded, problem = None, exc.reason
        reported = self._envelope.read(status, response.reason_phrase, decoded)
        if status >= 500:
            trace = f", trace {reported.trace_id}" if reported and reported.trace_id else ""
            message = self._messages.failed.format(system=self.system_name, status=status, trace=trace)
            raise UpstreamError(message, status)
        if status >= 400 or (reported is not None and problem is None):
            reported = reported or ReportedError(f"HTTP-{status}", response.reason_phrase)
            raise LegacyAPIError(status, reported.code, reported.message, reported.trace_id)
        if problem is not None:
            raise UpstreamError(
                self._messages.unreadable.format(system=self.system_name, reason=problem), status
            )
        if status < 200 or status >= 300:
            reason = f"unexpected HTTP {status}"
            raise UpstreamError(
                self._messages.unreadable.format(system=self.system_name, reason=reason), status
            )
        return decoded
