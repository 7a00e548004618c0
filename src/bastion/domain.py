"""Domains: what a product team declares for its own legacy system, in one place.

A :class:`Domain` names everything Bastion needs to put agents in front of one system: its facade
operations (each with its tool traits, declared once), the resource kinds those operations act on and
how their owners are resolved, the user groups, the Cedar policies (portable and Bastion-only) and
their gateway target, the system prompt, and the legacy connection defaults. The core (facade
toolkit, policy engine, MCP server, agents, front doors, CLI) takes a domain and names none.

Domains are loaded by name from the ``bastion.domains`` entry-point group (``bastion serve --domain
<name>``) or by import path (``--domain mypkg.mydomain:domain``). Loading checks the declaration and
refuses a bad one with a message naming the domain, the file and the problem.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Protocol, cast

import httpx
from bastion_core import BastionUsageError
from bastion_facades import ConfigurationError as FacadeConfigurationError
from bastion_facades import Facade, Operation
from bastion_policies import (
    DEFAULT_GATEWAY,
    ArgType,
    AuditLog,
    PolicyEngine,
    Principal,
    ResourceKind,
    ToolArg,
    ToolCatalog,
    ToolSpec,
)
from bastion_policies import ConfigurationError as PolicyConfigurationError

__all__ = [
    "ENTRY_POINT_GROUP",
    "Domain",
    "DomainError",
    "LegacyConnection",
    "LegacyStandin",
    "PromptBuilder",
    "StandinConfig",
    "available_domains",
    "catalog_for",
    "load_domain",
    "package_files",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "bastion.domains"
"""Entry-point group under which installed domains register (``name = "pkg:domain"``)."""


class DomainError(BastionUsageError):
    """A domain could not be found or its declaration is inconsistent; the message names the
    domain, the file and the problem."""


@dataclass(frozen=True)
class LegacyConnection:
    """How a facade reaches its legacy system.

    Attributes:
        base_url: Root URL of the legacy API.
        client_id: The facade's service credential id (OAuth2 client id, login user name, ...).
        client_secret: Its secret (never logged).
        transport: An httpx transport (tests pass ``httpx.ASGITransport`` or ``httpx.MockTransport``).
    """

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    transport: httpx.AsyncBaseTransport | None = None


@dataclass(frozen=True)
class StandinConfig:
    """Where a domain's development stand-in of its legacy system keeps its state.

    Attributes:
        db_path: The stand-in's database file.
        data_dir: The domain's seed data folder.
        client_id: The service credential the stand-in accepts.
        client_secret: Its secret.
    """

    db_path: Path
    data_dir: Path
    client_id: str
    client_secret: str = field(repr=False)


class LegacyStandin(Protocol):
    """A development stand-in of a domain's legacy system (for the demo, replay and tests)."""

    @property
    def app(self) -> Any:
        """The ASGI app serving the legacy API."""
        ...

    def reset(self) -> None:
        """Restore the seed data."""
        ...

    def state_hash(self) -> str:
        """A hash of the whole state (to compare with a benchmark's expected final state)."""
        ...

    def close(self) -> None:
        """Release the database."""
        ...


class PromptBuilder(Protocol):
    """Builds the system prompt for one principal."""

    def __call__(self, principal: Principal, *, compact: bool = False) -> str:
        """Return the prompt; ``compact`` for small local models (every prompt token costs)."""
        ...


