"""Auth hops as ``httpx.Auth`` flows: OAuth2 client credentials, a session-cookie login, an API key.

The renewing flows share one shape (httpx's "custom authentication" flow, which may yield extra
requests): get credentials if there are none or they expired, send the request, and if the system
answers "credentials no longer valid", renew once and send it once more. A renewal is done by one
task at a time (an ``asyncio.Lock``); tasks that waited reuse the fresh credentials. A token or login
endpoint failing with 5xx hands that response back, so the client reports an outage as for any
request. Secrets never appear in messages or logs.
Ideas: RFC 6749 section 4.4 (client credentials grant); httpx docs, "Custom authentication".
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any

import httpx

from bastion_facades._codecs import Codec, JsonCodec
from bastion_facades._errors import ConfigurationError, LegacyAuthError, UpstreamError

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
"""Monotonic seconds (``time.monotonic``); injectable for tests."""


def _unauthorized(response: httpx.Response) -> bool:
    return response.status_code == 401


class _RenewingAuth(httpx.Auth):
    """Base of flows whose credentials expire and are renewed by one extra request."""

    requires_response_body = True
    _what = "credentials"
    _credentials_text = "credentials"
    _fresh_text = "freshly issued credentials"

    def __init__(self, clock: Clock, rejected: Callable[[httpx.Response], bool]) -> None:
        self._clock = clock
        self._rejected = rejected
        self._secret: str | None = None
        self._expires_at = float("inf")
        self._generation = 0
        self._lock = asyncio.Lock()
        self.renewals = 0
        """How many times credentials were obtained (for tests and metrics)."""

    def invalidate(self) -> None:
        """Forget the current credentials; the next request renews them."""
        self._secret = None

    def _valid(self) -> bool:
        return self._secret is not None and self._clock() < self._expires_at

    def _renew_request(self, request: httpx.Request) -> httpx.Request:
        raise NotImplementedError

    def _accept(self, response: httpx.Response) -> bool:
        """Store credentials from the renewal answer; False hands a 5xx answer back to the client."""
        raise NotImplementedError

    def _apply(self, request: httpx.Request, secret: str) -> None:
        raise NotImplementedError

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Not supported: these flows are for ``httpx.AsyncClient``."""
        raise ConfigurationError(f"{type(self).__name__} works with httpx.AsyncClient only.")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Attach credentials, renewing them first if needed and once more if the system refuses them."""
        if not self._valid():
            async with self._lock:
                if not self._valid():
                    renewal = yield self._renew_request(request)
                    await renewal.aread()
                    if not self._accept(renewal):
                        return
        seen = self._generation
        self._apply(request, self._secret or "")
        response = yield request
        await response.aread()
        if not self._rejected(response):
            return
        logger.debug("url_path=<%s> | %s refused, renewing once", request.url.path, self._what)
        async with self._lock:
            if self._generation == seen:  # nobody renewed while we waited
                self._secret = None
                renewal = yield self._renew_request(request)
                await renewal.aread()
                if not self._accept(renewal):
                    return
        self._apply(request, self._secret or "")
        response = yield request
        await response.aread()
        if self._rejected(response):
            raise LegacyAuthError(f"The legacy system refused {self._fresh_text}.")

    def _store(self, secret: str, lifetime: float | None, margin: float) -> None:
        self._secret = secret
        self._expires_at = (
            float("inf") if lifetime is None else self._clock() + lifetime - min(margin, lifetime / 10)
        )
        self._generation += 1
        self.renewals += 1

    def _refused(self, response: httpx.Response, what_to_check: str) -> bool:
        """Shared status handling of a renewal answer: True if it is a 2xx to read."""
        if response.status_code >= 500:
            return False
        if response.status_code >= 300:
            raise LegacyAuthError(
                f"The legacy system rejected the facade's {self._credentials_text} (HTTP "
                f"{response.status_code}); check {what_to_check}."
            )
        return True


class OAuth2ClientCredentials(_RenewingAuth):
    """OAuth2 client-credentials grant: a cached bearer token, refreshed before expiry and on 401.

    Args:
        token_url: Token endpoint, absolute or relative to the request's URL.
        client_id: Client id.
        client_secret: Client secret (never logged, never in a message).
        scope: Optional ``scope`` parameter.
        refresh_margin_seconds: Renew this long before expiry (at most a tenth of the lifetime).
        default_lifetime_seconds: Lifetime assumed when the answer has no ``expires_in``.
        clock: Monotonic seconds.

    Raises:
        ConfigurationError: Empty client id or secret.
    """

    _what = "token"
    _credentials_text = "client credentials"
    _fresh_text = "a freshly issued token"

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        refresh_margin_seconds: float = 30.0,
        default_lifetime_seconds: float = 60.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise ConfigurationError("OAuth2ClientCredentials needs a client_id and a client_secret.")
        super().__init__(clock, _unauthorized)
        self._token_url = token_url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        if scope:
            self._form["scope"] = scope
        self._margin = refresh_margin_seconds
        self._default_lifetime = default_lifetime_seconds

    def _renew_request(self, request: httpx.Request) -> httpx.Request:
        return httpx.Request("POST", request.url.join(self._token_url), data=self._form)

    def _accept(self, response: httpx.Response) -> bool:
        if not self._refused(response, "client_id and client_secret"):
            return False
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UpstreamError("The legacy token endpoint returned no access token.", response.status_code)
        raw_lifetime = body.get("expires_in")  # pyright: ignore[reportOptionalMemberAccess]
        lifetime = float(raw_lifetime) if isinstance(raw_lifetime, int | float) else self._default_lifetime
        self._store(token, lifetime, self._margin)
        logger.debug("expires_in=<%s> | fetched access token", lifetime)
        return True

    def _apply(self, request: httpx.Request, secret: str) -> None:
        request.headers["Authorization"] = f"Bearer {secret}"


class SessionCookieLogin(_RenewingAuth):
    """A login call whose answer sets a session cookie; logs in again when the session expired.

    The session is taken as expired after ``session_ttl_seconds`` (if given) or when
    ``login_required(response)`` says so - by default an HTTP 401; systems that answer "login
    required" inside a 200 body pass a predicate that reads the body.

    Args:
        login_url: Login endpoint, absolute or relative to the request's URL.
        credentials: Login fields (user name, password, ...); never logged.
        cookie_name: Name of the session cookie.
        codec: Encodes the login body (JSON by default; an XML codec for XML systems).
        form: Send the credentials as an HTML form instead of a codec body.
        session_ttl_seconds: Log in again after this long, if known.
        login_required: Whether an answer means "log in again".
        clock: Monotonic seconds.

    Raises:
        ConfigurationError: No credentials or no cookie name.
    """

    _what = "login"
    _credentials_text = "login"
    _fresh_text = "a fresh login session"

    def __init__(
        self,
        login_url: str,
        credentials: Mapping[str, str],
        *,
        cookie_name: str,
        codec: Codec | None = None,
        form: bool = False,
        session_ttl_seconds: float | None = None,
        login_required: Callable[[httpx.Response], bool] = _unauthorized,
        clock: Clock = time.monotonic,
    ) -> None:
        if not credentials or not cookie_name:
            raise ConfigurationError("SessionCookieLogin needs credentials and a cookie_name.")
        super().__init__(clock, login_required)
        self._login_url = login_url
        self._credentials = dict(credentials)
        self._cookie_name = cookie_name
        self._codec = codec or JsonCodec()
        self._form = form
        self._ttl = session_ttl_seconds

    def _renew_request(self, request: httpx.Request) -> httpx.Request:
        url = request.url.join(self._login_url)
        if self._form:
            return httpx.Request("POST", url, data=self._credentials)
        content = self._codec.encode(dict[str, Any](self._credentials))
        return httpx.Request("POST", url, content=content, headers={"Content-Type": self._codec.content_type})

    def _accept(self, response: httpx.Response) -> bool:
        if not self._refused(response, "the login credentials"):
            return False
        cookies = httpx.Cookies()
        cookies.extract_cookies(response)
        session = next((c.value for c in cookies.jar if c.name == self._cookie_name), None)
        if not session:
            raise UpstreamError("The legacy login answered without a session cookie.", response.status_code)
        self._store(session, self._ttl, 0.0)
        logger.debug("cookie=<%s> | logged in", self._cookie_name)
        return True

    def _apply(self, request: httpx.Request, secret: str) -> None:
        request.headers["Cookie"] = f"{self._cookie_name}={secret}"


class ApiKeyHeader(httpx.Auth):
    """A static API key sent in a header; a 401 is a :class:`LegacyAuthError` (nothing to renew).

    Args:
        key: The API key (never logged, never in a message).
        header: Header name.
        prefix: Put before the key (e.g. ``"ApiKey "``).

    Raises:
        ConfigurationError: Empty key or header.
    """

    def __init__(self, key: str, *, header: str = "X-API-Key", prefix: str = "") -> None:
        if not key or not header:
            raise ConfigurationError("ApiKeyHeader needs a key and a header name.")
        self._value = prefix + key
        self._header = header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Attach the key; refuse to go on if the system rejects it."""
        request.headers[self._header] = self._value
        response = yield request
        if response.status_code == 401:
            raise LegacyAuthError("The legacy system refused the facade's API key (HTTP 401); check the key.")


def json_error_code(path: tuple[str, ...], codes: frozenset[str]) -> Callable[[httpx.Response], bool]:
    """A ``login_required`` predicate: true if the JSON body's value at ``path`` is one of ``codes``.

    For systems that report "log in again" inside a 200 body, e.g.
    ``json_error_code(("error", "code"), frozenset({"LOGIN_REQUIRED"}))``.
    """

    def check(response: httpx.Response) -> bool:
        try:
            node: Any = json.loads(response.content)
        except ValueError:
            return False
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return isinstance(node, str) and node in codes

    return check
