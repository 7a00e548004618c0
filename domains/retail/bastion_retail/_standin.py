"""The development stand-in of the retail legacy system (``bastion_legacy``), for demo, replay and tests."""

from __future__ import annotations

from typing import Any

from bastion_legacy import LegacyConfig, LegacyStore, create_app, db_sha256

from bastion.domain import StandinConfig

__all__ = ["RetailStandin"]


class RetailStandin:
    """The stand-in legacy retail REST API over SQLite, seeded from tau2-bench's ``db.json``.

    Args:
        config: Where its database lives, the seed folder and the credentials it accepts.
    """

    def __init__(self, config: StandinConfig) -> None:
        self.config = LegacyConfig(
            db_path=config.db_path,
            seed_path=config.data_dir / "db.json",
            client_id=config.client_id,
            client_secret=config.client_secret,
        )
        self.store = LegacyStore.open(self.config.db_path, self.config.seed_path)
        self._app = create_app(self.config, store=self.store)

    @property
    def app(self) -> Any:
        """The ASGI app."""
        return self._app

    def reset(self) -> None:
        """Restore ``db.json``."""
        self.store.reset()

    def state_hash(self) -> str:
        """tau2-bench's hash of the whole database (see the data's SOURCE.md)."""
        return db_sha256(self.store.export())

    def close(self) -> None:
        """Close the database."""
        self.store.close()
