"""Auth hops as httpx.Auth flows: OAuth2 client credentials, session-cookie login, API key."""

from __future__ import annotations

import json

import httpx
import pytest
from bastion_facades import (
    ApiKeyHeader,
    LegacyAuthError,
    OAuth2ClientCredentials,
    SessionCookieLogin,
    SystemClient,
    UpstreamError,
    json_error_code,
)

SECRET = "s3cret-value"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TokenServer:
    """Issues numbered tokens; resources accept only valid ones."""

    def __init__(self, expires_in: int = 300) -> None:
        self.expires_in = expires_in
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.seen: list[str] = []
        self.token_status = 200
        self.always_401 = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            if self.token_status != 200:
                return httpx.Response(self.token_status, json={"error": {"code": "AUTH", "message": SECRET}})
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            assert form == {
                "grant_type": "client_credentials",
                "client_id": "client",
                "client_secret": SECRET,
            }
            token = f"tok-{len(self.issued) + 1}"
            self.issued.append(token)
            self.valid.add(token)
            return httpx.Response(200, json={"access_token": token, "expires_in": self.expires_in})
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.seen.append(token)
        if self.always_401 or token not in self.valid:
            return httpx.Response(401, json={"error": {"code": "AUTH-401", "message": "Invalid token."}})
        return httpx.Response(200, json={"path": request.url.path})


def _oauth_client(server: TokenServer, clock: Clock) -> tuple[SystemClient, OAuth2ClientCredentials]:
    auth = OAuth2ClientCredentials("/oauth/token", "client", SECRET, clock=clock, refresh_margin_seconds=30)
    client = SystemClient(
        "http://legacy.test", system_name="test system", auth=auth, transport=httpx.MockTransport(server)
    )
    return client, auth


async def test_oauth2_token_is_fetched_once_and_cached() -> None:
    server = TokenServer()
    client, auth = _oauth_client(server, Clock())
    async with client:
        for _ in range(3):
            assert await client.request("GET", "/a") == {"path": "/a"}
    assert server.issued == ["tok-1"]
    assert server.seen == ["tok-1"] * 3
    assert auth.renewals == 1


async def test_oauth2_token_is_refreshed_shortly_before_expiry() -> None:
    server, clock = TokenServer(expires_in=300), Clock()
    client, _ = _oauth_client(server, clock)
    async with client:
        await client.request("GET", "/a")
        clock.now = 269  # 300 - min(30, 300 / 10) = 270
        await client.request("GET", "/a")
        assert server.issued == ["tok-1"]
        clock.now = 271
        await client.request("GET", "/a")
    assert server.issued == ["tok-1", "tok-2"]


async def test_oauth2_refreshes_once_on_401_and_retries_once() -> None:
    server = TokenServer()
    client, _ = _oauth_client(server, Clock())
    async with client:
        await client.request("GET", "/a")
        server.valid.clear()  # the server forgot every token
        assert await client.request("POST", "/b", body={"x": 1}) == {"path": "/b"}
    assert server.issued == ["tok-1", "tok-2"]
    assert server.seen == ["tok-1", "tok-1", "tok-2"]


async def test_oauth2_second_401_is_an_auth_error() -> None:
    server = TokenServer()
    server.always_401 = True
    client, _ = _oauth_client(server, Clock())
    async with client:
        with pytest.raises(LegacyAuthError, match="freshly issued token"):
            await client.request("GET", "/a")
    assert len(server.issued) == 2


async def test_oauth2_rejected_credentials_are_an_auth_error_without_the_secret() -> None:
    server = TokenServer()
    server.token_status = 401
    client, _ = _oauth_client(server, Clock())
    async with client:
        with pytest.raises(LegacyAuthError, match="client credentials") as caught:
            await client.request("GET", "/a")
    assert SECRET not in str(caught.value)


async def test_oauth2_token_endpoint_outage_is_an_upstream_error() -> None:
    server = TokenServer()
    server.token_status = 503
    client, _ = _oauth_client(server, Clock())
    async with client:
        with pytest.raises(UpstreamError, match=r"The test system failed \(HTTP 503\)"):
            await client.request("GET", "/a")


