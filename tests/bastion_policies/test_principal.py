from __future__ import annotations

import json

import pytest
from bastion_policies import ConfigurationError, Principal


def test_cedar_tags_follow_agentcore_claims_model() -> None:
    p = Principal("u1", ["customer", "supervisor"], tenant="acme", claims={"email": "a@b.c"})  # pyright: ignore[reportArgumentType]
    tags = p.cedar_tags()
    assert json.loads(tags["groups"]) == ["customer", "supervisor"]
    assert tags["tenant"] == "acme"
    assert tags["email"] == "a@b.c"
    assert p.groups == ("customer", "supervisor")
    assert hash(p) == hash(Principal("u1", ("customer", "supervisor"), "acme", {"email": "a@b.c"}))


def test_empty_user_id_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="user_id"):
        Principal("", ("customer",))


def test_empty_group_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="groups"):
        Principal("u1", ("customer", ""))
