"""The retail MCP server: the retail facade's operations as policy-bound MCP tools."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bastion_facades import RetailFacade, ToolCallError
from bastion_policies import JwtVerifier, PolicyEngine, ToolSpec

from bastion_mcp.auth import JwtTokenVerifier
from bastion_mcp.server import PolicyBoundServer

__all__ = ["RetailOwnerResolver", "create_retail_server"]

_INSTRUCTIONS = (
    "Retail customer-service tools. Only the tools you are allowed to use are listed; every call is "
    "checked again with its arguments."
)


class RetailOwnerResolver:
    """Resolves the customer a retail call acts on.

    Order-scoped tools are resolved with one look-up of the order through the facade (user-scoped
    tools carry the customer in their `user_id` argument, which the policy engine reads itself).

    Args:
        facade: The retail facade used for order look-ups.
    """

    def __init__(self, facade: RetailFacade) -> None:
        self._facade = facade

    async def owner_of(self, spec: ToolSpec, arguments: Mapping[str, Any]) -> str | None:
        """The user id the call acts on, or None when unknown (e.g. no such order).

        Raises:
            FacadeError: The legacy system failed while the order was looked up.
        """
        if spec.resource == "order":
            order_id = arguments.get("order_id")
            if not isinstance(order_id, str):
                return None
            try:
                return await self._facade.order_owner(order_id)
            except ToolCallError:
                return None
        return None


def create_retail_server(
    facade: RetailFacade,
    engine: PolicyEngine,
    verifier: JwtVerifier,
    *,
    resource_url: str,
    issuer_url: str = "http://127.0.0.1",
) -> PolicyBoundServer:
    """Build the retail MCP server.

    Args:
        facade: Retail facade connected to the legacy API.
        engine: Policy engine loaded with the retail policies and catalog.
        verifier: Verifies callers' bearer JWTs.
        resource_url: The URL clients use for this server (e.g. ``http://127.0.0.1:8102/mcp``).
        issuer_url: URL of the token issuer, advertised in the protected-resource metadata.

    Returns:
        The server; serve it with ``server.streamable_http_app(host="127.0.0.1")`` under uvicorn.

    Raises:
        ConfigurationError: The facade exposes an operation the policy catalog does not know.
    """
    return PolicyBoundServer(
        name="bastion-retail",
        facade=facade,
        engine=engine,
        owner_resolver=RetailOwnerResolver(facade),
        token_verifier=JwtTokenVerifier(verifier),
        resource_url=resource_url,
        issuer_url=issuer_url,
        instructions=_INSTRUCTIONS,
    )
