"""Pluggable parts of a legacy client: error envelopes, paging schemes, retries, outage messages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bastion_facades._errors import ConfigurationError
from bastion_facades._jmes import Expression
from bastion_facades._types import JsonValue

QueryValue = str | int
QueryParams = Mapping[str, QueryValue]


# Error envelopes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportedError:
    """An error a legacy answer reports in its body.

    Attributes:
        code: The system's error code (``HTTP-<status>`` if the body names none).
        message: The system's message (the HTTP reason phrase if the body has none).
        trace_id: The system's trace/correlation id, if any.
    """

    code: str
    message: str
    trace_id: str | None = None


class ErrorEnvelope(Protocol):
    """Reads the errors one legacy system reports, including errors inside HTTP 200 answers."""

    def read(self, status: int, reason: str, body: JsonValue) -> ReportedError | None:
        """The error this answer reports, or None if it is a success.

        Called for every answer with a decoded body (``None`` if unreadable): a 4xx/5xx answer is an
        error whatever it returns; a 2xx answer is an error only if this returns one.
        """
        ...


@dataclass(frozen=True)
class FieldErrorEnvelope:
    """An envelope whose fields are found by JMESPath (default: ``{"error": {code, message, traceId}}``).

    Attributes:
        code: Where the error code is.
        message: Where the message is.
        trace_id: Where the trace id is.
        failed_when: For systems that report errors inside 2xx answers: a JMESPath expression that is
            truthy on such a body (e.g. ``"status == 'error'"``). None: 2xx answers are successes.
    """

    code: str = "error.code"
    message: str = "error.message"
    trace_id: str = "error.traceId"
    failed_when: str | None = None
    _compiled: tuple[Expression, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exprs = [Expression(self.code), Expression(self.message), Expression(self.trace_id)]
        if self.failed_when is not None:
            exprs.append(Expression(self.failed_when))
        object.__setattr__(self, "_compiled", tuple(exprs))

    def read(self, status: int, reason: str, body: JsonValue) -> ReportedError | None:
        """See :class:`ErrorEnvelope`."""
        if status < 400 and (len(self._compiled) < 4 or not _truthy(self._compiled[3].search(body))):
            return None
        code, message, trace = (expr.search(body) for expr in self._compiled[:3])
        return ReportedError(
            code if isinstance(code, str) else f"HTTP-{status}",
            message if isinstance(message, str) else reason,
            trace if isinstance(trace, str) else None,
        )


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", [], {})


# Paging ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a list answer.

    Attributes:
        items: The page's items.
        total: The total item count the system reports, if it does.
        next: Query parameters of the next page, or None if this was the last.
    """

    items: list[JsonValue]
    total: int | None
    next: dict[str, QueryValue] | None


class Paging(Protocol):
    """A paging scheme (page number, offset, cursor, ...)."""

    def first(self) -> dict[str, QueryValue]:
        """Query parameters of the first page."""
        ...

    def read(self, body: JsonValue, params: QueryParams) -> Page:
        """The page in ``body``, fetched with ``params``."""
        ...


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _items(value: Any) -> list[JsonValue]:
    return list(value) if isinstance(value, list) else []  # pyright: ignore[reportUnknownArgumentType]


@dataclass(frozen=True)
class PageNumberPaging:
    """``?page=N&pageSize=S`` paging; stops at the reported page count or an empty page.

    Attributes:
        page_size: Items asked per page.
        page_param: Page number parameter (1-based).
        size_param: Page size parameter.
        items: JMESPath of the item list in a page.
        total_items: JMESPath of the total item count.
        total_pages: JMESPath of the page count.
    """

    page_size: int = 25
    page_param: str = "page"
    size_param: str = "pageSize"
    items: str = "data"
    total_items: str = "paging.totalItems"
    total_pages: str = "paging.totalPages"

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ConfigurationError("PageNumberPaging page_size must be at least 1.")
        for text in (self.items, self.total_items, self.total_pages):
            Expression(text)

    def first(self) -> dict[str, QueryValue]:
        """See :class:`Paging`."""
        return {self.page_param: 1, self.size_param: self.page_size}

    def read(self, body: JsonValue, params: QueryParams) -> Page:
        """See :class:`Paging`."""
        page = int(params[self.page_param])
        items = _items(Expression(self.items).search(body))
        pages = _count(Expression(self.total_pages).search(body))
        last = not items or page >= (page if pages is None else pages)
        nxt: dict[str, QueryValue] | None = (
            None if last else {self.page_param: page + 1, self.size_param: self.page_size}
        )
        return Page(items, _count(Expression(self.total_items).search(body)), nxt)


