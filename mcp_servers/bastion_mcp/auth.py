"""Bearer-JWT authentication for Bastion's MCP servers.

The MCP SDK's `RequireAuthMiddleware` calls a `TokenVerifier` for every HTTP request; this module
adapts a Bastion access verifier (users' own tokens, and the short-lived exchanged tokens the chat and
AgentCore front doors mint per conversation) to that protocol, and turns the SDK's `AccessToken` back
into a :class:`CallerAccess` inside tool handlers. A token that fails verification (forged, expired,
unsigned, unknown group) never reaches a tool: the SDK answers 401 before the MCP session sees the
request. The session a call belongs to comes only from the verified token's ``sid`` claim.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from bastion_policies import AuthenticationError, Principal
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken

__all__ = ["AccessVerifier", "CallerAccess", "JwtTokenVerifier", "current_access", "current_principal"]

logger = logging.getLogger(__name__)

_CLIENT_ID = "bastion-user"


class VerifiedAccessLike(Protocol):
    """What an access verifier returns (`bastion_policies.VerifiedAccess` fits)."""

    @property
    def principal(self) -> Principal:
        """The end user."""
        ...

    @property
    def session_id(self) -> str | None:
        """The signed session claim, or None."""
        ...

    @property
    def actor(self) -> str | None:
        """The agent runtime acting for the user (RFC 8693 ``act``), or None."""
        ...


class AccessVerifier(Protocol):
    """Verifies one bearer token (`bastion_policies.ExchangedTokenVerifier` fits)."""

    def verify(self, token: str) -> VerifiedAccessLike:
        """Return the verified access; raise `AuthenticationError` when the token is refused."""
        ...


@dataclass(frozen=True)
class CallerAccess:
    """Who is calling and in which session, as verified from the bearer token.

    Attributes:
        principal: The end user.
        session_id: The session key from the token's signed ``sid`` claim, or None.
        actor: The agent runtime acting for the user, or None for a direct client.
    """

    principal: Principal
    session_id: str | None = None
    actor: str | None = None


class JwtTokenVerifier:
    """`mcp.server.auth.provider.TokenVerifier` backed by a Bastion access verifier.

    Args:
        verifier: Verifies signature, expiry, issuer, audience, groups and the session claim.
    """

    def __init__(self, verifier: AccessVerifier) -> None:
        self._verifier = verifier

    async def verify_token(self, token: str) -> AccessToken | None:
        """Verify one bearer token.

        Args:
            token: The raw JWT from the ``Authorization: Bearer`` header.

        Returns:
            An `AccessToken` whose ``subject`` is the user id and whose ``claims`` carry ``groups``,
            ``tenant``, the other claims, ``sid`` and ``act``; or None when the token is not
            acceptable (the SDK then answers 401).
        """
        try:
            access = self._verifier.verify(token)
        except AuthenticationError as exc:
            logger.info("reason=<%s> | rejected bearer token", type(exc).__name__)
            return None
        principal = access.principal
        return AccessToken(
            token=token,
            client_id=_CLIENT_ID,
            scopes=[],
            subject=principal.user_id,
            claims={
                "groups": list(principal.groups),
                "tenant": principal.tenant,
                "extra": dict(principal.claims),
                "sid": access.session_id,
                "act": access.actor,
            },
        )


def current_access() -> CallerAccess | None:
    """The verified caller of the MCP request being handled, or None when unauthenticated."""
    token = get_access_token()
    if token is None or token.subject is None or token.claims is None:
        return None
    claims = token.claims
    groups_raw = claims.get("groups")
    groups = tuple(str(g) for g in groups_raw) if isinstance(groups_raw, list) else ()
    tenant = claims.get("tenant")
    extra_raw = claims.get("extra")
    extra = {str(k): str(v) for k, v in extra_raw.items()} if isinstance(extra_raw, dict) else {}
    principal = Principal(
        user_id=token.subject,
        groups=groups,
        tenant=tenant if isinstance(tenant, str) else None,
        claims=extra,
    )
    sid = claims.get("sid")
    act = claims.get("act")
    return CallerAccess(
        principal, sid if isinstance(sid, str) and sid else None, act if isinstance(act, str) else None
    )


def current_principal() -> Principal | None:
    """The principal of the MCP request being handled, or None when unauthenticated."""
    access = current_access()
    return access.principal if access is not None else None
