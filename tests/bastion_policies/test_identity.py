from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

import jwt
import pytest
from bastion_policies import (
    AuthenticationError,
    ConfigurationError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    JwtIssuer,
    JwtVerifier,
    MalformedTokenError,
    MissingClaimError,
    TokenExpiredError,
    UnknownGroupError,
    UnsignedTokenError,
    load_or_create_secret,
)

SECRET = b"s" * 32
NOW = 1_800_000_000.0
GROUPS = ("customer", "support_agent", "support_readonly", "supervisor")


def _clock(t: float = NOW) -> Callable[[], float]:
    return lambda: t


def _issuer(*, issuer: str = "bastion-dev", audience: str = "bastion", ttl_seconds: int = 3600) -> JwtIssuer:
    return JwtIssuer(SECRET, issuer=issuer, audience=audience, ttl_seconds=ttl_seconds, clock=_clock())


def _verifier(t: float = NOW, leeway_seconds: int = 0) -> JwtVerifier:
    return JwtVerifier(
        SECRET,
        issuer="bastion-dev",
        audience="bastion",
        known_groups=GROUPS,
        clock=_clock(t),
        leeway_seconds=leeway_seconds,
    )


def _b64(data: Mapping[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_token_gives_principal_with_string_claims() -> None:
    token = _issuer().issue("sara_doe_496", ["customer"], tenant="acme", email="s@x.com", level=3)
    principal = _verifier().verify(token)
    assert principal.user_id == "sara_doe_496"
    assert principal.groups == ("customer",)
    assert principal.tenant == "acme"
    assert principal.claims["email"] == "s@x.com"
    assert principal.claims["level"] == "3"
    assert principal.claims["iss"] == "bastion-dev"
    assert all(isinstance(v, str) for v in principal.claims.values())


def test_expired_token_with_injected_clock() -> None:
    token = _issuer(ttl_seconds=60).issue("u", ["customer"])
    assert _verifier(NOW + 59).verify(token).user_id == "u"
    with pytest.raises(TokenExpiredError) as info:
        _verifier(NOW + 60).verify(token)
    assert info.value.http_status == 401
    assert _verifier(NOW + 60, leeway_seconds=5).verify(token).user_id == "u"


def test_token_from_the_future_is_refused() -> None:
    token = _issuer().issue("u", ["customer"])
    with pytest.raises(TokenExpiredError, match="not valid yet"):
        _verifier(NOW - 100).verify(token)


def test_forged_signature() -> None:
    token = JwtIssuer(b"x" * 32, clock=_clock()).issue("u", ["supervisor"])
    with pytest.raises(InvalidSignatureError):
        _verifier().verify(token)
    # A tampered payload with the original signature.
    header, _, signature = _issuer().issue("u", ["customer"]).split(".")
    payload = _b64(
        {"sub": "u", "groups": ["supervisor"], "iss": "bastion-dev", "aud": "bastion", "exp": NOW + 60}
    )
    with pytest.raises(InvalidSignatureError):
        _verifier().verify(f"{header}.{payload}.{signature}")


def test_unsigned_alg_none_token() -> None:
    claims = {"sub": "u", "groups": ["supervisor"], "iss": "bastion-dev", "aud": "bastion", "exp": NOW + 60}
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(UnsignedTokenError):
        _verifier().verify(token)
    other_alg = jwt.encode(claims, SECRET * 2, algorithm="HS512")
    with pytest.raises(UnsignedTokenError):
        _verifier().verify(other_alg)


def test_unknown_group_is_a_typed_403() -> None:
    token = _issuer().issue("u", ["customer", "root"])
    with pytest.raises(UnknownGroupError, match=r"unknown user group \(root\)") as info:
        _verifier().verify(token)
    assert info.value.http_status == 403
    assert isinstance(info.value, AuthenticationError)


def test_wrong_audience_and_issuer() -> None:
    with pytest.raises(InvalidAudienceError):
        _verifier().verify(_issuer(audience="other-service").issue("u", ["customer"]))
    with pytest.raises(InvalidIssuerError):
        _verifier().verify(_issuer(issuer="evil").issue("u", ["customer"]))


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "Bearer x.y.z"])
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(MalformedTokenError):
        _verifier().verify(token)


@pytest.mark.parametrize(
    "claims",
    [
        {"groups": ["customer"]},
        {"sub": "u"},
        {"sub": "u", "groups": []},
        {"sub": "u", "groups": [1]},
        {"sub": "u", "groups": ["customer"], "exp": None},
    ],
)
def test_missing_or_mistyped_claims(claims: dict[str, object]) -> None:
    payload: dict[str, object] = {"iss": "bastion-dev", "aud": "bastion", "exp": NOW + 60, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    with pytest.raises(MissingClaimError):
        _verifier().verify(jwt.encode(payload, SECRET, algorithm="HS256"))


def test_error_messages_never_echo_the_token() -> None:
    token = JwtIssuer(b"x" * 32, clock=_clock()).issue("u", ["customer"])
    with pytest.raises(AuthenticationError) as info:
        _verifier().verify(token)
    assert token not in str(info.value)
    assert token.split(".")[2] not in info.value.public_message


def test_short_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        JwtIssuer(b"short")


def test_secret_created_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = load_or_create_secret(state)
    assert len(first) == 32
    path = state / "jwt_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(state) == first
    token = JwtIssuer(first).issue("u", ["customer"])
    assert JwtVerifier(load_or_create_secret(state), known_groups=GROUPS).verify(token).user_id == "u"


def test_corrupt_secret_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "jwt_secret").write_bytes(b"short")
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        load_or_create_secret(tmp_path)
