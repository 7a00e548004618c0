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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cedarpy

from bastion_policies._audit import AuditLog
from bastion_policies._catalog import ToolCatalog, ToolSpec, retail_catalog
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

__all__ = ["DEFAULT_GATEWAY", "POLICY_DIR", "Binding", "PolicyEngine"]

logger = logging.getLogger(__name__)

DEFAULT_GATEWAY = "bastion-local-gateway"
"""Resource id used locally (``AgentCore::Gateway::"bastion-local-gateway"``)."""

POLICY_DIR = Path(__file__).resolve().parent.parent
"""Where ``retail.cedar``, ``retail.bastion.cedar`` and ``retail.cedarschema`` live."""

_BASTION_SUFFIX = ".bastion.cedar"
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

    Use :meth:`from_files` or :meth:`retail`. The engine is immutable and thread-safe.

    Args:
        sources: ``(name, cedar_text)`` pairs; a name ending in ``.bastion.cedar`` marks a
            Bastion-only file (checks only).
        catalog: The tools.
        target: Gateway target name; tool actions are ``AgentCore::Action::"<target>___<tool>"``.
        gateway: Resource id (gateway ARN or name).
        audit: Where to record decisions (every check, one summary per bind), or None.

    Raises:
        ConfigurationError: If a file does not parse or validate against the schema generated from
            the catalog, a policy has no ``@id``, or two policies share one.
    """

    def __init__(
        self,
        sources: Sequence[tuple[str, str]],
        catalog: ToolCatalog,
        *,
        target: str = "retail",
        gateway: str = DEFAULT_GATEWAY,
        audit: AuditLog | None = None,
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

    @classmethod
    def from_files(
        cls,
        policy_paths: Sequence[Path],
        catalog: ToolCatalog,
        *,
        target: str = "retail",
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

    @classmethod
    def retail(cls, audit: AuditLog | None = None, *, gateway: str = DEFAULT_GATEWAY) -> PolicyEngine:
        """The retail engine: ``retail.cedar`` + ``retail.bastion.cedar`` over :func:`retail_catalog`."""
        paths = [POLICY_DIR / "retail.cedar", POLICY_DIR / "retail.bastion.cedar"]
        return cls.from_files(paths, retail_catalog(), gateway=gateway, audit=audit)

    @property
    def policy_ids(self) -> tuple[str, ...]:
        """Every policy ``@id``, in file order."""
        return tuple(self._all.ids())

    # ------------------------------------------------------------------ binding
    def bind(
        self, principal: Principal, tool_names: Sequence[str] | None = None, *, session_id: str | None = None
    ) -> Binding:
        """Return the tools ``principal`` may be given, with a decision per tool.

        Evaluates the portable policies with the facts known before any call: for user-scoped tools
        the ``user_id`` argument is the principal's own id (the most a call could be allowed);
        Bastion-only session rules never hide a tool here (they deny calls in :meth:`check`). So a
        tool that some call would allow is always bound.

        Args:
            principal: Who to bind for.
            tool_names: Tools to consider (default: the whole catalog); unknown names are denied.
            session_id: Recorded in the audit log.

        Returns:
            The binding.
        """
        names = list(tool_names) if tool_names is not None else list(self.catalog.names)
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
        binding = Binding(principal, ordered, specs)
        if self.audit is not None:
            self.audit.record_bind(principal, binding.tool_names, binding.denied, session_id)
        return binding

    # ------------------------------------------------------------------ checks
    def check(
        self,
        principal: Principal,
        tool: str,
        arguments: Mapping[str, Any] | None,
        facts: SessionFacts | None = None,
    ) -> Decision:
        """Decide one tool call with its arguments and the session's facts.

        Every policy (portable and Bastion-only) applies; arguments are validated against the
        tool's Cedar input type. Never raises for bad input: an unknown tool, arguments that do not
        fit the schema, or a policy that cannot be evaluated all give a :class:`Deny`.

        Args:
            principal: The caller.
            tool: Tool name.
            arguments: The call's arguments (None values count as absent).
            facts: Session facts; None means none are known (rules needing them deny).

        Returns:
            :class:`Allow` or :class:`Deny` with policy ids and reasons.
        """
        facts = facts or SessionFacts()
        decision = self._check(principal, tool, arguments, facts)
        logger.debug("tool=<%s>, decision=<%s> | checked", tool, decision.kind)
        if self.audit is not None:
            safe_args: Mapping[str, Any] = arguments if isinstance(arguments, Mapping) else {}
            self.audit.record_check(principal, tool, safe_args, decision, facts.session_id)
        return decision

    def _check(
        self, principal: Principal, tool: str, arguments: Mapping[str, Any] | None, facts: SessionFacts
    ) -> Decision:
        spec = self.catalog.get(tool)
        if spec is None:
            return _unknown_tool(tool)
        if arguments is not None and not isinstance(arguments, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
            return _bad_arguments(spec)
        call_input = {str(k): _jsonable(v) for k, v in (arguments or {}).items() if v is not None}
        owner = facts.resource_owner_id
        if spec.resource == "user":
            value = call_input.get("user_id")
            owner = value if isinstance(value, str) else None
        bastion = {
            "session_id": facts.session_id,
            "resource_owner_id": owner,
            "session_customer_id": facts.session_customer_id,
        }
        bastion_ctx = {k: v for k, v in bastion.items() if v is not None}
        request = self._request(principal, spec, call_input, bastion_ctx)
        try:
            result = cedarpy.is_authorized(
                request, self._all.policy_set, self._principal_entities(principal), schema=self._schema
            )
        except (TypeError, ValueError) as exc:
            logger.debug("tool=<%s>, error=<%s> | request could not be built", tool, exc)
            return _bad_arguments(spec)
        return self._interpret(self._all, principal, spec, result, owner)

    # ------------------------------------------------------------------ helpers
    def _principal_entities(self, principal: Principal) -> cedarpy.Entities:
        return self._entities.with_added_json_str(json.dumps([principal_entity(principal)]))

    def _bind_input(self, principal: Principal, spec: ToolSpec) -> dict[str, Any]:
        return {"user_id": principal.user_id} if spec.resource == "user" else {}

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
