"""SystemClient parts: read-only retries, JSON/XML codecs, error envelopes, paging, path encoding."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from bastion_facades import (
    FieldErrorEnvelope,
    LegacyAPIError,
    OffsetPaging,
    Page,
    PageNumberPaging,
    RetryPolicy,
    SystemClient,
    UpstreamError,
    XmlCodec,
    encode_segment,
    render_path,
)
from bastion_facades._wire import QueryParams

Handler = Callable[[httpx.Request], httpx.Response]


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _client(handler: Handler, **kwargs: Any) -> SystemClient:
    return SystemClient(
        "http://legacy.test", system_name="billing system", transport=httpx.MockTransport(handler), **kwargs
    )


def _flaky(failures: int, status: int = 503) -> tuple[Handler, list[str]]:
    methods: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        if len(methods) <= failures:
            return httpx.Response(status, json={"error": {"code": "SYS", "traceId": "tr-9"}})
        return httpx.Response(200, json={"ok": True})

    return handler, methods


# Retries -----------------------------------------------------------------------------------------


async def test_get_is_retried_with_backoff_without_real_sleeping() -> None:
    handler, methods = _flaky(2)
    sleeps = Sleeps()
    async with _client(handler, retry=RetryPolicy(attempts=3, backoff_seconds=0.5, sleep=sleeps)) as client:
        assert await client.request("GET", "/a") == {"ok": True}
    assert methods == ["GET"] * 3
    assert sleeps.calls == [0.5, 1.0]


async def test_writes_are_never_retried() -> None:
    sleeps = Sleeps()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        handler, methods = _flaky(1)
        async with _client(handler, retry=RetryPolicy(sleep=sleeps)) as client:
            with pytest.raises(UpstreamError, match=r"The billing system failed \(HTTP 503, trace tr-9\)"):
                await client.request(method, "/a", body={"x": 1})
        assert methods == [method]
    assert sleeps.calls == []


async def test_retries_give_up_after_the_attempts_and_skip_non_retryable_statuses() -> None:
    handler, methods = _flaky(5)
    sleeps = Sleeps()
    async with _client(handler, retry=RetryPolicy(attempts=2, sleep=sleeps)) as client:
        with pytest.raises(UpstreamError):
            await client.request("GET", "/a")
    assert len(methods) == 2
    handler, methods = _flaky(5, status=500)
    async with _client(handler, retry=RetryPolicy(sleep=sleeps)) as client:
        with pytest.raises(UpstreamError):
            await client.request("GET", "/a")
    assert len(methods) == 1


async def test_timeouts_of_reads_are_retried_and_reported_with_the_system_name() -> None:
    calls: list[str] = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadTimeout("slow", request=request)

    sleeps = Sleeps()
    async with _client(slow, retry=RetryPolicy(sleep=sleeps)) as client:
        with pytest.raises(UpstreamError, match="The billing system did not answer in time"):
            await client.request("GET", "/a")
        with pytest.raises(UpstreamError, match="did not answer in time"):
            await client.request("POST", "/a", body={})
    assert calls == ["GET", "GET", "GET", "POST"]


def test_retry_policy_refuses_writes() -> None:
    with pytest.raises(Exception, match="idempotent reads"):
        RetryPolicy(methods=frozenset({"GET", "POST"}))


# Codecs ------------------------------------------------------------------------------------------


async def test_json_bodies_are_encoded_and_decoded() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/json"
        return httpx.Response(200, content=request.content)

    async with _client(echo) as client:
        assert await client.request("POST", "/a", body={"name": "Zoë", "n": [1, 2]}) == {
            "name": "Zoë",
            "n": [1, 2],
        }


async def test_xml_bodies_are_read_into_json_values() -> None:
    def xml(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == "application/xml"
        assert request.content.startswith(b"<?xml")
        body = b'<flight number="HAT001"><status>available</status><seat>1A</seat><seat>1B</seat>'
        body += b"<note/></flight>"
        return httpx.Response(200, content=body)

    async with _client(xml, codec=XmlCodec(list_tags={"seat"})) as client:
        answer = await client.request("POST", "/f", body={"query": {"@kind": "flight", "number": "HAT001"}})
    assert answer == {
        "flight": {"@number": "HAT001", "status": "available", "seat": ["1A", "1B"], "note": None}
    }


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lolz>&lol3;</lolz>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
async def test_xml_with_entities_is_refused_with_a_clear_error(body: bytes) -> None:
    async with _client(lambda request: httpx.Response(200, content=body), codec=XmlCodec()) as client:
        with pytest.raises(UpstreamError) as caught:
            await client.request("GET", "/a")
    assert "refused" in caught.value.message and "billing system" in caught.value.message
    assert "root:" not in caught.value.message and "lol" not in caught.value.message


async def test_an_unreadable_body_is_an_upstream_error() -> None:
    async with _client(lambda request: httpx.Response(200, content=b"<html>")) as client:
        with pytest.raises(UpstreamError, match="unreadable response"):
            await client.request("GET", "/a")


# Error envelopes ---------------------------------------------------------------------------------


async def test_a_4xx_envelope_is_a_legacy_api_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"code": "X-404", "message": "No such x", "traceId": "t"}})

    async with _client(handler) as client:
        with pytest.raises(LegacyAPIError) as caught:
            await client.request("GET", "/a")
    assert (caught.value.status, caught.value.code, caught.value.legacy_message, caught.value.trace_id) == (
        404,
        "X-404",
        "No such x",
        "t",
    )
    async with _client(lambda request: httpx.Response(418, text="teapot")) as client:
        with pytest.raises(LegacyAPIError) as caught:
            await client.request("GET", "/a")
    assert caught.value.code == "HTTP-418"


async def test_an_error_inside_a_200_is_a_legacy_api_error() -> None:
    envelope = FieldErrorEnvelope(
        code="response.error.code",
        message="response.error.message",
        trace_id="x",
        failed_when="response.status == 'error'",
    )
    answers = [
        {"response": {"status": "error", "error": {"code": "FLT-404", "message": "Flight not found"}}},
        {"response": {"status": "ok", "flight": "HAT001"}},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers.pop(0))

    async with _client(handler, envelope=envelope) as client:
        with pytest.raises(LegacyAPIError) as caught:
            await client.request("GET", "/f")
        assert await client.request("GET", "/f") == {"response": {"status": "ok", "flight": "HAT001"}}
    assert (caught.value.status, caught.value.code, caught.value.legacy_message) == (
        200,
        "FLT-404",
        "Flight not found",
    )


# Paging ------------------------------------------------------------------------------------------


def _pages(pages: dict[int, Any], key: str) -> tuple[Handler, list[dict[str, str]]]:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        return httpx.Response(200, json=pages[int(params[key])])

    return handler, seen


async def test_page_number_paging_folds_pages_up_to_a_cap() -> None:
    pages = {
        n: {
            "data": [{"n": i} for i in range(2 * n - 1, min(2 * n, 5) + 1)],
            "paging": {"totalItems": 5, "totalPages": 3},
        }
        for n in (1, 2, 3)
    }
    handler, seen = _pages(pages, "page")
    paging = PageNumberPaging(page_size=2)
    async with _client(handler) as client:
        items, total = await client.fetch_all("/list", {"q": "x"}, paging=paging, max_items=10)
        assert ([i["n"] for i in items], total) == ([1, 2, 3, 4, 5], 5)  # type: ignore[index]
        assert seen[0] == {"q": "x", "page": "1", "pageSize": "2"}
        seen.clear()
        items, total = await client.fetch_all("/list", paging=paging, max_items=3)
    assert (len(items), total, [s["page"] for s in seen]) == (3, 5, ["1", "2"])


async def test_offset_paging() -> None:
    pages = {0: {"items": [1, 2], "total": 3}, 2: {"items": [3], "total": 3}}
    handler, seen = _pages(pages, "offset")
    async with _client(handler) as client:
        items, total = await client.fetch_all("/l", paging=OffsetPaging(limit=2), max_items=50)
    assert (items, total, [s["offset"] for s in seen]) == ([1, 2, 3], 3, ["0", "2"])


class CursorPaging:
    """A scheme plugged in by a user: ``?cursor=`` with ``next`` in the body."""

    def first(self) -> dict[str, str | int]:
        return {"cursor": ""}

    def read(self, body: Any, params: QueryParams) -> Page:
        nxt = body.get("next")
        return Page(list(body["results"]), None, {"cursor": nxt} if nxt else None)


async def test_a_cursor_paging_scheme_plugs_in() -> None:
    pages = {"": {"results": ["a", "b"], "next": "c2"}, "c2": {"results": ["c"], "next": None}}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params["cursor"]])

    async with _client(handler) as client:
        assert await client.fetch_all("/l", paging=CursorPaging(), max_items=10) == (["a", "b", "c"], 3)


# Path encoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        (".", b"%2E"),
        ("..", b"%2E%2E"),
        ("../x", b"%2E%2E%2Fx"),
        ("a/b", b"a%2Fb"),
        ("x?y=1#z", b"x%3Fy%3D1%23z"),
        ("%2e%2e", b"%252e%252e"),
        ("W123", b"W123"),
    ],
)
async def test_path_parameters_never_change_the_endpoint(value: str, segment: bytes) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={})

    async with SystemClient(
        "http://legacy.test/api/v2", system_name="s", transport=httpx.MockTransport(handler)
    ) as client:
        await client.request("GET", render_path("/items/{id}/details", {"id": value}))
    assert seen[0].raw_path.split(b"/") == [b"", b"api", b"v2", b"items", segment, b"details"]
    assert seen[0].query == b""


def test_an_empty_segment_is_refused() -> None:
    assert encode_segment("a.b") == "a%2Eb"
    with pytest.raises(Exception, match="empty"):
        encode_segment("")


async def test_query_values_are_encoded() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, content=json.dumps({}))

    async with _client(handler) as client:
        await client.request("GET", "/c", params={"email": "a&b=c@example.com"})
    assert seen[0].params["email"] == "a&b=c@example.com"
    assert list(seen[0].params) == ["email"]
