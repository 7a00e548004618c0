"""Development identity: an HS256 JWT issuer and verifier, and the secret they share.

Production deployments verify tokens from their identity provider (Cognito, Entra ID, ...); the
claims contract is the same: ``sub`` is the user id, ``groups`` a list of group names, optional
``tenant``, and every other claim becomes a principal tag (as AgentCore Gateway does).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jwt

from bastion_policies._errors import (
    ConfigurationError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    MalformedTokenError,
    MissingClaimError,
    TokenExpiredError,
    UnknownGroupError,
    UnsignedTokenError,
)
from bastion_policies._principal import Principal

__all__ = ["JwtIssuer", "JwtVerifier", "load_or_create_secret"]

logger = logging.getLogger(__name__)

_ALGORITHM = "HS256"
_SECRET_FILE = "jwt_secret"  # noqa: S105 - a file name, not a secret
_SECRET_BYTES = 32
_MIN_SECRET_BYTES = 32
_RESERVED = frozenset({"sub", "groups", "tenant"})

Clock = Callable[[], float]
"""Returns the current time in seconds since the epoch (UTC)."""


def _check_secret(secret: bytes) -> bytes:
    if len(secret) < _MIN_SECRET_BYTES:
        raise ConfigurationError(f"The JWT secret must be at least {_MIN_SECRET_BYTES} bytes long.")
    return secret


def load_or_create_secret(state_dir: Path) -> bytes:
    """Return the dev JWT secret stored in ``state_dir``, creating it on first run.

    The file ``<state_dir>/jwt_secret`` holds 32 random bytes and is created with mode 0600
    (exclusively, so two processes starting together end up with the same secret).

    Args:
        state_dir: Bastion's local state directory (created if missing).

    Returns:
        The secret bytes.

    Raises:
        ConfigurationError: If the directory or file cannot be created or read, or the stored secret
            is too short.
    """
    path = Path(state_dir) / _SECRET_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _check_secret(path.read_bytes())
        secret = secrets.token_bytes(_SECRET_BYTES)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secret)
        logger.info("path=<%s> | created a new JWT secret", path)
        return secret
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot create or read the JWT secret in {state_dir}: {exc.strerror}."
        ) from None


class JwtIssuer:
    """Issues HS256 JWTs for development and demos.

    Args:
        secret: Shared secret, at least 32 bytes (see :func:`load_or_create_secret`).
        issuer: ``iss`` claim.
        audience: ``aud`` claim.
        ttl_seconds: Lifetime; ``exp = iat + ttl_seconds``.
        clock: Time source in epoch seconds (default :func:`time.time`); inject one in tests.

    Raises:
        ConfigurationError: If the secret is too short or the ttl is not positive.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        issuer: str = "bastion-dev",
        audience: str = "bastion",
        ttl_seconds: int = 3600,
        clock: Clock | None = None,
    ) -> None:
        if ttl_seconds <= 0:
            raise ConfigurationError("ttl_seconds must be positive.")
        self._secret = _check_secret(secret)
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._clock: Clock = clock or time.time

    def issue(self, user_id: str, groups: Iterable[str], tenant: str | None = None, **claims: Any) -> str:
        """Return a signed token for ``user_id`` in ``groups``.

        Args:
            user_id: ``sub`` claim.
            groups: ``groups`` claim (a JSON array of names).
            tenant: ``tenant`` claim, omitted when None.
            **claims: Extra claims (JSON-serializable); they become principal tags.

        Raises:
            ConfigurationError: If ``user_id`` is empty or an extra claim overrides a reserved one.
        """
        if not user_id:
            raise ConfigurationError("user_id must not be empty.")
        reserved = _RESERVED | {"iss", "aud", "iat", "exp", "nbf"}
        clash = sorted(reserved & claims.keys())
        if clash:
            raise ConfigurationError(f"Claims {clash} are set by the issuer; pass them as arguments.")
        now = int(self._clock())
        payload: dict[str, Any] = {
            **claims,
            "sub": user_id,
            "groups": list(groups),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + self.ttl_seconds,
        }
        if tenant is not None:
            payload["tenant"] = tenant
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM)


