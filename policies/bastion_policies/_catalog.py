"""Tool catalog: every tool an agent might get, with the traits policies reason about.

Traits (access kind, data classes, permission level, which resource kind a call is scoped to) become
Cedar action groups (see :mod:`bastion_policies._cedar_model`), so policies can say
``action in AgentCore::Action::"WriteTools"`` instead of listing tools. Resource kinds and permission
levels are declared by the domain (a product team's system), never by the core.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bastion_policies._errors import ConfigurationError

__all__ = [
    "DEFAULT_PERMISSION_LEVEL",
    "Access",
    "ArgType",
    "ResourceKind",
    "ToolArg",
    "ToolCatalog",
    "ToolSpec",
]

Access = Literal["read", "write", "generic"]
ArgType = Literal["string", "integer", "boolean", "number", "string_list"]

DEFAULT_PERMISSION_LEVEL = "PUBLIC"
"""The permission level of a tool that declares none."""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ResourceKind:
    """A kind of record a domain's tools act on, and how its owner is known.

    Attributes:
        name: The kind, e.g. ``"account"``; becomes the action group ``<Name>ScopedTools``.
        argument: The tool argument holding the record's id.
        self_owned: True when the id *is* the owner's principal id (e.g. a profile record keyed by
            the user id), so no look-up is needed; False when the owner must be resolved (by the
            MCP server, through the facade) before a call is decided.
    """

    name: str
    argument: str
    self_owned: bool = False


@dataclass(frozen=True)
class ToolArg:
    """One argument of a tool.

    Attributes:
        name: The argument name (as in the tool's input schema).
        type: JSON-schema-like type; ``string_list`` is an array of strings (a Cedar ``Set<String>``).
        required: Whether the caller must pass it.
    """

    name: str
    type: ArgType = "string"
    required: bool = True


@dataclass(frozen=True)
class ToolSpec:
    """A tool and its policy-relevant traits.

    Attributes:
        name: Tool name.
        access: ``"read"``, ``"write"`` or ``"generic"`` (neither reads nor writes a record).
        data_classes: PII classes the tool handles, as Macie-style identifier ids
            (``NAME``, ``ADDRESS``, ``EMAIL_ADDRESS``, ...).
        permission_level: How sensitive the tool is, one of the domain's declared levels
            (upper-case, e.g. ``"PUBLIC"``); becomes the action group ``PermissionLevel:<level>``.
        resource: The resource kind a call is scoped to (see :class:`ResourceKind`), or None.
        resource_argument: The argument naming that resource, or None.
        arguments: The tool's arguments, used to generate the Cedar schema.
        description: One line for humans.
    """

    name: str
    access: Access
    data_classes: frozenset[str] = frozenset()
    permission_level: str = DEFAULT_PERMISSION_LEVEL
    resource: str | None = None
    resource_argument: str | None = None
    arguments: tuple[ToolArg, ...] = ()
    description: str = ""


class _ArgModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    type: ArgType = "string"
    required: bool = True


class _ToolModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    access: Access
    data_classes: list[str] = Field(default_factory=list[str])
    permission_level: str = DEFAULT_PERMISSION_LEVEL
    resource: str | None = None
    args: list[_ArgModel] = Field(default_factory=list[_ArgModel])
    description: str = ""


class _KindModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    argument: str
    self_owned: bool = False


class _CatalogModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tools: list[_ToolModel]
    resources: list[_KindModel] = Field(default_factory=list[_KindModel])


class ToolCatalog:
    """An ordered, name-indexed set of :class:`ToolSpec`, with the resource kinds they act on.

    Args:
        specs: The tools, in the order they should be listed.
        resource_kinds: The resource kinds the tools may be scoped to.

    Raises:
        ConfigurationError: Two tools share a name; a tool is scoped to an undeclared resource kind
            or lacks the kind's argument; a kind or level name is not a plain identifier.
    """

    def __init__(self, specs: Iterable[ToolSpec], resource_kinds: Iterable[ResourceKind] = ()) -> None:
        self._kinds: dict[str, ResourceKind] = {}
        for kind in resource_kinds:
            if not _NAME.match(kind.name):
                raise ConfigurationError(
                    f"Resource kind {kind.name!r}: use letters, digits and underscores (a letter first)."
                )
            if kind.name in self._kinds:
                raise ConfigurationError(f"Resource kind {kind.name!r} is declared twice.")
            self._kinds[kind.name] = kind
        self._specs: dict[str, ToolSpec] = {}
        for spec in specs:
            self._specs[spec.name] = self._checked(spec)

    def _checked(self, spec: ToolSpec) -> ToolSpec:
        if spec.name in self._specs:
            raise ConfigurationError(f"Tool {spec.name!r} is listed twice in the catalog.")
        if not _NAME.match(spec.permission_level.replace(":", "_")):
            raise ConfigurationError(
                f"Tool {spec.name!r}: permission level {spec.permission_level!r} is not a name."
            )
        if spec.resource is None:
            return spec
        kind = self._kinds.get(spec.resource)
        if kind is None:
            known = ", ".join(self._kinds) or "none declared"
            raise ConfigurationError(
                f"Tool {spec.name!r} is scoped to resource kind {spec.resource!r}, which is not declared "
                f"(known: {known}); declare it with how its owner is resolved."
            )
        argument = spec.resource_argument or kind.argument
        if argument != kind.argument or argument not in {a.name for a in spec.arguments}:
            raise ConfigurationError(
                f"Tool {spec.name!r} is scoped to {spec.resource!r} but has no {kind.argument!r} argument."
            )
        if spec.resource_argument is None:
            spec = replace(spec, resource_argument=argument)
        return spec

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ToolCatalog:
        """Build a catalog from ``{"tools": [{"name", "access", ...}], "resources": [{"name", "argument"}]}``.

        Raises:
            ConfigurationError: If the data does not match that shape.
        """
        try:
            model = _CatalogModel.model_validate(data)
        except ValidationError as exc:
            raise ConfigurationError(f"Invalid tool catalog: {exc.errors()[0]['msg']}") from None
        kinds = [ResourceKind(k.name, k.argument, k.self_owned) for k in model.resources]
        return cls(
            (
                ToolSpec(
                    name=t.name,
                    access=t.access,
                    data_classes=frozenset(t.data_classes),
                    permission_level=t.permission_level.upper(),
                    resource=None if t.resource in (None, "none") else t.resource,
                    arguments=tuple(ToolArg(a.name, a.type, a.required) for a in t.args),
                    description=t.description,
                )
                for t in model.tools
            ),
            kinds,
        )

    @classmethod
    def from_file(cls, path: Path) -> ToolCatalog:
        """Load a catalog from a ``.toml`` or ``.json`` file (shape: see :meth:`from_mapping`).

        Raises:
            ConfigurationError: If the file is missing, unreadable or invalid.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"Cannot read tool catalog {path}: {exc.strerror}.") from None
        try:
            data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"Tool catalog {path} is not valid {path.suffix[1:]}: {exc}") from None
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"Tool catalog {path} must be a table with a 'tools' list.")
        return cls.from_mapping(data)  # pyright: ignore[reportUnknownArgumentType]

    def get(self, name: str) -> ToolSpec | None:
        """Return the tool called ``name``, or None."""
        return self._specs.get(name)

    def __getitem__(self, name: str) -> ToolSpec:
        return self._specs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    @property
    def names(self) -> tuple[str, ...]:
        """Tool names, in catalog order."""
        return tuple(self._specs)

    @property
    def resource_kinds(self) -> Mapping[str, ResourceKind]:
        """The declared resource kinds by name."""
        return dict(self._kinds)

    @property
    def permission_levels(self) -> tuple[str, ...]:
        """The permission levels the tools use, sorted."""
        return tuple(sorted({spec.permission_level for spec in self._specs.values()}))

    def __repr__(self) -> str:
        return f"ToolCatalog({list(self._specs)!r})"