@dataclass(frozen=True)
class Domain:
    """One legacy system, declared for Bastion.

    Attributes:
        name: Short name (``bastion serve --domain <name>``), lower-case.
        title: One line for humans, e.g. ``"Customer service for the shop"``.
        target: The Cedar gateway target: tool actions are ``AgentCore::Action::"<target>___<tool>"``.
        groups: The user groups the policies give meaning to; a token naming another is refused.
        operations: The facade operations, one per tool, each with its traits.
        resources: The resource kinds the operations act on, with owner resolution (facade
            :class:`~bastion_facades.Resource` declarations).
        connect: Builds the facade over a :class:`LegacyConnection`.
        policy_files: Cedar files (package data); ``*.bastion.cedar`` ones are Bastion-only.
        system_prompt: Builds the agent's system prompt for a principal.
        instructions: The MCP server's instructions to clients.
        full_access_groups: Groups of a principal that may call every tool, used to replay
            benchmark actions (``bastion replay``).
        legacy_client_id: Default service credential id for the stand-in / legacy system.
        legacy_client_secret: Default secret (development only; set a real one in production).
        default_data_dir: The seed data folder when none is configured, or None.
        standin: Builds a development stand-in of the legacy system, or None.
        demo: Runs the domain's end-to-end demo on a started stack, or None.
    """

    name: str
    title: str
    target: str
    groups: frozenset[str]
    operations: Sequence[Operation]
    resources: Sequence[Any]
    connect: Callable[[LegacyConnection], Facade]
    policy_files: Sequence[Traversable]
    system_prompt: PromptBuilder
    instructions: str = ""
    full_access_groups: tuple[str, ...] = ()
    legacy_client_id: str = "bastion-facade"
    legacy_client_secret: str = field(default="dev-only-legacy-secret", repr=False)
    default_data_dir: Callable[[], Path | None] | None = None
    standin: Callable[[StandinConfig], LegacyStandin] | None = None
    demo: Callable[..., int] | None = None

    def catalog(self) -> ToolCatalog:
        """The tool catalog derived from the operations' traits and input schemas.

        Raises:
            DomainError: An operation's traits do not fit (e.g. an undeclared resource kind).
        """
        return catalog_for(self.name, self.operations, self.resources)

    def policy_sources(self) -> list[tuple[str, str]]:
        """``(file name, Cedar text)`` of every policy file.

        Raises:
            DomainError: A file cannot be read.
        """
        sources: list[tuple[str, str]] = []
        for file in self.policy_files:
            try:
                sources.append((file.name, file.read_text(encoding="utf-8")))
            except OSError as exc:
                raise DomainError(
                    f"domain {self.name!r}: cannot read policy file {file.name}: {exc}"
                ) from None
        return sources

    def engine(self, *, audit: AuditLog | None = None, gateway: str = DEFAULT_GATEWAY) -> PolicyEngine:
        """The policy engine for this domain.

        Raises:
            DomainError: A policy file does not parse or names an unknown action or attribute.
        """
        catalog = self.catalog()
        try:
            return PolicyEngine(
                self.policy_sources(), catalog, target=self.target, gateway=gateway, audit=audit
            )
        except PolicyConfigurationError as exc:
            raise DomainError(f"domain {self.name!r}: {exc}") from None

    def facade(self, connection: LegacyConnection) -> Facade:
        """The facade over ``connection``.

        Raises:
            DomainError: The operations or resources are inconsistent.
        """
        try:
            return self.connect(connection)
        except FacadeConfigurationError as exc:
            raise DomainError(f"domain {self.name!r}: {exc}") from None

    def check(self) -> None:
        """Validate the whole declaration (catalog, policies, facade) without connecting anywhere.

        Raises:
            DomainError: The first problem found, naming the domain and the file.
        """
        if not self.groups:
            raise DomainError(f"domain {self.name!r}: declare at least one user group.")
        if not self.policy_files:
            raise DomainError(f"domain {self.name!r}: declare at least one Cedar policy file.")
        self.engine()
        unknown = sorted(set(self.full_access_groups) - self.groups)
        if unknown:
            raise DomainError(f"domain {self.name!r}: full_access_groups names unknown groups {unknown}.")


_JSON_TYPES: dict[str, ArgType] = {
    "string": "string",
    "integer": "integer",
    "boolean": "boolean",
    "number": "number",
}


def _arg_type(domain: str, tool: str, name: str, schema: dict[str, Any]) -> ArgType:
    kind = schema.get("type")
    if kind is None and "anyOf" in schema:  # Optional[X]: the non-null branch
        branches = [b for b in cast(list[dict[str, Any]], schema["anyOf"]) if b.get("type") != "null"]
        if len(branches) == 1:
            return _arg_type(domain, tool, name, branches[0])
    if kind == "array":
        items = cast(dict[str, Any], schema.get("items") or {})
        if items.get("type") == "string":
            return "string_list"
    if isinstance(kind, str) and kind in _JSON_TYPES:
        return _JSON_TYPES[kind]
    if "enum" in schema or "const" in schema:
        return "string"
    raise DomainError(
        f"domain {domain!r}: tool {tool!r} argument {name!r} has a type Cedar cannot check "
        f"({kind or 'unknown'}); use strings, numbers, booleans or lists of strings."
    )