class LoginServer:
    """Session-cookie login; sessions expire when ``expired`` is set; optional in-200 'login required'."""

    def __init__(self, *, in_body: bool = False) -> None:
        self.sessions: set[str] = set()
        self.logins = 0
        self.in_body = in_body
        self.cookies_seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":
            if json.loads(request.content) != {"user": "facade", "password": SECRET}:
                return httpx.Response(403)
            self.logins += 1
            session = f"s{self.logins}"
            self.sessions.add(session)
            return httpx.Response(
                200, json={"ok": True}, headers={"Set-Cookie": f"SESSION={session}; Path=/"}
            )
        cookie = request.headers.get("cookie", "")
        self.cookies_seen.append(cookie)
        if cookie.removeprefix("SESSION=") not in self.sessions:
            if self.in_body:
                return httpx.Response(200, json={"error": {"code": "LOGIN_REQUIRED", "message": "Log in."}})
            return httpx.Response(401)
        return httpx.Response(200, json={"data": request.url.path})


def _login_client(server: LoginServer, clock: Clock, **kwargs: object) -> SystemClient:
    auth = SessionCookieLogin(
        "/login",
        {"user": "facade", "password": SECRET},
        cookie_name="SESSION",
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )
    return SystemClient(
        "http://legacy.test", system_name="test system", auth=auth, transport=httpx.MockTransport(server)
    )


async def test_cookie_login_once_then_relogin_when_the_session_expired() -> None:
    server = LoginServer()
    async with _login_client(server, Clock()) as client:
        assert await client.request("GET", "/a") == {"data": "/a"}
        assert await client.request("GET", "/b") == {"data": "/b"}
        assert server.logins == 1
        server.sessions.clear()  # the session expired on the server
        assert await client.request("GET", "/c") == {"data": "/c"}
    assert server.logins == 2
    assert server.cookies_seen == ["SESSION=s1", "SESSION=s1", "SESSION=s1", "SESSION=s2"]


async def test_cookie_relogin_on_a_login_required_answer_inside_a_200() -> None:
    server = LoginServer(in_body=True)
    required = json_error_code(("error", "code"), frozenset({"LOGIN_REQUIRED"}))
    async with _login_client(server, Clock(), login_required=required) as client:
        await client.request("GET", "/a")
        server.sessions.clear()
        assert await client.request("GET", "/b") == {"data": "/b"}
    assert server.logins == 2


async def test_cookie_session_ttl_logs_in_again_before_the_server_says_so() -> None:
    server, clock = LoginServer(), Clock()
    async with _login_client(server, clock, session_ttl_seconds=600) as client:
        await client.request("GET", "/a")
        clock.now = 601
        await client.request("GET", "/a")
    assert server.logins == 2
    assert server.cookies_seen == ["SESSION=s1", "SESSION=s2"]


async def test_cookie_login_refused_is_an_auth_error() -> None:
    server = LoginServer()
    auth = SessionCookieLogin("/login", {"user": "x", "password": "wrong"}, cookie_name="SESSION")
    async with SystemClient(
        "http://legacy.test", system_name="test system", auth=auth, transport=httpx.MockTransport(server)
    ) as client:
        with pytest.raises(LegacyAuthError, match="login") as caught:
            await client.request("GET", "/a")
    assert "wrong" not in str(caught.value)


async def test_api_key_header_is_sent_and_a_401_is_an_auth_error() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-api-key"))
        return httpx.Response(200 if request.url.path == "/ok" else 401, json={})

    async with SystemClient(
        "http://legacy.test",
        system_name="test system",
        auth=ApiKeyHeader(SECRET),
        transport=httpx.MockTransport(handler),
    ) as client:
        assert await client.request("GET", "/ok") == {}
        with pytest.raises(LegacyAuthError, match="API key") as caught:
            await client.request("GET", "/no")
    assert seen == [SECRET, SECRET]
    assert SECRET not in str(caught.value)
