"""An MCP server that exposes facade operations as tools and is the decision point for every call.

A shared MCP server is reached by many agents and by third-party MCP clients, so it decides and
enforces policy itself: it authenticates every caller (bearer JWT, see `bastion_mcp.auth`), lists only
the tools the caller's principal may use (`PolicyEngine.bind`, cached per principal), and for every
call resolves the facts once (who owns the resource, through the facade; whose records the session
already acts on, from the server-side session store), makes one Cedar decision, and only then runs
the facade operation, which reuses the resource fetched for the decision.

Results carry the decision as structured data in ``_meta["bastion/decision"]`` (outcome, policy ids,
reasons); the text is written for the model: short, actionable, never a stack trace, token or raw
back-end payload.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Literal, Protocol, TypedDict

from bastion_facades import (
    ArgumentError,
    FacadeError,
    LegacyAuthError,
    Operation,
    ToolCallError,
    UpstreamError,
)
from bastion_policies import Allow, Decision, Deny, PolicyEngine, Principal, SessionFacts
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from mcp_types import Tool as MCPTool

from bastion_mcp._sessions import SessionStore, transport_session_key
from bastion_mcp.auth import current_access
from bastion_mcp.errors import ConfigurationError, SessionOwnershipError, SessionStoreUnavailableError

__all__ = [
    "DECISION_META_KEY",
    "DENIED_PREFIX",
    "DecisionMeta",
    "FacadeLike",
    "PolicyBoundServer",
]

logger = logging.getLogger(__name__)

DENIED_PREFIX = "Denied by policy:"
"""Text a denied call's message starts with, for the model; programs read ``_meta`` instead."""

DECISION_META_KEY = "bastion/decision"
"""Key of the structured decision in every tool result's ``_meta``."""

_UNAVAILABLE = "The back-end system is unavailable right now. Tell the user to try again later."
_UNKNOWN_TOOL = "Unknown tool '%s'. List the tools to see the ones available to you."
_HTTP_REQUEST: ContextVar[object | None] = ContextVar("bastion_mcp_http_request", default=None)


class DecisionMeta(TypedDict):
    """The structured decision in ``_meta["bastion/decision"]``.

    ``outcome`` is ``allow``/``deny`` (a policy decision), ``invalid`` (unknown tool or bad
    arguments: nothing was decided or run) or ``fault`` (a back end failed before a decision).
    """

    outcome: Literal["allow", "deny", "invalid", "fault"]
    allowed: bool
    policy_ids: list[str]
    reasons: list[str]


class FacadeLike(Protocol):
    """What the server needs from a facade (`bastion_facades.Facade` fits)."""

    def operations(self) -> Sequence[Operation]:
        """The facade's operations, one per tool."""
        ...

    def validate(self, name: str, arguments: Mapping[str, object]) -> dict[str, Any]:
        """Check arguments against the operation's schema; raises `ArgumentError`."""
        ...

    def scope(self) -> Any:
        """A per-call cache of idempotent reads, shared by `owner_of` and `invoke`."""
        ...

    async def owner_of(self, kind: str, resource_id: str, *, scope: Any = None) -> str | None:
        """The owner of one record, None if it does not exist; raises on a back-end failure."""
        ...

    async def invoke(self, name: str, arguments: Mapping[str, object], *, scope: Any = None) -> Any:
        """Run one operation; returns a JSON-able value."""
        ...


