"""The retail system's agent-facing messages: legacy error codes, empty look-ups, outages."""

from __future__ import annotations

from bastion_facades import ErrorMapper, OutageMessages

SYSTEM_NAME = "retail system"
"""How messages name the legacy system."""

TRANSFER_ACKNOWLEDGEMENT = "Transfer successful"
"""What ``transfer_to_human_agents`` answers (as the benchmark's tool)."""

_LOOKUP_USER = "find it with find_user_id_by_email or find_user_id_by_name_zip"
_UNCHANGED = "Nothing was changed."

RETAIL_ERRORS = ErrorMapper(
    by_code={
        "ORD-404": "Order not found: {order_id}. Check the order id (it starts with '#W') or look up the "
        "user's orders with get_user_details.",
        "CUS-404": "User not found: {user_id}. Check the user id, or " + _LOOKUP_USER + ".",
        "PRD-404": "Product not found: {product_id}. Product ids differ from item ids; use "
        "list_all_product_types for product ids, or get_item_details for an item id.",
        "ITM-404": "Item not found: {item_id}. Item ids differ from product ids; use get_product_details "
        "to list a product's items.",
        "ORD-409": "{message}. The order's status does not allow this; check it with get_order_details. "
        + _UNCHANGED,
        "ORD-422": "{message}. " + _UNCHANGED + " Check the order's items with get_order_details and the "
        "product's variants with get_product_details.",
        "PAY-422": "{message}. " + _UNCHANGED + " Check the user's payment methods and gift card balances "
        "with get_user_details.",
        "REQ-400": "The retail system rejected the request: {message}. Check the arguments.",
    },
    by_message={
        ("ORD-422", "Invalid reason"): "Invalid reason. The reason must be exactly 'no longer needed' or "
        "'ordered by mistake'. " + _UNCHANGED,
    },
)
"""Legacy error code -> agent message for the retail API."""


def user_not_found(how: str) -> str:
    """The message of a user look-up that found no one (``how``: "with this email", ...)."""
    return f"User not found {how}. Ask the user to check the details, or {_LOOKUP_USER}."


RETAIL_OUTAGES = OutageMessages(
    timeout="The {system} did not answer in time. Check the current state (e.g. the order's status) "
    "before retrying a change; if it keeps failing, transfer to a human agent.",
    unreadable="The {system} returned an unreadable response.",
)
"""Outage messages (the toolkit's defaults, with the retail hint for timeouts)."""
