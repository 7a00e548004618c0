"""The 16 retail operations, declared: legacy steps, JMESPath projections, traits.

Each operation is named and shaped like a tau2-bench retail tool; results are those of the
hand-written ``bastion_facades.RetailFacade`` it replaces, byte for byte (key order included).
Traits (access, resource kind, permission level, data classes) are declared here once.
"""

from __future__ import annotations

from bastion_facades import (
    Cap,
    HookCall,
    Operation,
    PageNumberPaging,
    Projection,
    Resource,
    Step,
    ToolCallError,
    Traits,
)
from bastion_facades import JsonValue as _JsonValue

from bastion_retail._calculate import CalculationError, calculate
from bastion_retail._messages import TRANSFER_ACKNOWLEDGEMENT, user_not_found
from bastion_retail._models import (
    _ORDER_ID_PATTERN,  # pyright: ignore[reportPrivateUsage]
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

MAX_ORDERS_SHOWN = 25
MAX_VARIANTS_SHOWN = 50
PAGING = PageNumberPaging(page_size=25)

# Views (JMESPath over one legacy object) --------------------------------------------------------

ADDRESS = (
    "{address1: line1, address2: line2, city: city, state: stateOrProvince, country: countryCode, "
    "zip: postalCode}"
)
OPTIONS = "from_items((attributes || `[]`)[*].[name, value])"
ORDER = (
    "compact_keys({"
    "order_id: orderId, user_id: customerId, status: orderStatus.description, "
    f"address: (shippingAddress || `{{}}`) | {ADDRESS}, "
    "items: (lineItems || `[]`)[*].{item_id: itemId, product_id: productId, name: productName, "
    f"price: unitPrice.amount, options: {OPTIONS}}}, "
    "fulfillments: (fulfillments || `[]`)[*].{tracking_ids: trackingNumbers || `[]`, "
    "item_ids: itemIds || `[]`}, "
    "payment_history: (paymentTransactions || `[]`)[*].{transaction_type: lower(transactionType), "
    "amount: amount.amount, payment_method_id: paymentInstrumentId}, "
    "cancel_reason: cancellation.reason, "
    "exchange: (exchangeRequest || null) && compact({item_ids: exchangeRequest.itemIds, "
    "new_item_ids: exchangeRequest.newItemIds, payment_method_id: exchangeRequest.paymentInstrumentId, "
    "price_difference: exchangeRequest.priceDifference.amount}), "
    "return: (returnRequest || null) && compact({item_ids: returnRequest.itemIds, "
    "payment_method_id: returnRequest.paymentInstrumentId})"
    '}, `["cancel_reason", "exchange", "return"]`)'
)
"""An order: status, address, items, fulfilments, payments and any request on it."""

_PAYMENT_METHOD = (
    "compact_keys({payment_method_id: instrumentId, type: lower(instrumentType), "
    "brand: cardDetails.brand, last_four: cardDetails.lastFour, balance: storedValue.balance.amount}, "
    '`["brand", "last_four", "balance"]`)'
)
_ORDER_IDS = "(customer.orderHistory.orders || `[]`)[*].orderId"


def _user(orders: str) -> str:
    """A customer (the ``customer`` answer) with ``orders`` as given; capped by ``_USER_CAPS``."""
    return (
        "{user_id: customer.customerId, "
        "name: compact({first_name: customer.personalInfo.firstName, "
        "last_name: customer.personalInfo.lastName}), "
        "email: customer.contactInfo.emailAddress, "
        "address: ((customer.addresses[?isDefault] | [0]) || customer.addresses[0] || `{}`) | "
        + ADDRESS
        + ", "
        f"payment_methods: (customer.paymentInstruments || `[]`)[*].{_PAYMENT_METHOD}, "
        f"orders: {orders}}}"
    )


_USER_CAPS = (Cap("orders", MAX_ORDERS_SHOWN, "order_count", total="customer.orderHistory.totalOrders"),)
USER_WITH_STATUSES = Projection(
    _user(
        f"zip({_ORDER_IDS}, lookup(from_items(orders[*].[orderId, orderStatus.description]), {_ORDER_IDS}, "
        "'unknown'))[*].{order_id: [0], status: [1]}"
    ),
    _USER_CAPS,
)
"""A user with each order's status (from the ``orders`` step)."""
USER = Projection(_user(_ORDER_IDS), _USER_CAPS)
"""A user with order ids only."""

VARIANT = (
    f"{{item_id: itemId, options: {OPTIONS}, price: listPrice.amount, "
    "available: inventory.available == `true`}"
)
PRODUCT = Projection(
    f"product | {{product_id: productId, name: productName, variants: (skus || `[]`)[*].{VARIANT}}}",
    (Cap("variants", MAX_VARIANTS_SHOWN, "variant_count"),),
)
ITEM = (
    f"item | {{item_id: itemId, product_id: productId, product_name: productName, options: {OPTIONS}, "
    "price: listPrice.amount, available: inventory.available == `true`}"
)

# Steps ------------------------------------------------------------------------------------------


def order_step(prefix: str) -> Step:
    """GET the order named by ``order_id`` (without its '#'); shared with the order Resource."""
    return Step(
        "GET", prefix + "/orders/{id}", name="order", path_params={"id": "trim_prefix(args.order_id, '#')"}
    )


def _order_write(prefix: str, method: str, suffix: str, body: str) -> Step:
    return Step(
        "PUT" if method == "PUT" else "POST",
        prefix + "/orders/{id}" + suffix,
        name="order",
        path_params={"id": "trim_prefix(args.order_id, '#')"},
        body=body,
    )


def _find_user(prefix: str, query: dict[str, str], how: str) -> Step:
    return Step(
        "GET",
        prefix + "/customers",
        name="customers",
        query=query,
        paging=PAGING,
        max_items=25,
        if_empty=user_not_found(how),
    )


_LEGACY_ADDRESS = (
    "{line1: args.address1, line2: args.address2, city: args.city, stateOrProvince: args.state, "
    "postalCode: args.zip, countryCode: args.country}"
)
_ITEM_CHANGE = (
    "{itemIds: args.item_ids, newItemIds: args.new_item_ids, paymentInstrumentId: args.payment_method_id}"
)


# Hooks ------------------------------------------------------------------------------------------


async def _calculate(call: HookCall) -> _JsonValue:
    assert isinstance(call.arguments, CalculateInput)  # the facade validated it
    try:
        return calculate(call.arguments.expression)
    except CalculationError as exc:
        raise ToolCallError(f"{exc}. Use only numbers, + - * /, parentheses and spaces.") from None


# Traits -----------------------------------------------------------------------------------------

_GENERIC = Traits(access="generic")
_PUBLIC_READ = Traits(access="read")
_ORDER_DATA = frozenset({"ADDRESS", "PAYMENT_METHOD"})
_USER_DATA = frozenset({"ADDRESS", "EMAIL_ADDRESS", "NAME", "PAYMENT_METHOD"})


def _order_write_traits() -> Traits:
    return Traits(
        access="write",
        destructive=True,
        resource="order",
        data_classes=_ORDER_DATA,
        permission_level="CUSTOMER_WRITE",
    )


def resources(prefix: str) -> tuple[Resource, ...]:
    """``user`` (self-owned, argument ``user_id``) and ``order`` (owner: the order's ``customerId``)."""
    return (
        Resource("user", "user_id", self_owned=True),
        Resource(
            "order", "order_id", lookup=order_step(prefix), owner="customerId", id_pattern=_ORDER_ID_PATTERN
        ),
    )


def operations(prefix: str = "/api/v2", *, max_products: int = 200) -> tuple[Operation, ...]:
    """The 16 retail operations over the legacy API under ``prefix``."""
    order_result = f"order | {ORDER}"
    return (
        Operation(
            name="calculate",
            description="Calculate the result of an arithmetic expression (numbers, + - * /, "
            "parentheses). Returns the result rounded to 2 decimals.",
            input_model=CalculateInput,
            traits=_GENERIC,
            hook=_calculate,
        ),
        Operation(
            name="cancel_pending_order",
            description="Cancel an order whose status is 'pending'. Explain the cancellation and get "
            "explicit user confirmation (yes) first. Payments are refunded: to a gift card at once, "
            "otherwise in 5-7 business days. Returns the updated order.",
            input_model=CancelPendingOrderInput,
            traits=_order_write_traits(),
            steps=(_order_write(prefix, "POST", "/cancellation", "{reason: args.reason}"),),
            projection=order_result,
        ),
        Operation(
            name="exchange_delivered_order_items",
            description="Exchange items of a delivered order for other available variants of the same "
            "products; the price difference is paid or refunded with the given payment method. A "
            "delivered order can be returned or exchanged only once. Explain the details and get "
            "explicit user confirmation (yes) first. Returns the updated order.",
            input_model=ItemChangeInput,
            traits=_order_write_traits(),
            steps=(_order_write(prefix, "POST", "/exchange-requests", _ITEM_CHANGE),),
            projection=order_result,
        ),
        Operation(
            name="find_user_id_by_name_zip",
            description="Find a user id by first name, last name and zip code. Prefer "
            "find_user_id_by_email; use this only if the user cannot give their email or it was "
            "not found.",
            input_model=FindUserByNameZipInput,
            traits=Traits(
                access="read", data_classes=frozenset({"ADDRESS", "NAME"}), permission_level="CUSTOMER_LOOKUP"
            ),
            steps=(
                _find_user(
                    prefix,
                    {"firstName": "args.first_name", "lastName": "args.last_name", "postalCode": "args.zip"},
                    "with this name and zip code",
                ),
            ),
            projection="customers[0].customerId",
        ),
        Operation(
            name="find_user_id_by_email",
            description="Find a user id by email address.",
            input_model=FindUserByEmailInput,
            traits=Traits(
                access="read", data_classes=frozenset({"EMAIL_ADDRESS"}), permission_level="CUSTOMER_LOOKUP"
            ),
            steps=(_find_user(prefix, {"email": "args.email"}, "with this email"),),
            projection="customers[0].customerId",
        ),
        Operation(
            name="get_order_details",
            description="Get the status and details of an order: items (item id, product id, price, "
            "options), shipping address, fulfillments, payment history.",
            input_model=OrderIdInput,
            traits=Traits(
                access="read", resource="order", data_classes=_ORDER_DATA, permission_level="CUSTOMER_READ"
            ),
            steps=(order_step(prefix),),
            projection=order_result,
        ),
        Operation(
            name="get_product_details",
            description="Get a product's variants: item id, options, price and availability.",
            input_model=ProductIdInput,
            traits=_PUBLIC_READ,
            steps=(
                Step("GET", prefix + "/products/{id}", name="product", path_params={"id": "args.product_id"}),
            ),
            projection=PRODUCT,
        ),
        Operation(
            name="get_item_details",
            description="Get one item (variant): its product, options, price and availability.",
            input_model=ItemIdInput,
            traits=_PUBLIC_READ,
            steps=(Step("GET", prefix + "/items/{id}", name="item", path_params={"id": "args.item_id"}),),
            projection=ITEM,
        ),
        Operation(
            name="get_user_details",
            description="Get a user's name, email, default address, payment methods (with gift card "
            "balances) and orders with their status.",
            input_model=UserIdInput,
            traits=Traits(
                access="read", resource="user", data_classes=_USER_DATA, permission_level="CUSTOMER_READ"
            ),
            steps=(
                Step("GET", prefix + "/customers/{id}", name="customer", path_params={"id": "args.user_id"}),
                Step(
                    "GET",
                    prefix + "/orders",
                    name="orders",
                    query={"customerId": "args.user_id"},
                    paging=PAGING,
                    max_items=MAX_ORDERS_SHOWN,
                ),
            ),
            projection=USER_WITH_STATUSES,
        ),
        Operation(
            name="list_all_product_types",
            description="List all product types: product name mapped to product id, sorted by name.",
            input_model=NoInput,
            traits=_PUBLIC_READ,
            steps=(
                Step("GET", prefix + "/products", name="products", paging=PAGING, max_items=max_products),
            ),
            projection="from_items(sort_by(products, &productName)[*].[productName, productId])",
        ),
        Operation(
            name="modify_pending_order_address",
            description="Change the shipping address of a pending order. Explain the change and get "
            "explicit user confirmation (yes) first. Returns the updated order.",
            input_model=ModifyOrderAddressInput,
            traits=_order_write_traits(),
            steps=(_order_write(prefix, "PUT", "/shipping-address", _LEGACY_ADDRESS),),
            projection=order_result,
        ),
        Operation(
            name="modify_pending_order_items",
            description="Swap items of a pending order for other available variants of the same "
            "products; the price difference is paid or refunded with the given payment method. "
            "Possible only once per order, so collect all changes first. Explain the details and get "
            "explicit user confirmation (yes) first. Returns the updated order.",
            input_model=ItemChangeInput,
            traits=_order_write_traits(),
            steps=(_order_write(prefix, "POST", "/item-modifications", _ITEM_CHANGE),),
            projection=order_result,
        ),
        Operation(
            name="modify_pending_order_payment",
            description="Pay a pending order with a different payment method of the user (a gift card "
            "must cover the total). Explain the change and get explicit user confirmation (yes) "
            "first. Returns the updated order.",
            input_model=ModifyPaymentInput,
            traits=_order_write_traits(),
            steps=(
                _order_write(
                    prefix, "PUT", "/payment-instrument", "{paymentInstrumentId: args.payment_method_id}"
                ),
            ),
            projection=order_result,
        ),
        Operation(
            name="modify_user_address",
            description="Change a user's default address. Explain the change and get explicit user "
            "confirmation (yes) first. Returns the updated user.",
            input_model=ModifyUserAddressInput,
            traits=Traits(
                access="write",
                destructive=True,
                resource="user",
                data_classes=_USER_DATA,
                permission_level="CUSTOMER_WRITE",
            ),
            steps=(
                Step(
                    "PUT",
                    prefix + "/customers/{id}/addresses/default",
                    name="customer",
                    path_params={"id": "args.user_id"},
                    body=_LEGACY_ADDRESS,
                ),
            ),
            projection=USER,
        ),
        Operation(
            name="return_delivered_order_items",
            description="Request a return of items of a delivered order; the refund goes to the "
            "original payment method or a gift card of the user. Explain the details and get explicit "
            "user confirmation (yes) first. The user gets an email on how to send the items back. "
            "Returns the updated order.",
            input_model=ReturnItemsInput,
            traits=_order_write_traits(),
            steps=(
                _order_write(
                    prefix,
                    "POST",
                    "/return-requests",
                    "{itemIds: args.item_ids, paymentInstrumentId: args.payment_method_id}",
                ),
            ),
            projection=order_result,
        ),
        Operation(
            name="transfer_to_human_agents",
            description="Transfer the user to a human agent with a summary of their issue. Only if the "
            "user asks for a human, or the request cannot be handled with the policy and tools.",
            input_model=TransferInput,
            traits=_GENERIC,
            projection=f'`"{TRANSFER_ACKNOWLEDGEMENT}"`',
        ),
    )
