"""Rendering Strands conversations with the GGUF's own (Qwen2.5) chat template."""

from __future__ import annotations

from pathlib import Path

import pytest
from bastion_agents.models._local_errors import LocalModelError
from bastion_agents.models._local_prompt import ChatTemplate, to_chat_messages, tool_result_text, tool_wires
from strands.types.content import Messages
from strands.types.tools import ToolSpec

TEMPLATE = (Path(__file__).parent / "qwen25_chat_template.jinja").read_text(encoding="utf-8")
ORDER: ToolSpec = {
    "name": "get_order_details",
    "description": "Get the status and details of an order.",
    "inputSchema": {"json": {"type": "object", "properties": {"order_id": {"type": "string"}}}},
}
CONVERSATION: Messages = [
    {"role": "user", "content": [{"text": "Where is order #W1?"}]},
    {
        "role": "assistant",
        "content": [
            {"text": "Checking."},
            {"toolUse": {"toolUseId": "t1", "name": "get_order_details", "input": {"order_id": "#W1"}}},
        ],
    },
    {
        "role": "user",
        "content": [
            {
                "toolResult": {
                    "toolUseId": "t1",
                    "status": "success",
                    "content": [{"json": {"status": "délivré"}}],
                }
            }
        ],
    },
]


def test_tools_block_lists_the_given_tools() -> None:
    prompt = ChatTemplate(TEMPLATE).render(to_chat_messages(CONVERSATION, "Be brief."), tool_wires([ORDER]))

    assert prompt.startswith("<|im_start|>system\nBe brief.\n\n# Tools")
    assert '"name": "get_order_details"' in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_no_tools_block_without_tools() -> None:
    prompt = ChatTemplate(TEMPLATE).render(to_chat_messages(CONVERSATION, "Be brief."), None)

    assert prompt.startswith("<|im_start|>system\nBe brief.<|im_end|>\n")
    assert "<tools>" not in prompt


def test_calls_and_tool_results_are_rendered_as_the_model_was_trained() -> None:
    prompt = ChatTemplate(TEMPLATE).render(to_chat_messages(CONVERSATION, None), None)

    assert (
        '<|im_start|>assistant\nChecking.\n<tool_call>\n{"name": "get_order_details", '
        '"arguments": {"order_id": "#W1"}}\n</tool_call><|im_end|>' in prompt
    )
    assert '<|im_start|>user\n<tool_response>\n{"status":"délivré"}\n</tool_response><|im_end|>' in prompt


def test_tool_results_come_before_text_of_the_same_user_message() -> None:
    messages: Messages = [
        {
            "role": "user",
            "content": [
                {"text": "and now?"},
                {
                    "toolResult": {
                        "toolUseId": "t1",
                        "status": "error",
                        "content": [{"text": "Order not found"}],
                    }
                },
            ],
        }
    ]

    chat = to_chat_messages(messages, None)

    assert chat == [
        {"role": "tool", "content": "Error: Order not found"},
        {"role": "user", "content": "and now?"},
    ]


def test_binary_blocks_become_placeholders() -> None:
    messages: Messages = [
        {"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": b"\x89PNG"}}}]}
    ]

    assert to_chat_messages(messages, None) == [
        {"role": "user", "content": "[image omitted: this model reads text only]"}
    ]


def test_tool_result_text_joins_text_and_compact_json() -> None:
    text = tool_result_text(
        {"toolUseId": "t", "status": "success", "content": [{"text": "a"}, {"json": {"k": [1, 2]}}]}
    )

    assert text == 'a\n{"k":[1,2]}'


def test_tool_wires_drop_titles_but_keep_a_property_named_title() -> None:
    spec: ToolSpec = {
        "name": "t",
        "description": "d",
        "inputSchema": {
            "json": {
                "title": "Input",
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"title": {"title": "Title", "type": "string"}},
            }
        },
    }

    assert tool_wires([spec])[0]["function"]["parameters"] == {
        "type": "object",
        "properties": {"title": {"type": "string"}},
    }


def test_template_is_sandboxed() -> None:
    hostile = "{{ ''.__class__.__mro__[1].__subclasses__() }}"

    with pytest.raises(LocalModelError):
        ChatTemplate(hostile).render([{"role": "user", "content": "x"}], None)


def test_template_raise_exception_becomes_local_model_error() -> None:
    template = ChatTemplate("{{ raise_exception('only user/assistant roles are supported') }}")

    with pytest.raises(LocalModelError, match="only user/assistant"):
        template.render([], None)
