"""The facade: checks declared operations when built, validates arguments, runs steps, projects results."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any, Self

import pydantic

from bastion_facades._client import SystemClient
from bastion_facades._declare import HookCall, Operation, Projection, Resource, Step
from bastion_facades._error_mapping import ErrorMapper
from bastion_facades._errors import ArgumentError, ConfigurationError, LegacyAPIError, ToolCallError
from bastion_facades._jmes import Expression
from bastion_facades._paths import placeholders, render_path
from bastion_facades._scope import CallScope
from bastion_facades._types import JsonObject, JsonValue

logger = logging.getLogger(__name__)


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "the given value"


@dataclass(frozen=True)
class _StepPlan:
    step: Step
    path_params: dict[str, Expression]
    query: dict[str, Expression]
    body: Expression | None


@dataclass(frozen=True)
class _CapPlan:
    field: str
    limit: int
    count_field: str
    total: Expression | None


@dataclass(frozen=True)
class _Plan:
    steps: tuple[_StepPlan, ...]
    projection: Expression | None
    caps: tuple[_CapPlan, ...]


def _compile_step(step: Step, where: str) -> _StepPlan:
    try:
        names = placeholders(step.path)
        if set(names) != set(step.path_params):
            raise ConfigurationError(
                f"path {step.path!r} has placeholders {sorted(names)} but path_params "
                f"{sorted(step.path_params)}"
            )
        if step.paging is not None and step.method != "GET":
            raise ConfigurationError("only GET steps can be paged")
        if step.max_items < 1:
            raise ConfigurationError("max_items must be at least 1")
        return _StepPlan(
            step,
            {k: Expression(v) for k, v in step.path_params.items()},
            {k: Expression(v) for k, v in step.query.items()},
            None if step.body is None else Expression(step.body),
        )
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}, step {step.name!r}: {exc}") from None


def _compile(operation: Operation) -> _Plan:
    where = f"Operation {operation.name!r}"
    names = [step.name for step in operation.steps]
    if len(set(names)) != len(names) or "args" in names:
        raise ConfigurationError(f"{where}: step names must be unique and not 'args' (got {names}).")
    if operation.hook is not None and operation.projection is not None:
        raise ConfigurationError(f"{where}: declare a projection or a hook, not both.")
    steps = tuple(_compile_step(step, where) for step in operation.steps)
    projection = operation.projection
    if isinstance(projection, str):
        projection = Projection(projection)
    if projection is None:
        return _Plan(steps, None, ())
    try:
        expression = Expression(projection.expression)
        caps = tuple(
            _CapPlan(c.field, c.limit, c.count_field, None if c.total is None else Expression(c.total))
            for c in projection.caps
        )
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: projection does not compile: {exc}") from None
    if any(c.limit < 1 for c in caps):
        raise ConfigurationError(f"{where}: cap limits must be at least 1.")
    return _Plan(steps, expression, caps)


def _problems(error: pydantic.ValidationError) -> list[str]:
    problems: list[str] = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        problems.append(f"{where}: {item['msg']}")
    return problems


def _scalar(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ConfigurationError(f"{what} must be a string or a number, not {type(value).__name__}")


def _apply_caps(result: JsonValue, caps: tuple[_CapPlan, ...], values: Mapping[str, Any]) -> JsonValue:
    if not caps or not isinstance(result, dict):
        return result
    for cap in caps:
        items = result.get(cap.field)
        if not isinstance(items, list):
            continue
        reported = cap.total.search(values) if cap.total is not None else None
        total = max(int(reported), len(items)) if isinstance(reported, int | float) else len(items)
        shown = items[: cap.limit]
        out: JsonObject = {}
        for key, value in result.items():
            if key in (cap.count_field, f"{cap.field}_note"):
                continue
            if key != cap.field:
                out[key] = value
                continue
            out[key] = shown
            out[cap.count_field] = total
            if total > len(shown):
                out[f"{cap.field}_note"] = f"Showing {len(shown)} of {total}."
        result = out
    return result


class Facade:
    """Declared operations over one legacy system, checked when built.

    Args:
        operations: The operations (unique names).
        client: The legacy system's client (the facade closes it in :meth:`aclose`).
        resources: The resource kinds operations act on.
        errors: Error mapping for operations that declare none.

    Raises:
        ConfigurationError: Duplicate operation names or resource kinds; an operation's resource kind
            without a :class:`Resource`, or whose argument the input model lacks; an expression that
            does not compile; a path whose placeholders do not match its parameters; a projection
            and a hook on one operation. The message names the operation and the problem.
    """

    def __init__(
        self,
        operations: Sequence[Operation],
        client: SystemClient,
        *,
        resources: Sequence[Resource] = (),
        errors: ErrorMapper | None = None,
    ) -> None:
        self._client = client
        self._errors = errors or ErrorMapper(by_code={})
        self._resources: dict[str, Resource] = {}
        self._lookups: dict[str, tuple[_StepPlan, Expression, re.Pattern[str] | None]] = {}
        for resource in resources:
            self._add_resource(resource)
        self._operations: dict[str, Operation] = {}
        self._plans: dict[str, _Plan] = {}
        for operation in operations:
            self._add_operation(operation)

    def _add_resource(self, resource: Resource) -> None:
        where = f"Resource {resource.kind!r}"
        if resource.kind in self._resources:
            raise ConfigurationError(f"{where} is declared twice.")
        if resource.self_owned == (resource.lookup is not None or resource.owner is not None):
            raise ConfigurationError(
                f"{where}: declare either self_owned=True or a lookup step with an owner."
            )
        if resource.lookup is not None:
            if resource.owner is None or resource.lookup.method != "GET" or resource.lookup.paging:
                raise ConfigurationError(
                    f"{where}: the lookup must be an unpaged GET with an owner expression."
                )
            try:
                owner = Expression(resource.owner)
                pattern = None if resource.id_pattern is None else re.compile(resource.id_pattern)
            except (ConfigurationError, re.error) as exc:
                raise ConfigurationError(f"{where}: {exc}") from None
            self._lookups[resource.kind] = (_compile_step(resource.lookup, where), owner, pattern)
        self._resources[resource.kind] = resource

    def _add_operation(self, operation: Operation) -> None:
        where = f"Operation {operation.name!r}"
        if operation.name in self._operations:
            raise ConfigurationError(f"{where} is declared twice; operation names must be unique.")
        kind = operation.traits.resource
        if kind is not None:
            resource = self._resources.get(kind)
            if resource is None:
                raise ConfigurationError(
                    f"{where} acts on resource kind {kind!r}, which the facade does not declare; add a "
                    f"Resource({kind!r}, ...) to resources."
                )
            if resource.argument not in operation.input_model.model_fields:
                raise ConfigurationError(
                    f"{where} acts on {kind!r} named by argument {resource.argument!r}, which its input "
                    "model lacks."
                )
        self._plans[operation.name] = _compile(operation)
        self._operations[operation.name] = operation

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the legacy client."""
        await self._client.aclose()

    @property
    def client(self) -> SystemClient:
        """The legacy client."""
        return self._client

    def operations(self) -> Sequence[Operation]:
        """All operations, in declaration order."""
        return tuple(self._operations.values())

    def operation(self, name: str) -> Operation:
        """The operation called ``name``.

        Raises:
            ArgumentError: No such operation.
        """
        try:
            return self._operations[name]
        except KeyError:
            raise ArgumentError(name, [f"unknown operation; known: {', '.join(self._operations)}"]) from None

    def resources(self) -> Mapping[str, Resource]:
        """Resource kind -> :class:`Resource`."""
        return MappingProxyType(self._resources)

    def scope(self) -> CallScope:
        """A fresh per-call scope: pass it to :meth:`owner_of` and :meth:`invoke` of one call."""
        return CallScope()

    def validate(self, name: str, arguments: Mapping[str, object]) -> dict[str, Any]:
        """Check ``arguments`` against the operation's input schema without running it.

        Returns:
            The arguments as the operation sees them (JSON values, defaults filled in).

        Raises:
            ArgumentError: Unknown operation or invalid arguments.
        """
        return self._validated(self.operation(name), arguments).model_dump(mode="json")

    def _validated(self, operation: Operation, arguments: Mapping[str, object]) -> pydantic.BaseModel:
        try:
            return operation.input_model.model_validate(dict(arguments))
        except pydantic.ValidationError as exc:
            raise ArgumentError(operation.name, _problems(exc)) from None

    async def owner_of(self, kind: str, resource_id: str, *, scope: CallScope | None = None) -> str | None:
        """Who owns resource ``resource_id`` of ``kind``.

        Args:
            kind: A declared resource kind.
            resource_id: The resource's id, as the operation's argument gives it.
            scope: The call's scope; an operation invoked with the same scope reuses the answer.

        Returns:
            The owner id, or None if the resource does not exist.

        Raises:
            ArgumentError: Unknown kind.
            ToolCallError: The system refused the look-up for another reason than "not found".
            UpstreamError: The system failed (an outage is never reported as "not found").
            LegacyAuthError: The system refused the facade's credentials.
        """
        resource = self._resources.get(kind)
        if resource is None:
            raise ArgumentError(
                "owner_of", [f"unknown resource kind {kind!r}; known: {', '.join(self._resources)}"]
            )
        if resource.self_owned:
            return resource_id
        step, owner, pattern = self._lookups[kind]
        if pattern is not None and pattern.fullmatch(resource_id) is None:
            return None
        values: dict[str, Any] = {"args": {resource.argument: resource_id}}
        try:
            answer = await self._run_step(step, values, scope or CallScope())
        except LegacyAPIError as exc:
            if exc.status in resource.missing_statuses:
                return None
            raise self._errors.to_tool_error(exc, {resource.argument: resource_id}) from None
        found = owner.search(answer)
        return None if found is None else str(found)

    async def invoke(
        self, name: str, arguments: Mapping[str, object], *, scope: CallScope | None = None
    ) -> JsonValue:
        """Validate ``arguments`` and run the operation.

        Args:
            name: Operation name.
            arguments: Its arguments.
            scope: The call's scope (e.g. shared with :meth:`owner_of`); a fresh one if None.

        Returns:
            The projected JSON result.

        Raises:
            ArgumentError: Unknown operation or invalid arguments (nothing was called).
            ToolCallError: A business failure, with a message for the model.
            UpstreamError: The legacy system failed (a ``ToolCallError``).
            LegacyAuthError: The legacy system refused the facade's credentials.
        """
        operation = self.operation(name)
        validated = self._validated(operation, arguments)
        plan = self._plans[name]
        scope = scope or CallScope()
        values: dict[str, Any] = {"args": validated.model_dump(mode="json")}
        strings = {k: v for k, v in validated.model_dump().items() if isinstance(v, str)}
        logger.debug("operation=<%s> | invoking", name)
        try:
            for step in plan.steps:
                answer = await self._run_step(step, values, scope)
                if step.step.if_empty is not None and answer in (None, [], {}):
                    raise ToolCallError(step.step.if_empty.format_map(_Defaults(strings)))
                values[step.step.name] = answer
            if operation.hook is not None:
                return await operation.hook(HookCall(validated, values, self._client, scope))
        except LegacyAPIError as exc:
            raise (operation.errors or self._errors).to_tool_error(exc, strings) from None
        if plan.projection is None:
            return values[plan.steps[-1].step.name] if plan.steps else None
        return _apply_caps(plan.projection.search(values), plan.caps, values)

    async def _run_step(self, plan: _StepPlan, values: dict[str, Any], scope: CallScope) -> JsonValue:
        step = plan.step
        segments: dict[str, str] = {}
        for name, expression in plan.path_params.items():
            segments[name] = _scalar(expression.search(values), f"path parameter {name!r}") or ""
        query: dict[str, str | int] = {}
        for name, expression in plan.query.items():
            value = _scalar(expression.search(values), f"query parameter {name!r}")
            if value is not None:
                query[name] = value
        path = render_path(step.path, segments)
        if step.paging is not None:
            items, total = await self._client.fetch_all(
                path, query, paging=step.paging, max_items=step.max_items, scope=scope
            )
            values[f"{step.name}_total"] = total
            return list(items)
        body = None if plan.body is None else plan.body.search(values)
        return await self._client.request(step.method, path, params=query or None, body=body, scope=scope)
