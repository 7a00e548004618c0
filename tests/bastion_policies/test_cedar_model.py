"""The Cedar files: schema up to date, both files validate, the portable file exports to AgentCore."""

from __future__ import annotations

import json
from typing import Any

import cedarpy
import pytest
from bastion_policies import (
    POLICY_DIR,
    Principal,
    action_id,
    cedar_schema,
    export_agentcore_policies,
    retail_catalog,
)
from bastion_policies._cedar_model import principal_entity

ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/retail"
GROUPS = ("customer", "support_agent", "support_readonly", "supervisor")


def _read(name: str) -> str:
    return (POLICY_DIR / name).read_text(encoding="utf-8")


def test_committed_schema_matches_the_catalog() -> None:
    assert _read("retail.cedarschema") == cedar_schema(retail_catalog()), (
        "regenerate policies/retail.cedarschema with bastion_policies.cedar_schema(retail_catalog())"
    )


@pytest.mark.parametrize("name", ["retail.cedar", "retail.bastion.cedar"])
def test_policy_files_validate_against_the_schema(name: str) -> None:
    result = cedarpy.validate_policies(_read(name), _read("retail.cedarschema"))
    assert result.validation_passed, [str(e) for e in result.errors]


def test_only_the_bastion_file_reads_session_facts() -> None:
    schema = cedar_schema(retail_catalog(), include_bastion_context=False)
    assert cedarpy.validate_policies(_read("retail.cedar"), schema).validation_passed
    assert "context.bastion" not in _read("retail.cedar")
    assert "context.bastion" in _read("retail.bastion.cedar")


def test_every_policy_has_an_id_and_a_reason() -> None:
    for name in ("retail.cedar", "retail.bastion.cedar"):
        est = json.loads(cedarpy.policies_to_json_str(_read(name)))
        for policy in est["staticPolicies"].values():
            assert policy["annotations"].get("id")
            assert policy["annotations"].get("reason")


def _agentcore_entities(principal: Principal) -> list[dict[str, Any]]:
    """Entities as AgentCore has them: tools in CallTool and the target group only."""
    act = "AgentCore::Action"
    ents: list[dict[str, Any]] = [
        {"uid": {"type": act, "id": "Mcp"}, "attrs": {}, "parents": []},
        {"uid": {"type": act, "id": "CallTool"}, "attrs": {}, "parents": [{"type": act, "id": "Mcp"}]},
        {"uid": {"type": act, "id": "retail"}, "attrs": {}, "parents": []},
        principal_entity(principal),
    ]
    for spec in retail_catalog():
        parents = [{"type": act, "id": "CallTool"}, {"type": act, "id": "retail"}]
        ents.append(
            {"uid": {"type": act, "id": action_id("retail", spec.name)}, "attrs": {}, "parents": parents}
        )
    return ents


def test_exported_policies_validate_in_agentcores_model_and_decide_the_same(engine: Any) -> None:
    catalog = retail_catalog()
    exported = export_agentcore_policies(_read("retail.cedar"), catalog, gateway_arn=ARN)
    agentcore_schema = cedar_schema(catalog, include_trait_groups=False, include_bastion_context=False)
    result = cedarpy.validate_policies(exported, agentcore_schema)
    assert result.validation_passed, [str(e) for e in result.errors]
    assert "ReadTools" not in exported
    assert f'resource == AgentCore::Gateway::"{ARN}"' in exported
    assert '@id("customer-own-profile")' in exported
    for group in GROUPS:
        principal = Principal("sara_doe_496", (group,))
        bound = engine.bind(principal)
        for spec in catalog:
            call_input = {"user_id": principal.user_id} if spec.resource == "user" else {}
            request = {
                "principal": {"type": "AgentCore::OAuthUser", "id": principal.user_id},
                "action": {"type": "AgentCore::Action", "id": action_id("retail", spec.name)},
                "resource": {"type": "AgentCore::Gateway", "id": ARN},
                "context": {"input": call_input},
            }
            allowed = cedarpy.is_authorized(request, exported, _agentcore_entities(principal)).allowed
            assert allowed == bound.allows(spec.name), (group, spec.name)
