"""Input models of the retail operations: the benchmark tools' argument names and types.

Descriptions are agent-facing and deliberately carry no example values (small models copy them).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_ORDER_ID = "The order id exactly as shown to the user, including the leading '#'."
_ORDER_ID_PATTERN = r"^#[A-Za-z0-9]+$"


def _check_order_id(value: str) -> str:
    if re.fullmatch(_ORDER_ID_PATTERN, value) is None:
        raise ValueError(
            "order ids start with '#' followed by letters and digits; use the id exactly as shown"
        )
    return value


OrderId = Annotated[
    str,
    AfterValidator(_check_order_id),
    Field(description=_ORDER_ID, json_schema_extra={"pattern": _ORDER_ID_PATTERN}),
]
"""An order id. The pattern is in the JSON schema so that grammar-constrained local models cannot drop
the '#' (scripts/bench_local_model.py: exact calls 10/15 without it, 14/15 with it); the validator
gives the agent an actionable message instead of pydantic's generic pattern error."""
_PAYMENT_METHOD_ID = (
    "Id of one of the user's payment methods (from get_user_details or the order's payment history)."
)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class CalculateInput(_Input):
    """Arguments of ``calculate``."""

    expression: str = Field(description="Arithmetic using numbers, + - * /, parentheses and spaces.")


class CancelPendingOrderInput(_Input):
    """Arguments of ``cancel_pending_order``."""

    order_id: OrderId
    reason: Literal["no longer needed", "ordered by mistake"] = Field(
        description="Why the order is cancelled."
    )


class ItemChangeInput(_Input):
    """Arguments of ``exchange_delivered_order_items`` and ``modify_pending_order_items``."""

    order_id: OrderId
    item_ids: list[str] = Field(
        description="Item ids in the order to change; repeat an id to change several units of it."
    )
    new_item_ids: list[str] = Field(
        description="Replacement item ids, position by position, each a variant of the same product."
    )
    payment_method_id: str = Field(description=_PAYMENT_METHOD_ID + " Pays or receives the price difference.")


class FindUserByNameZipInput(_Input):
    """Arguments of ``find_user_id_by_name_zip``."""

    first_name: str = Field(description="The customer's first name.")
    last_name: str = Field(description="The customer's last name.")
    zip: str = Field(description="The zip code of the customer's default address.")


class FindUserByEmailInput(_Input):
    """Arguments of ``find_user_id_by_email``."""

    email: str = Field(description="The customer's e-mail address.")


class OrderIdInput(_Input):
    """Arguments of ``get_order_details``."""

    order_id: OrderId


class ProductIdInput(_Input):
    """Arguments of ``get_product_details``."""

    product_id: str = Field(description="The product id (not an item id).")


class ItemIdInput(_Input):
    """Arguments of ``get_item_details``."""

    item_id: str = Field(description="The item id (not a product id).")


class UserIdInput(_Input):
    """Arguments of ``get_user_details``."""

    user_id: str = Field(description="The user id returned by a find_user_id_* operation.")


class NoInput(_Input):
    """No arguments."""


_ADDRESS1 = "First line of the address."
_ADDRESS2 = "Second line of the address; an empty string if none."


class ModifyOrderAddressInput(_Input):
    """Arguments of ``modify_pending_order_address``."""

    order_id: OrderId
    address1: str = Field(description=_ADDRESS1)
    address2: str = Field(description=_ADDRESS2)
    city: str = Field(description="City.")
    state: str = Field(description="State code.")
    country: str = Field(description="Country.")
    zip: str = Field(description="Zip code.")


class ModifyUserAddressInput(_Input):
    """Arguments of ``modify_user_address``."""

    user_id: str = Field(description="The user id.")
    address1: str = Field(description=_ADDRESS1)
    address2: str = Field(description=_ADDRESS2)
    city: str = Field(description="City.")
    state: str = Field(description="State code.")
    country: str = Field(description="Country.")
    zip: str = Field(description="Zip code.")


class ModifyPaymentInput(_Input):
    """Arguments of ``modify_pending_order_payment``."""

    order_id: OrderId
    payment_method_id: str = Field(description=_PAYMENT_METHOD_ID + " Must differ from the current one.")


class ReturnItemsInput(_Input):
    """Arguments of ``return_delivered_order_items``."""

    order_id: OrderId
    item_ids: list[str] = Field(
        description="Item ids in the order to return; repeat an id for several units."
    )
    payment_method_id: str = Field(
        description="Where the refund goes: the order's original payment method or one of the "
        "user's gift cards."
    )


class TransferInput(_Input):
    """Arguments of ``transfer_to_human_agents``."""

    summary: str = Field(description="A short summary of the user's issue for the human agent.")
