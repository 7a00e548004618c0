"""Tool catalog: every tool an agent might get, with the traits policies reason about.

Traits (access kind, data classes, permission level, which argument names the customer) become Cedar
action groups (see :mod:`bastion_policies._cedar_model`), so policies can say
``action in AgentCore::Action::"WriteTools"`` instead of listing tools.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion_policies._errors import ConfigurationError

__all__ = [
    "Access",
    "ArgType",
    "PermissionLevel",
    "ResourceKind",
    "ToolArg",
    "ToolCatalog",
    "ToolSpec",
    "retail_catalog",
]

Access = Literal["read", "write", "generic"]
ResourceKind = Literal["user", "order", "none"]
ArgType = Literal["string", "integer", "boolean", "number", "string_list"]

_RESOURCE_ARGUMENT: Mapping[str, str] = {"user": "user_id", "order": "order_id"}


class PermissionLevel(IntEnum):
    """How much a tool can reveal or change; higher is more sensitive."""

    PUBLIC = 0
    """No customer data (product catalog, arithmetic, hand-over to a human)."""
    CUSTOMER_READ = 1
    """Reads one customer's data."""
    CUSTOMER_LOOKUP = 2
    """Searches the customer directory (can reveal other customers)."""
    CUSTOMER_WRITE = 3
    """Changes one customer's data."""


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
        name: Tool name, e.g. ``"get_user_details"``.
        access: ``"read"``, ``"write"`` or ``"generic"`` (neither reads nor writes customer data).
        data_classes: PII classes the tool handles, as Macie-style identifier ids
            (``NAME``, ``ADDRESS``, ``EMAIL_ADDRESS``, ``PAYMENT_METHOD``, ...).
        permission_level: How sensitive the tool is (:class:`PermissionLevel`).
        resource: Which argument scopes the call to one customer: ``"user"`` (``user_id``),
            ``"order"`` (``order_id``) or ``"none"``.
        arguments: The tool's arguments, used to generate the Cedar schema.
        description: One line for humans.
    """

    name: str
    access: Access
    data_classes: frozenset[str] = frozenset()
    permission_level: PermissionLevel = PermissionLevel.PUBLIC
    resource: ResourceKind = "none"
    arguments: tuple[ToolArg, ...] = ()
    description: str = ""

    @property
    def resource_argument(self) -> str | None:
        """The argument naming the customer resource (``user_id``/``order_id``), or None."""
        return _RESOURCE_ARGUMENT.get(self.resource)


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
    permission_level: PermissionLevel = PermissionLevel.PUBLIC
    resource: ResourceKind = "none"
    args: list[_ArgModel] = Field(default_factory=list[_ArgModel])
    description: str = ""

    @field_validator("permission_level", mode="before")
    @classmethod
    def _level_by_name(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return PermissionLevel[value.upper()]
            except KeyError:
                names = ", ".join(level.name.lower() for level in PermissionLevel)
                raise ValueError(f"unknown permission level {value!r}; use one of {names}") from None
        return value


class _CatalogModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tools: list[_ToolModel]


class ToolCatalog:
    """An ordered, name-indexed set of :class:`ToolSpec`.

    Args:
        specs: The tools, in the order they should be listed.

    Raises:
        ConfigurationError: If two tools share a name, or a scoped tool lacks its resource argument.
    """

    def __init__(self, specs: Iterable[ToolSpec]) -> None:
        self._specs: dict[str, ToolSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ConfigurationError(f"Tool {spec.name!r} is listed twice in the catalog.")
            arg = spec.resource_argument
            if arg is not None and arg not in {a.name for a in spec.arguments}:
                raise ConfigurationError(
                    f"Tool {spec.name!r} is scoped by {spec.resource!r} but has no {arg!r} argument."
                )
            self._specs[spec.name] = spec

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ToolCatalog:
        """Build a catalog from ``{"tools": [{"name", "access", "data_classes", ...}]}``.

        Raises:
            ConfigurationError: If the data does not match that shape.
        """
        try:
            model = _CatalogModel.model_validate(data)
        except ValidationError as exc:
            raise ConfigurationError(f"Invalid tool catalog: {exc.errors()[0]['msg']}") from None
        return cls(
            ToolSpec(
                name=t.name,
                access=t.access,
                data_classes=frozenset(t.data_classes),
                permission_level=t.permission_level,
                resource=t.resource,
                arguments=tuple(ToolArg(a.name, a.type, a.required) for a in t.args),
                description=t.description,
            )
            for t in model.tools
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

    def __repr__(self) -> str:
        return f"ToolCatalog({list(self._specs)!r})"


def retail_catalog() -> ToolCatalog:
    """Return the 16 tau2-bench retail tools with their traits (from ``retail_tools.toml``)."""
    text = resources.files("bastion_policies").joinpath("retail_tools.toml").read_text(encoding="utf-8")
    return ToolCatalog.from_mapping(tomllib.loads(text))
