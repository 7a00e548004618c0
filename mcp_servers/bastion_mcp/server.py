"""An MCP server that exposes facade operations as tools and enforces policy itself.

Defence in depth: the agent runtime already binds tools and checks calls, but a shared MCP server is
reached by many agents, so it authenticates every caller (bearer JWT, see `bastion_mcp.auth`), lists
only the tools the caller's principal may use (`PolicyEngine.bind`) and re-checks every call with its
validated arguments and the session's facts (`PolicyEngine.check`) before the facade runs.

Tool results and errors are written for the model: a denial starts with ``Denied by policy:``,
argument and business errors say what to do next, and nothing internal (stack traces, tokens, legacy
payloads) is ever put in a result.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bastion_facades import ArgumentError, FacadeError, Operation, ToolCallError
from bastion_policies import Allow, Decision, PolicyEngine, Principal, SessionFacts, ToolSpec
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from mcp_types import Tool as MCPTool

from bastion_mcp.auth import current_principal
from bastion_mcp.errors import ConfigurationError

__all__ = ["DENIED_PREFIX", "SESSION_HEADER", "FacadeLike", "OwnerResolver", "PolicyBoundServer"]

logger = logging.getLogger(__name__)

DENIED_PREFIX = "Denied by policy:"
"""Every denied tool call's text starts with this, so agents and transcripts can recognise it."""

SESSION_HEADER = "x-bastion-session-id"
"""Header an agent runtime sets to group a conversation's calls (for per-session policy facts)."""

_UNAVAILABLE = "The back-end system is unavailable right now. Tell the user to try again later."
_MAX_TRACKED_SESSIONS = 10_000


class FacadeLike(Protocol):
    """What the server needs from a facade (e.g. `bastion_facades.RetailFacade`)."""

    def operations(self) -> Sequence[Operation]:
        """The facade's operations, one per tool."""
        ...

    def validate(self, name: str, arguments: Mapping[str, object]) -> dict[str, Any]:
        """Check arguments against the operation's schema; raises `ArgumentError`."""
        ...

    async def invoke(self, name: str, arguments: Mapping[str, object]) -> Any:
        """Run one operation with already-checked arguments; returns a JSON-able value."""
        ...


class OwnerResolver(Protocol):
    """Finds which customer a call acts on, so policy can compare it with the principal.

    Implementations return None when the owner cannot be determined (e.g. an unknown order): the
    Bastion-only policies fail closed on a missing owner where it matters.
    """

    async def owner_of(self, spec: ToolSpec, arguments: Mapping[str, Any]) -> str | None:
        """The user id that a call on a non-user resource (e.g. an order) acts on, or None."""
        ...


