"""Declarations: what an operation is (traits, legacy request steps, projection, errors) as data.

A domain declares its operations with these classes; :class:`bastion_facades.Facade` checks and
compiles them when it is built and runs them. JMESPath expressions are evaluated over the call's
*values*: ``{"args": <validated arguments>, "<step name>": <that step's answer>, ...}`` (a paged
step's answer is its list of items; ``"<step name>_total"`` holds the reported total).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic

from bastion_facades._client import SystemClient
from bastion_facades._error_mapping import ErrorMapper
from bastion_facades._scope import CallScope
from bastion_facades._types import JsonValue
from bastion_facades._wire import Paging


@dataclass(frozen=True)
class Traits:
    """What a tool does, declared once on its operation (policies and the MCP server read them).

    Attributes:
        access: ``read``, ``write`` or ``generic`` (touches no data of the system).
        destructive: MCP ``destructiveHint``: the call changes data irreversibly.
        resource: The resource kind the call acts on (a kind the domain declares with a
            :class:`Resource`), or None.
        data_classes: Data classes the result may carry, as Macie-style ids (``NAME``, ``ADDRESS``,
            ``EMAIL_ADDRESS``, ``PAYMENT_METHOD``, ...).
        permission_level: The domain's permission level name, upper-case (e.g. ``PUBLIC``).
    """

    access: Literal["read", "write", "generic"]
    destructive: bool = False
    resource: str | None = None
    data_classes: frozenset[str] = frozenset()
    permission_level: str = "PUBLIC"


@dataclass(frozen=True, eq=False)
class Step:
    """One legacy request of an operation.

    Attributes:
        method: HTTP method.
        path: Path template, e.g. ``"/api/v2/items/{id}"``; each placeholder is filled from
            ``path_params`` and encoded as exactly one path segment.
        name: Key of this step's answer in the call's values.
        path_params: Placeholder -> JMESPath giving its value (a string).
        query: Query parameter -> JMESPath giving its value (null values are left out).
        body: JMESPath building the request body, or None for no body.
        paging: Fetch every page with this scheme (GET only); the answer is the list of items.
        max_items: Stop paging after this many items.
        if_empty: If set, an empty answer (null, ``[]``, ``{}``) ends the call with this message
            (a ``str.format`` template over the string arguments).
    """

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    name: str = "response"
    path_params: Mapping[str, str] = field(default_factory=dict[str, str])
    query: Mapping[str, str] = field(default_factory=dict[str, str])
    body: str | None = None
    paging: Paging | None = None
    max_items: int = 500
    if_empty: str | None = None


@dataclass(frozen=True)
class Cap:
    """Cap a list field of the result and add its total count (and a note when items were left out).

    The result gets ``field`` (at most ``limit`` items), then ``count_field`` (the total), then
    ``<field>_note`` = ``"Showing <shown> of <total>."`` if items were left out.

    Attributes:
        field: The list field of the projected result.
        limit: Most items shown.
        count_field: Name of the total count field.
        total: JMESPath (over the call's values) of a total reported by the system; the count is
            the larger of it and the list's length. None: the list's length.
    """

    field: str
    limit: int
    count_field: str
    total: str | None = None


@dataclass(frozen=True)
class Projection:
    """The agent-facing result: a JMESPath expression over the call's values, then caps.

    Attributes:
        expression: JMESPath over ``{"args", <step names>...}``.
        caps: Lists to cap, with totals.
    """

    expression: str
    caps: tuple[Cap, ...] = ()


@dataclass(frozen=True)
class HookCall:
    """What a hook sees.

    Attributes:
        arguments: The validated input model.
        values: The call's values (``args`` and every step's answer).
        client: The legacy client (pass ``scope`` to its requests).
        scope: The call's scope.
    """

    arguments: pydantic.BaseModel
    values: Mapping[str, Any]
    client: SystemClient
    scope: CallScope


Hook = Callable[[HookCall], Awaitable[JsonValue]]
"""Python logic for the rare operation a declaration cannot express; runs after the steps."""


@dataclass(frozen=True, eq=False)
class Operation:
    """One agent-facing operation (an MCP tool), declared.

    Attributes:
        name: Tool name.
        description: Agent-facing description, without example values.
        input_model: Pydantic model of the arguments.
        traits: What the tool does (access, resource kind, data classes, permission level).
        steps: Legacy requests, in order; later steps may use earlier answers.
        projection: The result; a string is a :class:`Projection` without caps. None: the last
            step's answer (or null).
        errors: Error mapping for this operation; None uses the facade's.
        hook: Python logic producing the result instead of ``projection``.
    """

    name: str
    description: str
    input_model: type[pydantic.BaseModel]
    traits: Traits
    steps: tuple[Step, ...] = ()
    projection: Projection | str | None = None
    errors: ErrorMapper | None = None
    hook: Hook | None = None

    @property
    def read_only(self) -> bool:
        """MCP ``readOnlyHint``: True unless the operation writes."""
        return self.traits.access != "write"

    def input_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments, as shown to agents.

        Pydantic's generated titles (``"Ticket Id"``) and the model's docstring repeat what names and
        field descriptions already say; they are dropped because every schema token is paid on every
        model call (-20% tool tokens for the reference domain's tools with the embedded model's tokenizer).
        """
        schema = _without_titles(self.input_model.model_json_schema())
        schema.pop("description", None)
        return schema


@dataclass(frozen=True, eq=False)
class Resource:
    """A resource kind operations act on, and how to find who owns one.

    Either ``self_owned`` (the id IS the owner's id, e.g. a user) or a ``lookup`` request with an
    ``owner`` JMESPath over its answer (e.g. ``ownerId`` of a ticket).

    Attributes:
        kind: The kind name operations declare in ``Traits.resource``.
        argument: The argument naming the resource (e.g. ``ticket_id``).
        self_owned: The id is the owner id.
        lookup: The request that fetches the resource; its values are ``{"args": {argument: id}}``.
            Operations that start with the same request reuse its answer within a scope.
        owner: JMESPath over the lookup's answer giving the owner id.
        id_pattern: A regex ids must fully match; other ids do not exist (no request is made).
        missing_statuses: Statuses meaning "no such resource".
    """

    kind: str
    argument: str
    self_owned: bool = False
    lookup: Step | None = None
    owner: str | None = None
    id_pattern: str | None = None
    missing_statuses: frozenset[int] = frozenset({404, 410})


_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})


def _without_titles(node: dict[str, Any]) -> dict[str, Any]:
    """A copy of a JSON schema node without ``title`` keywords (property names are kept)."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _schema_value(sub) for name, sub in value.items()}  # pyright: ignore[reportUnknownVariableType]
        else:
            out[key] = _schema_value(value)
    return out


def _schema_value(value: Any) -> Any:
    if isinstance(value, dict):
        return _without_titles(value)  # pyright: ignore[reportUnknownArgumentType]
    if isinstance(value, list):
        return [_schema_value(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value
