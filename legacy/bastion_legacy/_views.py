"""Verbose legacy resource shapes built from the stored documents.

The legacy API speaks its own dialect on purpose (camelCase, money objects, attribute lists,
status codes, audit blocks, HATEOAS links) so that the facades have real translation work to do.
"""

from __future__ import annotations

from typing import Any

from bastion_legacy._model import AddressDoc, OrderDoc, PaymentMethodDoc, ProductDoc, UserDoc, VariantDoc
from bastion_legacy._store import Record

CURRENCY = "USD"
_SYSTEM_USER = "LEGACY_MIGRATION_BATCH"

Json = dict[str, Any]


def order_ref(order_id: str) -> str:
    """The path segment of an order: its id without the leading ``#`` (``#W123`` -> ``W123``)."""
    return order_id[1:] if order_id.startswith("#") else order_id


def order_id_from_ref(ref: str) -> str:
    """The order id of a path segment: ``W123`` and ``%23W123`` (decoded ``#W123``) -> ``#W123``."""
    return ref if ref.startswith("#") else f"#{ref}"


def status_code(status: str) -> str:
    """A legacy status code: ``pending (item modified)`` -> ``PENDING_ITEM_MODIFIED``."""
    return "_".join(status.replace("(", " ").replace(")", " ").upper().split())


def money(amount: float) -> Json:
    """A money object (the float is passed through unchanged)."""
    return {"amount": amount, "currencyCode": CURRENCY}


def attributes(options: dict[str, str]) -> list[Json]:
    """Options as a legacy name/value attribute list (order preserved)."""
    return [{"name": k, "value": v} for k, v in options.items()]


def address(doc: AddressDoc, *, address_id: str | None = None) -> Json:
    """A legacy postal address."""
    out: Json = {
        "line1": doc["address1"],
        "line2": doc["address2"],
        "city": doc["city"],
        "stateOrProvince": doc["state"],
        "postalCode": doc["zip"],
        "countryCode": doc["country"],
    }
    if address_id is not None:
        out = {"addressId": address_id, "addressType": "DEFAULT_SHIPPING", "isDefault": True, **out}
    return out


def _audit(record: Record[Any]) -> Json:
    return {
        "createdAt": record.created_at,
        "createdBy": _SYSTEM_USER,
        "lastModifiedAt": record.updated_at,
        "lastModifiedBy": _SYSTEM_USER if record.version == 1 else "API_CLIENT",
        "version": record.version,
        "etag": record.etag,
    }


def _instrument(method: PaymentMethodDoc) -> Json:
    source = method["source"]
    card = None
    if "last_four" in method or "brand" in method:
        last_four = method.get("last_four", "")
        card = {
            "brand": method.get("brand"),
            "lastFour": last_four,
            "maskedPan": f"**** **** **** {last_four}",
        }
    balance = method.get("balance")
    stored_value = {"balance": money(balance)} if balance is not None else None
    return {
        "instrumentId": method["id"],
        "instrumentType": source.upper(),
        "status": "ACTIVE",
        "cardDetails": card,
        "storedValue": stored_value,
    }


def customer(record: Record[UserDoc], prefix: str) -> Json:
    """The full customer resource."""
    user = record.doc
    uid = user["user_id"]
    first, last = user["name"]["first_name"], user["name"]["last_name"]
    return {
        "customerId": uid,
        "customerType": "RETAIL",
        "customerStatus": "ACTIVE",
        "personalInfo": {"firstName": first, "lastName": last, "displayName": f"{first} {last}"},
        "contactInfo": {
            "emailAddress": user["email"],
            "emailVerified": True,
            "preferredContactChannel": "EMAIL",
        },
        "addresses": [address(user["address"], address_id=f"{uid}-default")],
        "paymentInstruments": [_instrument(m) for m in user["payment_methods"].values()],
        "orderHistory": {
            "totalOrders": len(user["orders"]),
            "orders": [
                {
                    "orderId": oid,
                    "orderNumber": order_ref(oid),
                    "href": f"{prefix}/orders/{order_ref(oid)}",
                }
                for oid in user["orders"]
            ],
        },
        "auditInfo": _audit(record),
        "_links": {
            "self": {"href": f"{prefix}/customers/{uid}"},
            "orders": {"href": f"{prefix}/orders?customerId={uid}"},
            "defaultAddress": {"href": f"{prefix}/customers/{uid}/addresses/default"},
        },
    }


