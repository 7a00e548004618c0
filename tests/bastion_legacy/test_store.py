"""The SQLite store: import, hash, persistence, reset, transactions."""

from __future__ import annotations

from pathlib import Path

import pytest
from bastion_legacy import (
    INITIAL_DB_SHA256,
    LegacyApiError,
    LegacyConfig,
    LegacyConfigurationError,
    LegacyStore,
    _rules,  # pyright: ignore[reportPrivateUsage]
    db_sha256,
)


def test_fresh_import_hashes_like_the_benchmark(tmp_path: Path, seed_path: Path) -> None:
    with LegacyStore.open(tmp_path / "s.sqlite3", seed_path) as store:
        export = store.export()
        assert (len(export["products"]), len(export["users"]), len(export["orders"])) == (50, 500, 1000)
        assert db_sha256(export) == INITIAL_DB_SHA256


def test_db_sha256_does_not_mutate_the_export(store: LegacyStore) -> None:
    export = store.export()
    db_sha256(export)
    assert "cancel_reason" not in next(iter(export["orders"].values()))


def test_writes_survive_a_restart(config: LegacyConfig) -> None:
    with LegacyStore.open(config.db_path, config.seed_path) as store:
        store.apply(lambda s: _rules.cancel_pending_order(s, "#W4776164", "no longer needed"))
        digest = db_sha256(store.export())
    with LegacyStore.open(config.db_path, config.seed_path) as reopened:
        assert reopened.export()["orders"]["#W4776164"]["status"] == "cancelled"
        assert db_sha256(reopened.export()) == digest


def test_reset_restores_the_seed(store: LegacyStore) -> None:
    store.apply(lambda s: _rules.cancel_pending_order(s, "#W4776164", "no longer needed"))
    assert db_sha256(store.export()) != INITIAL_DB_SHA256
    store.reset()
    assert db_sha256(store.export()) == INITIAL_DB_SHA256
    record = store.get_order("#W4776164")
    assert record is not None
    assert record.version == 1


def test_a_rule_that_raises_after_mutating_is_rolled_back(store: LegacyStore) -> None:
    def half_write(state: _rules.RetailState) -> None:
        order = state.order("#W4776164")
        assert order is not None
        order["status"] = "cancelled"
        raise LegacyApiError(422, "ORD-422", "stop")

    with pytest.raises(LegacyApiError):
        store.apply(half_write)
    assert db_sha256(store.export()) == INITIAL_DB_SHA256


def test_unchanged_documents_keep_their_version(store: LegacyStore) -> None:
    before = store.get_order("#W4776164")
    assert before is not None
    same_address = before.doc["address"]
    store.apply(lambda s: _rules.modify_pending_order_address(s, "#W4776164", same_address))
    after = store.get_order("#W4776164")
    assert after is not None
    assert (after.version, after.etag) == (1, before.etag)
    store.apply(
        lambda s: _rules.modify_pending_order_address(s, "#W4776164", {**same_address, "zip": "00000"})
    )
    changed = store.get_order("#W4776164")
    assert changed is not None
    assert changed.version == 2
    assert changed.etag != before.etag


def test_missing_seed_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(LegacyConfigurationError, match=r"seed"):
        LegacyStore.open(tmp_path / "s.sqlite3", tmp_path / "missing.json")
