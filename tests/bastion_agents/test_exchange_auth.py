"""The agent's MCP client sends a freshly exchanged token on every request: a refresh of the user's
own token never resets the conversation's session."""

from __future__ import annotations

import httpx
from bastion_agents._exchange_auth import ExchangedTokenAuth
from bastion_policies import ExchangedTokenVerifier, JwtIssuer, JwtVerifier, TokenExchanger
from bastion_policies._exchange import derive_exchange_secret

SECRET = b"test-secret-0123456789abcdef0123"
GROUPS = ("customer",)


async def test_each_request_gets_a_fresh_token_and_keeps_the_session() -> None:
    clock = [1_800_000_000.0]
    users = JwtVerifier(SECRET, known_groups=GROUPS, clock=lambda: clock[0])
    exchanger = TokenExchanger(derive_exchange_secret(SECRET), ttl_seconds=300, clock=lambda: clock[0])
    verifier = ExchangedTokenVerifier(
        derive_exchange_secret(SECRET), user_verifier=users, clock=lambda: clock[0]
    )
    user_tokens = JwtIssuer(SECRET, ttl_seconds=600, clock=lambda: clock[0])
    current = {"principal": users.verify(user_tokens.issue("sara", GROUPS))}
    seen: list[tuple[str | None, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        access = verifier.verify(token)  # raises if the token expired: the test would fail
        seen.append((access.session_id, token))
        return httpx.Response(200)

    auth = ExchangedTokenAuth(lambda: exchanger.exchange(current["principal"], "conv-1"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as client:
        await client.post("http://mcp/mcp")
        clock[0] += 400  # past the first exchanged token's expiry
        current["principal"] = users.verify(user_tokens.issue("sara", GROUPS))  # the user's token refreshed
        await client.post("http://mcp/mcp")
        await client.get("http://mcp/mcp")

    sessions = {sid for sid, _ in seen}
    assert len(seen) == 3 and len(sessions) == 1 and None not in sessions
    assert len({token for _, token in seen}) == 3


def test_minting_happens_per_request_not_at_construction() -> None:
    calls: list[int] = []

    def mint() -> str:
        calls.append(1)
        return f"token-{len(calls)}"

    auth = ExchangedTokenAuth(mint)
    assert calls == []
    flow = auth.sync_auth_flow(httpx.Request("GET", "http://mcp/mcp"))
    request = next(flow)
    assert request.headers["Authorization"] == "Bearer token-1"
    flow = auth.sync_auth_flow(
        httpx.Request("GET", "http://mcp/mcp", headers={"Authorization": "Bearer stale"})
    )
    assert next(flow).headers["Authorization"] == "Bearer token-2"
