"""The policy engine: binding (which tools a principal gets) and checks (one call, its arguments).

Policies are Cedar files in AgentCore's model (see :mod:`bastion_policies._cedar_model`). Files
named ``*.bastion.cedar`` are Bastion-only: they may read the session facts at ``context.bastion``
and are applied to checks only, never to binding. All other files are portable and must validate
without ``context.bastion``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cedarpy

from bastion_policies._audit import AuditLog, EnforcementPoint
from bastion_policies._catalog import ToolCatalog, ToolSpec
from bastion_policies._cedar_model import (
    ACTION_TYPE,
    GATEWAY_TYPE,
    PRINCIPAL_TYPE,
    action_entities,
    action_id,
    cedar_schema,
    principal_entity,
)
from bastion_policies._decision import Allow, Decision, Deny, SessionFacts
from bastion_policies._errors import ConfigurationError
from bastion_policies._principal import Principal

__all__ = ["BASTION_POLICY_SUFFIX", "DEFAULT_GATEWAY", "Binding", "PolicyEngine"]

logger = logging.getLogger(__name__)

DEFAULT_GATEWAY = "bastion-local-gateway"
"""Resource id used locally (``AgentCore::Gateway::"bastion-local-gateway"``)."""

BASTION_POLICY_SUFFIX = ".bastion.cedar"
"""Policy files named ``*.bastion.cedar`` are Bastion-only: they may read ``context.bastion``."""

_BASTION_SUFFIX = BASTION_POLICY_SUFFIX
_CACHE_SIZE = 4096
_ERRORED_POLICY = re.compile(r"policy `([^`]+)`")


@dataclass(frozen=True)
class _PolicyMeta:
    id: str
    reason: str
    effect: str
    source: str


class _CompiledPolicies:
    """Policies from several files, parsed once, with positional ids mapped to annotations."""

    def __init__(self, sources: Sequence[tuple[str, str]]) -> None:
        text = "\n".join(body for _, body in sources)
        self.policy_set = cedarpy.PolicySet.from_str(text)
        est: dict[str, Any] = json.loads(cedarpy.policies_to_json_str(text)) if text.strip() else {}
        self.meta: dict[str, _PolicyMeta] = {}
        offsets: list[tuple[int, str]] = []
        count = 0
        for name, body in sources:
            offsets.append((count, name))
            count += (
                len(json.loads(cedarpy.policies_to_json_str(body))["staticPolicies"]) if body.strip() else 0
            )
        for positional, policy in est.get("staticPolicies", {}).items():
            index = int(positional.removeprefix("policy"))
            source = next(name for start, name in reversed(offsets) if start <= index)
            annotations: dict[str, str] = policy.get("annotations", {})
            pid = annotations.get("id")
            if not pid:
                raise ConfigurationError(f'{source}: every policy needs an @id("...") annotation.')
            self.meta[positional] = _PolicyMeta(pid, annotations.get("reason", pid), policy["effect"], source)

    def ids(self) -> list[str]:
        return [m.id for m in self.meta.values()]


@dataclass(frozen=True)
class Binding:
    """The tools a principal may be given, with the decision for every tool considered.

    Attributes:
        principal: Who the binding is for.
        decisions: Tool name → decision, in catalog (or requested) order.
        specs: The permitted tools, in order.
    """

    principal: Principal
    decisions: Mapping[str, Decision]
    specs: tuple[ToolSpec, ...]

    @property
    def tool_names(self) -> tuple[str, ...]:
        """Names of the permitted tools, in order."""
        return tuple(spec.name for spec in self.specs)

    @property
    def denied(self) -> tuple[str, ...]:
        """Names of the tools withheld."""
        return tuple(name for name, d in self.decisions.items() if not d.allowed)

    def allows(self, tool: str) -> bool:
        """Whether ``tool`` is bound."""
        decision = self.decisions.get(tool)
        return decision is not None and decision.allowed

    def __contains__(self, tool: object) -> bool:
        return isinstance(tool, str) and self.allows(tool)

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)


class PolicyEngine:
    """Evaluates Cedar policies for tool binding and tool calls.

    The engine is immutable and thread-safe. Per principal it builds the Cedar entities once and
    caches the binding (both are pure functions of the principal, the catalog and the policies), so
    a check costs one Cedar evaluation whatever the catalog size.

    Args:
        sources: ``(name, cedar_text)`` pairs; a name ending in ``.bastion.cedar`` marks a
            Bastion-only file (checks only).
        catalog: The tools.
        target: Gateway target name (the domain's); tool actions are
            ``AgentCore::Action::"<target>___<tool>"``.
        gateway: Resource id (gateway ARN or name).
        audit: Where to record decisions (every check, one summary per audited bind), or None.
        cache_size: How many principals' entities and bindings are kept (least recently used first
            out; a dropped entry is rebuilt on the next use, never changing a decision).

    Raises:
        ConfigurationError: If a file does not parse or validate against the schema generated from
            the catalog, a policy has no ``@id``, or two policies share one.
    """

    def __init__(
        self,
        sources: Sequence[tuple[str, str]],
        catalog: ToolCatalog,
        *,
        target: str,
        gateway: str = DEFAULT_GATEWAY,
        audit: AuditLog | None = None,
        cache_size: int = _CACHE_SIZE,
    ) -> None:
        self.catalog = catalog
        self.target = target
        self.gateway = gateway
        self.audit = audit
        self.schema_text = cedar_schema(catalog, target)
        portable_schema = cedar_schema(catalog, target, include_bastion_context=False)
        self._schema = cedarpy.Schema.from_str(self.schema_text)
        portable: list[tuple[str, str]] = []
        for name, text in sources:
            is_bastion = name.endswith(_BASTION_SUFFIX)
            _validate(
                name, text, self.schema_text if is_bastion else portable_schema, portable=not is_bastion
            )
            if not is_bastion:
                portable.append((name, text))
        self._all = _CompiledPolicies(sources)
        self._portable = _CompiledPolicies(portable)
        ids = self._all.ids()
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ConfigurationError(f"Policy ids must be unique; repeated: {', '.join(duplicates)}.")
        self._entities = cedarpy.Entities.from_json_str(json.dumps(action_entities(catalog, target)))
        self._self_owned = {k.name for k in catalog.resource_kinds.values() if k.self_owned}
        self._cache_size = max(cache_size, 1)
        self._principal_cache: OrderedDict[Principal, cedarpy.Entities] = OrderedDict()
        self._bind_cache: OrderedDict[tuple[Principal, tuple[str, ...]], Binding] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def from_files(
        cls,
        policy_paths: Sequence[Path],
        catalog: ToolCatalog,
        *,
        target: str,
        gateway: str = DEFAULT_GATEWAY,
        audit: AuditLog | None = None,
    ) -> PolicyEngine:
        """Load Cedar policy files (``*.bastion.cedar`` ones are Bastion-only, checks only).

        Raises:
            ConfigurationError: If a file cannot be read, parsed or validated.
        """
        sources: list[tuple[str, str]] = []
        for path in policy_paths:
            try:
                sources.append((Path(path).name, Path(path).read_text(encoding="utf-8")))
            except OSError as exc:
                raise ConfigurationError(f"Cannot read policy file {path}: {exc.strerror}.") from None
        return cls(sources, catalog, target=target, gateway=gateway, audit=audit)

    @property
    def policy_ids(self) -> tuple[str, ...]:
        """Every policy ``@id``, in file order."""
        return tuple(self._all.ids())

    # ------------------------------------------------------------------ binding
    def bind(
        self,
        principal: Principal,
        tool_names: Sequence[str] | None = None,
        *,
        session_id: str | None = None,
        audit: bool = True,
    ) -> Binding:
        """Return the tools ``principal`` may be given, with a decision per tool.

        Evaluates the portable policies with the facts known before any call: for tools scoped to a
        self-owned resource kind the resource argument is the principal's own id (the most a call
        could be allowed); Bastion-only session rules never hide a tool here (they deny calls in
        :meth:`check`). So a tool that some call would allow is always bound. The result is cached
        per principal and tool list.

        Args:
            principal: Who to bind for.
            tool_names: Tools to consider (default: the whole catalog); unknown names are denied.
            session_id: Recorded in the audit log.
            audit: Record the binding (enforcement point ``list``); False for internal look-ups
                that show nothing to the caller.

        Returns:
            The binding.
        """
        names = tuple(tool_names) if tool_names is not None else self.catalog.names
        key = (principal, names)
        with self._cache_lock:
            binding = self._bind_cache.get(key)
            if binding is not None:
                self._bind_cache.move_to_end(key)
        if binding is None:
            binding = self._bind(principal, names)
            with self._cache_lock:
                self._bind_cache[key] = binding
                while len(self._bind_cache) > self._cache_size:
                    self._bind_cache.popitem(last=False)
        if audit and self.audit is not None:
            self.audit.record_list(principal, binding.tool_names, binding.denied, session_id)
        return binding

    def _bind(self, principal: Principal, names: Sequence[str]) -> Binding:
        decisions: dict[str, Decision] = {}
        known: list[ToolSpec] = []
        for name in names:
            spec = self.catalog.get(name)
            if spec is None:
                decisions[name] = _unknown_tool(name)
            else:
                known.append(spec)
        if known:
            entities = self._principal_entities(principal)
            requests = [
                self._request(principal, spec, self._bind_input(principal, spec), None) for spec in known
            ]
            results = cedarpy.is_authorized_batch(requests, self._portable.policy_set, entities)
            for spec, result in zip(known, results, strict=True):
                decisions[spec.name] = self._interpret(self._portable, principal, spec, result, None)
        ordered = {name: decisions[name] for name in names}
        specs = tuple(self.catalog[n] for n, d in ordered.items() if d.allowed)
        return Binding(principal, ordered, specs)

    # ------------------------------------------------------------------ checks
    def check(
        self,
        principal: Principal,
        tool: str,
        arguments: Mapping[str, Any] | None,
        facts: SessionFacts | None = None,
        *,
        point: EnforcementPoint = "server",
        portable_only: bool = False,
    ) -> Decision:
        """Decide one tool call with its arguments and the session's facts.

        Every policy (portable and Bastion-only) applies, unless ``portable_only``; arguments are
        validated against the tool's Cedar input type. Never raises for bad input: an unknown tool,
        arguments that do not fit the schema, or a policy that cannot be evaluated all give a
        :class:`Deny`. Exactly one audit record is written per call.

        Args:
            principal: The caller.
            tool: Tool name.
            arguments: The call's arguments (None values count as absent).
            facts: Session facts; None means none are known (rules needing them deny).
            point: The enforcement point deciding (``agent`` pre-check or ``server``), for the audit.
            portable_only: Apply only the portable policies, which need no session facts: what an
                agent runtime can decide before sending a call (the MCP server then decides with
                the facts it resolves).

        Returns:
            :class:`Allow` or :class:`Deny` with policy ids and reasons.
        """
        facts = facts or SessionFacts()
        decision = self._check(principal, tool, arguments, facts, portable_only=portable_only)
        logger.debug("tool=<%s>, decision=<%s>, point=<%s> | checked", tool, decision.kind, point)
        if self.audit is not None:
            safe_args: Mapping[str, Any] = arguments if isinstance(arguments, Mapping) else {}
            self.audit.record_decision(point, principal, tool, safe_args, decision, facts)
        return decision

    def resource_owner(self, tool: str, arguments: Mapping[str, Any]) -> str | None:
        """The owner a call names itself: the resource argument of a self-owned kind, else None."""
        spec = self.catalog.get(tool)
        if spec is None or spec.resource not in self._self_owned or spec.resource_argument is None:
            return None
        value = arguments.get(spec.resource_argument)
        return value if isinstance(value, str) and value else None

    def _check(
        self,
        principal: Principal,
        tool: str,
        arguments: Mapping[str, Any] | None,
        facts: SessionFacts,
        *,
        portable_only: bool,
    ) -> Decision:
        spec = self.catalog.get(tool)
        if spec is None:
            return _unknown_tool(tool)
        if arguments is not None and not isinstance(arguments, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
            return _bad_arguments(spec)
        call_input = {str(k): _jsonable(v) for k, v in (arguments or {}).items() if v is not None}
        owner = facts.resource_owner_id
        if spec.resource in self._self_owned and spec.resource_argument is not None:
            value = call_input.get(spec.resource_argument)
            owner = value if isinstance(value, str) else None
        compiled = self._portable if portable_only else self._all
        bastion_ctx: dict[str, str] | None = None
        if not portable_only:
            bastion = {
                "session_id": facts.session_id,
                "resource_owner_id": owner,
                "session_subject_id": facts.session_subject_id,
            }
            bastion_ctx = {k: v for k, v in bastion.items() if v is not None}
        request = self._request(principal, spec, call_input, bastion_ctx)
        try:
            result = cedarpy.is_authorized(
                request,
                compiled.policy_set,
                self._principal_entities(principal),
                schema=None if portable_only else self._schema,
            )
        except (TypeError, ValueError) as exc:
            logger.debug("tool=<%s>, error=<%s> | request could not be built", tool, exc)
            return _bad_arguments(spec)
        return self._interpret(compiled, principal, spec, result, owner)

    # ------------------------------------------------------------------ helpers
    def _principal_entities(self, principal: Principal) -> cedarpy.Entities:
        with self._cache_lock:
            entities = self._principal_cache.get(principal)
            if entities is not None:
                self._principal_cache.move_to_end(principal)
                return entities
        entities = self._entities.with_added_json_str(json.dumps([principal_entity(principal)]))
        with self._cache_lock:
            self._principal_cache[principal] = entities
            while len(self._principal_cache) > self._cache_size:
                self._principal_cache.popitem(last=False)
        return entities

    def _bind_input(self, principal: Principal, spec: ToolSpec) -> dict[str, Any]:
        if spec.resource in self._self_owned and spec.resource_argument is not None:
            return {spec.resource_argument: principal.user_id}
        return {}

    def _request(
        self, principal: Principal, spec: ToolSpec, call_input: dict[str, Any], bastion: dict[str, str] | None
    ) -> dict[str, Any]:
        context: dict[str, Any] = {"input": call_input}
        if bastion is not None:
            context["bastion"] = bastion
        return {
            "principal": {"type": PRINCIPAL_TYPE, "id": principal.user_id},
            "action": {"type": ACTION_TYPE, "id": action_id(self.target, spec.name)},
            "resource": {"type": GATEWAY_TYPE, "id": self.gateway},
            "context": context,
        }

    def _interpret(
        self,
        compiled: _CompiledPolicies,
        principal: Principal,
        spec: ToolSpec,
        result: cedarpy.AuthzResult,
        owner: str | None,
    ) -> Decision:
        diag = result.diagnostics
        if result.decision == cedarpy.Decision.NoDecision:
            logger.debug("tool=<%s>, errors=<%s> | request rejected by the schema", spec.name, diag.errors)
            return _bad_arguments(spec)
        errored = [m.group(1) for e in diag.errors if (m := _ERRORED_POLICY.search(e))]
        failed_forbids = [
            compiled.meta[p] for p in errored if p in compiled.meta and compiled.meta[p].effect == "forbid"
        ]
        if failed_forbids:
            # Cedar skips a policy whose evaluation errors; for a forbid that would fail open.
            logger.warning(
                "tool=<%s>, errors=<%s> | forbid policy could not be evaluated", spec.name, diag.errors
            )
            return Deny(
                spec.name,
                tuple(m.id for m in failed_forbids),
                tuple(
                    f"policy {m.id} could not be evaluated, so the call is denied to be safe"
                    for m in failed_forbids
                ),
                owner,
            )
        matched = [compiled.meta[p] for p in diag.reasons if p in compiled.meta]
        ids = tuple(m.id for m in matched)
        reasons = tuple(m.reason for m in matched)
        if result.allowed:
            return Allow(spec.name, ids, reasons, owner)
        if matched:
            return Deny(spec.name, ids, reasons, owner)
        groups = ", ".join(principal.groups) or "this user"
        return Deny(spec.name, (), (f"no policy permits {groups} to call {spec.name}",), owner)


def _validate(name: str, text: str, schema: str, *, portable: bool) -> None:
    try:
        cedarpy.PolicySet.from_str(text)
    except ValueError as exc:
        raise ConfigurationError(f"{name}: not valid Cedar: {exc}") from None
    if portable and _reads_bastion_facts(json.loads(cedarpy.policies_to_json_str(text))):
        raise ConfigurationError(
            f"{name}: reads context.bastion, which AgentCore cannot provide; "
            f"move those policies to a file named *{_BASTION_SUFFIX}."
        )
    result = cedarpy.validate_policies(text, schema)
    if not result.validation_passed:
        labels = result.id_annotations_by_policy_id
        problems = "; ".join(f"{labels.get(e.policy_id, e.policy_id)}: {e.error}" for e in result.errors[:3])
        hint = (
            " (portable files may not read context.bastion: use a *.bastion.cedar file)" if portable else ""
        )
        raise ConfigurationError(
            f"{name}: does not validate against the tool catalog's schema{hint}: {problems}"
        )


def _reads_bastion_facts(node: Any) -> bool:
    if isinstance(node, dict):
        if node.get("attr") == "bastion":  # pyright: ignore[reportUnknownMemberType]
            return True
        return any(_reads_bastion_facts(v) for v in node.values())  # pyright: ignore[reportUnknownVariableType]
    if isinstance(node, list):
        return any(_reads_bastion_facts(v) for v in node)  # pyright: ignore[reportUnknownVariableType]
    return False


def _unknown_tool(name: str) -> Deny:
    return Deny(name, (), (f"unknown tool {name!r}; call only the tools you were given",))


def _bad_arguments(spec: ToolSpec) -> Deny:
    expected = ", ".join(f"{a.name}: {a.type}" for a in spec.arguments) or "no arguments"
    return Deny(spec.name, (), (f"the arguments do not match {spec.name}'s input ({expected})",))


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | set | frozenset):
        return [_jsonable(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value
