"""The FastAPI chat endpoint: auth errors, the SSE event sequence, session reuse and ownership."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from _agents_testkit import FakeEngine
from bastion_agents import create_chat_app
from bastion_policies import JwtIssuer, JwtVerifier
from fastapi import FastAPI


def _sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


@pytest.fixture
async def app(make_factory: Any, verifier: JwtVerifier) -> AsyncIterator[FastAPI]:
    engine = FakeEngine(deny={"cancel_pending_order": "customers may act only on their own orders"})
    application = create_chat_app(make_factory(engine=engine), verifier, max_message_chars=200)
    yield application
    await application.state.sessions.close_all()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "missing_token"),
        ({"Authorization": "Bearer not-a-jwt"}, "invalid_token"),
    ],
)
async def test_missing_or_malformed_token_is_401_json(
    client: httpx.AsyncClient, headers: dict[str, str], code: str
) -> None:
    response = await client.post("/v1/chat", json={"message": "hi"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_forged_expired_and_unknown_group_tokens_are_401_without_echo(
    client: httpx.AsyncClient,
) -> None:
    forged = JwtIssuer(b"another-secret-0123456789abcdefghij").issue("alice_1", ["customer"])
    expired = JwtIssuer(b"agents-test-secret-0123456789abcdef", clock=lambda: 1_000_000.0).issue(
        "alice_1", ["customer"]
    )
    unknown_group = JwtIssuer(b"agents-test-secret-0123456789abcdef").issue("alice_1", ["admin"])
    for token, code in (
        (forged, "invalid_token"),
        (expired, "token_expired"),
        (unknown_group, "unknown_group"),
    ):
        response = await client.post("/v1/chat", json={"message": "hi"}, headers=_auth(token))
        assert response.status_code == 401, code
        body = response.json()
        assert body["error"]["code"] == code
        assert token not in response.text
        assert "Traceback" not in response.text


async def test_bad_bodies_are_rejected_with_json_errors(client: httpx.AsyncClient, issuer: JwtIssuer) -> None:
    token = issuer.issue("alice_1", ["customer"])
    cases = [
        (b'{"message": ""}', 400, "invalid_request"),
        (b"not json", 400, "invalid_request"),
        (b'{"message": "hi", "session_id": "../etc"}', 400, "invalid_request"),
        (json.dumps({"message": "x" * 201}).encode(), 400, "message_too_long"),
        (json.dumps({"message": "x" * 20_000}).encode(), 413, "body_too_large"),
    ]
    for body, status, code in cases:
        response = await client.post(
            "/v1/chat", content=body, headers={**_auth(token), "Content-Type": "application/json"}
        )
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)


async def test_scripted_conversation_streams_the_documented_event_sequence(
    client: httpx.AsyncClient, issuer: JwtIssuer
) -> None:
    token = issuer.issue("alice_1", ["customer"])
    response = await client.post("/v1/chat", json={"message": "order #W1111111"}, headers=_auth(token))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _sse(response.text)
    names = [name for name, _ in events]
    assert names[:3] == ["session", "tool_call", "tool_result"]
    assert set(names[3:-1]) == {"text"}
    assert names[-1] == "done"
    session = events[0][1]
    assert session["user"] == "alice_1"
    assert session["groups"] == ["customer"]
    assert session["tools"] == ["cancel_pending_order", "get_order_details", "get_user_details"]
    assert events[1][1]["decision"] == "allowed"
    assert events[1][1]["arguments"] == {"order_id": "#W1111111"}
    assert events[2][1]["ok"] is True
    assert events[-1][1] == {"text": "Order #W1111111 is pending."}


async def test_denial_is_streamed_as_policy_denial(client: httpx.AsyncClient, issuer: JwtIssuer) -> None:
    token = issuer.issue("alice_1", ["customer"])
    response = await client.post("/v1/chat", json={"message": "cancel #W2222222"}, headers=_auth(token))
    names = [name for name, _ in _sse(response.text)]
    assert names[:4] == ["session", "tool_call", "policy_denial", "tool_result"]


async def test_session_is_reused_by_its_owner_and_refused_to_others(
    client: httpx.AsyncClient, issuer: JwtIssuer, app: FastAPI
) -> None:
    alice = issuer.issue("alice_1", ["customer"])
    first = _sse((await client.post("/v1/chat", json={"message": "hello"}, headers=_auth(alice))).text)
    sid = first[0][1]["session_id"]
    again = await client.post(
        "/v1/chat", json={"message": "order #W1111111", "session_id": sid}, headers=_auth(alice)
    )
    assert _sse(again.text)[0][1]["session_id"] == sid
    assert len(app.state.sessions) == 1

    mallory = issuer.issue("mallory_9", ["customer"])
    stolen = await client.post(
        "/v1/chat", json={"message": "hello", "session_id": sid}, headers=_auth(mallory)
    )
    assert stolen.status_code == 403
    assert stolen.json()["error"]["code"] == "forbidden_session"

    same_user_other_group = issuer.issue("alice_1", ["support_agent"])
    escalated = await client.post(
        "/v1/chat", json={"message": "hello", "session_id": sid}, headers=_auth(same_user_other_group)
    )
    assert escalated.status_code == 403


async def test_a_fresh_token_for_the_same_user_keeps_the_conversation(
    client: httpx.AsyncClient, app: FastAPI, issuer: JwtIssuer, verifier: JwtVerifier
) -> None:
    first_token = issuer.issue("alice_1", ["customer"], login="1")
    fresh_token = issuer.issue("alice_1", ["customer"], login="2")
    first = _sse((await client.post("/v1/chat", json={"message": "hello"}, headers=_auth(first_token))).text)
    sid = first[0][1]["session_id"]
    second = await client.post(
        "/v1/chat", json={"message": "order #W1111111", "session_id": sid}, headers=_auth(fresh_token)
    )
    events = _sse(second.text)
    assert events[0][1]["session_id"] == sid
    assert events[-1][0] == "done"
    session = await app.state.sessions.acquire(verifier.verify(fresh_token), fresh_token, sid)
    assert len(session.history) == 6  # hello + reply, then call, result, reply of the second turn


async def test_model_failure_becomes_a_safe_error_event(
    mcp_server: Any, verifier: JwtVerifier, issuer: JwtIssuer
) -> None:
    from bastion_agents import AgentFactory, ScriptedModel

    class Broken(ScriptedModel):
        async def stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:  # type: ignore[override]
            raise RuntimeError("secret internal detail sk-12345")
            yield {}

    factory = AgentFactory(
        mcp_url=mcp_server.url, model=Broken({"rules": []}), system_prompt="x", engine=None
    )
    app = create_chat_app(factory, verifier)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            "/v1/chat", json={"message": "hi"}, headers=_auth(issuer.issue("u1", ["customer"]))
        )
    await app.state.sessions.close_all()
    events = _sse(response.text)
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "agent_failed"
    assert "sk-12345" not in response.text
    assert "RuntimeError" not in response.text