class JwtVerifier:
    """Verifies HS256 JWTs and turns them into :class:`Principal` values.

    Args:
        secret: Shared secret, at least 32 bytes.
        issuer: Expected ``iss``.
        audience: Expected ``aud``.
        known_groups: Groups that exist (the domain's groups); a token naming any other group is
            refused.
        leeway_seconds: Clock skew tolerated on ``exp``/``nbf``/``iat``.
        clock: Time source in epoch seconds (default :func:`time.time`).

    Raises:
        ConfigurationError: If the secret is too short.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        issuer: str = "bastion-dev",
        audience: str = "bastion",
        known_groups: Iterable[str],
        leeway_seconds: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self._secret = _check_secret(secret)
        self.issuer = issuer
        self.audience = audience
        self.known_groups = frozenset(known_groups)
        self.leeway_seconds = leeway_seconds
        self._clock: Clock = clock or time.time

    def verify(self, token: str) -> Principal:
        """Verify ``token`` and return its principal.

        Args:
            token: The compact JWT (without ``Bearer``).

        Returns:
            The principal: ``sub`` → user_id, ``groups`` → groups, ``tenant``, and every other claim
            as a string (numbers as text, arrays and objects as JSON text).

        Raises:
            MalformedTokenError: Not a JWT.
            UnsignedTokenError: ``alg: none`` or another algorithm than HS256.
            InvalidSignatureError: Forged, or signed with another key.
            TokenExpiredError: ``exp`` passed, or ``nbf``/``iat`` in the future.
            InvalidAudienceError / InvalidIssuerError: Not issued for / by us.
            MissingClaimError: ``sub``, ``groups`` or ``exp`` missing or mistyped.
            UnknownGroupError: A group not in ``known_groups``.

        None of the messages contain the token.
        """
        return self.verify_payload(token)[0]

    def verify_payload(self, token: str) -> tuple[Principal, Mapping[str, Any]]:
        """Verify ``token`` like :meth:`verify` and also return its verified claims, as signed.

        For callers that need a claim's JSON type (e.g. the token exchange's ``sid`` and ``act``),
        which the principal's string tags lose.

        Args:
            token: The compact JWT (without ``Bearer``).

        Returns:
            ``(principal, payload)``: the principal :meth:`verify` returns, and the signed payload.

        Raises:
            AuthenticationError: The subclasses :meth:`verify` raises, for the same reasons.
        """
        payload = self._decode(token)
        now = self._clock()
        exp = payload.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise MissingClaimError("The access token has no valid expiry; sign in again.")
        if exp <= now - self.leeway_seconds:
            raise TokenExpiredError()
        for claim in ("nbf", "iat"):
            value = payload.get(claim)
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and value > now + self.leeway_seconds
            ):
                raise TokenExpiredError(
                    "The access token is not valid yet; check the clock and sign in again."
                )
        sub = payload.get("sub")
        if not isinstance(sub, str) or not sub:
            raise MissingClaimError("The access token has no user id (sub); sign in again.")
        groups = self._groups(payload.get("groups"))
        tenant = payload.get("tenant")
        if tenant is not None and not isinstance(tenant, str):
            raise MissingClaimError("The access token's tenant claim must be text.")
        claims = {
            k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items() if k not in _RESERVED
        }
        return Principal(user_id=sub, groups=groups, tenant=tenant, claims=claims), payload

    def _decode(self, token: str) -> Mapping[str, Any]:
        if not isinstance(token, str) or token.count(".") != 2:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise MalformedTokenError()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise MalformedTokenError() from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none" or alg != _ALGORITHM:
            raise UnsignedTokenError()
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["aud", "iss"],
                },
            )
        except jwt.InvalidSignatureError:
            raise InvalidSignatureError() from None
        except jwt.InvalidAudienceError:
            raise InvalidAudienceError() from None
        except jwt.InvalidIssuerError:
            raise InvalidIssuerError() from None
        except jwt.MissingRequiredClaimError:
            raise MissingClaimError() from None
        except jwt.InvalidAlgorithmError:
            raise UnsignedTokenError() from None
        except jwt.InvalidTokenError:
            raise MalformedTokenError() from None
        return payload

    def _groups(self, raw: object) -> tuple[str, ...]:
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw or not all(isinstance(g, str) and g for g in raw):  # pyright: ignore[reportUnknownVariableType]
            raise MissingClaimError("The access token has no user groups; sign in again.")
        groups = tuple(dict.fromkeys(raw))  # pyright: ignore[reportUnknownArgumentType]
        unknown = [g for g in groups if g not in self.known_groups]
        if unknown:
            raise UnknownGroupError(
                f"The access token names an unknown user group ({unknown[0][:40]}); ask an administrator."
            )
        return groups
