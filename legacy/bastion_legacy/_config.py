"""Configuration of the legacy retail service."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bastion_legacy._errors import LegacyConfigurationError

MAX_PAGE_SIZE = 25
"""The largest page any list endpoint returns."""


@dataclass(frozen=True)
class LegacyConfig:
    """Everything the legacy service needs; nothing is read from the environment.

    Attributes:
        db_path: The SQLite file holding the state (created from ``seed_path`` if missing).
        seed_path: The tau2-bench retail ``db.json``.
        client_id: The one OAuth2 client allowed to obtain tokens.
        client_secret: That client's secret.
        token_ttl_seconds: Lifetime of an access token (seconds, default 300).
        benchmark_item_modification_quirk: When True (the benchmark's behaviour), every line
            changed by one item modification takes the price and options of the *last* new item
            of the call; when False each line takes its own new item's price and options.
        clock: Seconds since the epoch; inject a fake one to expire tokens in tests.
        api_prefix: Path prefix of the resource API.
    """

    db_path: Path
    seed_path: Path
    client_id: str
    client_secret: str
    token_ttl_seconds: float = 300.0
    benchmark_item_modification_quirk: bool = True
    clock: Callable[[], float] = field(default=time.time, repr=False)
    api_prefix: str = "/api/v2"

    def __post_init__(self) -> None:
        if not self.client_id or not self.client_secret:
            raise LegacyConfigurationError("LegacyConfig needs a non-empty client_id and client_secret.")
        if self.token_ttl_seconds <= 0:
            raise LegacyConfigurationError("LegacyConfig.token_ttl_seconds must be positive.")
