"""Trimmed, agent-readable views of the legacy retail resources."""

from __future__ import annotations

from typing import Any

from bastion_facades._types import JsonObject, JsonValue, LegacyJson

from _reference_retail._trim import cap_list, capped_fields, pick, project

MAX_ORDERS_SHOWN = 25
MAX_VARIANTS_SHOWN = 50

_ADDRESS = {
    "address1": "line1",
    "address2": "line2",
    "city": "city",
    "state": "stateOrProvince",
    "country": "countryCode",
    "zip": "postalCode",
}


def address(legacy: LegacyJson) -> JsonObject:
    """A benchmark-shaped address (``address1`` ... ``zip``) from a legacy address."""
    return project(legacy, _ADDRESS, drop_none=False)


def legacy_address(
    address1: str, address2: str, city: str, state: str, country: str, zip_code: str
) -> LegacyJson:
    """A legacy address payload from benchmark-shaped fields."""
    return {
        "line1": address1,
        "line2": address2,
        "city": city,
        "stateOrProvince": state,
        "postalCode": zip_code,
        "countryCode": country,
    }


def options(attributes: list[Any] | None) -> JsonObject:
    """A name -> value dict from a legacy attribute list."""
    return {str(a["name"]): a["value"] for a in attributes or []}


def _payment_method(instrument: LegacyJson) -> JsonObject:
    out: JsonObject = {
        "payment_method_id": instrument["instrumentId"],
        "type": str(instrument["instrumentType"]).lower(),
    }
    out.update(project(instrument, {"brand": "cardDetails.brand", "last_four": "cardDetails.lastFour"}))
    balance = pick(instrument, "storedValue.balance.amount")
    if balance is not None:
        out["balance"] = balance
    return out


def user(customer: LegacyJson, order_statuses: dict[str, str] | None = None) -> JsonObject:
    """A customer: name, e-mail, default address, payment methods, order ids (capped, counted)."""
    addresses = customer.get("addresses") or []
    default = next((a for a in addresses if a.get("isDefault")), addresses[0] if addresses else {})
    history = customer.get("orderHistory") or {}
    order_ids = [str(o["orderId"]) for o in history.get("orders") or []]
    orders: list[JsonValue]
    if order_statuses is None:
        orders = list(order_ids)
    else:
        orders = [{"order_id": oid, "status": order_statuses.get(oid, "unknown")} for oid in order_ids]
    out: JsonObject = {
        "user_id": customer["customerId"],
        "name": project(
            customer, {"first_name": "personalInfo.firstName", "last_name": "personalInfo.lastName"}
        ),
        "email": pick(customer, "contactInfo.emailAddress"),
        "address": address(default),
        "payment_methods": [_payment_method(i) for i in customer.get("paymentInstruments") or []],
    }
    out.update(
        capped_fields(
            "orders", cap_list(orders, MAX_ORDERS_SHOWN, total=history.get("totalOrders")), "order_count"
        )
    )
    return out


def order(legacy: LegacyJson) -> JsonObject:
    """An order: status, address, items, fulfilments, payments and any request on it."""
    out: JsonObject = {
        "order_id": legacy["orderId"],
        "user_id": legacy["customerId"],
        "status": pick(legacy, "orderStatus.description"),
        "address": address(legacy.get("shippingAddress") or {}),
        "items": [
            {
                "item_id": line["itemId"],
                "product_id": line["productId"],
                "name": line["productName"],
                "price": pick(line, "unitPrice.amount"),
                "options": options(line.get("attributes")),
            }
            for line in legacy.get("lineItems") or []
        ],
        "fulfillments": [
            {"tracking_ids": f.get("trackingNumbers") or [], "item_ids": f.get("itemIds") or []}
            for f in legacy.get("fulfillments") or []
        ],
        "payment_history": [
            {
                "transaction_type": str(t["transactionType"]).lower(),
                "amount": pick(t, "amount.amount"),
                "payment_method_id": t["paymentInstrumentId"],
            }
            for t in legacy.get("paymentTransactions") or []
        ],
    }
    reason = pick(legacy, "cancellation.reason")
    if reason is not None:
        out["cancel_reason"] = reason
    if legacy.get("exchangeRequest"):
        out["exchange"] = project(
            legacy["exchangeRequest"],
            {
                "item_ids": "itemIds",
                "new_item_ids": "newItemIds",
                "payment_method_id": "paymentInstrumentId",
                "price_difference": "priceDifference.amount",
            },
        )
    if legacy.get("returnRequest"):
        out["return"] = project(
            legacy["returnRequest"], {"item_ids": "itemIds", "payment_method_id": "paymentInstrumentId"}
        )
    return out


def variant(sku: LegacyJson) -> JsonObject:
    """One item (variant): id, options, price, availability."""
    return {
        "item_id": sku["itemId"],
        "options": options(sku.get("attributes")),
        "price": pick(sku, "listPrice.amount"),
        "available": bool(pick(sku, "inventory.available", False)),
    }


def product(legacy: LegacyJson) -> JsonObject:
    """A product with its variants (capped, counted)."""
    variants: list[JsonValue] = [variant(s) for s in legacy.get("skus") or []]
    out: JsonObject = {"product_id": legacy["productId"], "name": legacy["productName"]}
    out.update(capped_fields("variants", cap_list(variants, MAX_VARIANTS_SHOWN), "variant_count"))
    return out


def item(sku: LegacyJson) -> JsonObject:
    """An item with the product it belongs to."""
    out: JsonObject = {
        "item_id": sku["itemId"],
        "product_id": sku["productId"],
        "product_name": sku["productName"],
    }
    out.update({k: v for k, v in variant(sku).items() if k != "item_id"})
    return out
