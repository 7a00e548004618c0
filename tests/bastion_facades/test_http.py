"""LegacyClient: token caching, refresh on 401, error mapping of the transport (MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest
from bastion_facades import LegacyAPIError, LegacyAuthError, LegacyClient, UpstreamError

SECRET = "s3cret-value"


class FakeLegacy:
    """A scripted legacy API: issues numbered tokens, answers resources from a queue."""

    def __init__(self, expires_in: int = 300) -> None:
        self.expires_in = expires_in
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.resource_responses: list[httpx.Response] = []
        self.seen_tokens: list[str] = []
        self.token_status = 200

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            if self.token_status != 200:
                return httpx.Response(
                    self.token_status, json={"error": {"code": "AUTH-401", "message": "no"}}
                )
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            assert form["grant_type"] == "client_credentials"
            assert form["client_secret"] == SECRET
            token = f"tok-{len(self.issued) + 1}"
            self.issued.append(token)
            self.valid.add(token)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
            )
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.seen_tokens.append(token)
        if token not in self.valid:
            return httpx.Response(
                401, json={"error": {"code": "AUTH-401", "message": "Invalid access token."}}
            )
        if self.resource_responses:
            return self.resource_responses.pop(0)
        return httpx.Response(200, json={"ok": True, "path": request.url.path})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _client(
    fake: FakeLegacy, clock: Clock | None = None, refresh_margin_seconds: float = 30.0
) -> LegacyClient:
    return LegacyClient(
        "http://legacy.test",
        "client",
        SECRET,
        transport=httpx.MockTransport(fake.handler),
        clock=clock or Clock(),
        refresh_margin_seconds=refresh_margin_seconds,
    )


async def test_token_is_fetched_once_and_cached() -> None:
    fake = FakeLegacy()
    async with _client(fake) as client:
        for _ in range(3):
            assert (await client.get("/api/v2/x"))["ok"] is True
    assert fake.issued == ["tok-1"]
    assert fake.seen_tokens == ["tok-1"] * 3


async def test_token_is_refreshed_shortly_before_expiry() -> None:
    fake, clock = FakeLegacy(expires_in=300), Clock()
    async with _client(fake, clock, refresh_margin_seconds=30) as client:
        await client.get("/a")
        clock.now = 269  # 300 - min(30, 300/10) = 270
        await client.get("/a")
        assert fake.issued == ["tok-1"]
        clock.now = 271
        await client.get("/a")
    assert fake.issued == ["tok-1", "tok-2"]


async def test_a_401_refreshes_once_and_retries_once() -> None:
    fake = FakeLegacy()
    async with _client(fake) as client:
        await client.get("/a")
        fake.valid.clear()  # the server forgot every token (restart, revocation, expiry)
        body = await client.get("/b")
    assert body["path"] == "/b"
    assert fake.issued == ["tok-1", "tok-2"]
    assert fake.seen_tokens == ["tok-1", "tok-1", "tok-2"]


async def test_a_second_401_is_an_auth_error() -> None:
    fake = FakeLegacy()
    fake.resource_responses = [
        httpx.Response(401, json={"error": {"code": "AUTH-401", "message": "nope"}}),
        httpx.Response(401, json={"error": {"code": "AUTH-401", "message": "nope"}}),
    ]
    async with _client(fake) as client:
        with pytest.raises(LegacyAuthError):
            await client.get("/a")
    assert len(fake.issued) == 2


async def test_rejected_credentials_are_an_auth_error_without_the_secret() -> None:
    fake = FakeLegacy()
    fake.token_status = 401
    async with _client(fake) as client:
        with pytest.raises(LegacyAuthError) as caught:
            await client.get("/a")
    assert SECRET not in str(caught.value)


async def test_legacy_envelope_becomes_legacy_api_error() -> None:
    fake = FakeLegacy()
    fake.resource_responses = [
        httpx.Response(
            404, json={"error": {"code": "ORD-404", "message": "Order not found", "traceId": "t1"}}
        )
    ]
    async with _client(fake) as client:
        with pytest.raises(LegacyAPIError) as caught:
            await client.get("/api/v2/orders/W1")
    assert (caught.value.status, caught.value.code, caught.value.legacy_message, caught.value.trace_id) == (
        404,
        "ORD-404",
        "Order not found",
        "t1",
    )


async def test_4xx_without_envelope_still_maps() -> None:
    fake = FakeLegacy()
    fake.resource_responses = [httpx.Response(418, text="teapot")]
    async with _client(fake) as client:
        with pytest.raises(LegacyAPIError) as caught:
            await client.get("/a")
    assert caught.value.code == "HTTP-418"


async def test_5xx_is_an_upstream_error_with_next_steps() -> None:
    fake = FakeLegacy()
    fake.resource_responses = [httpx.Response(503, json={"error": {"code": "SYS-503", "traceId": "abc"}})]
    async with _client(fake) as client:
        with pytest.raises(UpstreamError) as caught:
            await client.get("/a")
    assert caught.value.status == 503
    assert "Try again" in caught.value.message
    assert "tok-" not in caught.value.message


async def test_timeout_is_an_upstream_error() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with LegacyClient(
        "http://legacy.test", "c", SECRET, transport=httpx.MockTransport(timeout)
    ) as client:
        with pytest.raises(UpstreamError, match="did not answer in time"):
            await client.get("/a")


async def test_unreachable_is_an_upstream_error() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with LegacyClient(
        "http://legacy.test", "c", SECRET, transport=httpx.MockTransport(refused)
    ) as client:
        with pytest.raises(UpstreamError, match="cannot be reached"):
            await client.get("/a")


async def test_get_all_folds_pages_up_to_a_cap() -> None:
    pages = {
        1: {"data": [{"n": 1}, {"n": 2}], "paging": {"totalItems": 5, "totalPages": 3}},
        2: {"data": [{"n": 3}, {"n": 4}], "paging": {"totalItems": 5, "totalPages": 3}},
        3: {"data": [{"n": 5}], "paging": {"totalItems": 5, "totalPages": 3}},
    }
    requested: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 300})
        page = int(request.url.params["page"])
        requested.append(page)
        assert request.url.params["pageSize"] == "2"
        return httpx.Response(200, content=json.dumps(pages[page]))

    async with LegacyClient("http://x", "c", SECRET, transport=httpx.MockTransport(handler)) as client:
        items, total = await client.get_all("/list", page_size=2, max_items=10)
        assert ([i["n"] for i in items], total) == ([1, 2, 3, 4, 5], 5)
        requested.clear()
        items, total = await client.get_all("/list", page_size=2, max_items=3)
    assert ([i["n"] for i in items], total) == ([1, 2, 3], 5)
    assert requested == [1, 2]
