from __future__ import annotations

import json
from pathlib import Path

import pytest
from bastion_policies import ConfigurationError, PermissionLevel, ToolCatalog, retail_catalog

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


def test_retail_catalog_has_the_16_benchmark_tools_with_traits() -> None:
    catalog = retail_catalog()
    assert set(catalog.names) == RETAIL_TOOLS
    assert len(catalog) == 16
    user = catalog["get_user_details"]
    assert user.access == "read"
    assert user.resource == "user"
    assert user.resource_argument == "user_id"
    assert {"NAME", "ADDRESS", "EMAIL_ADDRESS", "PAYMENT_METHOD"} <= user.data_classes
    cancel = catalog["cancel_pending_order"]
    assert (cancel.access, cancel.resource, cancel.permission_level) == (
        "write",
        "order",
        PermissionLevel.CUSTOMER_WRITE,
    )
    assert [a.name for a in cancel.arguments] == ["order_id", "reason"]
    assert catalog["exchange_delivered_order_items"].arguments[1].type == "string_list"
    assert catalog["calculate"].access == "generic"
    assert catalog.get("nope") is None
    assert "calculate" in catalog


def test_catalog_loads_from_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "tools.toml"
    toml.write_text(
        '[[tools]]\nname = "lookup"\naccess = "read"\nresource = "user"\n'
        'permission_level = "customer_read"\ndata_classes = ["NAME"]\n'
        'args = [{ name = "user_id" }]\n'
    )
    spec = ToolCatalog.from_file(toml)["lookup"]
    assert spec.permission_level is PermissionLevel.CUSTOMER_READ
    assert spec.data_classes == frozenset({"NAME"})
    js = tmp_path / "tools.json"
    js.write_text(json.dumps({"tools": [{"name": "t", "access": "write", "permission_level": 3}]}))
    assert ToolCatalog.from_file(js)["t"].permission_level is PermissionLevel.CUSTOMER_WRITE


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[tools]]\nname = "a"\naccess = "delete"\n', "Invalid tool catalog"),
        ('[[tools]]\nname = "a"\naccess = "read"\n[[tools]]\nname = "a"\naccess = "read"\n', "twice"),
        ('[[tools]]\nname = "a"\naccess = "read"\nresource = "order"\n', "no 'order_id' argument"),
        ('[[tools]]\nname = "a"\naccess = "read"\npermission_level = "god"\n', "Invalid tool catalog"),
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