class PolicyBoundServer(MCPServer):
    """`MCPServer` whose tool list and tool calls are decided per caller by a `PolicyEngine`.

    Args:
        name: Server name reported to clients.
        facade: Provides the operations (name, description, input model, read/write traits).
        engine: Binds tools to principals and checks calls.
        owner_resolver: Resolves the customer a call acts on (Bastion-only session facts).
        token_verifier: Verifies bearer tokens (`bastion_mcp.JwtTokenVerifier`).
        resource_url: This server's public URL (RFC 9728 protected-resource metadata).
        issuer_url: The URL of whoever issues the tokens.

    Raises:
        ConfigurationError: An operation has no entry in the engine's tool catalog, so no policy
            could ever be evaluated for it.
    """

    def __init__(
        self,
        *,
        name: str,
        facade: FacadeLike,
        engine: PolicyEngine,
        owner_resolver: OwnerResolver,
        token_verifier: TokenVerifier,
        resource_url: str,
        issuer_url: str,
        instructions: str | None = None,
    ) -> None:
        super().__init__(
            name=name,
            instructions=instructions,
            token_verifier=token_verifier,
            auth=AuthSettings(issuer_url=issuer_url, resource_server_url=resource_url),  # pyright: ignore[reportArgumentType]
            log_level="WARNING",
        )
        self._facade = facade
        self._engine = engine
        self._owners = owner_resolver
        self._operations: dict[str, Operation] = {op.name: op for op in facade.operations()}
        missing = [n for n in self._operations if engine.catalog.get(n) is None]
        if missing:
            raise ConfigurationError(
                "operations %s have no entry in the policy tool catalog; add them to the catalog "
                "(with access and data classes) before exposing them" % ", ".join(sorted(missing))
            )
        self._tools: dict[str, MCPTool] = {n: _to_mcp_tool(op) for n, op in self._operations.items()}
        self._session_customers: OrderedDict[str, str] = OrderedDict()

    async def list_tools(self) -> list[MCPTool]:
        """The tools the calling principal may use (empty for an unauthenticated caller)."""
        principal = current_principal()
        if principal is None:
            return []
        binding = self._engine.bind(principal, list(self._tools))
        return [self._tools[name] for name in binding.tool_names if name in self._tools]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult:
        """Authenticate, validate, check policy, then run the facade operation.

        Args:
            name: Tool name.
            arguments: Raw arguments from the client.
            context: The MCP request context (supplies the session id).

        Returns:
            A `CallToolResult`: JSON text on success; `is_error=True` with a short actionable message
            on denial, invalid arguments, business errors or back-end failures.
        """
        principal = current_principal()
        if principal is None:
            return _error("Not authenticated. Connect with a bearer token.")
        if name not in self._operations:
            return _error("Unknown tool '%s'. List the tools to see the ones available to you." % name)
        try:
            checked = self._facade.validate(name, arguments)
        except ArgumentError as exc:
            return _error("%s. Fix them and call again." % exc)
        session_id = _session_id(context)
        decision = await self._decide(principal, name, checked, session_id)
        if not isinstance(decision, Allow):
            logger.info("tool=<%s>, user=<%s> | call denied by policy", name, principal.user_id)
            return _error("%s %s" % (DENIED_PREFIX, decision.explain()), decision)
        try:
            value = await self._facade.invoke(name, checked)
        except (ToolCallError, ArgumentError) as exc:
            return _error(str(exc), decision)
        except FacadeError as exc:
            logger.warning("tool=<%s>, error=<%s> | facade failure", name, type(exc).__name__)
            return _error(_UNAVAILABLE, decision)
        except Exception:
            logger.exception("tool=<%s> | unexpected failure in facade operation", name)
            return _error(_UNAVAILABLE, decision)
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return CallToolResult(
            content=[TextContent(type="text", text=text)],
            is_error=False,
            _meta=_decision_meta(decision),
        )

    async def _decide(
        self, principal: Principal, name: str, arguments: Mapping[str, Any], session_id: str | None
    ) -> Decision:
        spec = self._engine.catalog.get(name)
        owner: str | None = None
        # User-scoped calls name their owner in `user_id` (the engine reads it); others need a look-up.
        if spec is not None and spec.resource not in ("none", "user"):
            try:
                owner = await self._owners.owner_of(spec, arguments)
            except FacadeError as exc:
                logger.debug("tool=<%s>, error=<%s> | owner not resolved", name, type(exc).__name__)
        session_customer = self._session_customers.get(session_id) if session_id else None
        facts = SessionFacts(
            session_id=session_id, resource_owner_id=owner, session_customer_id=session_customer
        )
        decision = self._engine.check(principal, name, arguments, facts)
        acted_for = decision.resource_owner_id
        if isinstance(decision, Allow) and session_id and acted_for and session_customer is None:
            self._remember_customer(session_id, acted_for)
        return decision

    def _remember_customer(self, session_id: str, owner: str) -> None:
        self._session_customers[session_id] = owner
        while len(self._session_customers) > _MAX_TRACKED_SESSIONS:
            self._session_customers.popitem(last=False)


def _to_mcp_tool(op: Operation) -> MCPTool:
    read_only = op.access == "read"
    return MCPTool(
        name=op.name,
        description=op.description,
        input_schema=op.input_schema(),
        annotations=ToolAnnotations(
            read_only_hint=read_only,
            destructive_hint=None if read_only else op.destructive,
            idempotent_hint=read_only,
            open_world_hint=False,
        ),
    )


def _session_id(context: Context[Any, Any] | None) -> str | None:
    """The conversation this call belongs to: the MCP session, else the agent's session header.

    Protocol 2026-07-28 is sessionless, so agent runtimes name their conversation in
    `SESSION_HEADER`. The header is a grouping key chosen by the agent runtime, never an identity:
    the principal always comes from the verified bearer token.
    """
    if context is None:
        return None
    session_id: str | None = getattr(context, "session_id", None)
    if session_id:
        return session_id
    try:
        headers = context.headers
    except (AttributeError, ValueError, RuntimeError):  # no request bound to this context
        return None
    if headers is not None:
        value = headers.get(SESSION_HEADER)
        if value:
            return value[:128]
    return None


def _decision_meta(decision: Decision) -> dict[str, Any]:
    return {
        "bastion/decision": {
            "allowed": decision.allowed,
            "policy_ids": list(decision.policy_ids),
            "reasons": list(decision.reasons),
        }
    }


def _error(message: str, decision: Decision | None = None) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=message)],
        is_error=True,
        _meta=_decision_meta(decision) if decision is not None else None,
    )
