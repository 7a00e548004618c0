"""The legacy retail REST API (FastAPI). See ``legacy/API.md`` for the endpoint reference."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException as StarletteHTTPException

from bastion_legacy import _rules, _views
from bastion_legacy._auth import TokenAuthority
from bastion_legacy._config import MAX_PAGE_SIZE, LegacyConfig
from bastion_legacy._errors import LegacyApiError, not_found
from bastion_legacy._model import AddressDoc
from bastion_legacy._store import LegacyStore

logger = logging.getLogger(__name__)

Json = dict[str, Any]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class CancellationRequest(_Body):
    """Body of ``POST /orders/{ref}/cancellation``."""

    reason: str


class ItemChangeRequest(_Body):
    """Body of ``POST /orders/{ref}/exchange-requests`` and ``/item-modifications``."""

    item_ids: list[str]
    new_item_ids: list[str]
    payment_instrument_id: str


class ReturnRequest(_Body):
    """Body of ``POST /orders/{ref}/return-requests``."""

    item_ids: list[str]
    payment_instrument_id: str


class PaymentInstrumentChange(_Body):
    """Body of ``PUT /orders/{ref}/payment-instrument``."""

    payment_instrument_id: str


class AddressPayload(_Body):
    """A legacy postal address (body of the address ``PUT`` endpoints)."""

    line1: str
    line2: str
    city: str
    state_or_province: str
    postal_code: str
    country_code: str

    def to_doc(self) -> AddressDoc:
        """The address in ``db.json``'s shape."""
        return {
            "address1": self.line1,
            "address2": self.line2,
            "city": self.city,
            "country": self.country_code,
            "state": self.state_or_province,
            "zip": self.postal_code,
        }


def _envelope(status: int, code: str, message: str, details: list[str] | None = None) -> JSONResponse:
    trace_id = uuid.uuid4().hex
    error: Json = {"code": code, "message": message, "status": status, "traceId": trace_id}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers={"X-Trace-Id": trace_id})


