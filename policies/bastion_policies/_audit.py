"""Append-only JSONL audit log of policy decisions."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypedDict

from bastion_policies._decision import Decision
from bastion_policies._principal import Principal

__all__ = ["AuditLog", "AuditRecord"]

logger = logging.getLogger(__name__)

_MAX_STRING = 200
_MAX_ITEMS = 50


class AuditRecord(TypedDict):
    """One line of the audit log."""

    ts: str
    kind: Literal["bind", "check"]
    principal_id: str
    groups: list[str]
    tenant: str | None
    session_id: str | None
    tool: str | None
    arguments: dict[str, Any] | None
    decision: Literal["allow", "deny"] | None
    policy_ids: list[str]
    reasons: list[str]
    allowed_tools: list[str] | None
    denied_tools: list[str] | None


def _truncate(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= _MAX_STRING else value[:_MAX_STRING] + "…"
    if isinstance(value, Mapping):
        return {str(k): _truncate(v) for k, v in list(value.items())[:_MAX_ITEMS]}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if isinstance(value, list | tuple | set | frozenset):
        return [_truncate(v) for v in list(value)[:_MAX_ITEMS]]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _truncate(str(value))


class AuditLog:
    """Thread-safe append-only JSONL file, one line per policy decision.

    I/O problems never reach the caller: they are logged as warnings and the record is dropped (a
    decision is not undone because it could not be written down).

    Args:
        path: The JSONL file; its parent directory is created if missing.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record_check(
        self,
        principal: Principal,
        tool: str,
        arguments: Mapping[str, Any] | None,
        decision: Decision,
        session_id: str | None = None,
    ) -> None:
        """Append the decision for one call (string argument values are truncated to 200 chars)."""
        self._write(
            AuditRecord(
                ts=_now(),
                kind="check",
                principal_id=principal.user_id,
                groups=list(principal.groups),
                tenant=principal.tenant,
                session_id=session_id,
                tool=tool,
                arguments=_truncate(dict(arguments or {})),
                decision=decision.kind,
                policy_ids=list(decision.policy_ids),
                reasons=list(decision.reasons),
                allowed_tools=None,
                denied_tools=None,
            )
        )

    def record_bind(
        self,
        principal: Principal,
        allowed: Sequence[str],
        denied: Sequence[str],
        session_id: str | None = None,
    ) -> None:
        """Append the summary of one binding: which tools were bound and which were withheld."""
        self._write(
            AuditRecord(
                ts=_now(),
                kind="bind",
                principal_id=principal.user_id,
                groups=list(principal.groups),
                tenant=principal.tenant,
                session_id=session_id,
                tool=None,
                arguments=None,
                decision=None,
                policy_ids=[],
                reasons=[],
                allowed_tools=list(allowed),
                denied_tools=list(denied),
            )
        )

    def _write(self, record: AuditRecord) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line)
            except OSError as exc:
                logger.warning("path=<%s>, error=<%s> | could not write audit record", self.path, exc)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
