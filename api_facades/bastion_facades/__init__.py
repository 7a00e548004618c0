"""Agent-first facades over legacy systems, declared rather than hand-coded.

An :class:`Operation` declares its legacy request :class:`Step` s (chained look-ups), its
:class:`Projection` (JMESPath, lists capped with totals) and its error mapping; a :class:`Facade`
checks the declarations when built and runs them through a :class:`SystemClient` assembled from
pluggable parts: an auth flow (:class:`OAuth2ClientCredentials`, :class:`SessionCookieLogin`,
:class:`ApiKeyHeader`), a codec (:class:`JsonCodec`, :class:`XmlCodec`), an error envelope, a paging
scheme and a retry policy for reads. :class:`Resource` s say who owns what, for policy checks; a
:class:`CallScope` lets the owner look-up and the call share GET answers.
"""

from bastion_facades._auth import ApiKeyHeader, OAuth2ClientCredentials, SessionCookieLogin, json_error_code
from bastion_facades._client import SystemClient
from bastion_facades._codecs import Codec, CodecError, JsonCodec, XmlCodec
from bastion_facades._declare import Cap, Hook, HookCall, Operation, Projection, Resource, Step, Traits
from bastion_facades._error_mapping import ErrorMapper
from bastion_facades._errors import (
    ArgumentError,
    ConfigurationError,
    FacadeError,
    LegacyAPIError,
    LegacyAuthError,
    ToolCallError,
    UpstreamError,
)
from bastion_facades._facade import Facade
from bastion_facades._jmes import Expression
from bastion_facades._paths import encode_segment, render_path
from bastion_facades._scope import CallScope
from bastion_facades._types import JsonObject, JsonValue
from bastion_facades._wire import (
    ErrorEnvelope,
    FieldErrorEnvelope,
    OffsetPaging,
    OutageMessages,
    Page,
    PageNumberPaging,
    Paging,
    ReportedError,
    RetryPolicy,
)

__all__ = [
    "ApiKeyHeader",
    "ArgumentError",
    "CallScope",
    "Cap",
    "Codec",
    "CodecError",
    "ConfigurationError",
    "ErrorEnvelope",
    "ErrorMapper",
    "Expression",
    "Facade",
    "FacadeError",
    "FieldErrorEnvelope",
    "Hook",
    "HookCall",
    "JsonCodec",
    "JsonObject",
    "JsonValue",
    "LegacyAPIError",
    "LegacyAuthError",
    "OAuth2ClientCredentials",
    "OffsetPaging",
    "Operation",
    "OutageMessages",
    "Page",
    "PageNumberPaging",
    "Paging",
    "Projection",
    "ReportedError",
    "Resource",
    "RetryPolicy",
    "SessionCookieLogin",
    "Step",
    "SystemClient",
    "ToolCallError",
    "Traits",
    "UpstreamError",
    "XmlCodec",
    "encode_segment",
    "json_error_code",
    "render_path",
]
