"""The legacy resource API: shapes, pagination, search, error envelope, writes."""

from __future__ import annotations

import httpx
import pytest
from bastion_legacy import LegacyStore, db_sha256


async def test_products_are_paginated_with_at_most_25_per_page(
    http: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    first = (await http.get("/api/v2/products", params={"pageSize": 25}, headers=auth)).json()
    assert first["paging"] == {"page": 1, "pageSize": 25, "totalItems": 50, "totalPages": 2}
    assert "next" in first["_links"]
    second = (await http.get("/api/v2/products", params={"page": 2, "pageSize": 25}, headers=auth)).json()
    assert "next" not in second["_links"]
    ids = [p["productId"] for p in first["data"] + second["data"]]
    assert len(ids) == len(set(ids)) == 50
    default = (await http.get("/api/v2/products", headers=auth)).json()
    assert len(default["data"]) == 10


@pytest.mark.parametrize("params", [{"pageSize": 26}, {"pageSize": 0}, {"page": 0}])
async def test_bad_paging_is_a_400_envelope(
    http: httpx.AsyncClient, auth: dict[str, str], params: dict[str, int]
) -> None:
    response = await http.get("/api/v2/products", params=params, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "REQ-400"


async def test_product_resource_is_verbose(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    product = (await http.get("/api/v2/products/1656367028", headers=auth)).json()
    assert product["productName"] == "Mechanical Keyboard"
    sku = next(s for s in product["skus"] if s["itemId"] == "9690244451")
    assert sku["listPrice"] == {"amount": 236.51, "currencyCode": "USD"}
    assert sku["inventory"]["available"] is False
    assert {"name": "size", "value": "60%"} in sku["attributes"]
    assert product["auditInfo"]["version"] == 1
    assert product["_links"]["self"]["href"] == "/api/v2/products/1656367028"


async def test_search_by_email_is_case_insensitive(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = (
        await http.get("/api/v2/customers", params={"email": "Mia.Garcia2723@example.com"}, headers=auth)
    ).json()
    assert [c["customerId"] for c in body["data"]] == ["mia_garcia_4516"]
    assert body["paging"]["totalItems"] == 1


async def test_search_by_name_and_zip(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    params = {"firstName": "yusuf", "lastName": "ROSSI", "postalCode": "19122"}
    body = (await http.get("/api/v2/customers", params=params, headers=auth)).json()
    assert [c["customerId"] for c in body["data"]] == ["yusuf_rossi_9620"]
    miss = (
        await http.get("/api/v2/customers", params={**params, "postalCode": "19123"}, headers=auth)
    ).json()
    assert miss["data"] == []
    assert miss["paging"]["totalItems"] == 0


async def test_search_needs_full_criteria(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await http.get("/api/v2/customers", params={"firstName": "Yusuf"}, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "REQ-400"


async def test_order_path_takes_the_id_without_hash_or_url_encoded(
    http: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    plain = await http.get("/api/v2/orders/W2378156", headers=auth)
    encoded = await http.get("/api/v2/orders/%23W2378156", headers=auth)
    assert plain.status_code == encoded.status_code == 200
    order = plain.json()
    assert order["orderId"] == "#W2378156"
    assert order["orderStatus"] == {"code": "DELIVERED", "description": "delivered"}
    assert order["customerId"] == "yusuf_rossi_9620"
    assert len(order["lineItems"]) == 5


async def test_orders_filter_by_customer(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = (await http.get("/api/v2/orders", params={"customerId": "yusuf_rossi_9620"}, headers=auth)).json()
    customer = (await http.get("/api/v2/customers/yusuf_rossi_9620", headers=auth)).json()
    assert {o["orderId"] for o in body["data"]} == {o["orderId"] for o in customer["orderHistory"]["orders"]}
    assert all(o["customerId"] == "yusuf_rossi_9620" for o in body["data"])


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/api/v2/orders/9502126", "ORD-404", "Order not found"),
        ("/api/v2/customers/nobody_1", "CUS-404", "User not found"),
        ("/api/v2/products/6086499569", "PRD-404", "Product not found"),
        ("/api/v2/items/123", "ITM-404", "Item not found"),
    ],
)
async def test_not_found_uses_the_error_envelope(
    http: httpx.AsyncClient, auth: dict[str, str], path: str, code: str, message: str
) -> None:
    response = await http.get(path, headers=auth)
    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["message"], error["status"]) == (code, message, 404)
    assert error["traceId"] == response.headers["X-Trace-Id"]


async def test_item_lookup(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    item = (await http.get("/api/v2/items/9690244451", headers=auth)).json()
    assert (item["productId"], item["productName"]) == ("1656367028", "Mechanical Keyboard")


async def test_cancel_refunds_to_gift_card_and_bumps_version(
    http: httpx.AsyncClient, auth: dict[str, str], store: LegacyStore
) -> None:
    order_id = "#W2611340"
    store.apply(lambda s: s.order(order_id).__setitem__("status", "pending"))  # type: ignore[union-attr]
    before = store.export()["users"]["james_li_5688"]["payment_methods"]["gift_card_1725971"].get("balance")
    response = await http.post(
        "/api/v2/orders/W2611340/cancellation", json={"reason": "ordered by mistake"}, headers=auth
    )
    assert response.status_code == 200, response.text
    order = response.json()
    assert order["orderStatus"]["description"] == "cancelled"
    assert order["cancellation"] == {"reason": "ordered by mistake"}
    assert order["paymentTransactions"][-1]["transactionType"] == "REFUND"
    assert order["auditInfo"]["version"] == 3
    after = store.export()["users"]["james_li_5688"]["payment_methods"]["gift_card_1725971"].get("balance")
    assert before is not None
    assert after == round(before + 536.65, 2)


async def test_failed_write_is_a_409_and_changes_nothing(
    http: httpx.AsyncClient, auth: dict[str, str], store: LegacyStore
) -> None:
    before = db_sha256(store.export())
    response = await http.post(
        "/api/v2/orders/W2378156/cancellation", json={"reason": "no longer needed"}, headers=auth
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "ORD-409",
        "message": "Non-pending order cannot be cancelled",
        "status": 409,
        "traceId": response.json()["error"]["traceId"],
    }
    assert db_sha256(store.export()) == before


async def test_insufficient_gift_card_is_a_422_and_changes_nothing(
    http: httpx.AsyncClient, auth: dict[str, str], store: LegacyStore
) -> None:
    before = db_sha256(store.export())
    body = {
        "itemIds": ["7292993796", "7292993796"],
        "newItemIds": ["3761330360", "9647374798"],
        "paymentInstrumentId": "gift_card_7245904",
    }
    response = await http.post("/api/v2/orders/W4316152/exchange-requests", json=body, headers=auth)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (
        "PAY-422",
        "Insufficient gift card balance to pay for the price difference",
    )
    assert db_sha256(store.export()) == before


async def test_malformed_body_is_a_400_envelope(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await http.post("/api/v2/orders/W2378156/cancellation", json={"why": "x"}, headers=auth)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "REQ-400"
    assert any("reason" in d for d in error["details"])


async def test_unexpected_failure_is_a_500_envelope_without_details(
    http: httpx.AsyncClient, auth: dict[str, str], store: LegacyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(_: str) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(store, "get_product", boom)
    transport = http._transport  # pyright: ignore[reportPrivateUsage]
    assert isinstance(transport, httpx.ASGITransport)
    transport.raise_app_exceptions = False
    response = await http.get("/api/v2/products/1656367028", headers=auth)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "SYS-500"
    assert "secret" not in response.text
