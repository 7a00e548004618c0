"""The benchmark's database hash."""

from __future__ import annotations

import hashlib
import json

from bastion_legacy._model import OPTIONAL_ORDER_FIELDS, DatabaseDoc


def db_sha256(export: DatabaseDoc) -> str:
    """sha256 of the database exactly as tau2-bench hashes it.

    The benchmark validates the database into its data model, which adds seven optional order
    fields as null, then hashes the UTF-8 text of ``json.dumps(db, sort_keys=True, default=str)``.
    See ``SOURCE.md`` of the retail data.

    Args:
        export: The database in ``db.json``'s shape (e.g. ``LegacyStore.export()``); not mutated.

    Returns:
        The hex digest (64 characters).
    """
    defaults = dict.fromkeys(OPTIONAL_ORDER_FIELDS)
    db = {
        "products": export["products"],
        "users": export["users"],
        "orders": {order_id: {**defaults, **order} for order_id, order in export["orders"].items()},
    }
    return hashlib.sha256(json.dumps(db, sort_keys=True, default=str).encode("utf-8")).hexdigest()
