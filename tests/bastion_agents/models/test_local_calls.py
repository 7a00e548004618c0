"""The call grammar's JSON schema and the parser for calls written as text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bastion_agents.models._local_calls import ANSWER_DIRECTLY, ParsedCall, call_schema, parse_call
from strands.types.tools import ToolSpec

ORDER: ToolSpec = {
    "name": "get_order_details",
    "description": "Get the status and details of an order.",
    "inputSchema": {
        "json": {
            "title": "OrderIdInput",
            "type": "object",
            "properties": {
                "order_id": {"title": "Order Id", "type": "string", "description": "The order id."}
            },
            "required": ["order_id"],
            "additionalProperties": False,
        }
    },
}
TYPES: ToolSpec = {
    "name": "list_all_product_types",
    "description": "List product types.",
    "inputSchema": {"json": {"type": "object", "properties": {}}},
}


def branch_names(schema: dict[str, Any]) -> list[str]:
    return [branch["properties"]["name"]["const"] for branch in schema["anyOf"]]


def test_schema_admits_only_bound_tools_and_answer_directly() -> None:
    schema = call_schema([ORDER, TYPES])

    assert branch_names(schema) == ["get_order_details", "list_all_product_types", ANSWER_DIRECTLY]
    for branch in schema["anyOf"]:
        assert branch["required"] == ["name", "arguments"]
        assert list(branch["properties"]) == ["name", "arguments"], "name is generated before arguments"
        assert "additionalProperties" not in branch, "llama.cpp then admits no extra keys"


def test_schema_without_answer_forces_a_tool() -> None:
    assert branch_names(call_schema([ORDER], allow_answer=False)) == ["get_order_details"]


def test_each_branch_carries_its_own_tool_arguments_schema_cleaned() -> None:
    branch = call_schema([ORDER])["anyOf"][0]

    assert branch["properties"]["arguments"] == {
        "type": "object",
        "properties": {"order_id": {"type": "string", "description": "The order id."}},
        "required": ["order_id"],
        "additionalProperties": False,
    }


def test_schema_needs_something_to_admit() -> None:
    with pytest.raises(ValueError, match="at least one"):
        call_schema([], allow_answer=False)


CALL = ParsedCall(name="get_order_details", arguments={"order_id": "#W2378156"})
CALL_JSON = json.dumps({"name": CALL.name, "arguments": CALL.arguments})


@pytest.mark.parametrize(
    "text",
    [
        CALL_JSON,
        f"  {CALL_JSON}\n",
        f"Let me check that.\n{CALL_JSON}",
        f"```json\n{CALL_JSON}\n```",
        f"Sure:\n```\n{CALL_JSON}\n```\nDone.",
        f"<tool_call>\n{CALL_JSON}\n</tool_call>",
        f"<tool_call>\n{CALL_JSON}",
        '{"name": "get_order_details", "arguments": "{\\"order_id\\": \\"#W2378156\\"}"}',
        '{"function": {"name": "get_order_details", "parameters": {"order_id": "#W2378156"}}}',
    ],
    ids=[
        "bare",
        "padded",
        "after-prose",
        "fenced-json",
        "fenced",
        "tagged",
        "tagged-unclosed",
        "string-args",
        "nested",
    ],
)
def test_parse_call_reads_every_shape(text: str) -> None:
    assert parse_call(text) == CALL


@pytest.mark.parametrize(
    "text",
    [
        "Your order has been delivered.",
        '{"status": "delivered"}',
        '{"name": "x", "arguments": [1, 2]}',
        '{"name": "x", "arguments": "not json"}',
        "<tool_call>\nnot json\n</tool_call>",
        '{"name": ',
    ],
)
def test_parse_call_rejects_non_calls(text: str) -> None:
    assert parse_call(text) is None


def test_parse_call_without_arguments_means_empty_arguments() -> None:
    assert parse_call('{"name": "list_all_product_types"}') == ParsedCall("list_all_product_types", {})
