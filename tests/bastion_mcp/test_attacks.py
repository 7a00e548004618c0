"""Attacks on the MCP decision point: extra back-end traffic, sessions, faults, tool probing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from _mcp_testkit import SECRET, Audit, Connect, CountingTransport, MakeServer, principal
from bastion_mcp import PolicyBoundServer, SqliteSessionStore
from bastion_policies import (
    ExchangedTokenVerifier,
    JwtIssuer,
    JwtVerifier,
    TokenExchanger,
    derive_exchange_secret,
)
from test_server import CUSTOMER, OTHER_ORDER, OWN_ORDER, decision, text

AGENT_A = principal("agent_a", "support_agent")
AGENT_B = principal("agent_b", "support_agent")
OTHER_CUSTOMER = "james_li_5688"
OWNERSHIP_REASON = "this session belongs to another user"


def session_of(token: str, user_verifier: JwtVerifier) -> str | None:
    """The session key the MCP server reads from a token."""
    verifier = ExchangedTokenVerifier(derive_exchange_secret(SECRET), user_verifier=user_verifier)
    return verifier.verify(token).session_id


async def pinned_then_other(connect: Connect, token: str, server: PolicyBoundServer | None = None) -> Any:
    """Call for ``OWN_ORDER`` (pins the session to its customer), then for ``OTHER_ORDER``."""
    async with connect(token, server_=server) as client:
        own = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
        other = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not own.is_error, text(own)
    return other


async def test_one_legacy_request_and_one_audit_record_per_read_call(
    connect: Connect, issuer: JwtIssuer, legacy: CountingTransport, audit: Audit
) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        await client.call_tool("get_order_details", {"order_id": OWN_ORDER})  # warms the token
        before, mark = len(legacy.resource_requests()), audit.mark()
        result = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
    assert not result.is_error, text(result)
    sent = legacy.resource_requests()[before:]
    assert len(sent) == 1 and sent[0][0] == "GET"  # the owner look-up's fetch is reused by the read
    records = audit.since(mark)
    assert [r["event"] for r in records] == ["decision"]  # no "list" record from the SDK's own listing
    assert records[0]["tool"] == "get_order_details" and records[0]["decision"] == "allow"
    assert records[0]["resource_owner_id"] == CUSTOMER


async def test_first_read_call_fetches_a_token_and_one_resource(
    connect: Connect, issuer: JwtIssuer, legacy: CountingTransport
) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        result = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
    assert not result.is_error, text(result)
    assert len(legacy.resource_requests()) == 1
    assert [r for r in legacy.requests if r[1] == "/oauth/token"] == [("POST", "/oauth/token")]


async def test_support_agent_without_any_session_is_denied_needs_session(
    connect: Connect, issuer: JwtIssuer, legacy: CountingTransport
) -> None:
    # A plain user token carries no sid, and the sessionless protocol gives no transport session.
    async with connect(issuer.issue("agent_a", ["support_agent"])) as client:
        order = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
        user = await client.call_tool("get_user_details", {"user_id": CUSTOMER})
    for result in (order, user):
        meta = decision(result)
        assert result.is_error and meta["outcome"] == "deny" and meta["allowed"] is False
        assert "bastion-agent-needs-session" in meta["policy_ids"]
        assert text(result).startswith("Denied by policy:")


async def test_same_conversation_id_gives_each_principal_its_own_session(
    connect: Connect, exchanger: TokenExchanger, user_verifier: JwtVerifier
) -> None:
    token_a = exchanger.exchange(AGENT_A, "c1")
    token_b = exchanger.exchange(AGENT_B, "c1")
    assert session_of(token_a, user_verifier) != session_of(token_b, user_verifier)
    other = await pinned_then_other(connect, token_a)  # A pins "c1" to CUSTOMER
    assert decision(other)["outcome"] == "deny"
    async with connect(token_b) as client:  # B's "c1" was neither claimed nor poisoned by A
        b_other = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not b_other.is_error, text(b_other)


async def test_a_stolen_session_key_is_denied_by_ownership(
    connect: Connect, exchanger: TokenExchanger, user_verifier: JwtVerifier, legacy: CountingTransport
) -> None:
    token_a = exchanger.exchange(AGENT_A, "c1")
    await pinned_then_other(connect, token_a)
    # B holds a validly signed token carrying A's session key (e.g. a leaked key and exchange secret).
    claims = jwt.decode(exchanger.exchange(AGENT_B, "c1"), options={"verify_signature": False})
    claims["sid"] = session_of(token_a, user_verifier)
    stolen = jwt.encode(claims, derive_exchange_secret(SECRET), algorithm="HS256")
    before = len(legacy.resource_requests())
    async with connect(stolen) as client:
        result = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
    meta = decision(result)
    assert result.is_error and meta["outcome"] == "deny" and meta["allowed"] is False
    assert any(OWNERSHIP_REASON in r for r in meta["reasons"])
    assert OWN_ORDER not in text(result) and CUSTOMER not in text(result)
    assert len(legacy.resource_requests()) == before  # refused before touching the back end


async def test_long_conversation_id_and_its_prefix_are_different_sessions(
    connect: Connect, exchanger: TokenExchanger, user_verifier: JwtVerifier
) -> None:
    long_id = "c" * 9_872 + "x" * 128  # 10,000 characters
    long_token = exchanger.exchange(AGENT_A, long_id)
    prefix_token = exchanger.exchange(AGENT_A, long_id[:128])
    long_sid, prefix_sid = session_of(long_token, user_verifier), session_of(prefix_token, user_verifier)
    assert long_sid != prefix_sid and long_sid is not None and len(long_sid) <= 200
    other = await pinned_then_other(connect, long_token)
    assert decision(other)["outcome"] == "deny"
    async with connect(prefix_token) as client:
        fresh = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not fresh.is_error, text(fresh)


async def test_a_flood_of_sessions_does_not_evict_a_live_support_session(
    connect: Connect, exchanger: TokenExchanger, sessions_path: Path
) -> None:
    token = exchanger.exchange(AGENT_A, "live")
    await pinned_then_other(connect, token)
    flooder = principal(OTHER_CUSTOMER, "customer")
    store = SqliteSessionStore(sessions_path)
    try:
        for n in range(10_001):
            await store.open("conv:flood-%05d" % n, flooder)
    finally:
        await store.aclose()
    async with connect(token) as client:
        after = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    meta = decision(after)
    assert after.is_error and meta["outcome"] == "deny" and meta["allowed"] is False


async def test_a_refreshed_exchanged_token_keeps_the_pinned_subject(
    connect: Connect, exchanger: TokenExchanger, user_verifier: JwtVerifier
) -> None:
    earlier = TokenExchanger(derive_exchange_secret(SECRET), clock=lambda: time.time() - 120)
    first = earlier.exchange(AGENT_A, "c-refresh")
    second = exchanger.exchange(AGENT_A, "c-refresh")
    first_claims = jwt.decode(first, options={"verify_signature": False})
    second_claims = jwt.decode(second, options={"verify_signature": False})
    assert first_claims["jti"] != second_claims["jti"] and first_claims["iat"] != second_claims["iat"]
    assert session_of(first, user_verifier) == session_of(second, user_verifier)
    await pinned_then_other(connect, first)
    async with connect(second) as client:
        own = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
        other = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not own.is_error, text(own)
    assert other.is_error and decision(other)["outcome"] == "deny"


async def test_a_restarted_server_keeps_the_pinned_subject(
    connect: Connect, exchanger: TokenExchanger, make_server: MakeServer
) -> None:
    token = exchanger.exchange(AGENT_A, "c-restart")
    await pinned_then_other(connect, token)
    restarted = make_server()  # new engine, facade and SqliteSessionStore on the same file
    async with connect(token, server_=restarted) as client:
        own = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
        other = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not own.is_error, text(own)
    assert other.is_error and decision(other)["outcome"] == "deny"


@pytest.mark.parametrize("failure", ["connect", 503])
async def test_a_legacy_outage_while_resolving_the_owner_is_a_fault_not_a_denial(
    connect: Connect, issuer: JwtIssuer, legacy: CountingTransport, audit: Audit, failure: str | int
) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        legacy.failure = failure
        mark = audit.mark()
        result = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
    meta = decision(result)
    message = text(result)
    assert result.is_error
    assert meta == {"outcome": "fault", "allowed": False, "policy_ids": [], "reasons": []}
    assert not message.startswith("Denied by policy:")
    assert "transfer to a human agent" in message  # the outage message: what to do next
    assert "10.0.0.7" not in message and "db-7" not in message and "Traceback" not in message
    records = audit.since(mark)
    assert [r["event"] for r in records] == ["fault"]
    assert records[0]["tool"] == "get_order_details" and records[0]["point"] == "server"
    assert "10.0.0.7" not in records[0]["error"]


async def test_a_tool_the_caller_may_not_list_is_unknown_and_audited(
    connect: Connect, issuer: JwtIssuer, legacy: CountingTransport, audit: Audit
) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        mark = audit.mark()
        result = await client.call_tool("find_user_id_by_email", {"bogus": 1})
    message = text(result)
    assert result.is_error and "Unknown tool" in message
    assert "email" not in message.replace("find_user_id_by_email", "")  # no schema detail
    assert "Invalid arguments" not in message
    assert decision(result)["outcome"] == "invalid"
    assert legacy.resource_requests() == []
    records = audit.since(mark)
    assert [(r["event"], r["tool"], r["decision"]) for r in records] == [
        ("decision", "find_user_id_by_email", "deny")
    ]
    assert records[0]["principal_id"] == CUSTOMER