def catalog_for(domain: str, operations: Sequence[Operation], resources: Sequence[Any]) -> ToolCatalog:
    """Build the policy tool catalog from facade operations (traits declared once, on each operation).

    Args:
        domain: The domain name (for messages).
        operations: The operations.
        resources: The facade resource declarations (``kind``, ``argument``, ``self_owned``).

    Returns:
        The catalog, in operation order.

    Raises:
        DomainError: A tool without traits, an argument type Cedar cannot check, a resource kind
            without an owner declaration, or a tool scoped to a kind whose argument it lacks.
    """
    kinds = [ResourceKind(r.kind, r.argument, bool(r.self_owned)) for r in resources]
    specs: list[ToolSpec] = []
    for op in operations:
        traits = getattr(op, "traits", None)
        if traits is None:
            raise DomainError(f"domain {domain!r}: tool {op.name!r} declares no traits (access, resource).")
        schema = op.input_model.model_json_schema()
        required = set(cast(list[str], schema.get("required", [])))
        props = cast(dict[str, dict[str, Any]], schema.get("properties", {}))
        defs = cast(dict[str, dict[str, Any]], schema.get("$defs", {}))
        args: list[ToolArg] = []
        for name, prop in props.items():
            ref = prop.get("$ref")
            if isinstance(ref, str):
                prop = defs.get(ref.rsplit("/", 1)[-1], prop)
            args.append(ToolArg(name, _arg_type(domain, op.name, name, prop), name in required))
        specs.append(
            ToolSpec(
                name=op.name,
                access=traits.access,
                data_classes=frozenset(traits.data_classes),
                permission_level=traits.permission_level.upper(),
                resource=traits.resource,
                arguments=tuple(args),
                description=op.description.split(". ")[0],
            )
        )
    try:
        return ToolCatalog(specs, kinds)
    except PolicyConfigurationError as exc:
        raise DomainError(f"domain {domain!r}: {exc}") from None


def available_domains() -> dict[str, str]:
    """Installed domains: name → ``module:attribute``, from the ``bastion.domains`` entry points."""
    return {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def load_domain(spec: str) -> Domain:
    """Load a domain by installed name (``shop``) or import path (``mypkg.mydomain:domain``).

    Args:
        spec: A name registered under :data:`ENTRY_POINT_GROUP`, or ``module:attribute``.

    Returns:
        The checked domain.

    Raises:
        DomainError: Unknown name, import failure, not a :class:`Domain`, or an invalid declaration.
    """
    target = spec
    if ":" not in spec:
        known = available_domains()
        if spec not in known:
            names = ", ".join(sorted(known)) or "none installed"
            raise DomainError(
                f"unknown domain {spec!r} (installed: {names}); give an installed name or module:attribute."
            )
        target = known[spec]
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DomainError(f"domain {spec!r}: cannot import {module_name!r} ({exc.msg}).") from None
    value = getattr(module, attribute, None)
    if callable(value) and not isinstance(value, Domain):
        value = value()
    if not isinstance(value, Domain):
        raise DomainError(f"domain {spec!r}: {target} is not a bastion.domain.Domain.")
    value.check()
    logger.debug("domain=<%s>, tools=<%d> | domain loaded", value.name, len(value.operations))
    return value


def package_files(package: str, *names: str) -> tuple[Traversable, ...]:
    """Package data files, for :attr:`Domain.policy_files`: ``package_files("pkg", "policies/a.cedar")``."""
    root = resources.files(package)
    out: list[Traversable] = []
    for name in names:
        node = root
        for part in name.split("/"):
            node = node.joinpath(part)
        out.append(node)
    return tuple(out)
