"""A per-call cache of idempotent GET answers (and of the errors they reported)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bastion_facades._errors import LegacyAPIError
from bastion_facades._types import JsonValue

CacheKey = tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class _Failure:
    status: int
    code: str
    message: str
    trace_id: str | None

    def error(self) -> LegacyAPIError:
        return LegacyAPIError(self.status, self.code, self.message, self.trace_id)


class CallScope:
    """What one tool call already asked the legacy system: GET answers by method + URL + params.

    A caller that must look at a resource before deciding on a call (e.g. who owns it) and the
    call itself share one scope, so the legacy system answers each GET once. Answers are kept
    only for the scope's life (one call); any write clears the scope, since what was read may
    have changed. Reported errors (4xx answers) are kept too; outages are not, so a later
    attempt may succeed.

    Attributes:
        hits: How many requests were answered from the scope.
    """

    def __init__(self) -> None:
        self._answers: dict[CacheKey, JsonValue | _Failure] = {}
        self.hits = 0

    @staticmethod
    def key(method: str, url: str, params: Mapping[str, str | int] | None) -> CacheKey:
        """The cache key of a request (parameters sorted, values as strings)."""
        return method.upper(), url, tuple(sorted((k, str(v)) for k, v in (params or {}).items()))

    def __contains__(self, key: CacheKey) -> bool:
        return key in self._answers

    def answer(self, key: CacheKey) -> JsonValue:
        """The kept answer for ``key``.

        Raises:
            KeyError: Nothing kept for ``key``.
            LegacyAPIError: The kept answer was an error (a fresh copy of it).
        """
        value = self._answers[key]
        self.hits += 1
        if isinstance(value, _Failure):
            raise value.error()
        return value

    def keep(self, key: CacheKey, value: JsonValue) -> None:
        """Keep a successful answer."""
        self._answers[key] = value

    def keep_error(self, key: CacheKey, error: LegacyAPIError) -> None:
        """Keep a reported error."""
        self._answers[key] = _Failure(error.status, error.code, error.legacy_message, error.trace_id)

    def clear(self) -> None:
        """Forget every answer (after a write)."""
        self._answers.clear()
