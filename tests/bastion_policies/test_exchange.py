"""Token exchange: the session travels signed in a short-lived MCP token, never as a bare header."""

from __future__ import annotations

import jwt
import pytest
from bastion_policies import (
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    JwtIssuer,
    JwtVerifier,
    MissingClaimError,
    Principal,
    TokenExpiredError,
    UnsignedTokenError,
)
from bastion_policies._errors import ConfigurationError
from bastion_policies._exchange import (
    DEFAULT_ACTOR,
    EXCHANGE_AUDIENCE,
    EXCHANGE_ISSUER,
    ExchangedTokenVerifier,
    TokenExchanger,
    VerifiedAccess,
    derive_exchange_secret,
    derive_session_id,
)

SECRET = b"test-secret-0123456789abcdef0123"
EXCHANGE_SECRET = derive_exchange_secret(SECRET)
GROUPS = ("customer", "support_agent")
NOW = 1_800_000_000.0


def _user(user_id: str = "sara_doe_496", groups: tuple[str, ...] = ("customer",), **claims: str) -> Principal:
    token = JwtIssuer(SECRET, clock=lambda: NOW).issue(user_id, groups, **claims)
    return _users().verify(token)


def _users() -> JwtVerifier:
    return JwtVerifier(SECRET, known_groups=GROUPS, clock=lambda: NOW)


def _verifier(now: float = NOW, users: JwtVerifier | None = None) -> ExchangedTokenVerifier:
    return ExchangedTokenVerifier(EXCHANGE_SECRET, user_verifier=users or _users(), clock=lambda: now)


def _exchanger(ttl: int = 300) -> TokenExchanger:
    return TokenExchanger(EXCHANGE_SECRET, ttl_seconds=ttl, clock=lambda: NOW)


def test_round_trip_keeps_the_user_and_adds_actor_and_session() -> None:
    user = _user(email="sara@example.com")
    token = _exchanger().exchange(user, "conv-1")

    access = _verifier().verify(token)

    assert access.principal.user_id == "sara_doe_496"
    assert access.principal.groups == ("customer",)
    assert access.principal.claims["email"] == "sara@example.com"
    assert access.session_id == derive_session_id(user, "conv-1")
    assert access.actor == DEFAULT_ACTOR
    payload = jwt.decode(
        token,
        EXCHANGE_SECRET,
        algorithms=["HS256"],
        audience=EXCHANGE_AUDIENCE,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert payload["act"] == {"sub": DEFAULT_ACTOR}
    assert payload["iss"] == EXCHANGE_ISSUER
    assert payload["exp"] - payload["iat"] == 300
    assert isinstance(payload["jti"], str) and payload["jti"]


def test_tenant_is_carried_and_each_token_has_its_own_jti() -> None:
    token = JwtIssuer(SECRET, clock=lambda: NOW).issue("u1", ["customer"], tenant="acme")
    user = _users().verify(token)
    exchanger = _exchanger()

    first, second = exchanger.exchange(user, "c"), exchanger.exchange(user, "c")

    assert _verifier().verify(first).principal.tenant == "acme"
    assert (
        jwt.decode(first, options={"verify_signature": False})["jti"]
        != jwt.decode(second, options={"verify_signature": False})["jti"]
    )
    assert _verifier().verify(first).session_id == _verifier().verify(second).session_id


def test_plain_user_token_has_no_session_even_if_it_claims_one() -> None:
    token = JwtIssuer(SECRET, clock=lambda: NOW).issue("u1", ["customer"], sid="conv:stolen")

    access = _verifier().verify(token)

    assert access == VerifiedAccess(principal=access.principal, session_id=None, actor=None)
    assert access.principal.user_id == "u1"


def test_user_tokens_are_refused_without_a_user_verifier() -> None:
    verifier = ExchangedTokenVerifier(EXCHANGE_SECRET, known_groups=GROUPS, clock=lambda: NOW)
    token = JwtIssuer(SECRET, clock=lambda: NOW).issue("u1", ["customer"])

    with pytest.raises(InvalidIssuerError):
        verifier.verify(token)
    assert verifier.verify(_exchanger().exchange(_user(), "c")).session_id is not None


def test_forged_exchanged_token_is_refused() -> None:
    forged = TokenExchanger(b"attacker-secret-0123456789abcdef", clock=lambda: NOW).exchange(_user(), "c")
    with pytest.raises(InvalidSignatureError):
        _verifier().verify(forged)


def test_exchanged_token_signed_with_the_user_key_is_refused() -> None:
    # Key separation: whoever holds a user-token key cannot mint sessions.
    forged = TokenExchanger(SECRET, clock=lambda: NOW).exchange(_user(), "c")
    with pytest.raises(InvalidSignatureError):
        _verifier().verify(forged)


def test_unsigned_exchanged_token_is_refused() -> None:
    payload = jwt.decode(_exchanger().exchange(_user(), "c"), options={"verify_signature": False})
    unsigned = jwt.encode(payload, key="", algorithm="none")
    with pytest.raises(UnsignedTokenError):
        _verifier().verify(unsigned)


def test_expired_exchanged_token_is_refused() -> None:
    token = _exchanger(ttl=300).exchange(_user(), "c")
    assert _verifier(now=NOW + 299).verify(token).session_id
    with pytest.raises(TokenExpiredError):
        _verifier(now=NOW + 300).verify(token)


def test_wrong_audience_is_refused() -> None:
    token = TokenExchanger(EXCHANGE_SECRET, audience="another-service", clock=lambda: NOW).exchange(
        _user(), "c"
    )
    with pytest.raises(InvalidAudienceError):
        _verifier().verify(token)


def _signed(**overrides: object) -> str:
    payload = jwt.decode(_exchanger().exchange(_user(), "c"), options={"verify_signature": False})
    payload.update(overrides)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, EXCHANGE_SECRET, algorithm="HS256")


