"""Bastion's settings: the one place that reads environment variables.

Every other module takes explicit arguments; the CLI builds a `Settings` once and passes values down.
Variables are prefixed ``BASTION_`` (e.g. ``BASTION_MODEL=openai:http://127.0.0.1:11434/v1#qwen2.5``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_MODEL", "Settings"]

DEFAULT_MODEL = "local"
"""The embedded llama.cpp model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M); see README, "Models"."""


def _home() -> Path:
    return Path.cwd() / ".bastion"


class Settings(BaseSettings):
    """Runtime configuration, from ``BASTION_*`` environment variables or explicit arguments.

    Attributes:
        domain: The domain to serve: an installed name or ``module:attribute``; unset serves the
            only installed domain.
        state_dir: Where SQLite databases, the dev JWT secret, the audit log and sessions live
            (created with mode 0700); default ``./.bastion/state``.
        data_dir: The domain's seed data folder for its stand-in (default: the domain's own).
        host: Interface every server binds to. Only loopback is allowed.
        legacy_url: The real legacy system's base URL; unset runs the domain's stand-in.
        legacy_port: Port of the stand-in legacy system.
        mcp_port: Port of the MCP server (streamable HTTP at ``/mcp``).
        chat_port: Port of the FastAPI chat endpoint.
        agentcore_port: Port of the AgentCore-compatible runtime (AgentCore's contract says 8080).
        model: Model spec: ``local``, ``bedrock:<model-id>``, ``sagemaker:<endpoint>``,
            ``openai:<base-url>#<model>`` or ``scripted:<file>``.
        openai_api_key: API key for ``openai:`` servers (local servers accept any value).
        aws_region: Region for Bedrock and SageMaker models.
        legacy_client_id: The facade's service credential id (default: the domain's dev one).
        legacy_client_secret: Its secret (default: the domain's dev one; set a real one in production).
        redis_url: Redis URL of the shared session store (several MCP server replicas); unset
            keeps sessions in SQLite in the state directory.
        session_idle_seconds: Sessions unused this long expire (never earlier while in use).
        legacy_token_ttl_seconds: Lifetime of legacy access tokens, in seconds.
        jwt_ttl_seconds: Lifetime of dev JWTs issued by ``bastion token``, in seconds.
        local_threads: CPU threads for the embedded model.
    """

    model_config = SettingsConfigDict(env_prefix="BASTION_", extra="ignore")

    domain: str | None = None
    state_dir: Path = Field(default_factory=lambda: _home() / "state")
    data_dir: Path | None = None
    models_dir: Path = Field(default_factory=lambda: _home() / "models")
    cache_dir: Path = Field(default_factory=lambda: _home() / "cache")
    host: str = "127.0.0.1"
    legacy_url: str | None = None
    legacy_port: int = Field(default=8101, ge=0, le=65535)
    mcp_port: int = Field(default=8102, ge=0, le=65535)
    chat_port: int = Field(default=8103, ge=0, le=65535)
    agentcore_port: int = Field(default=8080, ge=0, le=65535)
    model: str = DEFAULT_MODEL
    openai_api_key: SecretStr = SecretStr("not-needed-for-local-servers")
    aws_region: str = "us-east-1"
    legacy_client_id: str | None = None
    legacy_client_secret: SecretStr | None = None
    redis_url: str | None = None
    session_idle_seconds: int = Field(default=1800, gt=0)
    legacy_token_ttl_seconds: int = Field(default=300, gt=0)
    jwt_ttl_seconds: int = Field(default=3600, gt=0)
    local_threads: int = Field(default=2, ge=1, le=64)

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("Bastion's servers bind to loopback only; use 127.0.0.1")
        return value
