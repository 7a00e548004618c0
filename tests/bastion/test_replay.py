"""`bastion replay`: the 74 train tasks replayed through the MCP server reproduce tau2-bench's hashes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bastion.domain import Domain
from bastion.replay import ReplayError, ReplayTask, TaskOutcome, read_tasks, replay
from bastion.settings import Settings
from bastion.stack import Stack

EXPECTED = Path(__file__).resolve().parents[3] / "shared" / "data" / "tau2-retail" / "expected_train.jsonl"


def _replay_all(settings: Settings, domain: Domain, tasks: list[ReplayTask]) -> list[TaskOutcome]:
    async def run(stack: Stack) -> list[TaskOutcome]:
        return [outcome async for outcome in replay(stack, tasks)]

    with Stack(settings, domain, model=None, ephemeral_ports=True) as stack:
        return asyncio.run(run(stack))


def test_replay_reproduces_every_train_hash(settings: Settings, retail: Domain) -> None:
    expected = [json.loads(line) for line in EXPECTED.read_text().splitlines()]
    tasks = list(read_tasks(EXPECTED))
    assert len(tasks) == 74
    outcomes = _replay_all(settings, retail, tasks)
    mismatched = [
        o.task_id
        for o, e in zip(outcomes, expected, strict=True)
        if o.final_db_sha256 != e["final_db_sha256"]
    ]
    assert mismatched == []
    for outcome, exp in zip(outcomes, expected, strict=True):
        assert [a.ok for a in outcome.actions] == [a["ok"] for a in exp["actions"]], outcome.task_id


def test_failed_actions_carry_the_benchmark_error(settings: Settings, retail: Domain) -> None:
    task = ReplayTask(
        task_id="t",
        actions=({"name": "find_user_id_by_email", "arguments": {"email": "nobody@example.com"}},),
    )
    (outcome,) = _replay_all(settings, retail, [task])
    assert outcome.actions[0].ok is False
    assert outcome.actions[0].error is not None and "User not found" in outcome.actions[0].error
    line = json.loads(outcome.to_json())
    assert line["task_id"] == "t" and "result" not in line["actions"][0]


def test_malformed_replay_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task_id": "1", "actions": []}\nnot json\n')
    with pytest.raises(ReplayError, match="line 2"):
        list(read_tasks(path))


def test_action_without_name_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task_id": "1", "actions": [{"arguments": {}}]}\n')
    with pytest.raises(ReplayError, match="action 0"):
        list(read_tasks(path))