@pytest.mark.parametrize("sid", [123, ["conv:x"], "", "x" * 201, None])
def test_exchanged_token_with_a_bad_session_claim_is_refused(sid: object) -> None:
    with pytest.raises(MissingClaimError):
        _verifier().verify(_signed(sid=sid))


def test_session_claim_of_200_chars_is_accepted_as_is() -> None:
    assert _verifier().verify(_signed(sid="s" * 200)).session_id == "s" * 200


@pytest.mark.parametrize("act", [None, "bastion-agent-runtime", {"sub": 7}, {"sub": ""}, {}])
def test_exchanged_token_without_a_valid_actor_is_refused(act: object) -> None:
    with pytest.raises(MissingClaimError):
        _verifier().verify(_signed(act=act))


def test_same_conversation_id_gives_each_principal_its_own_session() -> None:
    sara, mallory = _user("sara"), _user("mallory")
    assert derive_session_id(sara, "conv-1") != derive_session_id(mallory, "conv-1")
    staff = _user("sara", groups=("support_agent",))
    assert derive_session_id(sara, "conv-1") == derive_session_id(staff, "conv-1")


def test_tenant_and_issuer_separate_sessions() -> None:
    plain = Principal("u", ("customer",))
    assert derive_session_id(plain, "c") != derive_session_id(Principal("u", ("customer",), tenant="t"), "c")
    assert derive_session_id(plain, "c") != derive_session_id(
        Principal("u", ("customer",), claims={"iss": "other-idp"}), "c"
    )


def test_fields_cannot_be_shifted_into_each_other() -> None:
    # A naive "sub|tenant|conv" join would make these two equal.
    a = Principal("a|b", ("customer",))
    b = Principal("a", ("customer",), tenant=None)
    assert derive_session_id(a, "c") != derive_session_id(b, "b|c")


def test_long_conversation_ids_do_not_collide_with_their_prefix() -> None:
    user = _user()
    long_id = "x" * 10_000
    key = derive_session_id(user, long_id)
    assert key != derive_session_id(user, long_id[:128])
    assert key.startswith("conv:") and len(key) == 69
    assert _verifier().verify(_exchanger().exchange(user, long_id)).session_id == key


def test_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        TokenExchanger(b"short")
    with pytest.raises(ConfigurationError):
        TokenExchanger(EXCHANGE_SECRET, ttl_seconds=0)
    with pytest.raises(ConfigurationError):
        _exchanger().exchange(_user(), "")
    with pytest.raises(ConfigurationError):
        ExchangedTokenVerifier(EXCHANGE_SECRET)
    with pytest.raises(ConfigurationError):
        ExchangedTokenVerifier(EXCHANGE_SECRET, user_verifier=_users(), issuer="bastion-dev")
    with pytest.raises(ConfigurationError):
        derive_exchange_secret(b"short")
    assert derive_exchange_secret(SECRET) != SECRET and len(derive_exchange_secret(SECRET)) == 32


def test_error_messages_never_contain_the_token() -> None:
    token = _signed(sid=123)
    with pytest.raises(MissingClaimError) as info:
        _verifier().verify(token)
    assert token not in str(info.value)
    assert token.split(".")[1] not in str(info.value)
