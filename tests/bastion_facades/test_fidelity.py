"""THE fidelity test: replaying the benchmark's expected actions reproduces its database hashes."""

from __future__ import annotations

from typing import Any

from bastion_facades import FacadeError, RetailFacade
from bastion_legacy import db_sha256


async def test_all_74_train_tasks_reproduce_the_benchmark_hash(
    make_world: Any, expected_tasks: list[dict[str, Any]]
) -> None:
    assert len(expected_tasks) == 74
    mismatches: list[str] = []
    for task in expected_tasks:
        world = make_world(f"task-{task['task_id']}")
        oks: list[bool] = []
        async with world.client() as client:
            facade = RetailFacade(client)
            for action in task["actions"]:
                try:
                    await facade.invoke(action["name"], action["arguments"])
                    oks.append(True)
                except FacadeError:
                    oks.append(False)
        expected_oks = [a["ok"] for a in task["actions"]]
        if oks != expected_oks:
            mismatches.append(f"task {task['task_id']}: ok {oks} != expected {expected_oks}")
        digest = db_sha256(world.store.export())
        if digest != task["final_db_sha256"]:
            mismatches.append(f"task {task['task_id']}: hash {digest} != {task['final_db_sha256']}")
    assert not mismatches, "\n".join(mismatches)


async def test_without_the_quirk_each_modified_line_takes_its_own_variant(make_world: Any) -> None:
    world = make_world(benchmark_item_modification_quirk=False)
    products = world.store.export()["products"]
    arguments = {
        "order_id": "#W4776164",
        "item_ids": ["8349118980", "6324294385"],
        "payment_method_id": "credit_card_9513926",
    }
    new_ids: list[str] = []
    for old_id, product_id in (("8349118980", "9523456873"), ("6324294385", "4354588079")):
        variants = products[product_id]["variants"]
        new_ids.append(next(k for k, v in variants.items() if k != old_id and v["available"]))
    async with world.client() as client:
        result = await RetailFacade(client).invoke(
            "modify_pending_order_items", {**arguments, "new_item_ids": new_ids}
        )
    assert isinstance(result, dict)
    lines: list[Any] = result["items"]  # type: ignore[assignment]
    prices = {line["item_id"]: line["price"] for line in lines}
    first = products["9523456873"]["variants"][new_ids[0]]
    second = products["4354588079"]["variants"][new_ids[1]]
    assert prices[new_ids[0]] == first["price"]
    assert prices[new_ids[1]] == second["price"]
    assert first["price"] != second["price"]


async def test_with_the_quirk_each_modified_line_takes_the_last_new_variant(make_world: Any) -> None:
    world = make_world()
    products = world.store.export()["products"]
    new_ids: list[str] = []
    for old_id, product_id in (("8349118980", "9523456873"), ("6324294385", "4354588079")):
        variants = products[product_id]["variants"]
        new_ids.append(next(k for k, v in variants.items() if k != old_id and v["available"]))
    async with world.client() as client:
        await RetailFacade(client).invoke(
            "modify_pending_order_items",
            {
                "order_id": "#W4776164",
                "item_ids": ["8349118980", "6324294385"],
                "new_item_ids": new_ids,
                "payment_method_id": "credit_card_9513926",
            },
        )
    lines = world.store.export()["orders"]["#W4776164"]["items"]
    last = products["4354588079"]["variants"][new_ids[1]]
    assert [line["price"] for line in lines] == [last["price"], last["price"]]
    assert lines[0]["options"] == last["options"]
