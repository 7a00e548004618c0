from __future__ import annotations

import json
from pathlib import Path

import pytest
from bastion_policies import (
    ConfigurationError,
    ResourceKind,
    ToolArg,
    ToolCatalog,
    ToolSpec,
    scope_group,
)

FIXTURE = Path(__file__).parent / "retail_tools.toml"

RETAIL_TOOLS = {
    "calculate",
    "cancel_pending_order",
    "exchange_delivered_order_items",
    "find_user_id_by_name_zip",
    "find_user_id_by_email",
    "get_order_details",
    "get_product_details",
    "get_item_details",
    "get_user_details",
    "list_all_product_types",
    "modify_pending_order_address",
    "modify_pending_order_items",
    "modify_pending_order_payment",
    "modify_user_address",
    "return_delivered_order_items",
    "transfer_to_human_agents",
}


def test_retail_catalog_has_the_16_benchmark_tools_with_traits(catalog: ToolCatalog) -> None:
    assert set(catalog.names) == RETAIL_TOOLS
    assert len(catalog) == 16
    user = catalog["get_user_details"]
    assert user.access == "read"
    assert user.resource == "user"
    assert user.resource_argument == "user_id"
    assert {"NAME", "ADDRESS", "EMAIL_ADDRESS", "PAYMENT_METHOD"} <= user.data_classes
    cancel = catalog["cancel_pending_order"]
    assert (cancel.access, cancel.resource, cancel.permission_level) == ("write", "order", "CUSTOMER_WRITE")
    assert [a.name for a in cancel.arguments] == ["order_id", "reason"]
    assert catalog["exchange_delivered_order_items"].arguments[1].type == "string_list"
    assert catalog["calculate"].access == "generic"
    assert catalog.get("nope") is None
    assert "calculate" in catalog
    assert catalog.resource_kinds == {
        "user": ResourceKind("user", "user_id", self_owned=True),
        "order": ResourceKind("order", "order_id", self_owned=False),
    }
    assert catalog.permission_levels == ("CUSTOMER_LOOKUP", "CUSTOMER_READ", "CUSTOMER_WRITE", "PUBLIC")


def test_the_toml_fixture_declares_the_same_traits_as_the_retail_domain(catalog: ToolCatalog) -> None:
    loaded = ToolCatalog.from_file(FIXTURE)
    assert loaded.names == catalog.names
    assert loaded.resource_kinds == catalog.resource_kinds
    for spec in loaded:
        domain_spec = catalog[spec.name]
        for trait in ("access", "data_classes", "permission_level", "resource", "resource_argument"):
            assert getattr(spec, trait) == getattr(domain_spec, trait), (spec.name, trait)
        assert spec.arguments == domain_spec.arguments, spec.name


def test_catalog_loads_from_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "tools.toml"
    toml.write_text(
        '[[tools]]\nname = "lookup"\naccess = "read"\nresource = "account"\n'
        'permission_level = "member_read"\ndata_classes = ["NAME"]\n'
        'args = [{ name = "account_id" }]\n'
        '[[resources]]\nname = "account"\nargument = "account_id"\nself_owned = true\n'
    )
    loaded = ToolCatalog.from_file(toml)
    spec = loaded["lookup"]
    assert spec.permission_level == "MEMBER_READ"
    assert spec.data_classes == frozenset({"NAME"})
    assert spec.resource_argument == "account_id"
    assert loaded.resource_kinds["account"].self_owned
    js = tmp_path / "tools.json"
    js.write_text(json.dumps({"tools": [{"name": "t", "access": "write", "resource": "none"}]}))
    unscoped = ToolCatalog.from_file(js)["t"]
    assert (unscoped.permission_level, unscoped.resource) == ("PUBLIC", None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[tools]]\nname = "a"\naccess = "delete"\n', "Invalid tool catalog"),
        ('[[tools]]\nname = "a"\naccess = "read"\n[[tools]]\nname = "a"\naccess = "read"\n', "twice"),
        ('[[tools]]\nname = "a"\naccess = "read"\nresource = "order"\n', "'order', which is not declared"),
        (
            '[[tools]]\nname = "a"\naccess = "read"\nresource = "order"\n'
            '[[resources]]\nname = "order"\nargument = "order_id"\n',
            "no 'order_id' argument",
        ),
        ('[[tools]]\nname = "a"\naccess = "read"\npermission_level = "top secret"\n', "is not a name"),
        ('[[tools]]\nname = "a"\naccess = "read"\npermission_level = 3\n', "Invalid tool catalog"),
        (
            '[[tools]]\nname = "a"\naccess = "read"\n[[resources]]\nname = "line-item"\nargument = "x"\n',
            "letters, digits and underscores",
        ),
        (
            '[[tools]]\nname = "a"\naccess = "read"\n'
            '[[resources]]\nname = "order"\nargument = "order_id"\n'
            '[[resources]]\nname = "order"\nargument = "order_id"\n',
            "declared twice",
        ),
        ("not toml [", "not valid toml"),
    ],
)
def test_bad_catalog_files_are_configuration_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "tools.toml"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        ToolCatalog.from_file(path)


def test_missing_catalog_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Cannot read"):
        ToolCatalog.from_file(tmp_path / "missing.toml")


def test_a_tool_scoped_to_an_undeclared_kind_is_refused_naming_tool_and_kind() -> None:
    spec = ToolSpec("refund_line_item", "write", resource="line_item", arguments=(ToolArg("line_item_id"),))
    with pytest.raises(ConfigurationError) as info:
        ToolCatalog([spec], [ResourceKind("invoice", "invoice_id")])
    message = str(info.value)
    assert "'refund_line_item'" in message
    assert "'line_item'" in message
    assert "invoice" in message  # the kinds that are declared, so the author sees the choice


def test_a_declared_kind_fills_in_the_resource_argument() -> None:
    spec = ToolSpec("refund_line_item", "write", resource="line_item", arguments=(ToolArg("line_item_id"),))
    catalog = ToolCatalog([spec], [ResourceKind("line_item", "line_item_id")])
    assert catalog["refund_line_item"].resource_argument == "line_item_id"


def test_a_resource_argument_other_than_the_kinds_is_refused() -> None:
    spec = ToolSpec(
        "refund", "write", resource="line_item", resource_argument="id", arguments=(ToolArg("id"),)
    )
    with pytest.raises(ConfigurationError, match="no 'line_item_id' argument"):
        ToolCatalog([spec], [ResourceKind("line_item", "line_item_id")])


@pytest.mark.parametrize(
    ("kind", "group"),
    [
        ("line_item", "LineItemScopedTools"),
        ("account", "AccountScopedTools"),
        ("order", "OrderScopedTools"),
        (None, "UnscopedTools"),
    ],
)
def test_scope_groups_are_camel_case_per_kind(kind: str | None, group: str) -> None:
    assert scope_group(kind) == group
