"""Trimming helpers: field projection, capped lists with totals, folded pagination."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bastion_facades._types import JsonObject, JsonValue, LegacyJson

T = TypeVar("T")

_MISSING = object()


def pick(source: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dotted ``path`` in nested mappings, or ``default``."""
    current: Any = source
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return default
        current = current.get(part, _MISSING)  # pyright: ignore[reportUnknownMemberType]
        if current is _MISSING:
            return default
    return current


def project(source: Mapping[str, Any], fields: Mapping[str, str], *, drop_none: bool = True) -> JsonObject:
    """Keep only some fields of a legacy object, renamed.

    Args:
        source: A legacy JSON object.
        fields: Output name -> dotted path in ``source`` (e.g. ``{"email": "contactInfo.emailAddress"}``).
        drop_none: Leave out fields whose value is missing or null.

    Returns:
        A new object with the output names, in the order of ``fields``.
    """
    out: JsonObject = {}
    for name, path in fields.items():
        value = pick(source, path)
        if value is None and drop_none:
            continue
        out[name] = value
    return out


@dataclass(frozen=True)
class Capped(Generic[T]):
    """A list cut to a maximum length, with the full count.

    Attributes:
        items: At most ``cap`` items.
        total: How many items there were before capping.
    """

    items: list[T]
    total: int

    @property
    def truncated(self) -> bool:
        """True if items were left out."""
        return self.total > len(self.items)


def cap_list(items: Sequence[T], cap: int, *, total: int | None = None) -> Capped[T]:
    """Cap a list at ``cap`` items; ``total`` overrides the count (e.g. a server-side total)."""
    return Capped(list(items[:cap]), len(items) if total is None else max(total, len(items)))


def capped_fields(name: str, capped: Capped[JsonValue], count_name: str) -> JsonObject:
    """Output fields for a capped list: ``{name: items, count_name: total}`` plus a note if cut."""
    out: JsonObject = {name: capped.items, count_name: capped.total}
    if capped.truncated:
        out[f"{name}_note"] = f"Showing {len(capped.items)} of {capped.total}."
    return out


async def fold_pages(
    fetch_page: Callable[[int], Awaitable[LegacyJson]],
    *,
    max_items: int,
    data_key: str = "data",
    total_pages_path: str = "paging.totalPages",
    total_items_path: str = "paging.totalItems",
) -> tuple[list[LegacyJson], int]:
    """Fetch pages 1, 2, ... of a paginated list until done or ``max_items`` are collected.

    Args:
        fetch_page: Fetches one page by number (1-based).
        max_items: Stop once this many items are collected.
        data_key: Key of the item list in a page.
        total_pages_path: Dotted path of the page count in a page.
        total_items_path: Dotted path of the item count in a page.

    Returns:
        The items (at most ``max_items``) and the reported total item count.
    """
    items: list[LegacyJson] = []
    total = 0
    page = 1
    while True:
        body = await fetch_page(page)
        data = body.get(data_key) or []
        items.extend(data)
        total = int(pick(body, total_items_path, len(items)))
        total_pages = int(pick(body, total_pages_path, page))
        if len(items) >= max_items or page >= total_pages or not data:
            return items[:max_items], total
        page += 1