def customer_candidate(record: Record[UserDoc], prefix: str) -> Json:
    """A customer search hit (summary)."""
    user = record.doc
    return {
        "customerId": user["user_id"],
        "displayName": f"{user['name']['first_name']} {user['name']['last_name']}",
        "emailAddress": user["email"],
        "postalCode": user["address"]["zip"],
        "matchScore": 1.0,
        "_links": {"self": {"href": f"{prefix}/customers/{user['user_id']}"}},
    }


def order(record: Record[OrderDoc], prefix: str) -> Json:
    """The full order resource."""
    doc = record.doc
    ref = order_ref(doc["order_id"])
    exchange = None
    if doc.get("exchange_items") is not None:
        diff = doc.get("exchange_price_difference")
        exchange = {
            "itemIds": doc.get("exchange_items"),
            "newItemIds": doc.get("exchange_new_items"),
            "paymentInstrumentId": doc.get("exchange_payment_method_id"),
            "priceDifference": money(diff) if diff is not None else None,
        }
    returned = None
    if doc.get("return_items") is not None:
        returned = {
            "itemIds": doc.get("return_items"),
            "paymentInstrumentId": doc.get("return_payment_method_id"),
        }
    cancel_reason = doc.get("cancel_reason")
    return {
        "orderId": doc["order_id"],
        "orderNumber": ref,
        "customerId": doc["user_id"],
        "salesChannel": "WEB",
        "orderStatus": {"code": status_code(doc["status"]), "description": doc["status"]},
        "shippingAddress": address(doc["address"]),
        "lineItems": [
            {
                "lineNumber": n,
                "itemId": item["item_id"],
                "productId": item["product_id"],
                "productName": item["name"],
                "quantity": 1,
                "unitPrice": money(item["price"]),
                "attributes": attributes(item["options"]),
            }
            for n, item in enumerate(doc["items"], start=1)
        ],
        "orderTotal": money(round(sum(item["price"] for item in doc["items"]), 2)),
        "fulfillments": [
            {"fulfillmentId": f"{ref}-F{n}", "trackingNumbers": f["tracking_id"], "itemIds": f["item_ids"]}
            for n, f in enumerate(doc["fulfillments"], start=1)
        ],
        "paymentTransactions": [
            {
                "sequence": n,
                "transactionType": p["transaction_type"].upper(),
                "amount": money(p["amount"]),
                "paymentInstrumentId": p["payment_method_id"],
            }
            for n, p in enumerate(doc["payment_history"], start=1)
        ],
        "cancellation": {"reason": cancel_reason} if cancel_reason is not None else None,
        "exchangeRequest": exchange,
        "returnRequest": returned,
        "auditInfo": _audit(record),
        "_links": {
            "self": {"href": f"{prefix}/orders/{ref}"},
            "customer": {"href": f"{prefix}/customers/{doc['user_id']}"},
        },
    }


def sku(variant: VariantDoc, product: ProductDoc, prefix: str) -> Json:
    """One purchasable item (variant) of a product."""
    return {
        "itemId": variant["item_id"],
        "productId": product["product_id"],
        "productName": product["name"],
        "attributes": attributes(variant["options"]),
        "listPrice": money(variant["price"]),
        "inventory": {
            "available": variant["available"],
            "status": "IN_STOCK" if variant["available"] else "OUT_OF_STOCK",
        },
        "_links": {
            "self": {"href": f"{prefix}/items/{variant['item_id']}"},
            "product": {"href": f"{prefix}/products/{product['product_id']}"},
        },
    }


def product(record: Record[ProductDoc], prefix: str) -> Json:
    """The full product resource with all its SKUs."""
    doc = record.doc
    return {
        "productId": doc["product_id"],
        "productName": doc["name"],
        "skuCount": len(doc["variants"]),
        "skus": [sku(v, doc, prefix) for v in doc["variants"].values()],
        "auditInfo": _audit(record),
        "_links": {"self": {"href": f"{prefix}/products/{doc['product_id']}"}},
    }


def page(data: list[Json], *, page_no: int, page_size: int, total: int, href: str) -> Json:
    """The legacy paging envelope. ``href`` is the list URL without paging parameters."""
    total_pages = max(1, -(-total // page_size))
    href = href.rstrip("?")
    sep = "&" if "?" in href else "?"
    links: Json = {"self": {"href": f"{href}{sep}page={page_no}&pageSize={page_size}"}}
    if page_no < total_pages:
        links["next"] = {"href": f"{href}{sep}page={page_no + 1}&pageSize={page_size}"}
    if page_no > 1:
        links["prev"] = {"href": f"{href}{sep}page={page_no - 1}&pageSize={page_size}"}
    return {
        "data": data,
        "paging": {"page": page_no, "pageSize": page_size, "totalItems": total, "totalPages": total_pages},
        "_links": links,
    }
