"""Bastion policies: principals, tool catalog, Cedar engine (bind + check), audit, dev identity.

The Cedar policies follow Amazon Bedrock AgentCore Policy's model so the portable files can be
enforced by AgentCore Gateway as well; see ``policies/retail.cedar``.
"""

from bastion_policies._audit import AuditLog, AuditRecord
from bastion_policies._catalog import (
    Access,
    ArgType,
    PermissionLevel,
    ResourceKind,
    ToolArg,
    ToolCatalog,
    ToolSpec,
    retail_catalog,
)
from bastion_policies._cedar_model import action_id, cedar_schema, export_agentcore_policies
from bastion_policies._decision import Allow, Decision, Deny, SessionFacts
from bastion_policies._engine import DEFAULT_GATEWAY, POLICY_DIR, Binding, PolicyEngine
from bastion_policies._errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    MalformedTokenError,
    MissingClaimError,
    PoliciesError,
    TokenExpiredError,
    UnknownGroupError,
    UnsignedTokenError,
)
from bastion_policies._identity import JwtIssuer, JwtVerifier, load_or_create_secret
from bastion_policies._principal import KNOWN_GROUPS, Principal

__all__ = [
    "DEFAULT_GATEWAY",
    "KNOWN_GROUPS",
    "POLICY_DIR",
    "Access",
    "Allow",
    "ArgType",
    "AuditLog",
    "AuditRecord",
    "AuthenticationError",
    "Binding",
    "ConfigurationError",
    "Decision",
    "Deny",
    "InvalidAudienceError",
    "InvalidIssuerError",
    "InvalidSignatureError",
    "JwtIssuer",
    "JwtVerifier",
    "MalformedTokenError",
    "MissingClaimError",
    "PermissionLevel",
    "PoliciesError",
    "PolicyEngine",
    "Principal",
    "ResourceKind",
    "SessionFacts",
    "TokenExpiredError",
    "ToolArg",
    "ToolCatalog",
    "ToolSpec",
    "UnknownGroupError",
    "UnsignedTokenError",
    "action_id",
    "cedar_schema",
    "export_agentcore_policies",
    "load_or_create_secret",
    "retail_catalog",
]
