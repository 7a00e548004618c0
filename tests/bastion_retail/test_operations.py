"""Each declared retail operation against the in-process legacy app (httpx.ASGITransport).

Ported from tests/bastion_facades/test_retail_operations.py (the hand-written facade), plus owner
resolution, the call scope and how many legacy requests each operation makes."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from bastion_facades import ArgumentError, CallScope, Facade, RetryPolicy, ToolCallError, UpstreamError
from bastion_legacy import INITIAL_DB_SHA256, db_sha256
from bastion_retail import OPERATIONS, RESOURCES, TRANSFER_ACKNOWLEDGEMENT, create_retail_facade

TOOLS_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "tau2-retail" / "tools_extracted.json"


def _tools() -> list[dict[str, Any]]:
    return json.loads(TOOLS_FILE.read_text(encoding="utf-8"))


# Registry ----------------------------------------------------------------------------------------


async def test_one_operation_per_benchmark_tool_with_the_same_arguments(facade: Facade) -> None:
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
        assert op.traits.access == tool["tool_type"].lower()
        assert op.traits.destructive == (op.traits.access == "write")
        assert op.read_only == (op.traits.access != "write")


async def test_operations_name_the_resource_they_act_on(facade: Facade) -> None:
    resources = facade.resources()
    assert set(resources) == {"user", "order"}
    assert resources["user"].argument == "user_id" and resources["user"].self_owned
    assert resources["order"].argument == "order_id" and not resources["order"].self_owned
    for op in facade.operations():
        args = op.input_model.model_fields
        if op.traits.resource is not None:
            assert resources[op.traits.resource].argument in args
        else:
            assert "order_id" not in args and "user_id" not in args


async def test_descriptions_carry_no_example_values(facade: Facade) -> None:
    for op in facade.operations():
        texts = [op.description] + [str(f.description) for f in op.input_model.model_fields.values()]
        for text in texts:
            assert "such as" not in text
            assert not re.search(r"\d{3,}|#W\d|@example|_\d{3}", text), (op.name, text)


# Arguments ---------------------------------------------------------------------------------------


async def test_invalid_arguments_raise_a_readable_argument_error(facade: Facade) -> None:
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


async def test_unknown_operation_is_an_argument_error(facade: Facade) -> None:
    with pytest.raises(ArgumentError, match="unknown operation"):
        await facade.invoke("drop_tables", {})


# Reads -------------------------------------------------------------------------------------------


async def test_find_user_by_email_and_by_name_zip(facade: Facade) -> None:
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
    facade: Facade, name: str, arguments: dict[str, str], words: str
) -> None:
    with pytest.raises(ToolCallError) as caught:
        await facade.invoke(name, arguments)
    assert words in caught.value.message
    assert re.search(r"\b(use|look up|check|find|ask)\b", caught.value.message, re.IGNORECASE)
    assert "traceId" not in caught.value.message


async def test_get_user_details_is_trimmed(facade: Facade) -> None:
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


async def test_gift_card_balances_are_shown(facade: Facade) -> None:
    user = await facade.invoke("get_user_details", {"user_id": "james_li_5688"})
    assert isinstance(user, dict)
    methods: list[Any] = user["payment_methods"]  # type: ignore[assignment]
    gift = next(m for m in methods if m["type"] == "gift_card")
    assert gift["payment_method_id"] == "gift_card_1725971"
    assert isinstance(gift["balance"], float)


async def test_get_order_details_is_trimmed(facade: Facade) -> None:
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


async def test_get_product_and_item_details(facade: Facade) -> None:
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


async def test_list_all_product_types_folds_pages_and_sorts(facade: Facade, world: Any) -> None:
    products = await facade.invoke("list_all_product_types", {})
    assert isinstance(products, dict)
    expected = {p["name"]: p["product_id"] for p in world.store.export()["products"].values()}
    assert products == expected
    assert list(products) == sorted(products)
    assert len(products) == 50


async def test_calculate_matches_the_benchmark(facade: Facade) -> None:
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
async def test_calculate_refuses_anything_but_arithmetic(facade: Facade, expression: str) -> None:
    with pytest.raises(ToolCallError):
        await facade.invoke("calculate", {"expression": expression})


async def test_transfer_acknowledges(facade: Facade) -> None:
    assert (
        await facade.invoke("transfer_to_human_agents", {"summary": "wants a human"}) == "Transfer successful"
    )
    assert TRANSFER_ACKNOWLEDGEMENT == "Transfer successful"


async def test_owner_of(facade: Facade) -> None:
    assert await facade.owner_of("order", "#W2378156") == "yusuf_rossi_9620"
    assert await facade.owner_of("order", "#W0") is None
    assert await facade.owner_of("order", "W2378156") is None  # no '#': not an order id, no request
    assert await facade.owner_of("order", "#../customers") is None
    assert await facade.owner_of("user", "yusuf_rossi_9620") == "yusuf_rossi_9620"
    with pytest.raises(ArgumentError, match="unknown resource kind"):
        await facade.owner_of("invoice", "1")


# Writes ------------------------------------------------------------------------------------------


def _gift_balance(world: Any, user_id: str, method_id: str) -> float:
    return world.store.export()["users"][user_id]["payment_methods"][method_id]["balance"]


async def test_cancel_pending_order(facade: Facade, world: Any) -> None:
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


async def test_cancel_with_a_bad_reason_says_which_reasons_are_allowed(facade: Facade, world: Any) -> None:
    with pytest.raises(ArgumentError) as caught:
        await facade.invoke("cancel_pending_order", {"order_id": "#W4776164", "reason": "changed my mind"})
    assert "'no longer needed'" in str(caught.value)
    assert "'ordered by mistake'" in str(caught.value)
    assert db_sha256(world.store.export()) == INITIAL_DB_SHA256


async def test_cancel_of_a_delivered_order_is_refused(facade: Facade) -> None:
    with pytest.raises(ToolCallError, match="Non-pending order cannot be cancelled"):
        await facade.invoke("cancel_pending_order", {"order_id": "#W2378156", "reason": "no longer needed"})


async def test_exchange_and_insufficient_gift_card(facade: Facade, world: Any) -> None:
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


async def test_return_delivered_order_items(facade: Facade) -> None:
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


async def test_modify_pending_order_address(facade: Facade) -> None:
    order = await facade.invoke("modify_pending_order_address", {"order_id": "#W4776164", **_ADDRESS})
    assert isinstance(order, dict)
    assert order["address"] == _ADDRESS
    assert order["status"] == "pending"


async def test_modify_user_address(facade: Facade, world: Any) -> None:
    user = await facade.invoke("modify_user_address", {"user_id": "yusuf_rossi_9620", **_ADDRESS})
    assert isinstance(user, dict)
    assert user["address"] == _ADDRESS
    assert world.store.export()["users"]["yusuf_rossi_9620"]["address"] == _ADDRESS


async def test_modify_pending_order_payment_moves_gift_card_money(facade: Facade, world: Any) -> None:
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


async def test_modify_pending_order_items_only_once(facade: Facade) -> None:
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
    async with world.facade() as facade:
        await facade.invoke("get_order_details", {"order_id": "#W2378156"})
        clock["now"] += 3600  # the legacy token expired; the client's own clock does not know
        order = await facade.invoke("get_order_details", {"order_id": "#W2378156"})
        assert isinstance(order, dict)
    tokens = [r for r in world.transport.requests if r[1] == "/oauth/token"]
    assert len(tokens) == 2


async def test_order_id_without_hash_gets_an_actionable_argument_error(facade: Facade) -> None:
    with pytest.raises(ArgumentError, match="start with '#'"):
        await facade.invoke("get_order_details", {"order_id": "W2378156"})


def test_order_id_pattern_and_reasons_are_in_the_schema(facade: Facade) -> None:
    schema = facade.operation("cancel_pending_order").input_schema()
    properties = schema["properties"]
    assert isinstance(properties, dict)
    assert properties["order_id"]["pattern"] == "^#[A-Za-z0-9]+$"
    assert properties["reason"]["enum"] == ["no longer needed", "ordered by mistake"]


def test_agent_schemas_carry_no_generated_titles_but_keep_descriptions(facade: Facade) -> None:
    for operation in facade.operations():
        schema = operation.input_schema()
        assert '"title"' not in json.dumps(schema), operation.name
        assert "description" not in schema, operation.name  # the input model's docstring is for developers
        for name, prop in schema.get("properties", {}).items():
            assert prop.get("description"), (operation.name, name)


def test_validate_returns_the_checked_arguments_without_running(facade: Facade) -> None:
    checked = facade.validate(
        "cancel_pending_order", {"order_id": "#W4776164", "reason": "ordered by mistake"}
    )
    assert checked == {"order_id": "#W4776164", "reason": "ordered by mistake"}
    with pytest.raises(ArgumentError, match="reason"):
        facade.validate("cancel_pending_order", {"order_id": "#W4776164", "reason": "bored"})


# Traits (declared once, on the operations) ----------------------------------------------------------


def test_traits_match_the_policy_catalog_values() -> None:
    by_name = {op.name: op.traits for op in OPERATIONS}
    assert by_name["get_user_details"].data_classes == {"ADDRESS", "EMAIL_ADDRESS", "NAME", "PAYMENT_METHOD"}
    assert by_name["get_user_details"].permission_level == "CUSTOMER_READ"
    assert by_name["find_user_id_by_name_zip"].permission_level == "CUSTOMER_LOOKUP"
    assert by_name["find_user_id_by_name_zip"].data_classes == {"ADDRESS", "NAME"}
    assert by_name["cancel_pending_order"].resource == "order"
    assert by_name["cancel_pending_order"].permission_level == "CUSTOMER_WRITE"
    assert by_name["modify_user_address"].resource == "user"
    assert by_name["calculate"].access == "generic" and by_name["calculate"].permission_level == "PUBLIC"
    assert by_name["get_product_details"].data_classes == frozenset()
    assert {r.kind for r in RESOURCES} == {"user", "order"}


# The call scope: the owner look-up and the call share one GET ----------------------------------------


async def test_owner_lookup_and_get_order_details_make_one_get(facade: Facade, world: Any) -> None:
    await facade.invoke("calculate", {"expression": "1 + 1"})
    world.transport.requests.clear()
    scope = facade.scope()
    assert isinstance(scope, CallScope)
    assert await facade.owner_of("order", "#W2378156", scope=scope) == "yusuf_rossi_9620"
    order = await facade.invoke("get_order_details", {"order_id": "#W2378156"}, scope=scope)
    assert isinstance(order, dict) and order["order_id"] == "#W2378156"
    assert world.transport.resource_requests() == [("GET", "/api/v2/orders/W2378156", "")]
    assert scope.hits == 1


async def test_a_missing_order_is_asked_once_and_keeps_its_message(facade: Facade, world: Any) -> None:
    scope = facade.scope()
    assert await facade.owner_of("order", "#W0", scope=scope) is None
    with pytest.raises(ToolCallError, match="Order not found: #W0"):
        await facade.invoke("get_order_details", {"order_id": "#W0"}, scope=scope)
    assert world.transport.resource_requests() == [("GET", "/api/v2/orders/W0", "")]


async def test_writes_are_never_answered_from_the_scope(facade: Facade, world: Any) -> None:
    scope = facade.scope()
    assert await facade.owner_of("order", "#W4776164", scope=scope) == "yusuf_rossi_9620"
    arguments = {"order_id": "#W4776164", "reason": "no longer needed"}
    cancelled = await facade.invoke("cancel_pending_order", arguments, scope=scope)
    assert isinstance(cancelled, dict) and cancelled["status"] == "cancelled"
    after = await facade.invoke("get_order_details", {"order_id": "#W4776164"}, scope=scope)
    assert isinstance(after, dict) and after["status"] == "cancelled"  # the write cleared the scope
    assert [r[0] for r in world.transport.resource_requests()] == ["GET", "POST", "GET"]


async def test_an_outage_is_not_reported_as_not_found() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 300})
        return httpx.Response(503, json={"error": {"code": "SYS-503", "traceId": "t-1"}})

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with create_retail_facade(
        "http://legacy.test", "c", "s", transport=httpx.MockTransport(down), retry=RetryPolicy(sleep=sleep)
    ) as facade:
        with pytest.raises(UpstreamError) as caught:
            await facade.owner_of("order", "#W2378156")
    assert caught.value.message == (
        "The retail system failed (HTTP 503, trace t-1). Try again shortly; if it keeps failing, transfer "
        "to a human agent."
    )
    assert sleeps == [0.2, 0.4]


# How many legacy requests one call makes --------------------------------------------------------------

REQUESTS_PER_CALL: dict[str, tuple[dict[str, Any], int]] = {
    "calculate": ({"expression": "1 + 1"}, 0),
    "transfer_to_human_agents": ({"summary": "x"}, 0),
    "find_user_id_by_email": ({"email": "mia.garcia2723@example.com"}, 1),
    "find_user_id_by_name_zip": ({"first_name": "Yusuf", "last_name": "Rossi", "zip": "19122"}, 1),
    "get_order_details": ({"order_id": "#W2378156"}, 1),
    "get_product_details": ({"product_id": "1656367028"}, 1),
    "get_item_details": ({"item_id": "9690244451"}, 1),
    "get_user_details": ({"user_id": "yusuf_rossi_9620"}, 2),  # the customer, one page of orders
    "list_all_product_types": ({}, 2),  # 50 products, 25 per page
    "cancel_pending_order": ({"order_id": "#W4776164", "reason": "no longer needed"}, 1),
    "modify_pending_order_address": ({"order_id": "#W6247578", **_ADDRESS}, 1),
    "modify_pending_order_items": (
        {
            "order_id": "#W6779827",
            "item_ids": ["9624127908"],
            "new_item_ids": ["9624127908"],
            "payment_method_id": "credit_card_9789590",
        },
        1,
    ),
    "modify_pending_order_payment": (
        {"order_id": "#W6779827", "payment_method_id": "credit_card_9789590"},
        1,
    ),
    "modify_user_address": ({"user_id": "yusuf_rossi_9620", **_ADDRESS}, 1),
    "return_delivered_order_items": (
        {"order_id": "#W2378156", "item_ids": ["4602305039"], "payment_method_id": "credit_card_9513926"},
        1,
    ),
    "exchange_delivered_order_items": (
        {
            "order_id": "#W2378156",
            "item_ids": ["1151293680"],
            "new_item_ids": ["7706410293"],
            "payment_method_id": "credit_card_9513926",
        },
        1,
    ),
}


async def test_requests_per_call(facade: Facade, world: Any) -> None:
    """Legacy requests per call, besides one token request per token lifetime."""
    assert set(REQUESTS_PER_CALL) == {op.name for op in facade.operations()}
    counts: dict[str, int] = {}
    tokens = 0
    for name, (arguments, _) in REQUESTS_PER_CALL.items():
        world.transport.requests.clear()
        with contextlib.suppress(ToolCallError):  # a refused write still costs its request
            await facade.invoke(name, arguments)
        counts[name] = len(world.transport.resource_requests())
        tokens += len(world.transport.requests) - counts[name]
    assert tokens == 1  # the token hop: once, then cached
    assert counts == {name: expected for name, (_, expected) in REQUESTS_PER_CALL.items()}
