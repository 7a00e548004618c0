"""Replay the benchmark's expected actions through the MCP server and hash the final database.

This is how QA checks facade fidelity: each task's actions (tau2-bench action format,
``{"task_id", "actions": [{"name", "arguments"}]}``) are called as MCP tools by a principal with the
domain's full-access groups against a fresh legacy database, and the resulting database is hashed
exactly as tau2-bench does (see the data's ``SOURCE.md``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from bastion_core import BastionUsageError
from bastion_policies import Principal

from bastion.mcp_client import connect, result_text
from bastion.stack import Stack

__all__ = ["ActionOutcome", "ReplayError", "ReplayTask", "TaskOutcome", "read_tasks", "replay"]

REPLAY_USER = "qa-replay"


class ReplayError(BastionUsageError, ValueError):
    """The replay file is malformed; the message names the line and what is wrong."""


class _Action(TypedDict):
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ReplayTask:
    """One task to replay: its id and the tool calls to make, in order."""

    task_id: str
    actions: tuple[_Action, ...]


@dataclass(frozen=True)
class ActionOutcome:
    """What one replayed tool call returned.

    Attributes:
        name: Tool name.
        ok: False when the tool returned an error result.
        result: The tool's text on success.
        error: The tool's error text on failure.
    """

    name: str
    ok: bool
    result: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class TaskOutcome:
    """The replay of one task: per-action outcomes and the final database hash."""

    task_id: str
    actions: list[ActionOutcome] = field(default_factory=lambda: [])
    final_db_sha256: str = ""

    def to_json(self) -> str:
        """One JSON line; ``result``/``error`` keys only where set."""
        data = asdict(self)
        data["actions"] = [{k: v for k, v in a.items() if v is not None} for a in data["actions"]]
        return json.dumps(data, ensure_ascii=False)


def read_tasks(path: Path) -> Iterator[ReplayTask]:
    """Parse a replay file: one JSON object per line with ``task_id`` and ``actions``.

    Raises:
        ReplayError: A line is not JSON or lacks the fields (message gives the line number).
        OSError: The file cannot be read.
    """
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            yield _parse_line(line, number)


def _parse_line(line: str, number: int) -> ReplayTask:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ReplayError("line %d is not JSON (%s)" % (number, exc.msg)) from exc
    if not isinstance(raw, dict) or "task_id" not in raw or not isinstance(raw.get("actions"), list):
        raise ReplayError('line %d needs {"task_id": ..., "actions": [...]}' % number)
    actions: list[_Action] = []
    for index, action in enumerate(raw["actions"]):
        if (
            not isinstance(action, dict)
            or not isinstance(action.get("name"), str)
            or not isinstance(action.get("arguments", {}), dict)
        ):
            raise ReplayError('line %d, action %d needs {"name": str, "arguments": {...}}' % (number, index))
        actions.append(_Action(name=action["name"], arguments=dict(action.get("arguments", {}))))
    return ReplayTask(task_id=str(raw["task_id"]), actions=tuple(actions))


async def replay(stack: Stack, tasks: Iterable[ReplayTask]) -> AsyncIterator[TaskOutcome]:
    """Replay tasks one by one, each on a fresh database and in its own MCP session.

    The replaying principal has the domain's ``full_access_groups``; each task runs in its own
    conversation (an exchanged token with its own signed session claim).

    Args:
        stack: A started stack with the domain's stand-in (legacy system + MCP server).
        tasks: The tasks to replay.

    Yields:
        One `TaskOutcome` per task, in order.

    Raises:
        ReplayError: The stack runs against a real legacy system (no stand-in to reset and hash),
            or the domain declares no full-access group.
    """
    standin = stack.standin
    if standin is None:
        raise ReplayError("replay needs the domain's stand-in legacy system; unset BASTION_LEGACY_URL")
    groups = stack.domain.full_access_groups
    if not groups:
        raise ReplayError("domain %r declares no full_access_groups to replay as" % stack.domain.name)
    principal = Principal(REPLAY_USER, groups)
    for task in tasks:
        standin.reset()
        outcomes: list[ActionOutcome] = []
        token = stack.mcp_token(principal, "replay-" + task.task_id)
        async with connect(stack.urls.mcp, token) as client:
            for action in task.actions:
                result = await client.call_tool(action["name"], action["arguments"])
                text = result_text(result)
                if result.is_error:
                    outcomes.append(ActionOutcome(name=action["name"], ok=False, error=text))
                else:
                    outcomes.append(ActionOutcome(name=action["name"], ok=True, result=text))
        yield TaskOutcome(task_id=task.task_id, actions=outcomes, final_db_sha256=standin.state_hash())
