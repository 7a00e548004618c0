"""Shared MCP servers that expose Bastion facades as tools and enforce policy themselves."""

from bastion_mcp.auth import JwtTokenVerifier, current_principal
from bastion_mcp.errors import ConfigurationError, McpServerError
from bastion_mcp.retail import RetailOwnerResolver, create_retail_server
from bastion_mcp.server import DENIED_PREFIX, SESSION_HEADER, FacadeLike, OwnerResolver, PolicyBoundServer

__all__ = [
    "DENIED_PREFIX",
    "SESSION_HEADER",
    "ConfigurationError",
    "FacadeLike",
    "JwtTokenVerifier",
    "McpServerError",
    "OwnerResolver",
    "PolicyBoundServer",
    "RetailOwnerResolver",
    "create_retail_server",
    "current_principal",
]
