"""Fixtures of the MCP server tests (defined in :mod:`_mcp_testkit`, importable by the tests)."""

from _mcp_testkit import (  # noqa: F401 - fixtures are registered by name
    CLIENT_ID,
    CLIENT_SECRET,
    DATA_DIR,
    LEGACY_URL,
    MCP_URL,
    SECRET,
    Audit,
    CountingTransport,
    audit,
    audit_path,
    connect,
    exchanger,
    issuer,
    legacy,
    make_server,
    principal,
    server,
    sessions_path,
    standin,
    user_verifier,
)
