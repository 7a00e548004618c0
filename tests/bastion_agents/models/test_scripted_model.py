"""ScriptedModel: rule matching, templates, and the Strands stream events it emits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bastion_agents import ConfigurationError, ScriptedModel
from strands import Agent, tool


async def _events(
    model: ScriptedModel, messages: list[Any], system: str | None = None
) -> list[dict[str, Any]]:
    return [dict(e) async for e in model.stream(messages, None, system)]


def _text(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e
    )


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


SCRIPT: dict[str, Any] = {
    "rules": [
        {
            "when": {"user_regex": r"order (?P<order_id>#W\d+)"},
            "call": {"name": "get_order_details", "arguments": {"order_id": "{{order_id}}", "n": 1}},
        },
        {"when": {"after_tool": "get_order_details"}, "say": "Status: {{tool_result.status}}"},
        {"when": {"system_contains": "support"}, "say": "Hi agent."},
        {"say": "Hi."},
    ],
    "fallback": "no rule",
}


async def test_user_rule_emits_one_tool_call_with_templated_arguments() -> None:
    events = await _events(ScriptedModel(SCRIPT), [_user("where is order #W123?")])
    assert events[0] == {"messageStart": {"role": "assistant"}}
    assert events[1] == {
        "contentBlockStart": {"start": {"toolUse": {"name": "get_order_details", "toolUseId": "scripted-1"}}}
    }
    assert json.loads(events[2]["contentBlockDelta"]["delta"]["toolUse"]["input"]) == {
        "order_id": "#W123",
        "n": 1,
    }
    assert events[3] == {"contentBlockStop": {}}
    assert events[4] == {"messageStop": {"stopReason": "tool_use"}}
    assert "metadata" in events[5]


async def test_after_tool_rule_renders_result_path_as_text_deltas() -> None:
    messages = [
        _user("order #W1"),
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "scripted-1", "name": "get_order_details", "input": {}}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "scripted-1",
                        "status": "success",
                        "content": [{"text": '{"status": "pending"}'}],
                    }
                }
            ],
        },
    ]
    events = await _events(ScriptedModel(SCRIPT), messages)
    assert _text(events) == "Status: pending"
    assert {"messageStop": {"stopReason": "end_turn"}} in events


async def test_system_prompt_condition_and_fallback() -> None:
    model = ScriptedModel(SCRIPT)
    agent_events = await _events(model, [_user("hello")], "You assist a support agent")
    customer_events = await _events(model, [_user("hello")], "You help a customer")
    assert _text(agent_events) == "Hi agent."
    assert _text(customer_events) == "Hi."
    no_match = ScriptedModel(
        {"rules": [{"when": {"user_contains": "zzz"}, "say": "x"}], "fallback": "no rule"}
    )
    fallback = await _events(no_match, [_user("hello")])
    assert _text(fallback) == "no rule"


async def test_drives_a_strands_agent_through_a_tool_call_then_text() -> None:
    calls: list[str] = []

    @tool
    def get_order_details(order_id: str, n: int) -> str:
        """Get an order."""
        calls.append(order_id)
        return json.dumps({"status": "delivered"})

    agent = Agent(model=ScriptedModel(SCRIPT), tools=[get_order_details], callback_handler=None)
    result = await agent.invoke_async("order #W42 please")
    assert calls == ["#W42"]
    assert str(result).strip() == "Status: delivered"


async def test_max_calls_per_turn_stops_a_looping_script() -> None:
    looping = {
        "rules": [{"call": {"name": "ping"}}, {"when": {"after_tool": "*"}, "call": {"name": "ping"}}],
        "max_calls_per_turn": 2,
        "fallback": "stopped",
    }
    pings: list[int] = []

    @tool
    def ping() -> str:
        """Ping."""
        pings.append(1)
        return "pong"

    agent = Agent(model=ScriptedModel(looping), tools=[ping], callback_handler=None)
    result = await agent.invoke_async("go")
    assert len(pings) == 2
    assert str(result).strip() == "stopped"


@pytest.mark.parametrize(
    ("script", "needle"),
    [
        ({"rules": [{"say": "a", "call": {"name": "t"}}]}, "exactly one"),
        ({"rules": [{}]}, "exactly one"),
        ({"rules": [{"when": {"user_regex": "("}, "say": "x"}]}, "regular expression"),
        ({"rules": [{"when": {"colour": "red"}, "say": "x"}]}, "colour"),
        ({}, "rules"),
    ],
)
def test_bad_scripts_are_configuration_errors(script: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        ScriptedModel(script)


def test_from_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        ScriptedModel.from_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"bad\.json"):
        ScriptedModel.from_file(bad)
