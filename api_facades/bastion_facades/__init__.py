"""Agent-first facades over legacy REST APIs.

A small toolkit - an HTTP client that folds the OAuth2 client-credentials hop
(:class:`LegacyClient`), trimming helpers, legacy-error mapping, and :class:`Operation` specs run
by a :class:`Facade` - plus the retail operations built on it (:class:`RetailFacade`), named and
shaped like the tau2-bench retail tools.
"""

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
from bastion_facades._http import LegacyClient
from bastion_facades._operation import Facade, Handler, Operation, bind
from bastion_facades._retail import RETAIL_ERRORS, TRANSFER_ACKNOWLEDGEMENT, RetailFacade
from bastion_facades._trim import Capped, cap_list, capped_fields, fold_pages, pick, project
from bastion_facades._types import JsonObject, JsonValue

__all__ = [
    "RETAIL_ERRORS",
    "TRANSFER_ACKNOWLEDGEMENT",
    "ArgumentError",
    "Capped",
    "ConfigurationError",
    "ErrorMapper",
    "Facade",
    "FacadeError",
    "Handler",
    "JsonObject",
    "JsonValue",
    "LegacyAPIError",
    "LegacyAuthError",
    "LegacyClient",
    "Operation",
    "RetailFacade",
    "ToolCallError",
    "UpstreamError",
    "bind",
    "cap_list",
    "capped_fields",
    "fold_pages",
    "pick",
    "project",
]
