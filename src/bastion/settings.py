"""Bastion's settings: the one place that reads environment variables.

Every other module takes explicit arguments; the CLI builds a `Settings` once and passes values down.
Variables are prefixed ``BASTION_`` (e.g. ``BASTION_MODEL=openai:http://127.0.0.1:11434/v1#qwen2.5``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_MODEL", "Settings", "find_data_dir"]

_REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = "local"
"""The embedded llama.cpp model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M); see README, "Models"."""


def find_data_dir() -> Path:
    """Locate the tau2-bench retail data shipped beside the checkout (``../shared/data/tau2-retail``).

    Returns:
        The first existing candidate; the checkout-relative one when none exists (the error is then
        raised where the data is first read, naming the path).
    """
    candidates = [
        Path.cwd().parent / "shared" / "data" / "tau2-retail",
        _REPO_ROOT.parent / "shared" / "data" / "tau2-retail",
        Path.cwd() / "shared" / "data" / "tau2-retail",
    ]
    for candidate in candidates:
        if (candidate / "db.json").is_file():
            return candidate
    return candidates[1]


class Settings(BaseSettings):
    """Runtime configuration, from ``BASTION_*`` environment variables or explicit arguments.

    Attributes:
        state_dir: Where SQLite databases, the dev JWT secret, the audit log and models live.
        data_dir: The tau2-bench retail data folder (db.json, policy.md, ...).
        host: Interface every server binds to. Only loopback is allowed.
        legacy_port: Port of the stand-in legacy retail API.
        mcp_port: Port of the retail MCP server (streamable HTTP at ``/mcp``).
        chat_port: Port of the FastAPI chat endpoint.
        agentcore_port: Port of the AgentCore-compatible runtime (AgentCore's contract says 8080).
        model: Model spec: ``local``, ``bedrock:<model-id>``, ``sagemaker:<endpoint>``,
            ``openai:<base-url>#<model>`` or ``scripted:<file>``.
        openai_api_key: API key for ``openai:`` servers (local servers accept any value).
        aws_region: Region for Bedrock and SageMaker models.
        legacy_client_id: OAuth2 client id the facade uses against the legacy API.
        legacy_client_secret: Its secret (dev default; set a real one in production).
        legacy_token_ttl_seconds: Lifetime of legacy access tokens, in seconds.
        jwt_ttl_seconds: Lifetime of dev JWTs issued by ``bastion token``, in seconds.
        local_threads: CPU threads for the embedded model.
    """

    model_config = SettingsConfigDict(env_prefix="BASTION_", extra="ignore")

    state_dir: Path = Field(default_factory=lambda: _REPO_ROOT / ".bastion" / "state")
    data_dir: Path = Field(default_factory=find_data_dir)
    models_dir: Path = Field(default_factory=lambda: _REPO_ROOT / ".bastion" / "models")
    cache_dir: Path = Field(default_factory=lambda: _REPO_ROOT / ".bastion" / "cache")
    host: str = "127.0.0.1"
    legacy_port: int = Field(default=8101, ge=0, le=65535)
    mcp_port: int = Field(default=8102, ge=0, le=65535)
    chat_port: int = Field(default=8103, ge=0, le=65535)
    agentcore_port: int = Field(default=8080, ge=0, le=65535)
    model: str = DEFAULT_MODEL
    openai_api_key: SecretStr = SecretStr("not-needed-for-local-servers")
    aws_region: str = "us-east-1"
    legacy_client_id: str = "bastion-facade"
    legacy_client_secret: SecretStr = SecretStr("dev-only-legacy-secret")
    legacy_token_ttl_seconds: int = Field(default=300, gt=0)
    jwt_ttl_seconds: int = Field(default=3600, gt=0)
    local_threads: int = Field(default=2, ge=1, le=64)

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("Bastion's servers bind to loopback only; use 127.0.0.1")
        return value

    @property
    def policy_path(self) -> Path:
        """The retail policy text (policy.md) the system prompt is derived from."""
        return self.data_dir / "policy.md"

    @property
    def db_seed_path(self) -> Path:
        """The retail database seed (db.json)."""
        return self.data_dir / "db.json"
