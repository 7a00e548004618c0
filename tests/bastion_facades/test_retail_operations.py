"""Each retail operation against the in-process legacy app (httpx.ASGITransport)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from bastion_facades import ArgumentError, RetailFacade, ToolCallError
from bastion_legacy import INITIAL_DB_SHA256, db_sha256

TOOLS_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "tau2-retail" / "tools_extracted.json"


def _tools() -> list[dict[str, Any]]:
    return json.loads(TOOLS_FILE.read_text(encoding="utf-8"))


# Registry ----------------------------------------------------------------------------------------


async def test_one_operation_per_benchmark_tool_with_the_same_arguments(facade: RetailFacade) -> None:
    ops = {op.name: op for op in facade.operations()}
    assert set(ops) == {t["name"] for t in _tools()}
    for tool in _tools():
        op = ops[tool["name"]]
        schema = op.input_schema()
        assert list(schema.get("properties", {})) == [a["name"] for a in tool["args"]], tool["name"]
        assert set(schema.get("required", [])) == {a["name"] for a in tool["args"]}
        for arg in tool["args"]:
            prop = schema["properties"][arg["name"]]
            expected = "array" if arg["annotation"] == "List[str]" else "string"
            assert prop["type"] == expected
            assert prop.get("description")
        assert op.access == tool["tool_type"].lower()
        assert op.destructive == (op.access == "write")
        assert op.read_only == (op.access != "write")


async def test_operations_name_the_resource_they_act_on(facade: RetailFacade) -> None:
    for op in facade.operations():
        args = op.input_model.model_fields
        if op.resource == "order":
            assert op.resource_argument == "order_id" in args
        elif op.resource == "user":
            assert op.resource_argument == "user_id" in args
        else:
            assert op.resource_argument is None
            assert "order_id" not in args and "user_id" not in args


async def test_descriptions_carry_no_example_values(facade: RetailFacade) -> None:
    for op in facade.operations():
        texts = [op.description] + [str(f.description) for f in op.input_model.model_fields.values()]
        for text in texts:
            assert "such as" not in text
            assert not re.search(r"\d{3,}|#W\d|@example|_\d{3}", text), (op.name, text)


# Arguments ---------------------------------------------------------------------------------------


async def test_invalid_arguments_raise_a_readable_argument_error(facade: RetailFacade) -> None:
    with pytest.raises(ArgumentError) as caught:
        await facade.invoke("get_order_details", {"orderid": "#W2378156"})
    message = str(caught.value)
    assert "get_order_details" in message
    assert "order_id: Field required" in message
    assert "orderid: Extra inputs are not permitted" in message
    with pytest.raises(ArgumentError, match="item_ids"):
        await facade.invoke(
            "return_delivered_order_items", {"order_id": "#W1", "item_ids": "1", "payment_method_id": "x"}
        )


async def test_unknown_operation_is_an_argument_error(facade: RetailFacade) -> None:
    with pytest.raises(ArgumentError, match="unknown operation"):
        await facade.invoke("drop_tables", {})


# Reads -------------------------------------------------------------------------------------------


async def test_find_user_by_email_and_by_name_zip(facade: RetailFacade) -> None:
    assert (
        await facade.invoke("find_user_id_by_email", {"email": "mia.garcia2723@example.com"})
        == "mia_garcia_4516"
    )
    found = await facade.invoke(
        "find_user_id_by_name_zip", {"first_name": "Yusuf", "last_name": "Rossi", "zip": "19122"}
    )
    assert found == "yusuf_rossi_9620"


@pytest.mark.parametrize(
    ("name", "arguments", "words"),
    [
        ("find_user_id_by_email", {"email": "aarav.santos8321@example.com"}, "User not found"),
        (
            "find_user_id_by_name_zip",
            {"first_name": "Noah", "last_name": "Ito", "zip": "98178"},
            "User not found",
        ),
        ("get_user_details", {"user_id": "nobody_0"}, "User not found"),
        ("get_order_details", {"order_id": "#9502126"}, "Order not found"),
        ("get_product_details", {"product_id": "6086499569"}, "Product not found"),
        ("get_item_details", {"item_id": "1656367028"}, "Item not found"),
    ],
)
async def test_not_found_messages_use_the_benchmark_words_and_say_what_next(
    facade: RetailFacade, name: str, arguments: dict[str, str], words: str
) -> None:
    with pytest.raises(ToolCallError) as caught:
        await facade.invoke(name, arguments)
    assert words in caught.value.message
    assert re.search(r"\b(use|look up|check|find|ask)\b", caught.value.message, re.IGNORECASE)
    assert "traceId" not in caught.value.message


async def test_get_user_details_is_trimmed(facade: RetailFacade) -> None:
    user = await facade.invoke("get_user_details", {"user_id": "yusuf_rossi_9620"})
    assert isinstance(user, dict)
    assert set(user) == {"user_id", "name", "email", "address", "payment_methods", "orders", "order_count"}
    assert user["name"] == {"first_name": "Yusuf", "last_name": "Rossi"}
    assert user["address"] == {
        "address1": "763 Broadway",
        "address2": "Suite 135",
        "city": "Philadelphia",
        "state": "PA",
        "country": "USA",
        "zip": "19122",
    }
    orders: list[Any] = user["orders"]  # type: ignore[assignment]
    assert user["order_count"] == len(orders) >= 1
    assert {"order_id": "#W2378156", "status": "delivered"} in orders
    assert user["payment_methods"] == [
        {
            "payment_method_id": "credit_card_9513926",
            "type": "credit_card",
            "brand": "mastercard",
            "last_four": "2478",
        }
    ]


async def test_gift_card_balances_are_shown(facade: RetailFacade) -> None:
    user = await facade.invoke("get_user_details", {"user_id": "james_li_5688"})
    assert isinstance(user, dict)
    methods: list[Any] = user["payment_methods"]  # type: ignore[assignment]
    gift = next(m for m in methods if m["type"] == "gift_card")
    assert gift["payment_method_id"] == "gift_card_1725971"
    assert isinstance(gift["balance"], float)


async def test_get_order_details_is_trimmed(facade: RetailFacade) -> None:
    order = await facade.invoke("get_order_details", {"order_id": "#W2378156"})
    assert isinstance(order, dict)
    assert set(order) == {
        "order_id",
        "user_id",
        "status",
        "address",
        "items",
        "fulfillments",
        "payment_history",
    }
    items: list[Any] = order["items"]  # type: ignore[assignment]
    assert items[0] == {
        "item_id": "4202497723",
        "product_id": "6992792935",
        "name": "Headphones",
        "price": 342.81,
        "options": {"type": "over-ear", "connectivity": "wireless", "color": "blue"},
    }
    assert order["payment_history"] == [
        {"transaction_type": "payment", "amount": 1819.92, "payment_method_id": "credit_card_9513926"}
    ]
    assert order["fulfillments"] == [
        {"tracking_ids": ["843053632392"], "item_ids": [i["item_id"] for i in items]}
    ]


async def test_get_product_and_item_details(facade: RetailFacade) -> None:
    product = await facade.invoke("get_product_details", {"product_id": "1656367028"})
    assert isinstance(product, dict)
    assert product["name"] == "Mechanical Keyboard"
    variants: list[Any] = product["variants"]  # type: ignore[assignment]
    assert product["variant_count"] == len(variants)
    assert {
        "item_id": "9690244451",
        "options": {"switch type": "clicky", "backlight": "RGB", "size": "60%"},
        "available": False,
        "price": 236.51,
    } in variants
    item = await facade.invoke("get_item_details", {"item_id": "9690244451"})
    assert item == {
        "item_id": "9690244451",
        "product_id": "1656367028",
        "product_name": "Mechanical Keyboard",
        "options": {"switch type": "clicky", "backlight": "RGB", "size": "60%"},
        "price": 236.51,
        "available": False,
    }


async def test_list_all_product_types_folds_pages_and_sorts(facade: RetailFacade, world: Any) -> None:
    products = await facade.invoke("list_all_product_types", {})
    assert isinstance(products, dict)
    expected = {p["name"]: p["product_id"] for p in world.store.export()["products"].values()}
    assert products == expected
    assert list(products) == sorted(products)
    assert len(products) == 50


async def test_calculate_matches_the_benchmark(facade: RetailFacade) -> None:
    cases = {
        "3131.1 + 4777.75 + 367.38": "8276.23",
        "155.33 - 147.05 + 268.77 - 235.13": "41.92",
        "135.24 - 153.23": "-17.99",
        "2 + 2": "4.0",
        "(1 + 2) * 3 / 4": "2.25",
    }
    for expression, expected in cases.items():
        assert await facade.invoke("calculate", {"expression": expression}) == expected


@pytest.mark.parametrize("expression", ["1 / 0", "__import__('os')", "2 +", "", "9 ** 9 ** 9"])
async def test_calculate_refuses_anything_but_arithmetic(facade: RetailFacade, expression: str) -> None:
    with pytest.raises(ToolCallError):
        await facade.invoke("calculate", {"expression": expression})


async def test_transfer_acknowledges(facade: RetailFacade) -> None:
    assert (
        await facade.invoke("transfer_to_human_agents", {"summary": "wants a human"}) == "Transfer successful"
    )


async def test_order_owner(facade: RetailFacade) -> None:
    assert await facade.order_owner("#W2378156") == "yusuf_rossi_9620"
    with pytest.raises(ToolCallError, match="Order not found"):
        await facade.order_owner("#W0")


# Writes ------------------------------------------------------------------------------------------


def _gift_balance(world: Any, user_id: str, method_id: str) -> float:
    return world.store.export()["users"][user_id]["payment_methods"][method_id]["balance"]


async def test_cancel_pending_order(facade: RetailFacade, world: Any) -> None:
    order = await facade.invoke(
        "cancel_pending_order", {"order_id": "#W4776164", "reason": "no longer needed"}
    )
    assert isinstance(order, dict)
    assert order["status"] == "cancelled"
    assert order["cancel_reason"] == "no longer needed"
    assert order["payment_history"][-1] == {  # type: ignore[index]
        "transaction_type": "refund",
        "amount": 2772.44,
        "payment_method_id": "credit_card_9513926",
    }


async def test_cancel_with_a_bad_reason_says_which_reasons_are_allowed(
    facade: RetailFacade, world: Any
) -> None:
    with pytest.raises(ArgumentError) as caught:
        await facade.invoke("cancel_pending_order", {"order_id": "#W4776164", "reason": "changed my mind"})
    assert "'no longer needed'" in str(caught.value)
    assert "'ordered by mistake'" in str(caught.value)
    assert db_sha256(world.store.export()) == INITIAL_DB_SHA256


async def test_cancel_of_a_delivered_order_is_refused(facade: RetailFacade) -> None:
    with pytest.raises(ToolCallError, match="Non-pending order cannot be cancelled"):
        await facade.invoke("cancel_pending_order", {"order_id": "#W2378156", "reason": "no longer needed"})


async def test_exchange_and_insufficient_gift_card(facade: RetailFacade, world: Any) -> None:
    with pytest.raises(ToolCallError) as caught:
        await facade.invoke(
            "exchange_delivered_order_items",
            {
                "order_id": "#W4316152",
                "item_ids": ["7292993796", "7292993796"],
                "new_item_ids": ["3761330360", "9647374798"],
                "payment_method_id": "gift_card_7245904",
            },
        )
    assert "Insufficient gift card balance to pay for the price difference" in caught.value.message
    assert "get_user_details" in caught.value.message
    order = await facade.invoke(
        "exchange_delivered_order_items",
        {
            "order_id": "#W2378156",
            "item_ids": ["1151293680"],
            "new_item_ids": ["7706410293"],
            "payment_method_id": "credit_card_9513926",
        },
    )
    assert isinstance(order, dict)
    assert order["status"] == "exchange requested"
    assert order["exchange"] == {
        "item_ids": ["1151293680"],
        "new_item_ids": ["7706410293"],
        "payment_method_id": "credit_card_9513926",
        "price_difference": round(269.16 - 272.33, 2),
    }


async def test_return_delivered_order_items(facade: RetailFacade) -> None:
    order = await facade.invoke(
        "return_delivered_order_items",
        {
            "order_id": "#W2378156",
            "item_ids": ["4602305039", "1151293680"],
            "payment_method_id": "credit_card_9513926",
        },
    )
    assert isinstance(order, dict)
    assert order["status"] == "return requested"
    assert order["return"] == {
        "item_ids": ["1151293680", "4602305039"],
        "payment_method_id": "credit_card_9513926",
    }
    with pytest.raises(ToolCallError, match="Non-delivered order cannot be returned"):
        await facade.invoke(
            "return_delivered_order_items",
            {"order_id": "#W2378156", "item_ids": ["4602305039"], "payment_method_id": "credit_card_9513926"},
        )


_ADDRESS = {
    "address1": "1 New Street",
    "address2": "",
    "city": "Springfield",
    "state": "IL",
    "country": "USA",
    "zip": "62701",
}


async def test_modify_pending_order_address(facade: RetailFacade) -> None:
    order = await facade.invoke("modify_pending_order_address", {"order_id": "#W4776164", **_ADDRESS})
    assert isinstance(order, dict)
    assert order["address"] == _ADDRESS
    assert order["status"] == "pending"


async def test_modify_user_address(facade: RetailFacade, world: Any) -> None:
    user = await facade.invoke("modify_user_address", {"user_id": "yusuf_rossi_9620", **_ADDRESS})
    assert isinstance(user, dict)
    assert user["address"] == _ADDRESS
    assert world.store.export()["users"]["yusuf_rossi_9620"]["address"] == _ADDRESS


async def test_modify_pending_order_payment_moves_gift_card_money(facade: RetailFacade, world: Any) -> None:
    # ethan_lopez_6291 paid pending #W6779827 (4079.45) with gift_card_7219486; move it to the credit card
    before = _gift_balance(world, "ethan_lopez_6291", "gift_card_7219486")
    order = await facade.invoke(
        "modify_pending_order_payment", {"order_id": "#W6779827", "payment_method_id": "credit_card_9789590"}
    )
    assert isinstance(order, dict)
    assert order["payment_history"][-2:] == [  # type: ignore[index]
        {"transaction_type": "payment", "amount": 4079.45, "payment_method_id": "credit_card_9789590"},
        {"transaction_type": "refund", "amount": 4079.45, "payment_method_id": "gift_card_7219486"},
    ]
    assert _gift_balance(world, "ethan_lopez_6291", "gift_card_7219486") == round(before + 4079.45, 2)
    with pytest.raises(ToolCallError, match="exactly one payment"):
        await facade.invoke(
            "modify_pending_order_payment",
            {"order_id": "#W6779827", "payment_method_id": "gift_card_7219486"},
        )


async def test_modify_pending_order_items_only_once(facade: RetailFacade) -> None:
    arguments = {
        "order_id": "#W4776164",
        "item_ids": ["8349118980"],
        "new_item_ids": ["9647292434"],
        "payment_method_id": "credit_card_9513926",
    }
    order = await facade.invoke("modify_pending_order_items", arguments)
    assert isinstance(order, dict)
    assert order["status"] == "pending (item modified)"
    assert order["payment_history"][-1]["amount"] == pytest.approx(0.05)  # type: ignore[index]
    with pytest.raises(ToolCallError, match="Non-pending order cannot be modified"):
        await facade.invoke("modify_pending_order_items", arguments)


# Auth folding end to end -------------------------------------------------------------------------


async def test_token_expiry_mid_session_is_invisible_to_the_agent(make_world: Any) -> None:
    clock = {"now": 1_000_000.0}
    world = make_world(token_ttl_seconds=60, clock=lambda: clock["now"])
    async with world.client() as client:
        facade = RetailFacade(client)
        await facade.invoke("get_order_details", {"order_id": "#W2378156"})
        clock["now"] += 3600  # the legacy token expired; the client's own clock does not know
        order = await facade.invoke("get_order_details", {"order_id": "#W2378156"})
        assert isinstance(order, dict)
        assert client.token_fetches == 2


async def test_order_id_without_hash_gets_an_actionable_argument_error(facade: RetailFacade) -> None:
    with pytest.raises(ArgumentError, match="start with '#'"):
        await facade.invoke("get_order_details", {"order_id": "W2378156"})


def test_order_id_pattern_and_reasons_are_in_the_schema(facade: RetailFacade) -> None:
    schema = facade.operation("cancel_pending_order").input_schema()
    properties = schema["properties"]
    assert isinstance(properties, dict)
    assert properties["order_id"]["pattern"] == "^#[A-Za-z0-9]+$"
    assert properties["reason"]["enum"] == ["no longer needed", "ordered by mistake"]


def test_agent_schemas_carry_no_generated_titles_but_keep_descriptions(facade: RetailFacade) -> None:
    for operation in facade.operations():
        schema = operation.input_schema()
        assert '"title"' not in json.dumps(schema), operation.name
        assert "description" not in schema, operation.name  # the input model's docstring is for developers
        for name, prop in schema.get("properties", {}).items():
            assert prop.get("description"), (operation.name, name)


def test_validate_returns_the_checked_arguments_without_running(facade: RetailFacade) -> None:
    checked = facade.validate(
        "cancel_pending_order", {"order_id": "#W4776164", "reason": "ordered by mistake"}
    )
    assert checked == {"order_id": "#W4776164", "reason": "ordered by mistake"}
    with pytest.raises(ArgumentError, match="reason"):
        facade.validate("cancel_pending_order", {"order_id": "#W4776164", "reason": "bored"})
