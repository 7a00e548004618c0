"""Append-only JSONL audit log of policy decisions, written for an investigator and leaking nothing.

One record per decision, at the enforcement point that made it (``list``: a tool list was served;
``agent``: an agent runtime's pre-check; ``server``: the MCP server's decision), plus one per fault
(the back end failed while facts were resolved: an outage, not a decision). Argument *values* are
never written: a record carries a keyed digest (HMAC-SHA256) of the canonical JSON of the arguments,
so an investigator holding the arguments can prove which call a record is about, while the file
alone reveals no e-mail, name, address or payment id. The file is created with mode 0600.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypedDict

from bastion_policies._decision import Decision, SessionFacts
from bastion_policies._principal import Principal

__all__ = ["AuditLog", "AuditRecord", "EnforcementPoint", "arguments_digest"]

logger = logging.getLogger(__name__)

EnforcementPoint = Literal["list", "agent", "server"]
"""Where a decision was made and enforced."""


class AuditRecord(TypedDict):
    """One line of the audit log.

    ``event`` is ``decision`` (a call was allowed or denied), ``list`` (a tool list was served: the
    tools shown and withheld) or ``fault`` (facts could not be resolved because a back end failed;
    ``error`` names the failure class, ``decision`` is null).
    """

    ts: str
    event: Literal["decision", "list", "fault"]
    point: EnforcementPoint
    session_id: str | None
    principal_id: str
    groups: list[str]
    tenant: str | None
    tool: str | None
    args_digest: str | None
    resource_owner_id: str | None
    session_subject_id: str | None
    decision: Literal["allow", "deny"] | None
    policy_ids: list[str]
    reasons: list[str]
    tools_allowed: list[str] | None
    tools_denied: list[str] | None
    error: str | None


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=repr)  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def arguments_digest(arguments: Mapping[str, Any] | None, key: bytes | None = None) -> str:
    """Digest of a call's arguments: the canonical JSON (sorted keys, no spaces, nulls dropped).

    Args:
        arguments: The call's arguments.
        key: HMAC key; None gives a plain SHA-256 (guessable for short values such as zip codes: use
            a key in production).

    Returns:
        ``"hmac-sha256:<hex>"`` or ``"sha256:<hex>"``.
    """
    data = {str(k): _canonical(v) for k, v in (arguments or {}).items() if v is not None}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if key is None:
        return "sha256:" + hashlib.sha256(text).hexdigest()
    return "hmac-sha256:" + hmac.new(key, text, hashlib.sha256).hexdigest()


class AuditLog:
    """Thread-safe append-only JSONL file, one line per policy decision or fault.

    I/O problems never reach the caller: they are logged as warnings and the record is dropped (a
    decision is not undone because it could not be written down).

    Args:
        path: The JSONL file; its parent directory is created (mode 0700) if missing, the file with
            mode 0600.
        digest_key: Key of the argument digests (see :func:`arguments_digest`).
    """

    def __init__(self, path: Path, *, digest_key: bytes | None = None) -> None:
        self.path = Path(path)
        self._key = digest_key
        self._lock = threading.Lock()

    def digest(self, arguments: Mapping[str, Any] | None) -> str:
        """The digest this log writes for ``arguments``."""
        return arguments_digest(arguments, self._key)

    def record_decision(
        self,
        point: EnforcementPoint,
        principal: Principal,
        tool: str,
        arguments: Mapping[str, Any] | None,
        decision: Decision,
        facts: SessionFacts | None = None,
    ) -> None:
        """Append the decision for one call."""
        facts = facts or SessionFacts()
        self._write(
            self._base("decision", point, principal, facts.session_id)
            | {
                "tool": tool,
                "args_digest": self.digest(arguments),
                "resource_owner_id": decision.resource_owner_id or facts.resource_owner_id,
                "session_subject_id": facts.session_subject_id,
                "decision": decision.kind,
                "policy_ids": list(decision.policy_ids),
                "reasons": list(decision.reasons),
            }
        )

    def record_list(
        self,
        principal: Principal,
        allowed: Sequence[str],
        denied: Sequence[str],
        session_id: str | None = None,
    ) -> None:
        """Append the summary of one served tool list: which tools were shown and which withheld."""
        self._write(
            self._base("list", "list", principal, session_id)
            | {"tools_allowed": list(allowed), "tools_denied": list(denied)}
        )

    def record_fault(
        self,
        point: EnforcementPoint,
        principal: Principal,
        tool: str,
        arguments: Mapping[str, Any] | None,
        error: str,
        facts: SessionFacts | None = None,
    ) -> None:
        """Append a fault: a call could not be decided because a back end failed (not a denial).

        Args:
            point: Where it happened.
            principal: The caller.
            tool: The tool called.
            arguments: Its arguments (only their digest is written).
            error: The failure class, e.g. ``UpstreamError`` (never the back end's text).
            facts: The facts known so far.
        """
        facts = facts or SessionFacts()
        self._write(
            self._base("fault", point, principal, facts.session_id)
            | {
                "tool": tool,
                "args_digest": self.digest(arguments),
                "session_subject_id": facts.session_subject_id,
                "error": error,
            }
        )

    @staticmethod
    def _base(
        event: Literal["decision", "list", "fault"],
        point: EnforcementPoint,
        principal: Principal,
        session_id: str | None,
    ) -> AuditRecord:
        return AuditRecord(
            ts=_now(),
            event=event,
            point=point,
            session_id=session_id,
            principal_id=principal.user_id,
            groups=list(principal.groups),
            tenant=principal.tenant,
            tool=None,
            args_digest=None,
            resource_owner_id=None,
            session_subject_id=None,
            decision=None,
            policy_ids=[],
            reasons=[],
            tools_allowed=None,
            tools_denied=None,
            error=None,
        )

    def _write(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        with self._lock:
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
            except OSError as exc:
                logger.warning("path=<%s>, error=<%s> | could not write audit record", self.path, exc)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
