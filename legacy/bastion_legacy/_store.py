"""SQLite state of the legacy retail system: one JSON document row per customer, order, product.

The database file is created from the seed ``db.json`` on first open, keeps its state across
restarts, runs every write in one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back
when a rule raises) and exports the whole state back in ``db.json``'s shape.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Self, TypeVar, cast

from bastion_legacy._errors import LegacyConfigurationError
from bastion_legacy._model import DatabaseDoc, OrderDoc, ProductDoc, UserDoc, VariantDoc

logger = logging.getLogger(__name__)

T = TypeVar("T")
D = TypeVar("D")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customers (
    seq INTEGER PRIMARY KEY, customer_id TEXT NOT NULL UNIQUE, email_lower TEXT NOT NULL,
    first_lower TEXT NOT NULL, last_lower TEXT NOT NULL, zip TEXT NOT NULL,
    doc TEXT NOT NULL, version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS customers_email ON customers (email_lower);
CREATE INDEX IF NOT EXISTS customers_name_zip ON customers (last_lower, first_lower, zip);
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY, order_id TEXT NOT NULL UNIQUE, customer_id TEXT NOT NULL,
    status TEXT NOT NULL, doc TEXT NOT NULL, version INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id);
CREATE TABLE IF NOT EXISTS products (
    seq INTEGER PRIMARY KEY, product_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    doc TEXT NOT NULL, version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT NOT NULL, product_seq INTEGER NOT NULL, product_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS items_item ON items (item_id, product_seq);
"""


@dataclass(frozen=True)
class Record(Generic[D]):
    """A stored document with its audit metadata.

    Attributes:
        doc: The document in ``db.json``'s shape.
        version: 1 after import, +1 per committed change.
        created_at: ISO-8601 UTC time of import.
        updated_at: ISO-8601 UTC time of the last change.
    """

    doc: D
    version: int
    created_at: str
    updated_at: str

    @property
    def etag(self) -> str:
        """A weak entity tag derived from the document and its version."""
        digest = hashlib.sha256(json.dumps(self.doc, sort_keys=True).encode()).hexdigest()[:16]
        return f'W/"{self.version}-{digest}"'


@dataclass(frozen=True)
class Page(Generic[D]):
    """One page of a list query: the records and the total number of matches."""

    records: list[Record[D]]
    total: int


def _dumps(doc: object) -> str:
    return json.dumps(doc, separators=(",", ":"))


