"""A stand-in *legacy* retail REST API over the tau2-bench retail database.

Not part of Bastion: it plays the customer's old system that Bastion's facades wrap. OAuth2
client-credentials tokens, verbose resource JSON, pagination, a legacy error envelope, and writes
that reproduce the benchmark's retail tools exactly, persisted in SQLite. See ``legacy/API.md``.
"""

from bastion_legacy._app import create_app
from bastion_legacy._config import MAX_PAGE_SIZE, LegacyConfig
from bastion_legacy._errors import LegacyApiError, LegacyConfigurationError, LegacyError
from bastion_legacy._hash import db_sha256
from bastion_legacy._model import DatabaseDoc
from bastion_legacy._store import LegacyStore, Page, Record

INITIAL_DB_SHA256 = "b25c9cb211f5efcaee5dd646054a73c4a9f43f4f5acc32c10713cd9f9ac20e9c"
"""The benchmark's hash of the unmodified ``db.json``."""

__all__ = [
    "INITIAL_DB_SHA256",
    "MAX_PAGE_SIZE",
    "DatabaseDoc",
    "LegacyApiError",
    "LegacyConfig",
    "LegacyConfigurationError",
    "LegacyError",
    "LegacyStore",
    "Page",
    "Record",
    "create_app",
    "db_sha256",
]
