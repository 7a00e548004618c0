"""Bastion policies: principals, tool catalog, Cedar engine (bind + check), audit, dev identity.

The Cedar policies follow Amazon Bedrock AgentCore Policy's model so the portable files can be
enforced by AgentCore Gateway as well; see the reference domains' ``*.cedar`` files.
"""

from bastion_policies._audit import AuditLog, AuditRecord, EnforcementPoint, arguments_digest
from bastion_policies._catalog import (
    DEFAULT_PERMISSION_LEVEL,
    Access,
    ArgType,
    ResourceKind,
    ToolArg,
    ToolCatalog,
    ToolSpec,
)
from bastion_policies._cedar_model import action_id, cedar_schema, export_agentcore_policies, scope_group
from bastion_policies._decision import Allow, Decision, Deny, SessionFacts
from bastion_policies._engine import BASTION_POLICY_SUFFIX, DEFAULT_GATEWAY, Binding, PolicyEngine
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
from bastion_policies._exchange import (
    ExchangedTokenVerifier,
    TokenExchanger,
    VerifiedAccess,
    derive_exchange_secret,
    derive_session_id,
)
from bastion_policies._identity import JwtIssuer, JwtVerifier, load_or_create_secret
from bastion_policies._principal import Principal

__all__ = [
    "BASTION_POLICY_SUFFIX",
    "DEFAULT_GATEWAY",
    "DEFAULT_PERMISSION_LEVEL",
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
    "EnforcementPoint",
    "ExchangedTokenVerifier",
    "InvalidAudienceError",
    "InvalidIssuerError",
    "InvalidSignatureError",
    "JwtIssuer",
    "JwtVerifier",
    "MalformedTokenError",
    "MissingClaimError",
    "PoliciesError",
    "PolicyEngine",
    "Principal",
    "ResourceKind",
    "SessionFacts",
    "TokenExchanger",
    "TokenExpiredError",
    "ToolArg",
    "ToolCatalog",
    "ToolSpec",
    "UnknownGroupError",
    "UnsignedTokenError",
    "VerifiedAccess",
    "action_id",
    "arguments_digest",
    "cedar_schema",
    "derive_exchange_secret",
    "derive_session_id",
    "export_agentcore_policies",
    "load_or_create_secret",
    "scope_group",
]
