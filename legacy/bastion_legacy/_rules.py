"""The retail write rules, reproducing tau2-bench's retail tools exactly.

Each function checks everything first and raises :class:`LegacyApiError` before any change, then
mutates the documents it got from the :class:`RetailState`; the store persists the changed
documents in one transaction (and discards them if anything raised). Money is plain Python float
arithmetic, rounded with ``round(x, 2)`` exactly where the benchmark rounds, so the exported
database hashes like the benchmark's.

Source of the semantics: sierra-research/tau2-bench ``src/tau2/domains/retail/tools.py``
(commit a2c0247), checked against ``expected_train.jsonl``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bastion_legacy._errors import LegacyApiError, conflict, not_found, unprocessable
from bastion_legacy._model import AddressDoc, OrderDoc, PaymentDoc, PaymentMethodDoc, UserDoc, VariantDoc

CANCEL_REASONS = frozenset({"no longer needed", "ordered by mistake"})


class RetailState(Protocol):
    """Documents a rule may read and mutate (one unit of work)."""

    def order(self, order_id: str) -> OrderDoc | None:
        """The order document, or None."""
        ...

    def user(self, user_id: str) -> UserDoc | None:
        """The customer document, or None."""
        ...

    def product(self, product_id: str) -> dict[str, VariantDoc] | None:
        """The variants of a product keyed by item id, or None if the product does not exist."""
        ...


def get_order(state: RetailState, order_id: str) -> OrderDoc:
    """The order, or ``ORD-404 Order not found``."""
    order = state.order(order_id)
    if order is None:
        raise not_found("ORD-404", "Order not found")
    return order


def get_user(state: RetailState, user_id: str) -> UserDoc:
    """The customer, or ``CUS-404 User not found``."""
    user = state.user(user_id)
    if user is None:
        raise not_found("CUS-404", "User not found")
    return user


def _variant(state: RetailState, product_id: str, item_id: str) -> VariantDoc:
    variants = state.product(product_id)
    if variants is None:
        raise not_found("PRD-404", "Product not found")
    if item_id not in variants:
        raise unprocessable("ORD-422", "Variant not found")
    return variants[item_id]


def _payment_method(state: RetailState, user_id: str, payment_method_id: str) -> PaymentMethodDoc:
    user = get_user(state, user_id)
    if payment_method_id not in user["payment_methods"]:
        raise unprocessable("PAY-422", "Payment method not found")
    return user["payment_methods"][payment_method_id]


def _is_gift_card(method: PaymentMethodDoc) -> bool:
    return method["source"] == "gift_card"


def _balance(method: PaymentMethodDoc) -> float:
    return method.get("balance") or 0.0


def _check_items_in_order(order: OrderDoc, item_ids: Sequence[str], message: str) -> None:
    all_item_ids = [item["item_id"] for item in order["items"]]
    for item_id in item_ids:
        if item_ids.count(item_id) > all_item_ids.count(item_id):
            raise unprocessable("ORD-422", message.format(item_id=item_id))


def _price_difference(
    state: RetailState, order: OrderDoc, item_ids: Sequence[str], new_item_ids: Sequence[str], *, modify: bool
) -> tuple[float, VariantDoc | None]:
    """Sum of new minus old prices (unrounded) and the last new variant looked up."""
    diff_price: float = 0
    variant: VariantDoc | None = None
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
        if modify and item_id == new_item_id:
            raise unprocessable("ORD-422", "The new item id should be different from the old item id")
        item = next((it for it in order["items"] if it["item_id"] == item_id), None)
        if item is None:
            raise unprocessable("ORD-422", f"Item {item_id} not found")
        variant = _variant(state, item["product_id"], new_item_id)
        if not variant["available"]:
            raise unprocessable("ORD-422", f"New item {new_item_id} not found or available")
        diff_price += variant["price"] - item["price"]
    return diff_price, variant


def cancel_pending_order(state: RetailState, order_id: str, reason: str) -> OrderDoc:
    """Cancel a ``pending`` order; one refund per payment entry; gift cards credited at once."""
    order = get_order(state, order_id)
    if order["status"] != "pending":
        raise conflict("Non-pending order cannot be cancelled")
    if reason not in CANCEL_REASONS:
        raise unprocessable("ORD-422", "Invalid reason")
    methods = [
        _payment_method(state, order["user_id"], payment["payment_method_id"])
        for payment in order["payment_history"]
    ]
    refunds: list[PaymentDoc] = []
    for payment, method in zip(order["payment_history"], methods, strict=True):
        refunds.append(
            {
                "transaction_type": "refund",
                "amount": payment["amount"],
                "payment_method_id": payment["payment_method_id"],
            }
        )
        if _is_gift_card(method):
            method["balance"] = round(_balance(method) + payment["amount"], 2)
    order["status"] = "cancelled"
    order["cancel_reason"] = reason
    order["payment_history"].extend(refunds)
    return order


def exchange_delivered_order_items(
    state: RetailState,
    order_id: str,
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    payment_method_id: str,
) -> OrderDoc:
    """Request an exchange of delivered items for available variants of the same products."""
    order = get_order(state, order_id)
    if order["status"] != "delivered":
        raise conflict("Non-delivered order cannot be exchanged")
    _check_items_in_order(order, item_ids, "Number of {item_id} not found.")
    if len(item_ids) != len(new_item_ids):
        raise unprocessable("ORD-422", "The number of items to be exchanged should match.")
    diff, _ = _price_difference(state, order, item_ids, new_item_ids, modify=False)
    diff_price = round(diff, 2)
    method = _payment_method(state, order["user_id"], payment_method_id)
    if _is_gift_card(method) and _balance(method) < diff_price:
        raise unprocessable("PAY-422", "Insufficient gift card balance to pay for the price difference")
    order["status"] = "exchange requested"
    order["exchange_items"] = sorted(item_ids)
    order["exchange_new_items"] = sorted(new_item_ids)
    order["exchange_payment_method_id"] = payment_method_id
    order["exchange_price_difference"] = float(diff_price)
    return order


def return_delivered_order_items(
    state: RetailState, order_id: str, item_ids: Sequence[str], payment_method_id: str
) -> OrderDoc:
    """Request a return of delivered items, refunded to the original method or a gift card."""
    order = get_order(state, order_id)
    if order["status"] != "delivered":
        raise conflict("Non-delivered order cannot be returned")
    method = _payment_method(state, order["user_id"], payment_method_id)
    if not _is_gift_card(method) and payment_method_id != order["payment_history"][0]["payment_method_id"]:
        raise unprocessable(
            "PAY-422", "Payment method should be either the original payment method or a gift card"
        )
    _check_items_in_order(order, item_ids, "Some item not found")
    order["status"] = "return requested"
    order["return_items"] = sorted(item_ids)
    order["return_payment_method_id"] = payment_method_id
    return order


def modify_pending_order_address(state: RetailState, order_id: str, address: AddressDoc) -> OrderDoc:
    """Replace the shipping address of an order whose status contains ``pending``."""
    order = get_order(state, order_id)
    if "pending" not in order["status"]:
        raise conflict("Non-pending order cannot be modified")
    order["address"] = address
    return order


def modify_pending_order_items(
    state: RetailState,
    order_id: str,
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    payment_method_id: str,
    *,
    benchmark_item_modification_quirk: bool,
) -> OrderDoc:
    """Swap items of a ``pending`` order for other variants; pay or refund the difference.

    With ``benchmark_item_modification_quirk`` every modified line takes its price and options
    from the *last* new item of the call, as the benchmark does; without it each line takes its
    own new variant's price and options.
    """
    order = get_order(state, order_id)
    if order["status"] != "pending":
        raise conflict("Non-pending order cannot be modified")
    _check_items_in_order(order, item_ids, "{item_id} not found")
    if len(item_ids) != len(new_item_ids):
        raise unprocessable("ORD-422", "The number of items to be exchanged should match")
    diff_price, last_variant = _price_difference(state, order, item_ids, new_item_ids, modify=True)
    method = _payment_method(state, order["user_id"], payment_method_id)
    if _is_gift_card(method) and _balance(method) < diff_price:
        raise unprocessable("PAY-422", "Insufficient gift card balance to pay for the new item")

    order["payment_history"].append(
        {
            "transaction_type": "payment" if diff_price > 0 else "refund",
            "amount": float(abs(diff_price)),
            "payment_method_id": payment_method_id,
        }
    )
    if _is_gift_card(method):
        method["balance"] = round(_balance(method) - diff_price, 2)
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
        item = next(it for it in order["items"] if it["item_id"] == item_id)
        own_variant = _variant(state, item["product_id"], new_item_id)
        source = last_variant if benchmark_item_modification_quirk and last_variant else own_variant
        item["item_id"] = new_item_id
        item["price"] = source["price"]
        item["options"] = dict(source["options"])
    order["status"] = "pending (item modified)"
    return order


def modify_pending_order_payment(state: RetailState, order_id: str, payment_method_id: str) -> OrderDoc:
    """Move a pending order's single payment to another method (a payment and a refund appended)."""
    order = get_order(state, order_id)
    if "pending" not in order["status"]:
        raise conflict("Non-pending order cannot be modified")
    method = _payment_method(state, order["user_id"], payment_method_id)
    history = order["payment_history"]
    if len(history) != 1 or history[0]["transaction_type"] != "payment":
        raise unprocessable("ORD-422", "There should be exactly one payment for a pending order")
    old_method_id = history[0]["payment_method_id"]
    if old_method_id == payment_method_id:
        raise unprocessable("PAY-422", "The new payment method should be different from the current one")
    amount = history[0]["amount"]
    if _is_gift_card(method) and _balance(method) < amount:
        raise unprocessable("PAY-422", "Insufficient gift card balance to pay for the order")
    old_method = _payment_method(state, order["user_id"], old_method_id)

    history.extend(
        [
            {"transaction_type": "payment", "amount": amount, "payment_method_id": payment_method_id},
            {"transaction_type": "refund", "amount": amount, "payment_method_id": old_method_id},
        ]
    )
    if _is_gift_card(method):
        method["balance"] = round(_balance(method) - amount, 2)
    if _is_gift_card(old_method):
        old_method["balance"] = round(_balance(old_method) + amount, 2)
    return order


def modify_user_address(state: RetailState, user_id: str, address: AddressDoc) -> UserDoc:
    """Replace a customer's default address."""
    user = get_user(state, user_id)
    user["address"] = address
    return user


__all__ = [
    "CANCEL_REASONS",
    "LegacyApiError",
    "RetailState",
    "cancel_pending_order",
    "exchange_delivered_order_items",
    "get_order",
    "get_user",
    "modify_pending_order_address",
    "modify_pending_order_items",
    "modify_pending_order_payment",
    "modify_user_address",
    "return_delivered_order_items",
]
