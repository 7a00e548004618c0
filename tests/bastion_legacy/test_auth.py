"""OAuth2 client-credentials: tokens required, issued, expiring."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from bastion_legacy import LegacyConfig, LegacyConfigurationError


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


async def test_resources_require_a_bearer_token(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v2/products")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "AUTH-401"
    assert error["traceId"]


async def test_unknown_token_is_rejected(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v2/products", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid access token."


async def test_token_from_form_credentials(http: httpx.AsyncClient, config: LegacyConfig) -> None:
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    ok = await http.get("/api/v2/products", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert ok.status_code == 200


async def test_token_from_http_basic(http: httpx.AsyncClient, config: LegacyConfig) -> None:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": _basic(config.client_id, config.client_secret)},
    )
    assert response.status_code == 200
    assert response.json()["access_token"]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (
            {"grant_type": "client_credentials", "client_id": "legacy-tests", "client_secret": "wrong"},
            401,
            "AUTH-401",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "other",
                "client_secret": "legacy-tests-secret",
            },
            401,
            "AUTH-401",
        ),
        (
            {"grant_type": "password", "client_id": "legacy-tests", "client_secret": "legacy-tests-secret"},
            400,
            "AUTH-400",
        ),
    ],
)
async def test_bad_token_requests_are_refused(
    http: httpx.AsyncClient, data: dict[str, str], status: int, code: str
) -> None:
    response = await http.post("/oauth/token", data=data)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert "access_token" not in response.text


async def test_token_expires_after_its_ttl(http: httpx.AsyncClient, get_token: Any, clock: Any) -> None:
    headers = {"Authorization": f"Bearer {await get_token()}"}
    clock.now += 299
    assert (await http.get("/api/v2/products", headers=headers)).status_code == 200
    clock.now += 1
    expired = await http.get("/api/v2/products", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["error"]["message"] == "Access token expired."


async def test_admin_endpoints_accept_basic_or_bearer_only(
    http: httpx.AsyncClient, config: LegacyConfig, auth: dict[str, str]
) -> None:
    assert (await http.post("/admin/reset")).status_code == 401
    assert (
        await http.post("/admin/reset", headers={"Authorization": _basic(config.client_id, "x")})
    ).status_code == 401
    basic = {"Authorization": _basic(config.client_id, config.client_secret)}
    assert (await http.post("/admin/reset", headers=basic)).json() == {"status": "RESET"}
    export = await http.get("/admin/export", headers=auth)
    assert export.status_code == 200
    assert set(export.json()) == {"products", "users", "orders"}


def test_config_refuses_empty_credentials(config: LegacyConfig) -> None:
    with pytest.raises(LegacyConfigurationError):
        LegacyConfig(db_path=config.db_path, seed_path=config.seed_path, client_id="", client_secret="s")