class PolicyBoundServer(MCPServer):
    """`MCPServer` whose tool list and tool calls are decided per caller by a `PolicyEngine`.

    Args:
        name: Server name reported to clients.
        facade: Provides the operations and resolves resource owners.
        engine: Binds tools to principals and decides calls.
        sessions: The server-side session store (facts that must survive restarts and replicas).
        token_verifier: Verifies bearer tokens (`bastion_mcp.JwtTokenVerifier`).
        resource_url: This server's public URL (RFC 9728 protected-resource metadata).
        issuer_url: The URL of whoever issues the tokens.
        instructions: Shown to clients on connect.

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
        sessions: SessionStore,
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
        self._sessions = sessions
        self._operations: dict[str, Operation] = {op.name: op for op in facade.operations()}
        missing = [n for n in self._operations if engine.catalog.get(n) is None]
        if missing:
            raise ConfigurationError(
                "operations %s have no entry in the policy tool catalog; declare their traits "
                "before exposing them" % ", ".join(sorted(missing))
            )
        self._names = tuple(self._operations)
        self._tools: dict[str, MCPTool] = {n: _to_mcp_tool(op) for n, op in self._operations.items()}

    async def _handle_list_tools(self, ctx: Any, params: Any) -> Any:
        token = _HTTP_REQUEST.set(getattr(ctx, "request", None))
        try:
            return await super()._handle_list_tools(ctx, params)
        finally:
            _HTTP_REQUEST.reset(token)

    async def list_tools(self) -> list[MCPTool]:
        """The tools the calling principal may use (empty for an unauthenticated caller)."""
        access = current_access()
        if access is None:
            return []
        # The SDK also lists tools internally while checking a tools/call's parameter headers;
        # that listing shows nothing to the caller, so it is not audited (the call's decision is).
        audited = not _inside_tool_call()
        binding = self._engine.bind(
            access.principal, self._names, session_id=access.session_id, audit=audited
        )
        return [self._tools[name] for name in binding.tool_names]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult:
        """Authenticate, validate, resolve facts, decide once, then run the facade operation.

        Args:
            name: Tool name.
            arguments: Raw arguments from the client.
            context: The MCP request context (supplies the transport session, if any).

        Returns:
            A `CallToolResult`: JSON text on success; ``is_error=True`` with a short actionable
            message on denial, unknown tool, invalid arguments, business errors or back-end
            failures. ``_meta["bastion/decision"]`` always says which.
        """
        access = current_access()
        if access is None:
            return _result("Not authenticated. Connect with a bearer token.", "invalid")
        principal = access.principal
        session_id = access.session_id or _transport_session(context)
        facts = SessionFacts(session_id=session_id)
        binding = self._engine.bind(principal, self._names, audit=False)
        if name not in self._operations or not binding.allows(name):
            # A tool the caller may not list is unknown to them: no schema, no hint that it exists.
            self._audit_deny(principal, name, arguments, Deny(name, (), ("unknown tool",)), facts)
            return _result(_UNKNOWN_TOOL % name, "invalid")
        try:
            checked = self._facade.validate(name, arguments)
        except ArgumentError as exc:
            self._audit_deny(principal, name, arguments, Deny(name, (), ("invalid arguments",)), facts)
            return _result("%s. Fix them and call again." % exc, "invalid")
        scope = self._facade.scope()
        try:
            decision, facts = await self._decide(principal, name, checked, facts, scope)
        except (UpstreamError, LegacyAuthError, SessionStoreUnavailableError) as exc:
            logger.warning("tool=<%s>, error=<%s> | facts could not be resolved", name, type(exc).__name__)
            if self._engine.audit is not None:
                self._engine.audit.record_fault("server", principal, name, checked, type(exc).__name__, facts)
            message = exc.message if isinstance(exc, UpstreamError) else _UNAVAILABLE
            return _result(message, "fault")
        if not isinstance(decision, Allow):
            logger.info("tool=<%s>, user=<%s> | call denied by policy", name, principal.user_id)
            return _result("%s %s" % (DENIED_PREFIX, decision.explain()), "deny", decision)
        try:
            value = await self._facade.invoke(name, checked, scope=scope)
        except (ToolCallError, ArgumentError) as exc:
            return _result(str(exc), "allow", decision, is_error=True)
        except FacadeError as exc:
            logger.warning("tool=<%s>, error=<%s> | facade failure", name, type(exc).__name__)
            return _result(_UNAVAILABLE, "allow", decision, is_error=True)
        except Exception:
            logger.exception("tool=<%s> | unexpected failure in facade operation", name)
            return _result(_UNAVAILABLE, "allow", decision, is_error=True)
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return _result(text, "allow", decision, is_error=False)

    async def _decide(
        self,
        principal: Principal,
        name: str,
        arguments: Mapping[str, Any],
        facts: SessionFacts,
        scope: Any,
    ) -> tuple[Decision, SessionFacts]:
        spec = self._engine.catalog[name]
        if facts.session_id is not None:
            try:
                record = await self._sessions.open(facts.session_id, principal)
            except SessionOwnershipError:
                deny = Deny(name, (), ("this session belongs to another user; start a new session",))
                return self._audit_deny(principal, name, arguments, deny, facts), facts
            facts = SessionFacts(facts.session_id, None, record.subject_id)
        owner: str | None = None
        kind = spec.resource
        if kind is not None and spec.resource_argument is not None:
            owner = self._engine.resource_owner(name, arguments)
            value = arguments.get(spec.resource_argument)
            if owner is None and isinstance(value, str) and value:
                owner = await self._facade.owner_of(kind, value, scope=scope)
        facts = SessionFacts(facts.session_id, owner, facts.session_subject_id)
        decision = self._engine.check(principal, name, arguments, facts, point="server")
        acted_for = decision.resource_owner_id
        if (
            isinstance(decision, Allow)
            and facts.session_id is not None
            and acted_for is not None
            and facts.session_subject_id is None
        ):
            pinned = await self._sessions.pin_subject(facts.session_id, principal, acted_for)
            if pinned != acted_for:  # a concurrent call of this session pinned another subject first
                facts = SessionFacts(facts.session_id, owner, pinned)
                decision = self._engine.check(principal, name, arguments, facts, point="server")
            else:
                facts = facts.acting_for(acted_for)
        return decision, facts

    def _audit_deny(
        self, principal: Principal, name: str, arguments: Mapping[str, Any], deny: Deny, facts: SessionFacts
    ) -> Deny:
        if self._engine.audit is not None:
            self._engine.audit.record_decision("server", principal, name, arguments, deny, facts)
        return deny


def _to_mcp_tool(op: Operation) -> MCPTool:
    read_only = op.read_only
    return MCPTool(
        name=op.name,
        description=op.description,
        input_schema=op.input_schema(),
        annotations=ToolAnnotations(
            read_only_hint=read_only,
            destructive_hint=None if read_only else op.traits.destructive,
            idempotent_hint=read_only,
            open_world_hint=False,
        ),
    )


def _transport_session(context: Context[Any, Any] | None) -> str | None:
    """The server-held MCP transport session of this call (``Mcp-Session-Id``), as a store key.

    Used only for callers whose token carries no session claim (e.g. MCP Inspector with a user's own
    token). The id is read from the server's own connection object, which the SDK created for a
    session id it issued and validated, never from a request header (in the sessionless protocol a
    header would be the client's choice). The store binds the key to the principal that opened it.
    """
    if context is None:
        return None
    try:
        session = context.request_context.session
    except (AttributeError, ValueError, RuntimeError):  # no request bound to this context
        return None
    connection = getattr(session, "_connection", None)  # the SDK exposes it on the lowlevel Context only
    session_id = getattr(connection, "session_id", None)
    return transport_session_key(session_id) if isinstance(session_id, str) and session_id else None


def _inside_tool_call() -> bool:
    """Whether the current HTTP request is a ``tools/call`` (the SDK's internal tool listing)."""
    request = _HTTP_REQUEST.get()
    body = getattr(request, "_body", None)
    if not isinstance(body, bytes | bytearray):
        return False
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("method") == "tools/call"


def _decision_meta(
    outcome: Literal["allow", "deny", "invalid", "fault"], decision: Decision | None
) -> DecisionMeta:
    return DecisionMeta(
        outcome=outcome,
        allowed=decision is not None and decision.allowed,
        policy_ids=list(decision.policy_ids) if decision is not None else [],
        reasons=list(decision.reasons) if decision is not None else [],
    )


def _result(
    message: str,
    outcome: Literal["allow", "deny", "invalid", "fault"],
    decision: Decision | None = None,
    *,
    is_error: bool = True,
) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=message)],
        is_error=is_error,
        _meta={DECISION_META_KEY: dict(_decision_meta(outcome, decision))},
    )