class _UnitOfWork:
    """The documents one write reads and mutates; implements ``RetailState``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._orders: dict[str, tuple[OrderDoc, str]] = {}
        self._users: dict[str, tuple[UserDoc, str]] = {}
        self._products: dict[str, ProductDoc | None] = {}

    def order(self, order_id: str) -> OrderDoc | None:
        if order_id not in self._orders:
            row = self._conn.execute("SELECT doc FROM orders WHERE order_id = ?", (order_id,)).fetchone()
            if row is None:
                return None
            self._orders[order_id] = (cast(OrderDoc, json.loads(row[0])), row[0])
        return self._orders[order_id][0]

    def user(self, user_id: str) -> UserDoc | None:
        if user_id not in self._users:
            row = self._conn.execute("SELECT doc FROM customers WHERE customer_id = ?", (user_id,)).fetchone()
            if row is None:
                return None
            self._users[user_id] = (cast(UserDoc, json.loads(row[0])), row[0])
        return self._users[user_id][0]

    def product(self, product_id: str) -> dict[str, VariantDoc] | None:
        if product_id not in self._products:
            row = self._conn.execute(
                "SELECT doc FROM products WHERE product_id = ?", (product_id,)
            ).fetchone()
            self._products[product_id] = None if row is None else cast(ProductDoc, json.loads(row[0]))
        product = self._products[product_id]
        return None if product is None else product["variants"]

    def flush(self, now: str) -> int:
        """Write back every changed document; returns how many changed."""
        changed = 0
        for order_id, (order, original) in self._orders.items():
            text = _dumps(order)
            if text != original:
                changed += 1
                self._conn.execute(
                    "UPDATE orders SET doc = ?, status = ?, version = version + 1, updated_at = ? "
                    "WHERE order_id = ?",
                    (text, order["status"], now, order_id),
                )
        for user_id, (user, original) in self._users.items():
            text = _dumps(user)
            if text != original:
                changed += 1
                self._conn.execute(
                    "UPDATE customers SET doc = ?, email_lower = ?, first_lower = ?, last_lower = ?, "
                    "zip = ?, version = version + 1, updated_at = ? WHERE customer_id = ?",
                    (
                        text,
                        user["email"].lower(),
                        user["name"]["first_name"].lower(),
                        user["name"]["last_name"].lower(),
                        user["address"]["zip"],
                        now,
                        user_id,
                    ),
                )
        return changed


class LegacyStore:
    """The retail state in one SQLite file.

    Thread-safe (one connection guarded by a lock). Use :meth:`open`; close with :meth:`close`
    or a ``with`` block.

    Args:
        conn: An open connection on an initialised database (use :meth:`open`).
        seed_path: The ``db.json`` used by :meth:`reset`.
        clock: Seconds since the epoch, for audit timestamps.
    """

    def __init__(self, conn: sqlite3.Connection, seed_path: Path, clock: Callable[[], float]) -> None:
        self._conn = conn
        self._seed_path = seed_path
        self._clock = clock
        self._lock = threading.RLock()

    @classmethod
    def open(cls, db_path: Path, seed_path: Path, *, clock: Callable[[], float] = time.time) -> Self:
        """Open the store at ``db_path``, importing ``seed_path`` if the file is new.

        Raises:
            LegacyConfigurationError: The database is new and the seed file is missing.
        """
        db_path = Path(db_path)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = NORMAL")
        store = cls(conn, Path(seed_path), clock)
        conn.executescript(_SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key = 'seeded'").fetchone()
        if row is None:
            logger.debug("db_path=<%s> | importing seed into new legacy store", db_path)
            store.reset()
        return store

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    @contextmanager
    def _transaction(self) -> Generator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def reset(self) -> None:
        """Replace the whole state with the seed ``db.json`` (one transaction).

        Raises:
            LegacyConfigurationError: The seed file is missing or not valid JSON.
        """
        try:
            seed = cast(DatabaseDoc, json.loads(self._seed_path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise LegacyConfigurationError(
                f"Cannot read the seed database {self._seed_path}: {exc}. Point seed_path at db.json."
            ) from None
        now = self._now()
        with self._transaction() as conn:
            for table in ("customers", "orders", "products", "items", "meta"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            conn.executemany(
                "INSERT INTO customers (customer_id, email_lower, first_lower, last_lower, zip, doc, "
                "version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                [
                    (
                        uid,
                        u["email"].lower(),
                        u["name"]["first_name"].lower(),
                        u["name"]["last_name"].lower(),
                        u["address"]["zip"],
                        _dumps(u),
                        now,
                        now,
                    )
                    for uid, u in seed["users"].items()
                ],
            )
            conn.executemany(
                "INSERT INTO orders (order_id, customer_id, status, doc, version, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 1, ?, ?)",
                [(oid, o["user_id"], o["status"], _dumps(o), now, now) for oid, o in seed["orders"].items()],
            )
            for seq, (pid, p) in enumerate(seed["products"].items(), start=1):
                conn.execute(
                    "INSERT INTO products (seq, product_id, name, doc, version, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, 1, ?, ?)",
                    (seq, pid, p["name"], _dumps(p), now, now),
                )
                conn.executemany(
                    "INSERT INTO items (item_id, product_seq, product_id) VALUES (?, ?, ?)",
                    [(item_id, seq, pid) for item_id in p["variants"]],
                )
            conn.execute("INSERT INTO meta (key, value) VALUES ('seeded', ?)", (now,))

    def export(self) -> DatabaseDoc:
        """The whole state in ``db.json``'s shape (keys in import order)."""
        with self._lock:
            products = {
                pid: cast(ProductDoc, json.loads(doc))
                for pid, doc in self._conn.execute("SELECT product_id, doc FROM products ORDER BY seq")
            }
            users = {
                uid: cast(UserDoc, json.loads(doc))
                for uid, doc in self._conn.execute("SELECT customer_id, doc FROM customers ORDER BY seq")
            }
            orders = {
                oid: cast(OrderDoc, json.loads(doc))
                for oid, doc in self._conn.execute("SELECT order_id, doc FROM orders ORDER BY seq")
            }
        return {"products": products, "users": users, "orders": orders}

    def apply(self, rule: Callable[[_UnitOfWork], T]) -> T:
        """Run a write rule in one transaction; nothing is written if it raises.

        Args:
            rule: A function of a ``RetailState`` (see ``_rules``) that checks, then mutates.

        Returns:
            What the rule returned.
        """
        with self._transaction() as conn:
            uow = _UnitOfWork(conn)
            result = rule(uow)
            changed = uow.flush(self._now())
        logger.debug("changed=<%d> | legacy write committed", changed)
        return result

    # Reads -----------------------------------------------------------------------------------

    def _record(self, sql: str, args: tuple[Any, ...]) -> Record[Any] | None:
        with self._lock:
            row = self._conn.execute(sql, args).fetchone()
        if row is None:
            return None
        return Record(json.loads(row[0]), row[1], row[2], row[3])

    def _page(self, table: str, where: str, args: tuple[Any, ...], offset: int, limit: int) -> Page[Any]:
        with self._lock:
            total = self._conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", args).fetchone()[0]  # noqa: S608
            rows = self._conn.execute(
                f"SELECT doc, version, created_at, updated_at FROM {table} WHERE {where} "  # noqa: S608
                "ORDER BY seq LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        return Page([Record(json.loads(r[0]), r[1], r[2], r[3]) for r in rows], total)

    def get_customer(self, customer_id: str) -> Record[UserDoc] | None:
        """The customer record, or None."""
        return self._record(
            "SELECT doc, version, created_at, updated_at FROM customers WHERE customer_id = ?", (customer_id,)
        )

    def get_order(self, order_id: str) -> Record[OrderDoc] | None:
        """The order record (``order_id`` with its leading ``#``), or None."""
        return self._record(
            "SELECT doc, version, created_at, updated_at FROM orders WHERE order_id = ?", (order_id,)
        )

    def get_product(self, product_id: str) -> Record[ProductDoc] | None:
        """The product record, or None."""
        return self._record(
            "SELECT doc, version, created_at, updated_at FROM products WHERE product_id = ?", (product_id,)
        )

    def find_item(self, item_id: str) -> Record[ProductDoc] | None:
        """The product that has variant ``item_id`` (the first in import order), or None."""
        return self._record(
            "SELECT p.doc, p.version, p.created_at, p.updated_at FROM items i JOIN products p "
            "ON p.seq = i.product_seq WHERE i.item_id = ? ORDER BY i.product_seq LIMIT 1",
            (item_id,),
        )

    def search_customers(
        self,
        *,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        zip_code: str | None = None,
        offset: int = 0,
        limit: int = 25,
    ) -> Page[UserDoc]:
        """Customers matching every given criterion (e-mail and names case-insensitive, zip exact)."""
        clauses: list[str] = []
        args: list[str] = []
        for column, value in (
            ("email_lower", email.lower() if email is not None else None),
            ("first_lower", first_name.lower() if first_name is not None else None),
            ("last_lower", last_name.lower() if last_name is not None else None),
            ("zip", zip_code),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        return self._page("customers", " AND ".join(clauses) or "1 = 1", tuple(args), offset, limit)

    def list_orders(
        self, *, customer_id: str | None = None, status: str | None = None, offset: int = 0, limit: int = 25
    ) -> Page[OrderDoc]:
        """Orders, optionally of one customer and/or with one exact status, in import order."""
        clauses: list[str] = []
        args: list[str] = []
        if customer_id is not None:
            clauses.append("customer_id = ?")
            args.append(customer_id)
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        return self._page("orders", " AND ".join(clauses) or "1 = 1", tuple(args), offset, limit)

    def list_products(self, *, offset: int = 0, limit: int = 25) -> Page[ProductDoc]:
        """Products in import order."""
        return self._page("products", "1 = 1", (), offset, limit)
