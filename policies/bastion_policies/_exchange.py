"""Token exchange: the end user's token becomes a short-lived MCP token scoped to one conversation.

The front door (chat endpoint, AgentCore entrypoint) verifies the user's token, picks the
conversation id, and asks a :class:`TokenExchanger` for an access token for the MCP server, with
RFC 8693 token-exchange semantics: the user is the subject (``sub``, ``groups``, ``tenant`` and the
other claims as in the original), the agent runtime is the actor (``act`` claim, RFC 8693 §4.1),
and the conversation is a signed session claim (``sid``). The MCP server reads the session only
from a verified token (:class:`ExchangedTokenVerifier`), so a session can be neither forged nor
claimed by anyone but the principal it was derived for.

The session key is derived, never chosen by a caller::

    sid = "conv:" + sha256(json.dumps([issuer, sub, tenant, conversation_id])).hexdigest()

where ``issuer`` is the user token's ``iss`` (empty when the principal has none) and ``tenant`` is
JSON ``null`` when absent. The JSON array makes the encoding unambiguous (no separator a field
could contain), and the digest has a fixed length (69 characters), so two principals with the same
conversation id get different keys and a long conversation id cannot collide with its prefix.

Exchanged tokens are signed with their own key, derived from the deployment's secret by
:func:`derive_exchange_secret` (or any other 32+ byte secret), so a user token can never pass as an
exchanged one and the other way round, whatever the issuers and audiences are configured to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from bastion_policies._errors import (
    ConfigurationError,
    InvalidIssuerError,
    MalformedTokenError,
    MissingClaimError,
)
from bastion_policies._identity import Clock, JwtVerifier
from bastion_policies._principal import Principal

__all__ = [
    "DEFAULT_ACTOR",
    "EXCHANGE_AUDIENCE",
    "EXCHANGE_ISSUER",
    "MAX_SESSION_ID_LENGTH",
    "ExchangedTokenVerifier",
    "TokenExchanger",
    "VerifiedAccess",
    "derive_exchange_secret",
    "derive_session_id",
]

logger = logging.getLogger(__name__)

EXCHANGE_ISSUER = "bastion-token-exchange"
"""Default ``iss`` of exchanged tokens (must differ from the user tokens' issuer)."""

EXCHANGE_AUDIENCE = "bastion-mcp"
"""Default ``aud`` of exchanged tokens: the MCP server."""

DEFAULT_ACTOR = "bastion-agent-runtime"
"""Default ``act.sub``: the agent runtime acting for the user."""

MAX_SESSION_ID_LENGTH = 200
"""Longest ``sid`` an exchanged token may carry; longer ones are refused, never truncated."""

_ALGORITHM = "HS256"
_MIN_SECRET_BYTES = 32
_EXCHANGE_KEY_LABEL = b"bastion/token-exchange/v1"
# Claims the exchanger sets itself; the user's token's values for them are not copied.
_NOT_COPIED = frozenset(
    {"sub", "groups", "tenant", "iss", "aud", "iat", "exp", "nbf", "jti", "act", "sid", "may_act"}
)


def derive_exchange_secret(secret: bytes) -> bytes:
    """Derive the exchanged tokens' signing key from the deployment's JWT secret.

    Args:
        secret: The user tokens' secret (e.g. from ``load_or_create_secret``), at least 32 bytes.

    Returns:
        32 bytes: HMAC-SHA256(secret, ``b"bastion/token-exchange/v1"``), a key of its own (a token
        signed with one key never verifies with the other).

    Raises:
        ConfigurationError: If ``secret`` is shorter than 32 bytes.
    """
    if len(secret) < _MIN_SECRET_BYTES:
        raise ConfigurationError(f"The JWT secret must be at least {_MIN_SECRET_BYTES} bytes long.")
    return hmac.new(secret, _EXCHANGE_KEY_LABEL, hashlib.sha256).digest()


def derive_session_id(principal: Principal, conversation_id: str) -> str:
    """The session key of ``conversation_id`` for ``principal`` (see the module docstring).

    Args:
        principal: The verified end user (its ``iss`` claim, ``user_id`` and ``tenant`` are used).
        conversation_id: The conversation id chosen by the front door (any length, non-empty).

    Returns:
        ``"conv:"`` followed by 64 hex digits.

    Raises:
        ConfigurationError: If ``conversation_id`` is empty.
    """
    if not conversation_id:
        raise ConfigurationError("conversation_id must be a non-empty string.")
    material = json.dumps(
        [principal.claims.get("iss", ""), principal.user_id, principal.tenant, conversation_id],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "conv:" + hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifiedAccess:
    """What a verified MCP access token says.

    Attributes:
        principal: The end user (the token's subject).
        session_id: The signed session key (``sid``) of an exchanged token; None for a plain user token.
        actor: The actor (``act.sub``) of an exchanged token; None for a plain user token.
    """

    principal: Principal
    session_id: str | None = None
    actor: str | None = None


class TokenExchanger:
    """Issues short-lived HS256 MCP access tokens for a verified user and a conversation.

    Args:
        secret: Signing key of exchanged tokens, at least 32 bytes (see :func:`derive_exchange_secret`).
        issuer: ``iss`` of exchanged tokens.
        audience: ``aud`` of exchanged tokens (the MCP server).
        actor: ``act.sub``, the agent runtime's id.
        ttl_seconds: Lifetime; ``exp = iat + ttl_seconds`` (default 300).
        clock: Time source in epoch seconds (default :func:`time.time`).

    Raises:
        ConfigurationError: If the secret is too short, the ttl is not positive or a name is empty.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        issuer: str = EXCHANGE_ISSUER,
        audience: str = EXCHANGE_AUDIENCE,
        actor: str = DEFAULT_ACTOR,
        ttl_seconds: int = 300,
        clock: Clock | None = None,
    ) -> None:
        if len(secret) < _MIN_SECRET_BYTES:
            raise ConfigurationError(f"The exchange secret must be at least {_MIN_SECRET_BYTES} bytes long.")
        if ttl_seconds <= 0:
            raise ConfigurationError("ttl_seconds must be positive.")
        if not issuer or not audience or not actor:
            raise ConfigurationError("issuer, audience and actor must be non-empty.")
        self._secret = secret
        self.issuer = issuer
        self.audience = audience
        self.actor = actor
        self.ttl_seconds = ttl_seconds
        self._clock: Clock = clock or time.time

    def exchange(self, principal: Principal, conversation_id: str) -> str:
        """Return an MCP access token for ``principal`` in conversation ``conversation_id``.

        Args:
            principal: The end user, as verified from their own token.
            conversation_id: The conversation id the front door chose (any length, non-empty).

        Returns:
            A compact HS256 JWT with ``sub``, ``groups``, ``tenant``, the user's other claims (as their
            principal tags), ``act={"sub": actor}``, ``sid`` (:func:`derive_session_id`), ``aud``,
            ``iss``, ``iat``, ``exp`` and a random ``jti``.

        Raises:
            ConfigurationError: If ``conversation_id`` is empty.
        """
        sid = derive_session_id(principal, conversation_id)
        now = int(self._clock())
        payload: dict[str, Any] = {k: v for k, v in principal.claims.items() if k not in _NOT_COPIED}
        payload.update(
            {
                "sub": principal.user_id,
                "groups": list(principal.groups),
                "act": {"sub": self.actor},
                "sid": sid,
                "iss": self.issuer,
                "aud": self.audience,
                "iat": now,
                "exp": now + self.ttl_seconds,
                "jti": secrets.token_urlsafe(16),
            }
        )
        if principal.tenant is not None:
            payload["tenant"] = principal.tenant
        logger.debug("actor=<%s>, ttl=<%d> | issued an exchanged MCP token", self.actor, self.ttl_seconds)
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM)


class ExchangedTokenVerifier:
    """Verifies MCP access tokens: exchanged tokens and, optionally, plain user tokens.

    A token whose (unverified) ``iss`` is the exchange issuer is verified fully as an exchanged
    token (signature with the exchange key, expiry, issuer, audience, groups, ``act``, ``sid``);
    any other token goes to ``user_verifier`` (and is refused when there is none). The unverified
    ``iss`` only picks the verifier; nothing unsigned is ever trusted.

    Args:
        secret: Signing key of exchanged tokens (the :class:`TokenExchanger`'s).
        user_verifier: Verifies plain user tokens (direct MCP clients); None refuses them.
        known_groups: Groups that exist; defaults to ``user_verifier.known_groups``.
        issuer: Expected ``iss`` of exchanged tokens (must differ from the user issuer).
        audience: Expected ``aud`` of exchanged tokens.
        leeway_seconds: Clock skew tolerated on ``exp``/``nbf``/``iat``.
        clock: Time source in epoch seconds (default :func:`time.time`).

    Raises:
        ConfigurationError: If the secret is too short, no groups are known, or the exchange issuer
            equals the user issuer.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        user_verifier: JwtVerifier | None = None,
        known_groups: Iterable[str] | None = None,
        issuer: str = EXCHANGE_ISSUER,
        audience: str = EXCHANGE_AUDIENCE,
        leeway_seconds: int = 0,
        clock: Clock | None = None,
    ) -> None:
        if known_groups is None:
            if user_verifier is None:
                raise ConfigurationError("Pass known_groups or a user_verifier to ExchangedTokenVerifier.")
            known_groups = user_verifier.known_groups
        if user_verifier is not None and user_verifier.issuer == issuer:
            raise ConfigurationError(
                f"The exchange issuer {issuer!r} must differ from the user tokens' issuer; pick another one."
            )
        self.issuer = issuer
        self.audience = audience
        self._users = user_verifier
        self._exchanged = JwtVerifier(
            secret,
            issuer=issuer,
            audience=audience,
            known_groups=known_groups,
            leeway_seconds=leeway_seconds,
            clock=clock,
        )

    def verify(self, token: str) -> VerifiedAccess:
        """Verify one bearer token.

        Args:
            token: The compact JWT (without ``Bearer``).

        Returns:
            The principal, and for an exchanged token its ``sid`` and ``act.sub``.

        Raises:
            MalformedTokenError, UnsignedTokenError, InvalidSignatureError, TokenExpiredError,
            InvalidAudienceError, MissingClaimError, UnknownGroupError: As ``JwtVerifier.verify``.
            InvalidIssuerError: A plain user token when no ``user_verifier`` is configured.
            MissingClaimError: An exchanged token without a valid ``act.sub`` or ``sid`` (not text,
                empty, or over 200 characters).

        None of the messages contain the token.
        """
        if _unverified_issuer(token) != self.issuer:
            if self._users is None:
                raise InvalidIssuerError()
            return VerifiedAccess(principal=self._users.verify(token))
        principal, payload = self._exchanged.verify_payload(token)
        sid = payload.get("sid")
        if not isinstance(sid, str) or not sid or len(sid) > MAX_SESSION_ID_LENGTH:
            raise MissingClaimError("The access token's session claim is invalid; start a new conversation.")
        act: object = payload.get("act")
        actor = act.get("sub") if isinstance(act, Mapping) else None  # pyright: ignore[reportUnknownMemberType]
        if not isinstance(actor, str) or not actor:
            raise MissingClaimError(
                "The access token names no acting agent runtime; start a new conversation."
            )
        return VerifiedAccess(principal=principal, session_id=sid, actor=actor)


def _unverified_issuer(token: str) -> str | None:
    """The ``iss`` of ``token`` read WITHOUT verification: only to pick the verifier."""
    if not isinstance(token, str) or token.count(".") != 2:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise MalformedTokenError()
    try:
        payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise MalformedTokenError() from None
    iss = payload.get("iss")
    return iss if isinstance(iss, str) else None
