"""The Cedar files: schema up to date, both files validate, the portable file exports to AgentCore."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import cedarpy
import pytest
from bastion_policies import (
    PolicyEngine,
    Principal,
    ResourceKind,
    ToolArg,
    ToolCatalog,
    ToolSpec,
    action_id,
    cedar_schema,
    export_agentcore_policies,
)
from bastion_policies._cedar_model import principal_entity

ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/retail"
GROUPS = ("customer", "support_agent", "support_readonly", "supervisor")


def _read(name: str) -> str:
    return (files("bastion_retail") / "policies" / name).read_text(encoding="utf-8")


def test_committed_schema_matches_the_catalog(catalog: ToolCatalog) -> None:
    assert _read("retail.cedarschema") == cedar_schema(catalog, "retail"), (
        "regenerate domains/retail/bastion_retail/policies/retail.cedarschema with "
        'bastion_policies.cedar_schema(bastion_retail.domain.catalog(), "retail")'
    )


@pytest.mark.parametrize("name", ["retail.cedar", "retail.bastion.cedar"])
def test_policy_files_validate_against_the_schema(name: str) -> None:
    result = cedarpy.validate_policies(_read(name), _read("retail.cedarschema"))
    assert result.validation_passed, [str(e) for e in result.errors]


def test_only_the_bastion_file_reads_session_facts(catalog: ToolCatalog) -> None:
    schema = cedar_schema(catalog, "retail", include_bastion_context=False)
    assert cedarpy.validate_policies(_read("retail.cedar"), schema).validation_passed
    assert "context.bastion" not in _read("retail.cedar")
    assert "context.bastion" in _read("retail.bastion.cedar")


def test_every_policy_has_an_id_and_a_reason() -> None:
    for name in ("retail.cedar", "retail.bastion.cedar"):
        est = json.loads(cedarpy.policies_to_json_str(_read(name)))
        for policy in est["staticPolicies"].values():
            assert policy["annotations"].get("id")
            assert policy["annotations"].get("reason")


def test_schema_declares_a_scope_group_per_declared_kind_and_the_session_facts() -> None:
    spec = ToolSpec(
        "refund_line_item",
        "write",
        permission_level="CLERK_WRITE",
        resource="line_item",
        arguments=(ToolArg("line_item_id"), ToolArg("amount", "integer", required=False)),
    )
    catalog = ToolCatalog([spec], [ResourceKind("line_item", "line_item_id")])
    schema = cedar_schema(catalog, "shop")
    assert 'action "LineItemScopedTools";' in schema
    assert 'action "PermissionLevel:CLERK_WRITE";' in schema
    assert '"session_subject_id"?: String' in schema
    assert '"line_item_id": String, "amount"?: Long' in schema
    assert '"shop___refund_line_item" in ["CallTool", "shop", ' in schema
    assert "LineItemScopedTools" not in cedar_schema(catalog, "shop", include_trait_groups=False)
    assert "BastionFacts" not in cedar_schema(catalog, "shop", include_bastion_context=False)
    # A policy can name the kind's group, and it applies to the kind's tools.
    engine = PolicyEngine(
        [
            (
                "shop.cedar",
                '@id("clerks") permit (principal, '
                'action in AgentCore::Action::"LineItemScopedTools", resource);',
            )
        ],
        catalog,
        target="shop",
    )
    assert engine.check(Principal("c1", ("clerk",)), "refund_line_item", {"line_item_id": "L1"}).allowed


def _agentcore_entities(principal: Principal, catalog: ToolCatalog) -> list[dict[str, Any]]:
    """Entities as AgentCore has them: tools in CallTool and the target group only."""
    act = "AgentCore::Action"
    ents: list[dict[str, Any]] = [
        {"uid": {"type": act, "id": "Mcp"}, "attrs": {}, "parents": []},
        {"uid": {"type": act, "id": "CallTool"}, "attrs": {}, "parents": [{"type": act, "id": "Mcp"}]},
        {"uid": {"type": act, "id": "retail"}, "attrs": {}, "parents": []},
        principal_entity(principal),
    ]
    for spec in catalog:
        parents = [{"type": act, "id": "CallTool"}, {"type": act, "id": "retail"}]
        ents.append(
            {"uid": {"type": act, "id": action_id("retail", spec.name)}, "attrs": {}, "parents": parents}
        )
    return ents


def test_exported_policies_validate_in_agentcores_model_and_decide_the_same(
    engine: PolicyEngine, catalog: ToolCatalog
) -> None:
    exported = export_agentcore_policies(_read("retail.cedar"), catalog, target="retail", gateway_arn=ARN)
    agentcore_schema = cedar_schema(
        catalog, "retail", include_trait_groups=False, include_bastion_context=False
    )
    result = cedarpy.validate_policies(exported, agentcore_schema)
    assert result.validation_passed, [str(e) for e in result.errors]
    assert "ReadTools" not in exported
    assert f'resource == AgentCore::Gateway::"{ARN}"' in exported
    assert '@id("customer-own-profile")' in exported
    for group in GROUPS:
        principal = Principal("sara_doe_496", (group,))
        bound = engine.bind(principal, audit=False)
        for spec in catalog:
            call_input = {"user_id": principal.user_id} if spec.resource == "user" else {}
            request = {
                "principal": {"type": "AgentCore::OAuthUser", "id": principal.user_id},
                "action": {"type": "AgentCore::Action", "id": action_id("retail", spec.name)},
                "resource": {"type": "AgentCore::Gateway", "id": ARN},
                "context": {"input": call_input},
            }
            allowed = cedarpy.is_authorized(
                request, exported, _agentcore_entities(principal, catalog)
            ).allowed
            assert allowed == bound.allows(spec.name), (group, spec.name)