@dataclass(frozen=True)
class OffsetPaging:
    """``?offset=N&limit=L`` paging; stops at the reported total or a short page.

    Attributes:
        limit: Items asked per request.
        offset_param: Offset parameter (0-based).
        limit_param: Limit parameter.
        items: JMESPath of the item list.
        total: JMESPath of the total item count.
    """

    limit: int = 50
    offset_param: str = "offset"
    limit_param: str = "limit"
    items: str = "items"
    total: str = "total"

    def first(self) -> dict[str, QueryValue]:
        """See :class:`Paging`."""
        return {self.offset_param: 0, self.limit_param: self.limit}

    def read(self, body: JsonValue, params: QueryParams) -> Page:
        """See :class:`Paging`."""
        offset = int(params[self.offset_param])
        items = _items(Expression(self.items).search(body))
        total = _count(Expression(self.total).search(body))
        end = offset + len(items)
        last = len(items) < self.limit or (total is not None and end >= total)
        return Page(items, total, None if last else {self.offset_param: end, self.limit_param: self.limit})


# Retries and messages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Retries with exponential backoff, for idempotent reads only (writes are never retried).

    Attributes:
        attempts: Tries in total (1 = no retry).
        backoff_seconds: Wait before the first retry.
        multiplier: Each later wait is this many times the previous one.
        max_backoff_seconds: Upper bound of one wait.
        statuses: HTTP statuses worth retrying.
        on_timeout: Retry timeouts and connection failures too.
        methods: Methods that may be retried (idempotent reads).
        sleep: Awaitable sleep in seconds; tests inject a fake one.
    """

    attempts: int = 3
    backoff_seconds: float = 0.2
    multiplier: float = 2.0
    max_backoff_seconds: float = 2.0
    statuses: frozenset[int] = frozenset({502, 503, 504})
    on_timeout: bool = True
    methods: frozenset[str] = frozenset({"GET", "HEAD"})
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff_seconds < 0 or self.multiplier < 1:
            raise ConfigurationError(
                "RetryPolicy needs attempts >= 1, backoff_seconds >= 0, multiplier >= 1."
            )
        if self.methods - {"GET", "HEAD", "OPTIONS"}:
            raise ConfigurationError("RetryPolicy may only retry idempotent reads (GET, HEAD, OPTIONS).")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return min(self.max_backoff_seconds, self.backoff_seconds * self.multiplier ** (retry - 1))


@dataclass(frozen=True)
class OutageMessages:
    """Agent-facing messages for failures of the legacy system itself (``str.format`` templates).

    Fields available: ``{system}`` (the client's ``system_name``), and in ``failed`` ``{status}`` and
    ``{trace}`` (``", trace <id>"`` or empty), in ``unreadable`` ``{reason}``.
    """

    timeout: str = (
        "The {system} did not answer in time. Check the current state before retrying a change; if it "
        "keeps failing, transfer to a human agent."
    )
    unreachable: str = (
        "The {system} cannot be reached right now. Try again shortly; if it keeps failing, transfer to a "
        "human agent."
    )
    failed: str = (
        "The {system} failed (HTTP {status}{trace}). Try again shortly; if it keeps failing, transfer to "
        "a human agent."
    )
    unreadable: str = (
        "The {system} returned an unreadable response ({reason}). Try again shortly; if it keeps failing, "
        "transfer to a human agent."
    )
