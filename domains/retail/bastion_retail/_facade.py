"""``create_retail_facade``: the declared retail operations over the legacy retail API."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from bastion_facades import Facade, OAuth2ClientCredentials, RetryPolicy, SystemClient

from bastion_retail._messages import RETAIL_ERRORS, RETAIL_OUTAGES, SYSTEM_NAME, TRANSFER_ACKNOWLEDGEMENT
from bastion_retail._operations import operations, resources

__all__ = ["OPERATIONS", "RESOURCES", "RETAIL_ERRORS", "TRANSFER_ACKNOWLEDGEMENT", "create_retail_facade"]

OPERATIONS = operations()
"""The 16 retail operations over the default API prefix ``/api/v2`` (each with its traits)."""

RESOURCES = resources("/api/v2")
"""The retail resource kinds: ``user`` (self-owned, ``user_id``) and ``order`` (``order_id``; owner =
the order's ``customerId``)."""


def create_retail_facade(
    base_url: str,
    client_id: str,
    client_secret: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    api_prefix: str = "/api/v2",
    token_path: str = "/oauth/token",  # noqa: S107 - a path, not a secret
    max_products: int = 200,
    retry: RetryPolicy | None = None,
    timeout_seconds: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
) -> Facade:
    """The retail facade: 16 operations, resources ``user`` and ``order``, the retail error messages.

    Args:
        base_url: Root URL of the legacy retail API.
        client_id: OAuth2 client id.
        client_secret: OAuth2 client secret (never logged, never in a message).
        transport: An httpx transport (tests pass ``httpx.ASGITransport(app=...)``).
        api_prefix: Path prefix of the legacy resource API.
        token_path: Path of the OAuth2 token endpoint.
        max_products: Cap for ``list_all_product_types``.
        retry: Retry policy for reads; default 3 attempts with 0.2 s, 0.4 s backoff on 502/503/504,
            timeouts and connection failures (writes are never retried).
        timeout_seconds: Per-request timeout.
        clock: Monotonic seconds for token expiry (tests inject one).

    Returns:
        A :class:`bastion_facades.Facade`; close it with ``aclose()`` (or ``async with``).

    Raises:
        ConfigurationError: Empty base URL or credentials.
    """
    client = SystemClient(
        base_url,
        system_name=SYSTEM_NAME,
        auth=OAuth2ClientCredentials(token_path, client_id, client_secret, clock=clock),
        retry=retry if retry is not None else RetryPolicy(),
        messages=RETAIL_OUTAGES,
        transport=transport,
        timeout_seconds=timeout_seconds,
    )
    default = api_prefix == "/api/v2" and max_products == 200
    return Facade(
        OPERATIONS if default else operations(api_prefix, max_products=max_products),
        client,
        resources=RESOURCES if api_prefix == "/api/v2" else resources(api_prefix),
        errors=RETAIL_ERRORS,
    )
