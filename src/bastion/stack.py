"""One domain's deployment wired in one process: legacy stand-in, MCP server, chat and AgentCore.

Each part is a separate ASGI app on its own loopback port, talking to the others over HTTP exactly as
separate deployments would (facade → legacy system with its own auth hop; agent → MCP server with a
short-lived exchanged token). Nothing here names a domain: everything domain-specific comes from the
:class:`~bastion.domain.Domain`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bastion_agents import AgentFactory, create_agentcore_app, create_chat_app
from bastion_mcp import (
    JwtTokenVerifier,
    PolicyBoundServer,
    RedisSessionStore,
    SessionStore,
    SqliteSessionStore,
)
from bastion_policies import (
    AuditLog,
    ExchangedTokenVerifier,
    JwtIssuer,
    JwtVerifier,
    Principal,
    TokenExchanger,
    derive_exchange_secret,
    load_or_create_secret,
)
from strands.models import Model

from bastion.domain import Domain, DomainError, LegacyConnection, LegacyStandin, StandinConfig
from bastion.servers import BoundSocket, ServerGroup, ServerStartError, bind_loopback
from bastion.settings import Settings

__all__ = ["JWT_AUDIENCE", "JWT_ISSUER", "Stack", "StackUrls", "identity_from_settings", "secure_dir"]

logger = logging.getLogger(__name__)

JWT_ISSUER = "bastion-dev"
JWT_AUDIENCE = "bastion"


def secure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it private to this user (mode 0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@dataclass(frozen=True)
class StackUrls:
    """Where the running parts listen.

    Attributes:
        legacy: Base URL of the legacy system (the stand-in when one runs).
        mcp: URL of the MCP server's streamable-HTTP endpoint.
        chat: Base URL of the chat endpoint, or None when the stack runs without it.
        agentcore: Base URL of the AgentCore-compatible runtime, or None.
    """

    legacy: str
    mcp: str
    chat: str | None
    agentcore: str | None = None


def identity_from_settings(
    settings: Settings, groups: frozenset[str], secret: bytes | None = None
) -> tuple[JwtIssuer, JwtVerifier]:
    """The dev JWT issuer and verifier, sharing the HS256 secret kept in the state directory.

    Args:
        settings: Supplies the state directory and token lifetime.
        groups: The domain's groups (a token naming another is refused).
        secret: The secret, when the caller already loaded it; read from the state directory
            otherwise.

    Returns:
        ``(issuer, verifier)``; the secret file is created on first use (mode 0600).
    """
    if secret is None:
        secret = load_or_create_secret(secure_dir(settings.state_dir))
    issuer = JwtIssuer(secret, issuer=JWT_ISSUER, audience=JWT_AUDIENCE, ttl_seconds=settings.jwt_ttl_seconds)
    verifier = JwtVerifier(secret, issuer=JWT_ISSUER, audience=JWT_AUDIENCE, known_groups=groups)
    return issuer, verifier


def open_session_store(settings: Settings) -> SessionStore:
    """The server-side session store: Redis when ``BASTION_REDIS_URL`` is set, else SQLite (state dir)."""
    if settings.redis_url:
        return RedisSessionStore.from_url(settings.redis_url, idle_seconds=settings.session_idle_seconds)
    return SqliteSessionStore(
        secure_dir(settings.state_dir) / "sessions.sqlite3", idle_seconds=settings.session_idle_seconds
    )


class Stack:
    """A domain's legacy system (stand-in) + MCP server (+ chat endpoint when a model is given), on loopback.

    Args:
        settings: Ports, state directory, data directory, credentials.
        domain: The domain to serve.
        model: The model for the chat endpoint (a spec string or a Strands model); None runs
            without the chat endpoint (e.g. for ``bastion replay``).
        db_path: The stand-in's database file; defaults to ``<state_dir>/legacy.sqlite3``.
        ephemeral_ports: Ignore the configured ports and let the OS pick free ones.
        compact_prompt: Use the domain's short system prompt (for small local models).
        agentcore: Also serve the Bedrock AgentCore Runtime contract on ``settings.agentcore_port``.

    Raises:
        DomainError: The domain has no stand-in and no ``BASTION_LEGACY_URL`` is configured.
        ServerStartError: A port is taken or an app fails to start.
    """

    def __init__(
        self,
        settings: Settings,
        domain: Domain,
        *,
        model: str | Model | None,
        db_path: Path | None = None,
        ephemeral_ports: bool = False,
        compact_prompt: bool = False,
        agentcore: bool = False,
    ) -> None:
        self.settings = settings
        self.domain = domain
        state = secure_dir(settings.state_dir)
        secret = load_or_create_secret(state)
        self.issuer, user_verifier = identity_from_settings(settings, domain.groups, secret)
        exchange_secret = derive_exchange_secret(secret)
        self.exchanger = TokenExchanger(exchange_secret)
        self.verifier = ExchangedTokenVerifier(exchange_secret, user_verifier=user_verifier)
        self.user_verifier = user_verifier
        self.audit = AuditLog(state / "audit.jsonl", digest_key=derive_exchange_secret(secret + b"audit"))
        self.engine = domain.engine(audit=self.audit)
        client_id = settings.legacy_client_id or domain.legacy_client_id
        client_secret = (
            settings.legacy_client_secret.get_secret_value()
            if settings.legacy_client_secret is not None
            else domain.legacy_client_secret
        )
        self.standin: LegacyStandin | None = None
        if settings.legacy_url is None:
            if domain.standin is None:
                raise DomainError(
                    f"domain {domain.name!r} has no stand-in legacy system; set BASTION_LEGACY_URL."
                )
            data_dir = settings.data_dir or (domain.default_data_dir() if domain.default_data_dir else None)
            if data_dir is None:
                raise DomainError(f"domain {domain.name!r}: set BASTION_DATA_DIR to its seed data folder.")
            self.standin = domain.standin(
                StandinConfig(db_path or state / "legacy.sqlite3", data_dir, client_id, client_secret)
            )
        self.sessions = open_session_store(settings)
        host = settings.host
        bound: list[BoundSocket] = []

        def bind(configured: int) -> BoundSocket:
            sock = bind_loopback(host, 0 if ephemeral_ports else configured)
            bound.append(sock)
            return sock

        try:
            legacy_sock = bind(settings.legacy_port) if self.standin is not None else None
            mcp_sock = bind(settings.mcp_port)
            chat_sock = bind(settings.chat_port) if model else None
            agentcore_sock = bind(settings.agentcore_port) if model and agentcore else None
        except ServerStartError:
            for sock in bound:
                sock.sock.close()
            if self.standin is not None:
                self.standin.close()
            raise
        legacy_url = legacy_sock.base_url if legacy_sock is not None else str(settings.legacy_url)
        self.urls = StackUrls(
            legacy=legacy_url,
            mcp=mcp_sock.base_url + "/mcp",
            chat=chat_sock.base_url if chat_sock else None,
            agentcore=agentcore_sock.base_url if agentcore_sock else None,
        )
        self.facade = domain.facade(LegacyConnection(legacy_url, client_id, client_secret))
        self.mcp_server = PolicyBoundServer(
            name=f"bastion-{domain.name}",
            facade=self.facade,
            engine=self.engine,
            sessions=self.sessions,
            token_verifier=JwtTokenVerifier(self.verifier),
            resource_url=self.urls.mcp,
            issuer_url=self.urls.mcp.rsplit("/mcp", 1)[0],
            instructions=domain.instructions or None,
        )
        self._group = ServerGroup()
        if self.standin is not None and legacy_sock is not None:
            self._group.add("legacy stand-in", self.standin.app, legacy_sock)
        self._group.add("MCP server", self.mcp_server.streamable_http_app(host=host), mcp_sock)
        self.factory: AgentFactory | None = None
        if model is not None and chat_sock is not None:

            def system_prompt(principal: Principal) -> str:
                return domain.system_prompt(principal, compact=compact_prompt)

            self.factory = AgentFactory(
                mcp_url=self.urls.mcp,
                model=model,
                system_prompt=system_prompt,
                engine=self.engine,
                token_exchange=self.exchanger.exchange,
            )
            self._group.add("chat endpoint", create_chat_app(self.factory, user_verifier), chat_sock)
            if agentcore_sock is not None:
                self._group.add(
                    "AgentCore runtime", create_agentcore_app(self.factory, user_verifier), agentcore_sock
                )

    def mcp_token(self, principal: Principal, conversation_id: str) -> str:
        """An exchanged MCP access token for ``principal`` in conversation ``conversation_id``."""
        return self.exchanger.exchange(principal, conversation_id)

    def start(self) -> Stack:
        """Start all servers; returns self once every one is listening."""
        self._group.start()
        logger.debug("legacy=<%s>, mcp=<%s>, chat=<%s> | stack started", *vars(self.urls).values())
        return self

    def stop(self) -> None:
        """Stop the servers and release the stand-in's database."""
        self._group.stop()
        if self.standin is not None:
            self.standin.close()

    def wait(self) -> None:
        """Block until the servers stop."""
        self._group.wait()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
