"""The retail reference deployment wired in one process: legacy API, MCP server, chat endpoint.

Each part is a separate ASGI app on its own loopback port, talking to the others over HTTP exactly as
separate deployments would (facade → legacy over OAuth2; agent → MCP server with the user's JWT).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bastion_agents import (
    RETAIL_OWNER_LOOKUPS,
    AgentFactory,
    create_agentcore_app,
    create_chat_app,
    retail_system_prompt,
)
from bastion_facades import LegacyClient, RetailFacade
from bastion_legacy import LegacyConfig, LegacyStore, create_app
from bastion_mcp import create_retail_server
from bastion_policies import AuditLog, JwtIssuer, JwtVerifier, PolicyEngine, Principal, load_or_create_secret
from strands.models import Model

from bastion.servers import BoundSocket, ServerGroup, ServerStartError, bind_loopback
from bastion.settings import Settings

__all__ = ["JWT_AUDIENCE", "JWT_ISSUER", "RetailStack", "StackUrls", "identity_from_settings"]

logger = logging.getLogger(__name__)

JWT_ISSUER = "bastion-dev"
JWT_AUDIENCE = "bastion"


@dataclass(frozen=True)
class StackUrls:
    """Where the running parts listen.

    Attributes:
        legacy: Base URL of the legacy retail API.
        mcp: URL of the retail MCP server's streamable-HTTP endpoint.
        chat: Base URL of the chat endpoint, or None when the stack runs without it.
        agentcore: Base URL of the AgentCore-compatible runtime, or None.
    """

    legacy: str
    mcp: str
    chat: str | None
    agentcore: str | None = None


def identity_from_settings(settings: Settings) -> tuple[JwtIssuer, JwtVerifier]:
    """The dev JWT issuer and verifier, sharing the HS256 secret kept in the state directory.

    Args:
        settings: Supplies the state directory and token lifetime.

    Returns:
        ``(issuer, verifier)``; the secret file is created on first use (mode 0600).
    """
    secret = load_or_create_secret(settings.state_dir)
    issuer = JwtIssuer(secret, issuer=JWT_ISSUER, audience=JWT_AUDIENCE, ttl_seconds=settings.jwt_ttl_seconds)
    verifier = JwtVerifier(secret, issuer=JWT_ISSUER, audience=JWT_AUDIENCE)
    return issuer, verifier


class RetailStack:
    """Legacy API + retail MCP server (+ chat endpoint when a model is given), on loopback.

    Args:
        settings: Ports, state directory, data directory, credentials.
        model: The model for the chat endpoint (a spec string or a Strands model); None runs
            without the chat endpoint (e.g. for ``bastion replay``).
        db_path: The legacy SQLite file; defaults to ``<state_dir>/legacy.sqlite3``.
        ephemeral_ports: Ignore the configured ports and let the OS pick free ones.
        compact_prompt: Use the short system prompt (for small local models, where every prompt
            token costs latency).
        agentcore: Also serve the Bedrock AgentCore Runtime contract (``POST /invocations``,
            ``GET /ping``) on ``settings.agentcore_port``, on the same agent factory.

    Raises:
        ServerStartError: From `start`, when a port is taken or an app fails to start.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        model: str | Model | None,
        db_path: Path | None = None,
        ephemeral_ports: bool = False,
        compact_prompt: bool = False,
        agentcore: bool = False,
    ) -> None:
        self.settings = settings
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.issuer, self.verifier = identity_from_settings(settings)
        self.audit = AuditLog(settings.state_dir / "audit.jsonl")
        self.engine = PolicyEngine.retail(audit=self.audit)
        self.legacy_config = LegacyConfig(
            db_path=db_path or settings.state_dir / "legacy.sqlite3",
            seed_path=settings.db_seed_path,
            client_id=settings.legacy_client_id,
            client_secret=settings.legacy_client_secret.get_secret_value(),
            token_ttl_seconds=settings.legacy_token_ttl_seconds,
        )
        self.store = LegacyStore.open(self.legacy_config.db_path, self.legacy_config.seed_path)
        host = settings.host

        bound: list[BoundSocket] = []

        def bind(configured: int) -> BoundSocket:
            sock = bind_loopback(host, 0 if ephemeral_ports else configured)
            bound.append(sock)
            return sock

        try:
            legacy_sock = bind(settings.legacy_port)
            mcp_sock = bind(settings.mcp_port)
            chat_sock = bind(settings.chat_port) if model else None
            agentcore_sock = bind(settings.agentcore_port) if model and agentcore else None
        except ServerStartError:
            for sock in bound:
                sock.sock.close()
            self.store.close()
            raise
        self.urls = StackUrls(
            legacy=legacy_sock.base_url,
            mcp=mcp_sock.base_url + "/mcp",
            chat=chat_sock.base_url if chat_sock else None,
            agentcore=agentcore_sock.base_url if agentcore_sock else None,
        )
        self.facade = RetailFacade(
            LegacyClient(
                base_url=self.urls.legacy,
                client_id=self.legacy_config.client_id,
                client_secret=self.legacy_config.client_secret,
            )
        )
        self.mcp_server = create_retail_server(
            self.facade, self.engine, self.verifier, resource_url=self.urls.mcp, issuer_url=self.urls.legacy
        )
        self._group = ServerGroup()
        self._group.add("legacy API", create_app(self.legacy_config, store=self.store), legacy_sock)
        self._group.add("MCP server", self.mcp_server.streamable_http_app(host=host), mcp_sock)
        self.factory: AgentFactory | None = None
        if model is not None and chat_sock is not None:
            policy_text = settings.policy_path.read_text(encoding="utf-8")

            def system_prompt(principal: Principal) -> str:
                return retail_system_prompt(policy_text, principal, compact=compact_prompt)

            self.factory = AgentFactory(
                mcp_url=self.urls.mcp,
                model=model,
                system_prompt=system_prompt,
                engine=self.engine,
                owner_lookups=RETAIL_OWNER_LOOKUPS,
            )
            self._group.add("chat endpoint", create_chat_app(self.factory, self.verifier), chat_sock)
            if agentcore_sock is not None:
                self._group.add(
                    "AgentCore runtime", create_agentcore_app(self.factory, self.verifier), agentcore_sock
                )

    def start(self) -> RetailStack:
        """Start all servers; returns self once every one is listening."""
        self._group.start()
        logger.debug("legacy=<%s>, mcp=<%s>, chat=<%s> | stack started", *vars(self.urls).values())
        return self

    def stop(self) -> None:
        """Stop the servers and release the model and database."""
        self._group.stop()
        self.store.close()

    def wait(self) -> None:
        """Block until the servers stop."""
        self._group.wait()

    def __enter__(self) -> RetailStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
