"""Parity: every retail operation gives byte-identical results and error messages through today's
hand-written ``RetailFacade`` and the declarative facade, on many real inputs (fresh databases each)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _reference_retail import RetailFacade
from bastion_facades import Facade, FacadeError
from bastion_legacy import INITIAL_DB_SHA256, db_sha256

RetailWorld = Any  # conftest.RetailWorld (fixtures, not imports: conftest modules share one name)
WorldFactory = Any

Call = tuple[str, dict[str, Any]]


async def _outcome(facade: Facade | RetailFacade, name: str, arguments: dict[str, Any]) -> str:
    try:
        return "ok " + json.dumps(await facade.invoke(name, arguments))  # key order included
    except FacadeError as exc:
        return f"{type(exc).__name__}: {exc}"


async def _compare(make_world: WorldFactory, calls: list[Call]) -> tuple[RetailWorld, list[str]]:
    """Run ``calls`` in order on both facades, each over its own fresh database; assert identical.

    Returns:
        The old facade's world and the outcomes (``ok <json>`` or ``<ErrorType>: <message>``).
    """
    old_world, new_world = make_world("old"), make_world("new")
    client, old = old_world.old_facade()
    mismatches: list[str] = []
    outcomes: list[str] = []
    async with client, new_world.facade() as new:
        for name, arguments in calls:
            expected = await _outcome(old, name, arguments)
            got = await _outcome(new, name, arguments)
            outcomes.append(got)
            if got != expected:
                mismatches.append(f"{name}({arguments}):\n  old: {expected[:400]}\n  new: {got[:400]}")
    assert not mismatches, f"{len(mismatches)} of {len(calls)} calls differ:\n" + "\n".join(mismatches[:10])
    assert db_sha256(old_world.store.export()) == db_sha256(new_world.store.export())
    return old_world, outcomes


@pytest.fixture(scope="module")
def data(seed_path: Any) -> dict[str, Any]:
    return json.loads(seed_path.read_text(encoding="utf-8"))


def _orders_with(data: dict[str, Any], status: str, count: int) -> list[dict[str, Any]]:
    return [o for o in data["orders"].values() if o["status"] == status][:count]


def _other_variant(data: dict[str, Any], item: dict[str, Any], *, available: bool = True) -> str | None:
    variants = data["products"][item["product_id"]]["variants"]
    return next(
        (k for k, v in variants.items() if k != item["item_id"] and v["available"] == available), None
    )


async def test_reads_are_identical(make_world: WorldFactory, data: dict[str, Any]) -> None:
    users = list(data["users"].values())[::10]  # 50 users
    orders = list(data["orders"].values())[::12]  # 84 orders, every status
    calls: list[Call] = [("list_all_product_types", {})]
    calls += [("get_user_details", {"user_id": u["user_id"]}) for u in users]
    calls += [("find_user_id_by_email", {"email": u["email"]}) for u in users]
    calls += [
        (
            "find_user_id_by_name_zip",
            {
                "first_name": u["name"]["first_name"],
                "last_name": u["name"]["last_name"],
                "zip": u["address"]["zip"],
            },
        )
        for u in users[:20]
    ]
    calls += [("get_order_details", {"order_id": o["order_id"]}) for o in orders]
    calls += [("get_product_details", {"product_id": p}) for p in data["products"]]
    items = [i for p in data["products"].values() for i in p["variants"]][::5]
    calls += [("get_item_details", {"item_id": i}) for i in items]
    calls += [
        ("calculate", {"expression": e})
        for e in ("2 + 2", "(1 + 2) * 3 / 4", "135.24 - 153.23", "1 / 0", "2 +", "")
    ]
    calls += [("transfer_to_human_agents", {"summary": "wants a human"})]
    assert len(calls) > 350
    await _compare(make_world, calls)


async def test_errors_are_identical(make_world: WorldFactory, data: dict[str, Any]) -> None:
    calls: list[Call] = [
        ("get_user_details", {"user_id": "nobody_0"}),
        ("get_user_details", {"user_id": "a b/c"}),
        ("get_order_details", {"order_id": "#W0"}),
        ("get_order_details", {"order_id": "#9502126"}),
        ("get_order_details", {"order_id": "W2378156"}),
        ("get_order_details", {"orderid": "#W2378156"}),
        ("get_product_details", {"product_id": "6086499569"}),
        ("get_product_details", {"product_id": "9690244451"}),  # an item id
        ("get_item_details", {"item_id": "1656367028"}),  # a product id
        ("get_item_details", {"item_id": "x?y=1"}),
        ("find_user_id_by_email", {"email": "aarav.santos8321@example.com"}),
        ("find_user_id_by_email", {"email": ""}),
        ("find_user_id_by_name_zip", {"first_name": "Noah", "last_name": "Ito", "zip": "98178"}),
        ("cancel_pending_order", {"order_id": "#W4776164", "reason": "changed my mind"}),
        ("cancel_pending_order", {"order_id": "#W0", "reason": "no longer needed"}),
        (
            "modify_user_address",
            {
                "user_id": "nobody_0",
                "address1": "a",
                "address2": "",
                "city": "c",
                "state": "s",
                "country": "x",
                "zip": "1",
            },
        ),
        ("return_delivered_order_items", {"order_id": "#W1", "item_ids": "1", "payment_method_id": "x"}),
        ("drop_tables", {}),
    ]
    _, outcomes = await _compare(make_world, calls)
    assert all(not o.startswith("ok ") for o in outcomes)


def _write_calls(data: dict[str, Any]) -> list[Call]:
    calls: list[Call] = []
    address = {
        "address1": "1 New Street",
        "address2": "",
        "city": "Springfield",
        "state": "IL",
        "country": "USA",
        "zip": "62701",
    }
    pending = _orders_with(data, "pending", 24)
    delivered = _orders_with(data, "delivered", 16)
    processed = _orders_with(data, "processed", 3)
    cancelled = _orders_with(data, "cancelled", 3)

    def methods(order: dict[str, Any]) -> list[str]:
        return list(data["users"][order["user_id"]]["payment_methods"])

    def paid_with(order: dict[str, Any]) -> str:
        return order["payment_history"][0]["payment_method_id"]

    for order in pending[0:4]:
        calls.append(("cancel_pending_order", {"order_id": order["order_id"], "reason": "no longer needed"}))
        calls.append(
            ("cancel_pending_order", {"order_id": order["order_id"], "reason": "ordered by mistake"})
        )
    for order in pending[4:8]:
        calls.append(("modify_pending_order_address", {"order_id": order["order_id"], **address}))
    for order in pending[8:14]:
        for method in [*methods(order), "credit_card_0000000"]:
            calls.append(
                ("modify_pending_order_payment", {"order_id": order["order_id"], "payment_method_id": method})
            )
    for order in pending[14:20]:
        item = order["items"][0]
        new = _other_variant(data, item)
        unavailable = _other_variant(data, item, available=False)
        base = {"order_id": order["order_id"], "payment_method_id": paid_with(order)}
        if unavailable:
            calls.append(
                (
                    "modify_pending_order_items",
                    {**base, "item_ids": [item["item_id"]], "new_item_ids": [unavailable]},
                )
            )
        calls.append(
            (
                "modify_pending_order_items",
                {**base, "item_ids": [item["item_id"]], "new_item_ids": ["0000000000"]},
            )
        )
        calls.append(
            ("modify_pending_order_items", {**base, "item_ids": ["1111111111"], "new_item_ids": [new or "x"]})
        )
        if new:
            calls.append(
                ("modify_pending_order_items", {**base, "item_ids": [item["item_id"]], "new_item_ids": [new]})
            )
            calls.append(
                ("modify_pending_order_items", {**base, "item_ids": [item["item_id"]], "new_item_ids": [new]})
            )
    for order in delivered[0:8]:
        item = order["items"][0]
        new = _other_variant(data, item)
        base = {"order_id": order["order_id"], "payment_method_id": paid_with(order)}
        calls.append(
            (
                "exchange_delivered_order_items",
                {**base, "item_ids": [item["item_id"]], "new_item_ids": [item["item_id"], "x"]},
            )
        )
        if new:
            calls.append(
                (
                    "exchange_delivered_order_items",
                    {**base, "item_ids": [item["item_id"]], "new_item_ids": [new]},
                )
            )
        calls.append(("return_delivered_order_items", {**base, "item_ids": [item["item_id"]]}))
    for order in delivered[8:16]:
        base = {"order_id": order["order_id"], "item_ids": [i["item_id"] for i in order["items"]]}
        for method in methods(order):
            calls.append(("return_delivered_order_items", {**base, "payment_method_id": method}))
        calls.append(("get_order_details", {"order_id": order["order_id"]}))
    for order in [*processed, *cancelled, *delivered[:2]]:
        oid = order["order_id"]
        item = order["items"][0]["item_id"]
        calls.append(("cancel_pending_order", {"order_id": oid, "reason": "no longer needed"}))
        calls.append(("modify_pending_order_address", {"order_id": oid, **address}))
        calls.append(
            ("modify_pending_order_payment", {"order_id": oid, "payment_method_id": paid_with(order)})
        )
        calls.append(
            (
                "modify_pending_order_items",
                {
                    "order_id": oid,
                    "item_ids": [item],
                    "new_item_ids": [item],
                    "payment_method_id": paid_with(order),
                },
            )
        )
    for order in [*processed, *cancelled, *pending[20:22]]:
        base = {"order_id": order["order_id"], "payment_method_id": paid_with(order)}
        item = order["items"][0]["item_id"]
        calls.append(("return_delivered_order_items", {**base, "item_ids": [item]}))
        calls.append(("exchange_delivered_order_items", {**base, "item_ids": [item], "new_item_ids": [item]}))
    for user in list(data["users"].values())[:6]:
        calls.append(("modify_user_address", {"user_id": user["user_id"], **address}))
        calls.append(("get_user_details", {"user_id": user["user_id"]}))
    for order in pending[:22]:
        calls.append(("get_order_details", {"order_id": order["order_id"]}))
    return calls


async def test_writes_are_identical_and_leave_identical_databases(
    make_world: WorldFactory, data: dict[str, Any]
) -> None:
    calls = _write_calls(data)
    assert len(calls) > 150
    old_world, outcomes = await _compare(make_world, calls)
    successes = sum(o.startswith("ok ") for o in outcomes)
    assert 60 < successes < len(outcomes) - 60, successes  # many of both kinds
    # the writes did something: the database moved away from the seed
    assert db_sha256(old_world.store.export()) != INITIAL_DB_SHA256


@pytest.mark.slow
async def test_the_74_benchmark_tasks_give_identical_results(
    make_world: WorldFactory, expected_tasks: list[dict[str, Any]]
) -> None:
    assert len(expected_tasks) == 74
    for task in expected_tasks:
        world, _ = await _compare(make_world, [(a["name"], a["arguments"]) for a in task["actions"]])
        assert db_sha256(world.store.export()) == task["final_db_sha256"], task["task_id"]