def _paging(page: int, page_size: int) -> tuple[int, int]:
    if page < 1:
        raise LegacyApiError(400, "REQ-400", "page must be 1 or greater.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise LegacyApiError(400, "REQ-400", f"pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    return (page - 1) * page_size, page_size


def _query(**params: str | None) -> str:
    return urlencode({k: v for k, v in params.items() if v is not None})


PageNo = Annotated[int, Query(alias="page")]
PageSize = Annotated[int, Query(alias="pageSize")]


def create_app(config: LegacyConfig, store: LegacyStore | None = None) -> FastAPI:
    """Build the legacy retail API.

    Args:
        config: Service configuration (state file, seed, client credentials, token TTL, clock).
        store: An already open store to serve; by default one is opened at ``config.db_path``
            (created from ``config.seed_path`` on first start). Available as ``app.state.store``.

    Returns:
        The FastAPI application. Serve it on 127.0.0.1 (e.g. with uvicorn).
    """
    store = store or LegacyStore.open(config.db_path, config.seed_path, clock=config.clock)
    authority = TokenAuthority(config.client_id, config.client_secret, config.token_ttl_seconds, config.clock)
    prefix = config.api_prefix
    app = FastAPI(title="Retail Legacy API", version="2.7.1", docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.config = config

    @app.exception_handler(LegacyApiError)
    async def _legacy_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LegacyApiError)
        return _envelope(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
            for err in exc.errors()
        ]
        return _envelope(400, "REQ-400", "The request is malformed.", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return _envelope(exc.status_code, f"REQ-{exc.status_code}", str(exc.detail))

    @app.exception_handler(Exception)
    async def _internal_error(_: Request, exc: Exception) -> JSONResponse:
        logger.error("error_type=<%s> | unhandled error in legacy API", type(exc).__name__, exc_info=exc)
        return _envelope(500, "SYS-500", "Internal error. Try again later.")

    def bearer(request: Request) -> None:
        authority.check(request.headers.get("authorization"))

    def admin(request: Request) -> None:
        authority.check_admin(request.headers.get("authorization"))

    authed = [Depends(bearer)]

    @app.get("/health")
    def health() -> Json:
        return {"status": "UP"}

    @app.post("/oauth/token")
    async def token(request: Request) -> JSONResponse:
        issued = authority.issue_from_request(
            await request.body(),
            request.headers.get("content-type", ""),
            request.headers.get("authorization"),
        )
        return JSONResponse(
            {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in},
            headers={"Cache-Control": "no-store"},
        )

    # Customers ----------------------------------------------------------------------------------

    @app.get(f"{prefix}/customers", dependencies=authed)
    def search_customers(
        email: str | None = None,
        first_name: Annotated[str | None, Query(alias="firstName")] = None,
        last_name: Annotated[str | None, Query(alias="lastName")] = None,
        postal_code: Annotated[str | None, Query(alias="postalCode")] = None,
        page: PageNo = 1,
        page_size: PageSize = 10,
    ) -> Json:
        if email is None and None in (first_name, last_name, postal_code):
            raise LegacyApiError(
                400, "REQ-400", "Search needs email, or firstName, lastName and postalCode together."
            )
        offset, limit = _paging(page, page_size)
        result = store.search_customers(
            email=email,
            first_name=first_name,
            last_name=last_name,
            zip_code=postal_code,
            offset=offset,
            limit=limit,
        )
        query = _query(email=email, firstName=first_name, lastName=last_name, postalCode=postal_code)
        return _views.page(
            [_views.customer_candidate(r, prefix) for r in result.records],
            page_no=page,
            page_size=page_size,
            total=result.total,
            href=f"{prefix}/customers?{query}",
        )

    @app.get(f"{prefix}/customers/{{customer_id}}", dependencies=authed)
    def get_customer(customer_id: str) -> Json:
        record = store.get_customer(customer_id)
        if record is None:
            raise not_found("CUS-404", "User not found")
        return _views.customer(record, prefix)

    @app.put(f"{prefix}/customers/{{customer_id}}/addresses/default", dependencies=authed)
    def put_default_address(customer_id: str, body: AddressPayload) -> Json:
        store.apply(lambda s: _rules.modify_user_address(s, customer_id, body.to_doc()))
        return get_customer(customer_id)

    # Orders -------------------------------------------------------------------------------------

    @app.get(f"{prefix}/orders", dependencies=authed)
    def list_orders(
        customer_id: Annotated[str | None, Query(alias="customerId")] = None,
        status: str | None = None,
        page: PageNo = 1,
        page_size: PageSize = 10,
    ) -> Json:
        offset, limit = _paging(page, page_size)
        result = store.list_orders(customer_id=customer_id, status=status, offset=offset, limit=limit)
        return _views.page(
            [_views.order(r, prefix) for r in result.records],
            page_no=page,
            page_size=page_size,
            total=result.total,
            href=f"{prefix}/orders?{_query(customerId=customer_id, status=status)}",
        )

    @app.get(f"{prefix}/orders/{{order_ref}}", dependencies=authed)
    def get_order(order_ref: str) -> Json:
        record = store.get_order(_views.order_id_from_ref(order_ref))
        if record is None:
            raise not_found("ORD-404", "Order not found")
        return _views.order(record, prefix)

    def write_order(order_ref: str, rule: Callable[[_rules.RetailState, str], object]) -> Json:
        order_id = _views.order_id_from_ref(order_ref)
        store.apply(lambda s: rule(s, order_id))
        return get_order(order_ref)

    @app.post(f"{prefix}/orders/{{order_ref}}/cancellation", dependencies=authed)
    def cancel_order(order_ref: str, body: CancellationRequest) -> Json:
        return write_order(order_ref, lambda s, oid: _rules.cancel_pending_order(s, oid, body.reason))

    @app.post(f"{prefix}/orders/{{order_ref}}/exchange-requests", dependencies=authed)
    def exchange_items(order_ref: str, body: ItemChangeRequest) -> Json:
        return write_order(
            order_ref,
            lambda s, oid: _rules.exchange_delivered_order_items(
                s, oid, body.item_ids, body.new_item_ids, body.payment_instrument_id
            ),
        )

    @app.post(f"{prefix}/orders/{{order_ref}}/return-requests", dependencies=authed)
    def return_items(order_ref: str, body: ReturnRequest) -> Json:
        return write_order(
            order_ref,
            lambda s, oid: _rules.return_delivered_order_items(
                s, oid, body.item_ids, body.payment_instrument_id
            ),
        )

    @app.post(f"{prefix}/orders/{{order_ref}}/item-modifications", dependencies=authed)
    def modify_items(order_ref: str, body: ItemChangeRequest) -> Json:
        return write_order(
            order_ref,
            lambda s, oid: _rules.modify_pending_order_items(
                s,
                oid,
                body.item_ids,
                body.new_item_ids,
                body.payment_instrument_id,
                benchmark_item_modification_quirk=config.benchmark_item_modification_quirk,
            ),
        )

    @app.put(f"{prefix}/orders/{{order_ref}}/shipping-address", dependencies=authed)
    def put_shipping_address(order_ref: str, body: AddressPayload) -> Json:
        return write_order(
            order_ref, lambda s, oid: _rules.modify_pending_order_address(s, oid, body.to_doc())
        )

    @app.put(f"{prefix}/orders/{{order_ref}}/payment-instrument", dependencies=authed)
    def put_payment_instrument(order_ref: str, body: PaymentInstrumentChange) -> Json:
        return write_order(
            order_ref,
            lambda s, oid: _rules.modify_pending_order_payment(s, oid, body.payment_instrument_id),
        )

    # Catalogue ----------------------------------------------------------------------------------

    @app.get(f"{prefix}/products", dependencies=authed)
    def list_products(page: PageNo = 1, page_size: PageSize = 10) -> Json:
        offset, limit = _paging(page, page_size)
        result = store.list_products(offset=offset, limit=limit)
        return _views.page(
            [_views.product(r, prefix) for r in result.records],
            page_no=page,
            page_size=page_size,
            total=result.total,
            href=f"{prefix}/products",
        )

    @app.get(f"{prefix}/products/{{product_id}}", dependencies=authed)
    def get_product(product_id: str) -> Json:
        record = store.get_product(product_id)
        if record is None:
            raise not_found("PRD-404", "Product not found")
        return _views.product(record, prefix)

    @app.get(f"{prefix}/items/{{item_id}}", dependencies=authed)
    def get_item(item_id: str) -> Json:
        record = store.find_item(item_id)
        if record is None:
            raise not_found("ITM-404", "Item not found")
        return _views.sku(record.doc["variants"][item_id], record.doc, prefix)

    # Administration -----------------------------------------------------------------------------

    @app.get("/admin/export", dependencies=[Depends(admin)])
    def export() -> JSONResponse:
        return JSONResponse(store.export())

    @app.post("/admin/reset", dependencies=[Depends(admin)])
    def reset() -> Json:
        store.reset()
        return {"status": "RESET"}

    return app
