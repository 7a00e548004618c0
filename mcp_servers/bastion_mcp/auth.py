"""Bearer-JWT authentication for Bastion's MCP servers.

The MCP SDK's `RequireAuthMiddleware` calls a `TokenVerifier` for every HTTP request; this module
adapts Bastion's `JwtVerifier` to that protocol and turns the SDK's `AccessToken` back into a
`Principal` inside tool handlers. A token that fails verification (forged, expired, unsigned,
unknown group) never reaches a tool: the SDK answers 401 before the MCP session sees the request.
"""

from __future__ import annotations

import logging

from bastion_policies import AuthenticationError, JwtVerifier, Principal
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken

__all__ = ["JwtTokenVerifier", "current_principal"]

logger = logging.getLogger(__name__)

_CLIENT_ID = "bastion-user"


class JwtTokenVerifier:
    """`mcp.server.auth.provider.TokenVerifier` backed by a Bastion `JwtVerifier`.

    Args:
        verifier: Verifies signature, expiry, issuer, audience and groups.
    """

    def __init__(self, verifier: JwtVerifier) -> None:
        self._verifier = verifier

    async def verify_token(self, token: str) -> AccessToken | None:
        """Verify one bearer token.

        Args:
            token: The raw JWT from the `Authorization: Bearer` header.

        Returns:
            An `AccessToken` whose `subject` is the user id and whose `claims` carry `groups` (a list)
            and `tenant`, or None when the token is not acceptable (the SDK then answers 401).
        """
        try:
            principal = self._verifier.verify(token)
        except AuthenticationError as exc:
            logger.info("reason=<%s> | rejected bearer token", type(exc).__name__)
            return None
        return AccessToken(
            token=token,
            client_id=_CLIENT_ID,
            scopes=[],
            subject=principal.user_id,
            claims={
                "groups": list(principal.groups),
                "tenant": principal.tenant,
                "extra": dict(principal.claims),
            },
        )


def current_principal() -> Principal | None:
    """The principal of the MCP request being handled.

    Returns:
        The `Principal` rebuilt from the verified access token of the current request, or None when
        the request did not come through the authenticated HTTP transport (e.g. an in-process client).
    """
    token = get_access_token()
    if token is None or token.subject is None or token.claims is None:
        return None
    claims = token.claims
    groups_raw = claims.get("groups")
    groups = tuple(str(g) for g in groups_raw) if isinstance(groups_raw, list) else ()
    tenant = claims.get("tenant")
    extra_raw = claims.get("extra")
    extra = {str(k): str(v) for k, v in extra_raw.items()} if isinstance(extra_raw, dict) else {}
    return Principal(
        user_id=token.subject,
        groups=groups,
        tenant=tenant if isinstance(tenant, str) else None,
        claims=extra,
    )
