"""The retail facade: one operation per tau2-bench retail tool, over the legacy retail API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from bastion_facades._error_mapping import ErrorMapper
from bastion_facades._errors import LegacyAPIError, ToolCallError
from bastion_facades._types import JsonValue
from bastion_retail._calculate import CalculationError, calculate
from bastion_retail._models import (
    CalculateInput,
    CancelPendingOrderInput,
    FindUserByEmailInput,
    FindUserByNameZipInput,
    ItemChangeInput,
    ItemIdInput,
    ModifyOrderAddressInput,
    ModifyPaymentInput,
    ModifyUserAddressInput,
    NoInput,
    OrderIdInput,
    ProductIdInput,
    ReturnItemsInput,
    TransferInput,
    UserIdInput,
)

from _reference_retail import _retail_views as views
from _reference_retail._http import LegacyClient
from _reference_retail._operation import Facade, Operation, bind

TRANSFER_ACKNOWLEDGEMENT = "Transfer successful"

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


def _user_not_found(how: str) -> ToolCallError:
    return ToolCallError(f"User not found {how}. Ask the user to check the details, or {_LOOKUP_USER}.")


class RetailFacade(Facade):
    """The retail operations (named and shaped like tau2-bench's retail tools).

    Args:
        client: An authenticated client of the legacy retail API.
        api_prefix: Path prefix of the legacy resource API.
        max_products: Cap for ``list_all_product_types``.
    """

    def __init__(self, client: LegacyClient, *, api_prefix: str = "/api/v2", max_products: int = 200) -> None:
        self._client = client
        self._prefix = api_prefix
        self._max_products = max_products
        super().__init__(self._build_operations(), RETAIL_ERRORS)

    # Paths ----------------------------------------------------------------------------------------

    def _order_path(self, order_id: str, suffix: str = "") -> str:
        if not order_id.startswith("#") or len(order_id) < 2:
            raise ToolCallError(
                f"Order not found: {order_id}. Order ids start with '#'; check the id or look up the "
                "user's orders with get_user_details."
            )
        return f"{self._prefix}/orders/{quote(order_id[1:], safe='')}{suffix}"

    def _customer_path(self, user_id: str, suffix: str = "") -> str:
        return f"{self._prefix}/customers/{quote(user_id, safe='')}{suffix}"

    # Shared look-ups -----------------------------------------------------------------------------

    async def order_owner(self, order_id: str) -> str:
        """The user id owning ``order_id`` (for policy checks on order operations).

        Raises:
            ToolCallError: The order does not exist (message contains 'Order not found').
            UpstreamError: The legacy system failed.
        """
        try:
            legacy = await self._client.get(self._order_path(order_id))
        except LegacyAPIError as exc:
            raise RETAIL_ERRORS.to_tool_error(exc, {"order_id": order_id}) from None
        return str(legacy["customerId"])

    async def _find_user(self, params: Mapping[str, str], how: str) -> str:
        candidates, _ = await self._client.get_all(f"{self._prefix}/customers", params, max_items=25)
        if not candidates:
            raise _user_not_found(how)
        return str(candidates[0]["customerId"])

    # Operations ----------------------------------------------------------------------------------

    async def _calculate(self, args: CalculateInput) -> JsonValue:
        try:
            return calculate(args.expression)
        except CalculationError as exc:
            raise ToolCallError(f"{exc}. Use only numbers, + - * /, parentheses and spaces.") from None

    async def _cancel(self, args: CancelPendingOrderInput) -> JsonValue:
        legacy = await self._client.post(
            self._order_path(args.order_id, "/cancellation"), {"reason": args.reason}
        )
        return views.order(legacy)

    async def _exchange(self, args: ItemChangeInput) -> JsonValue:
        legacy = await self._client.post(
            self._order_path(args.order_id, "/exchange-requests"),
            {
                "itemIds": args.item_ids,
                "newItemIds": args.new_item_ids,
                "paymentInstrumentId": args.payment_method_id,
            },
        )
        return views.order(legacy)

    async def _find_by_name_zip(self, args: FindUserByNameZipInput) -> JsonValue:
        return await self._find_user(
            {"firstName": args.first_name, "lastName": args.last_name, "postalCode": args.zip},
            "with this name and zip code",
        )

    async def _find_by_email(self, args: FindUserByEmailInput) -> JsonValue:
        return await self._find_user({"email": args.email}, "with this email")

    async def _get_order(self, args: OrderIdInput) -> JsonValue:
        return views.order(await self._client.get(self._order_path(args.order_id)))

    async def _get_product(self, args: ProductIdInput) -> JsonValue:
        path = f"{self._prefix}/products/{quote(args.product_id, safe='')}"
        return views.product(await self._client.get(path))

    async def _get_item(self, args: ItemIdInput) -> JsonValue:
        path = f"{self._prefix}/items/{quote(args.item_id, safe='')}"
        return views.item(await self._client.get(path))

    async def _get_user(self, args: UserIdInput) -> JsonValue:
        customer = await self._client.get(self._customer_path(args.user_id))
        orders, _ = await self._client.get_all(
            f"{self._prefix}/orders", {"customerId": args.user_id}, max_items=views.MAX_ORDERS_SHOWN
        )
        statuses = {str(o["orderId"]): str(o["orderStatus"]["description"]) for o in orders}
        return views.user(customer, statuses)

    async def _list_products(self, args: NoInput) -> JsonValue:
        products, _ = await self._client.get_all(f"{self._prefix}/products", max_items=self._max_products)
        names = {str(p["productName"]): str(p["productId"]) for p in products}
        return {name: names[name] for name in sorted(names)}

    async def _modify_order_address(self, args: ModifyOrderAddressInput) -> JsonValue:
        body = views.legacy_address(
            args.address1, args.address2, args.city, args.state, args.country, args.zip
        )
        return views.order(await self._client.put(self._order_path(args.order_id, "/shipping-address"), body))

    async def _modify_items(self, args: ItemChangeInput) -> JsonValue:
        legacy = await self._client.post(
            self._order_path(args.order_id, "/item-modifications"),
            {
                "itemIds": args.item_ids,
                "newItemIds": args.new_item_ids,
                "paymentInstrumentId": args.payment_method_id,
            },
        )
        return views.order(legacy)

    async def _modify_payment(self, args: ModifyPaymentInput) -> JsonValue:
        legacy = await self._client.put(
            self._order_path(args.order_id, "/payment-instrument"),
            {"paymentInstrumentId": args.payment_method_id},
        )
        return views.order(legacy)

    async def _modify_user_address(self, args: ModifyUserAddressInput) -> JsonValue:
        body = views.legacy_address(
            args.address1, args.address2, args.city, args.state, args.country, args.zip
        )
        return views.user(
            await self._client.put(self._customer_path(args.user_id, "/addresses/default"), body)
        )

    async def _return(self, args: ReturnItemsInput) -> JsonValue:
        legacy = await self._client.post(
            self._order_path(args.order_id, "/return-requests"),
            {"itemIds": args.item_ids, "paymentInstrumentId": args.payment_method_id},
        )
        return views.order(legacy)

    async def _transfer(self, args: TransferInput) -> JsonValue:
        return TRANSFER_ACKNOWLEDGEMENT

    def _build_operations(self) -> Sequence[Operation]:
        return (
            Operation(
                name="calculate",
                description="Calculate the result of an arithmetic expression (numbers, + - * /, "
                "parentheses). Returns the result rounded to 2 decimals.",
                input_model=CalculateInput,
                access="generic",
                destructive=False,
                resource="none",
                resource_argument=None,
                handler=bind(CalculateInput, self._calculate),
            ),
            Operation(
                name="cancel_pending_order",
                description="Cancel an order whose status is 'pending'. Explain the cancellation and get "
                "explicit user confirmation (yes) first. Payments are refunded: to a gift card at once, "
                "otherwise in 5-7 business days. Returns the updated order.",
                input_model=CancelPendingOrderInput,
                access="write",
                destructive=True,
                resource="order",
                resource_argument="order_id",
                handler=bind(CancelPendingOrderInput, self._cancel),
            ),
            Operation(
                name="exchange_delivered_order_items",
                description="Exchange items of a delivered order for other available variants of the same "
                "products; the price difference is paid or refunded with the given payment method. A "
                "delivered order can be returned or exchanged only once. Explain the details and get "
                "explicit user confirmation (yes) first. Returns the updated order.",
                input_model=ItemChangeInput,
                access="write",
                destructive=True,
                resource="order",
                resource_argument="order_id",
                handler=bind(ItemChangeInput, self._exchange),
            ),
            Operation(
                name="find_user_id_by_name_zip",
                description="Find a user id by first name, last name and zip code. Prefer "
                "find_user_id_by_email; use this only if the user cannot give their email or it was "
                "not found.",
                input_model=FindUserByNameZipInput,
                access="read",
                destructive=False,
                resource="none",
                resource_argument=None,
                handler=bind(FindUserByNameZipInput, self._find_by_name_zip),
            ),
            Operation(
                name="find_user_id_by_email",
                description="Find a user id by email address.",
                input_model=FindUserByEmailInput,
                access="read",
                destructive=False,
                resource="none",
                resource_argument=None,
                handler=bind(FindUserByEmailInput, self._find_by_email),
            ),
            Operation(
                name="get_order_details",
                description="Get the status and details of an order: items (item id, product id, price, "
                "options), shipping address, fulfillments, payment history.",
                input_model=OrderIdInput,
                access="read",
                destructive=False,
                resource="order",
                resource_argument="order_id",
                handler=bind(OrderIdInput, self._get_order),
            ),
            Operation(
                name="get_product_details",
                description="Get a product's variants: item id, options, price and availability.",
                input_model=ProductIdInput,
                access="read",
                destructive=False,
                resource="none",
                resource_argument=None,
                handler=bind(ProductIdInput, self._get_product),
            ),
            Operation(
                name="get_item_details",
                description="Get one item (variant): its product, options, price and availability.",
                input_model=ItemIdInput,
                access="read",
                destructive=False,
                resource="none",
                resource_argument=None,
                handler=bind(ItemIdInput, self._get_item),
            ),
            Operation(
                name="get_user_details",
                description="Get a user's name, email, default address, payment methods (with gift card "
                "balances) and orders with their status.",
                input_model=UserIdInput,
                access="read",
                destructive=False,
                resource="user",
                resource_argument="user_id",
                handler=bind(UserIdInput, self._get_user),
            ),
            Operation(
                name="list_all_product_types",
                description="List all product types: product name mapped to product id, sorted by name.",
                input_model=NoInput,
                access="read",
                destructive=False,
                resource="none",
                resource_argument=None,
                handler=bind(NoInput, self._list_products),
            ),
            Operation(
                name="modify_pending_order_address",
                description="Change the shipping address of a pending order. Explain the change and get "
                "explicit user confirmation (yes) first. Returns the updated order.",
                input_model=ModifyOrderAddressInput,
                access="write",
                destructive=True,
                resource="order",
                resource_argument="order_id",
                handler=bind(ModifyOrderAddressInput, self._modify_order_address),
            ),
            Operation(
                name="modify_pending_order_items",
                description="Swap items of a pending order for other available variants of the same "
                "products; the price difference is paid or refunded with the given payment method. "
                "Possible only once per order, so collect all changes first. Explain the details and get "
                "explicit user confirmation (yes) first. Returns the updated order.",
                input_model=ItemChangeInput,
                access="write",
                destructive=True,
                resource="order",
                resource_argument="order_id",
                handler=bind(ItemChangeInput, self._modify_items),
            ),
            Operation(
                name="modify_pending_order_payment",
                description="Pay a pending order with a different payment method of the user (a gift card "
                "must cover the total). Explain the change and get explicit user confirmation (yes) "
                "first. Returns the updated order.",
                input_model=ModifyPaymentInput,
                access="write",
                destructive=True,
                resource="order",
                resource_argument="order_id",
                handler=bind(ModifyPaymentInput, self._modify_payment),
            ),
            Operation(
                name="modify_user_address",
                description="Change a user's default address. Explain the change and get explicit user "
                "confirmation (yes) first. Returns the updated user.",
                input_model=ModifyUserAddressInput,
                access="write",
                destructive=True,
                resource="user",
                resource_argument="user_id",
                handler=bind(ModifyUserAddressInput, self._modify_user_address),
            ),
            Operation(
                name="return_delivered_order_items",
                description="Request a return of items of a delivered order; the refund goes to the "
                "original payment method or a gift card of the user. Explain the details and get explicit "
                "user confirmation (yes) first. The user gets an email on how to send the items back. "
                "Returns the updated order.",
                input_model=ReturnItemsInput,
                access="write",
                destructive=True,
                resource="order",
                resource_argument="order_id",
                handler=bind(ReturnItemsInput, self._return),
            ),
            Operation(
                name="transfer_to_human_agents",
                description="Transfer the user to a human agent with a summary of their issue. Only if the "
                "user asks for a human, or the request cannot be handled with the policy and tools.",
                input_model=TransferInput,
                access="generic",
                destructive=False,
                resource="none",
                resource_argument=None,
                handler=bind(TransferInput, self._transfer),
            ),
        )
