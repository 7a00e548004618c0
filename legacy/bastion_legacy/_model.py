"""Wire shapes of the retail database documents (the tau2-bench ``db.json`` shape).

These TypedDicts describe the documents the store keeps, one JSON document per customer, order
and product. They are the benchmark's data model, not the legacy API's resource shapes (see
``_views``).
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class AddressDoc(TypedDict):
    """A postal address as stored in ``db.json``."""

    address1: str
    address2: str
    city: str
    country: str
    state: str
    zip: str


class NameDoc(TypedDict):
    """A customer's name."""

    first_name: str
    last_name: str


class PaymentMethodDoc(TypedDict):
    """A payment method; ``source`` is ``credit_card``, ``paypal`` or ``gift_card``."""

    source: str
    id: str
    brand: NotRequired[str]
    last_four: NotRequired[str]
    balance: NotRequired[float]


class UserDoc(TypedDict):
    """A customer (``users`` in ``db.json``)."""

    user_id: str
    name: NameDoc
    address: AddressDoc
    email: str
    payment_methods: dict[str, PaymentMethodDoc]
    orders: list[str]


class OrderItemDoc(TypedDict):
    """One line of an order."""

    name: str
    product_id: str
    item_id: str
    price: float
    options: dict[str, str]


class FulfillmentDoc(TypedDict):
    """A shipment: tracking ids and the item ids it carries."""

    tracking_id: list[str]
    item_ids: list[str]


class PaymentDoc(TypedDict):
    """One entry of an order's payment history; ``transaction_type`` is ``payment`` or ``refund``."""

    transaction_type: str
    amount: float
    payment_method_id: str


class OrderDoc(TypedDict):
    """An order. The seven optional fields are absent in ``db.json`` until a write sets them."""

    order_id: str
    user_id: str
    address: AddressDoc
    items: list[OrderItemDoc]
    status: str
    fulfillments: list[FulfillmentDoc]
    payment_history: list[PaymentDoc]
    cancel_reason: NotRequired[str | None]
    exchange_items: NotRequired[list[str] | None]
    exchange_new_items: NotRequired[list[str] | None]
    exchange_payment_method_id: NotRequired[str | None]
    exchange_price_difference: NotRequired[float | None]
    return_items: NotRequired[list[str] | None]
    return_payment_method_id: NotRequired[str | None]


class VariantDoc(TypedDict):
    """A purchasable item (variant) of a product."""

    item_id: str
    options: dict[str, str]
    available: bool
    price: float


class ProductDoc(TypedDict):
    """A product type with its variants keyed by item id."""

    name: str
    product_id: str
    variants: dict[str, VariantDoc]


class DatabaseDoc(TypedDict):
    """The whole database in ``db.json``'s shape."""

    products: dict[str, ProductDoc]
    users: dict[str, UserDoc]
    orders: dict[str, OrderDoc]


OPTIONAL_ORDER_FIELDS: tuple[str, ...] = (
    "cancel_reason",
    "exchange_items",
    "exchange_new_items",
    "exchange_payment_method_id",
    "exchange_price_difference",
    "return_items",
    "return_payment_method_id",
)
"""The order fields the benchmark's data model adds (as null) when it validates ``db.json``."""
