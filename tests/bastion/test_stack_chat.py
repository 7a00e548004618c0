"""The running stack over loopback HTTP: chat sessions across token expiry, forged tokens, binding."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bastion_policies import JwtIssuer, load_or_create_secret

from bastion.chat_client import ChatClientError, ChatEvent, stream_chat
from bastion.domain import Domain
from bastion.servers import ServerStartError, bind_loopback
from bastion.settings import Settings
from bastion.stack import JWT_AUDIENCE, JWT_ISSUER, Stack

SCRIPT = Path(__file__).resolve().parents[2] / "domains/retail/bastion_retail/data/demo_script.json"
CUSTOMER = "yusuf_rossi_9620"
OWN_PENDING = "#W6247578"


@pytest.fixture
def stack(settings: Settings, retail: Domain) -> Iterator[Stack]:
    with Stack(settings, retail, model="scripted:" + str(SCRIPT), ephemeral_ports=True) as running:
        yield running


def _events(stack: Stack, token: str, message: str, session: str | None = None) -> list[ChatEvent]:
    assert stack.urls.chat is not None
    return list(stream_chat(stack.urls.chat, token, message, session))


def test_session_survives_token_expiry_with_a_fresh_token(stack: Stack, settings: Settings) -> None:
    token = stack.issuer.issue(CUSTOMER, ["customer"])
    first = _events(stack, token, "What is the status of my order %s?" % OWN_PENDING)
    session = first[0].data["session_id"]
    assert first[0].event == "session"
    assert any(e.event == "done" and "pending" in e.data["text"] for e in first)

    secret = load_or_create_secret(settings.state_dir)
    expired = JwtIssuer(
        secret, issuer=JWT_ISSUER, audience=JWT_AUDIENCE, ttl_seconds=60, clock=lambda: time.time() - 3600
    ).issue(CUSTOMER, ["customer"])
    with pytest.raises(ChatClientError, match="HTTP 401"):
        _events(stack, expired, "And again?", session)

    renewed = stack.issuer.issue(CUSTOMER, ["customer"])
    again = _events(stack, renewed, "What is the status of my order %s?" % OWN_PENDING, session)
    assert again[0].data["session_id"] == session


def test_another_users_token_cannot_join_a_session(stack: Stack) -> None:
    token = stack.issuer.issue(CUSTOMER, ["customer"])
    session = _events(stack, token, "What is the status of my order %s?" % OWN_PENDING)[0].data["session_id"]
    intruder = stack.issuer.issue("james_li_5688", ["customer"])
    with pytest.raises(ChatClientError, match="HTTP 403"):
        _events(stack, intruder, "What is the status of my order %s?" % OWN_PENDING, session)


def test_forged_token_is_refused_without_echo(stack: Stack) -> None:
    forged = JwtIssuer(b"not-the-server-secret-0123456789").issue(CUSTOMER, ["supervisor"])
    with pytest.raises(ChatClientError) as raised:
        _events(stack, forged, "hello")
    assert "HTTP 401" in str(raised.value)
    assert forged not in str(raised.value)


def test_cross_customer_call_is_denied_and_audited(stack: Stack) -> None:
    token = stack.issuer.issue(CUSTOMER, ["customer"])
    events = _events(stack, token, "Show me the details of order #W2611340 please.")
    denials = [e for e in events if e.event == "policy_denial"]
    assert denials and denials[0].data["policy_ids"] == ["bastion-customer-own-orders"]
    assert "james_li_5688" not in str([e.data for e in events])
    audit = stack.audit.path.read_text()
    assert '"bastion-customer-own-orders"' in audit


def test_support_agents_chat_calls_carry_an_exchanged_session(stack: Stack) -> None:
    # Without a session the server denies a support agent's order call (bastion-agent-needs-session):
    # the chat endpoint's agent connects to MCP with a token exchanged for this conversation.
    token = stack.issuer.issue("agent_ada", ["support_agent"])
    events = _events(stack, token, "Show me the details of order %s please." % OWN_PENDING)
    assert [e.data["tool"] for e in events if e.event == "tool_call"] == ["get_order_details"]
    assert [e for e in events if e.event == "policy_denial"] == []
    assert [e.data["ok"] for e in events if e.event == "tool_result"] == [True]
    assert events[-1].event == "done" and "pending" in events[-1].data["text"]
    records = [json.loads(line) for line in stack.audit.path.read_text().splitlines()]
    server = [r for r in records if r.get("point") == "server" and r.get("tool") == "get_order_details"]
    assert len(server) == 1
    assert server[0]["decision"] == "allow"
    assert str(server[0]["session_id"]).startswith("conv:")  # the signed sid of an exchanged token


def test_a_taken_port_fails_cleanly_and_releases_what_was_bound(settings: Settings, retail: Domain) -> None:
    blocker = bind_loopback("127.0.0.1", 0)
    blocker.sock.listen()
    free = bind_loopback("127.0.0.1", 0)
    legacy_port = free.port
    free.sock.close()
    taken = settings.model_copy(update={"legacy_port": legacy_port, "mcp_port": blocker.port})
    try:
        with pytest.raises(ServerStartError, match="cannot bind 127.0.0.1:%d" % blocker.port):
            Stack(taken, retail, model=None)
        rebound = bind_loopback("127.0.0.1", legacy_port)  # the legacy socket was released
        rebound.sock.close()
    finally:
        blocker.sock.close()
