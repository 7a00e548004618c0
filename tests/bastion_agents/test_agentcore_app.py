"""The AgentCore Runtime app: /ping, /invocations streaming, auth and session ownership."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bastion_agents import create_agentcore_app
from bastion_policies import JwtIssuer, JwtVerifier
from bedrock_agentcore import BedrockAgentCoreApp

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
SID = "agentcore-session-0123456789abcdef0123456789"


def _events(body: str) -> list[dict[str, Any]]:
    return [
        json.loads(line.removeprefix("data: ")) for line in body.splitlines() if line.startswith("data: ")
    ]


@pytest.fixture
async def app(make_factory: Any, verifier: JwtVerifier) -> AsyncIterator[BedrockAgentCoreApp]:
    application = create_agentcore_app(make_factory(), verifier)
    yield application
    await application.state.sessions.close_all()


@pytest.fixture
async def client(app: BedrockAgentCoreApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


async def test_ping(client: httpx.AsyncClient) -> None:
    response = await client.get("/ping")
    assert response.status_code == 200
    assert response.json()["status"] == "Healthy"


async def test_invocation_streams_the_chat_events(client: httpx.AsyncClient, issuer: JwtIssuer) -> None:
    token = issuer.issue("alice_1", ["customer"])
    response = await client.post(
        "/invocations",
        json={"prompt": "order #W1111111"},
        headers={"Authorization": f"Bearer {token}", SESSION_HEADER: SID},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert [e["event"] for e in events][:3] == ["session", "tool_call", "tool_result"]
    assert events[0]["data"]["session_id"] == SID
    assert events[0]["data"]["user"] == "alice_1"
    assert events[-1] == {"event": "done", "data": {"text": "Order #W1111111 is pending."}}


async def test_missing_or_forged_token_is_401_without_exception_text(client: httpx.AsyncClient) -> None:
    missing = await client.post("/invocations", json={"prompt": "hi"})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_token"
    forged_token = JwtIssuer(b"another-secret-0123456789abcdefghij").issue("alice_1", ["customer"])
    forged = await client.post(
        "/invocations", json={"prompt": "hi"}, headers={"Authorization": f"Bearer {forged_token}"}
    )
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "invalid_token"
    assert forged_token not in forged.text


async def test_bad_payload_is_400(client: httpx.AsyncClient, issuer: JwtIssuer) -> None:
    token = issuer.issue("alice_1", ["customer"])
    response = await client.post(
        "/invocations", json={"text": "hi"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


async def test_another_users_session_is_403(client: httpx.AsyncClient, issuer: JwtIssuer) -> None:
    alice = issuer.issue("alice_1", ["customer"])
    bob = issuer.issue("bob_2", ["customer"])
    sid = "agentcore-session-owned-by-alice-000000000000"
    first = await client.post(
        "/invocations",
        json={"prompt": "hello"},
        headers={"Authorization": f"Bearer {alice}", SESSION_HEADER: sid},
    )
    assert first.status_code == 200
    second = await client.post(
        "/invocations",
        json={"prompt": "hello"},
        headers={"Authorization": f"Bearer {bob}", SESSION_HEADER: sid},
    )
    assert second.status_code == 403
    assert second.json()["error"]["code"] == "forbidden_session"


async def test_unexpected_failure_is_a_generic_500(make_factory: Any) -> None:
    class ExplodingVerifier:
        def verify(self, token: str) -> Any:
            raise RuntimeError(f"db password=hunter2 token={token}")

    app = create_agentcore_app(make_factory(), ExplodingVerifier())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        response = await http.post(
            "/invocations", json={"prompt": "hi"}, headers={"Authorization": "Bearer abc"}
        )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "hunter2" not in response.text
    assert "abc" not in response.text
