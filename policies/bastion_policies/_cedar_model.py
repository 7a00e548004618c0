"""The AgentCore Cedar model: entities, action groups and schema generated from a tool catalog.

AgentCore Gateway evaluates Cedar with principal ``AgentCore::OAuthUser::"<sub>"`` (attribute ``id``,
JWT claims as string tags), one action per tool ``AgentCore::Action::"<target>___<tool>"`` in
``CallTool`` in ``Mcp`` (the target itself is an action group), resource ``AgentCore::Gateway``, and
the tool arguments at ``context.input``. Bastion adds, from the catalog, one action group per tool
trait (``ReadTools``, ``WriteTools``, ``<Kind>ScopedTools`` per declared resource kind,
``PermissionLevel:<LEVEL>``, ``PII:EMAIL_ADDRESS``, ...) and, for
Bastion-only policies, the session facts at ``context.bastion``. AgentCore knows neither; see
:func:`export_agentcore_policies` for turning trait-group policies into plain AgentCore ones.

Source of the model: the AgentCore developer guide (policy-scope, policy-schema-constraints pages).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import cedarpy

from bastion_policies._catalog import ToolCatalog, ToolSpec
from bastion_policies._errors import ConfigurationError
from bastion_policies._principal import Principal

__all__ = [
    "ACCESS_GROUPS",
    "ACTION_TYPE",
    "GATEWAY_TYPE",
    "PRINCIPAL_TYPE",
    "UNSCOPED_GROUP",
    "action_entities",
    "action_id",
    "cedar_schema",
    "export_agentcore_policies",
    "principal_entity",
    "scope_group",
    "trait_groups",
]

NAMESPACE = "AgentCore"
PRINCIPAL_TYPE = f"{NAMESPACE}::OAuthUser"
ACTION_TYPE = f"{NAMESPACE}::Action"
GATEWAY_TYPE = f"{NAMESPACE}::Gateway"

ACCESS_GROUPS = {"read": "ReadTools", "write": "WriteTools", "generic": "GenericTools"}
UNSCOPED_GROUP = "UnscopedTools"
_PII_PREFIX = "PII:"
_LEVEL_PREFIX = "PermissionLevel:"
_CEDAR_TYPES = {
    "string": "String",
    "integer": "Long",
    "boolean": "Bool",
    "number": "decimal",
    "string_list": "Set<String>",
}
BASTION_FACT_KEYS = ("session_id", "resource_owner_id", "session_subject_id")


def action_id(target: str, tool: str) -> str:
    """Return the AgentCore action id of ``tool`` behind gateway target ``target``."""
    return f"{target}___{tool}"


def scope_group(kind: str | None) -> str:
    """Return the action group of tools scoped to resource kind ``kind``.

    ``"account"`` → ``"AccountScopedTools"``, ``"line_item"`` → ``"LineItemScopedTools"``; None →
    ``"UnscopedTools"``.
    """
    if kind is None:
        return UNSCOPED_GROUP
    return "".join(part[:1].upper() + part[1:] for part in kind.split("_")) + "ScopedTools"


def trait_groups(spec: ToolSpec) -> list[str]:
    """Return the trait action groups a tool belongs to (access, scope, level, data classes)."""
    groups = [
        ACCESS_GROUPS[spec.access],
        scope_group(spec.resource),
        _LEVEL_PREFIX + spec.permission_level,
    ]
    groups += [_PII_PREFIX + dc for dc in sorted(spec.data_classes)]
    return groups


def _all_trait_groups(catalog: ToolCatalog) -> list[str]:
    fixed = [*ACCESS_GROUPS.values(), *(scope_group(k) for k in catalog.resource_kinds), UNSCOPED_GROUP]
    fixed += [_LEVEL_PREFIX + level for level in catalog.permission_levels]
    pii = sorted({_PII_PREFIX + dc for spec in catalog for dc in spec.data_classes})
    return fixed + pii


def _uid(type_: str, id_: str) -> dict[str, str]:
    return {"type": type_, "id": id_}


def action_entities(catalog: ToolCatalog, target: str) -> list[dict[str, Any]]:
    """Return the Cedar action entities (tools and every group) in Cedar JSON entity form."""
    ents: list[dict[str, Any]] = [
        {"uid": _uid(ACTION_TYPE, "Mcp"), "attrs": {}, "parents": []},
        {"uid": _uid(ACTION_TYPE, "CallTool"), "attrs": {}, "parents": [_uid(ACTION_TYPE, "Mcp")]},
        {"uid": _uid(ACTION_TYPE, target), "attrs": {}, "parents": []},
    ]
    ents += [{"uid": _uid(ACTION_TYPE, g), "attrs": {}, "parents": []} for g in _all_trait_groups(catalog)]
    for spec in catalog:
        parents = ["CallTool", target, *trait_groups(spec)]
        ents.append(
            {
                "uid": _uid(ACTION_TYPE, action_id(target, spec.name)),
                "attrs": {},
                "parents": [_uid(ACTION_TYPE, p) for p in parents],
            }
        )
    return ents


def principal_entity(principal: Principal) -> dict[str, Any]:
    """Return the ``AgentCore::OAuthUser`` entity of ``principal`` (Cedar JSON entity form)."""
    return {
        "uid": _uid(PRINCIPAL_TYPE, principal.user_id),
        "attrs": {"id": principal.user_id},
        "parents": [],
        "tags": principal.cedar_tags(),
    }


def _type_name(target: str, tool: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{target}___{tool}") + "Input"


def cedar_schema(
    catalog: ToolCatalog,
    target: str,
    *,
    include_trait_groups: bool = True,
    include_bastion_context: bool = True,
) -> str:
    """Generate the Cedar schema (human-readable syntax) for ``catalog`` behind ``target``.

    Args:
        catalog: The tools; each argument type maps string→String, integer→Long, boolean→Bool,
            number→decimal, string_list→Set<String> (as AgentCore maps JSON schema types).
        target: The gateway target name (prefix of every tool action).
        include_trait_groups: Include Bastion's trait action groups (``ReadTools``, ...). AgentCore's own
            generated schema has none: pass False to get the schema AgentCore would use.
        include_bastion_context: Include the Bastion-only ``context.bastion`` record of session facts.

    Returns:
        The schema text, deterministic for a given catalog.
    """
    with_groups = include_trait_groups
    bastion_context = include_bastion_context
    lines = [
        "// Generated by bastion_policies from the tool catalog; do not edit by hand.",
        f"// Target {target!r}; trait groups: {'yes' if with_groups else 'no'}; "
        f"Bastion session facts (context.bastion): {'yes' if bastion_context else 'no'}.",
        f"namespace {NAMESPACE} {{",
        '  entity OAuthUser = { "id": String } tags String;',
        "  entity Gateway;",
    ]
    if bastion_context:
        facts = ", ".join(f'"{k}"?: String' for k in BASTION_FACT_KEYS)
        lines.append(f"  type BastionFacts = {{ {facts} }};")
    for spec in catalog:
        fields = ", ".join(
            f'"{a.name}"{"" if a.required else "?"}: {_CEDAR_TYPES[a.type]}' for a in spec.arguments
        )
        body = f"{{ {fields} }}" if fields else "{}"
        lines.append(f"  type {_type_name(target, spec.name)} = {body};")
    lines += ['  action "Mcp";', '  action "CallTool" in ["Mcp"];', f"  action {json.dumps(target)};"]
    if with_groups:
        lines += [f"  action {json.dumps(g)};" for g in _all_trait_groups(catalog)]
    context_extra = ', "bastion": BastionFacts' if bastion_context else ""
    for spec in catalog:
        parents = ["CallTool", target, *(trait_groups(spec) if with_groups else [])]
        parent_list = ", ".join(json.dumps(p) for p in parents)
        lines.append(
            f"  action {json.dumps(action_id(target, spec.name))} in [{parent_list}] appliesTo {{\n"
            "    principal: [OAuthUser],\n    resource: [Gateway],\n"
            f'    context: {{ "input": {_type_name(target, spec.name)}{context_extra} }}\n  }};'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _expand_value(node: Any, members: dict[str, list[str]]) -> Any:
    if isinstance(node, dict):
        value = node.get("Value")  # pyright: ignore[reportUnknownMemberType]
        if isinstance(value, dict) and "__entity" in value:
            ent: Any = value["__entity"]
            if ent.get("type") == ACTION_TYPE and ent.get("id") in members:
                return {"Set": [{"Value": {"__entity": _uid(ACTION_TYPE, a)}} for a in members[ent["id"]]]}
        return {k: _expand_value(v, members) for k, v in node.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(node, list):
        return [_expand_value(v, members) for v in node]  # pyright: ignore[reportUnknownVariableType]
    return node


def _expand_scope(scope: dict[str, Any], members: dict[str, list[str]]) -> dict[str, Any]:
    if scope.get("op") != "in":
        return scope
    ents: list[dict[str, str]] = [scope["entity"]] if "entity" in scope else list(scope["entities"])
    out: list[dict[str, str]] = []
    for ent in ents:
        expanded = members.get(ent["id"]) if ent["type"] == ACTION_TYPE else None
        for uid in [_uid(ACTION_TYPE, a) for a in expanded] if expanded is not None else [ent]:
            if uid not in out:
                out.append(uid)
    return {"op": "in", "entities": out}


def export_agentcore_policies(
    policy_text: str, catalog: ToolCatalog, *, target: str, gateway_arn: str
) -> str:
    """Rewrite portable Bastion policies into policies AgentCore Policy accepts as they are.

    Trait action groups (which AgentCore's generated schema lacks) are replaced by the explicit list
    of tool actions they contain, and every policy's resource becomes ``resource ==
    AgentCore::Gateway::"<gateway_arn>"`` (AgentCore requires a specific gateway when a policy names
    specific actions). Annotations are kept. The result validates against
    ``cedar_schema(catalog, target, include_trait_groups=False, include_bastion_context=False)``.

    Args:
        policy_text: Cedar policies written against Bastion's schema (no ``context.bastion``).
        catalog: The tool catalog that defines the groups.
        target: The gateway target name.
        gateway_arn: The ARN of the AgentCore gateway the policies will be attached to.

    Returns:
        Cedar policy text.

    Raises:
        ConfigurationError: If the text cannot be parsed.
    """
    members: dict[str, list[str]] = {g: [] for g in _all_trait_groups(catalog)}
    for spec in catalog:
        for group in trait_groups(spec):
            members[group].append(action_id(target, spec.name))
    try:
        est: dict[str, Any] = json.loads(cedarpy.policies_to_json_str(policy_text))
    except ValueError as exc:
        raise ConfigurationError(f"Cannot parse the policies to export: {exc}") from None
    policies: dict[str, Any] = est["staticPolicies"]
    for policy in policies.values():
        policy["action"] = _expand_scope(policy["action"], members)
        policy["resource"] = {"op": "==", "entity": _uid(GATEWAY_TYPE, gateway_arn)}
        policy["conditions"] = _expand_value(policy["conditions"], members)
    return cedarpy.format_policies(cedarpy.policies_from_json_str(json.dumps(est)), line_width=100)


def policy_entities_json(entities: Iterable[dict[str, Any]]) -> str:
    """Serialize entities for :meth:`cedarpy.Entities.from_json_str`."""
    return json.dumps(list(entities))
