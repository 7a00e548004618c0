"""The person a session acts for."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bastion_policies._errors import ConfigurationError

__all__ = ["Principal"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Principal:
    """An authenticated end user, as AgentCore Gateway sees one (``AgentCore::OAuthUser``).

    Attributes:
        user_id: The JWT ``sub``; becomes the Cedar entity id and its ``id`` attribute.
        groups: The user's groups (JWT ``groups`` claim), e.g. ``("support",)``.
        tenant: The tenant claim, if any.
        claims: Every other JWT claim as a string (numbers as text, arrays/objects as JSON text),
            exactly as AgentCore turns claims into principal tags.

    Raises:
        ConfigurationError: If ``user_id`` is empty or a group is not a non-empty string.
    """

    user_id: str
    groups: tuple[str, ...]
    tenant: str | None = None
    claims: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        if not self.user_id:
            raise ConfigurationError("Principal.user_id must be a non-empty string (the JWT 'sub').")
        groups = tuple(self.groups)
        if any(not g for g in groups):
            raise ConfigurationError("Principal.groups must contain non-empty group names.")
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "claims", MappingProxyType(dict(self.claims)))

    def __hash__(self) -> int:
        return hash((self.user_id, self.groups, self.tenant, tuple(sorted(self.claims.items()))))

    def in_group(self, group: str) -> bool:
        """Return whether the principal belongs to ``group``."""
        return group in self.groups

    def cedar_tags(self) -> dict[str, str]:
        """Return the principal's Cedar tags, as AgentCore derives them from JWT claims.

        Returns:
            The other claims, plus ``groups`` as JSON array text (``'["customer"]'``) and ``tenant``
            when set. Policies test ``principal.hasTag("groups")`` before ``getTag``.
        """
        tags = dict(self.claims)
        tags["groups"] = json.dumps(list(self.groups))
        if self.tenant is not None:
            tags["tenant"] = self.tenant
        return tags
