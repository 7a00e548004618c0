"""Prompt rendering for the embedded model: Strands messages → the GGUF's own chat template.

The chat template comes from the GGUF metadata (`tokenizer.chat_template`), which is untrusted input, so
it is compiled in Jinja's immutable sandbox. `tojson` is replaced by the Hugging Face variant (no HTML
escaping, non-ASCII kept) so rendered tool calls look like what the model was trained on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, Literal, NotRequired, TypedDict, cast

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from strands.types.content import ContentBlock, Messages
from strands.types.tools import ToolResult, ToolSpec

from ._local_errors import LocalModelError

logger = logging.getLogger(__name__)

_UNSUPPORTED_BLOCK = "[{kind} omitted: this model reads text only]"
_SCHEMA_NOISE = frozenset({"title", "$schema", "examples", "$id"})
_NAME_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})


class ToolCallWire(TypedDict):
    """A tool call as the chat template renders it."""

    name: str
    arguments: dict[str, Any]


class ChatMessage(TypedDict):
    """One message in the shape chat templates expect (OpenAI-like)."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: NotRequired[list[ToolCallWire]]


class FunctionWire(TypedDict):
    """The `function` part of a tool definition in the template's tools block."""

    name: str
    description: str
    parameters: dict[str, Any]


class ToolWire(TypedDict):
    """A tool definition in the template's tools block."""

    type: Literal["function"]
    function: FunctionWire


class ChatTemplate:
    """A chat template compiled in a sandbox.

    Args:
        source: Jinja source, normally the GGUF's `tokenizer.chat_template`.

    Raises:
        LocalModelError: The template does not compile.
    """

    def __init__(self, source: str) -> None:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.filters["tojson"] = _tojson
        cast(dict[str, Any], env.globals)["raise_exception"] = _raise_exception
        try:
            self._template = env.from_string(source)
        except TemplateError as exc:
            raise LocalModelError(f"the model's chat template does not compile: {exc}") from exc

    def render(self, messages: Sequence[ChatMessage], tools: Sequence[ToolWire] | None) -> str:
        """Render a conversation followed by the assistant generation prompt.

        Args:
            messages: The conversation, system message first if any.
            tools: Tool definitions for the tools block; `None` or empty renders no tools block.

        Returns:
            The prompt text, special tokens included as text.

        Raises:
            LocalModelError: The template failed to render these messages.
        """
        try:
            return self._template.render(
                messages=list(messages), tools=list(tools) if tools else None, add_generation_prompt=True
            )
        except TemplateError as exc:
            raise LocalModelError(f"the model's chat template failed to render: {exc}") from exc


def to_chat_messages(messages: Messages, system_prompt: str | None) -> list[ChatMessage]:
    """Convert Strands messages into chat-template messages.

    Text blocks are joined; `toolUse` blocks become `tool_calls`; each `toolResult` block becomes a
    `tool` message (placed before any text of the same user message). Images, documents and other
    binary blocks are replaced by a short placeholder; reasoning blocks are dropped.

    Args:
        messages: The Strands conversation.
        system_prompt: Optional system prompt, rendered as the first message.

    Returns:
        Messages for `ChatTemplate.render`.
    """
    out: list[ChatMessage] = []
    if system_prompt:
        out.append({"role": "system", "content": system_prompt})
    for message in messages:
        texts: list[str] = []
        calls: list[ToolCallWire] = []
        results: list[ChatMessage] = []
        for block in message["content"]:
            _convert_block(block, texts, calls, results)
        if message["role"] == "assistant":
            if texts or calls:
                assistant: ChatMessage = {"role": "assistant", "content": "\n".join(texts)}
                if calls:
                    assistant["tool_calls"] = calls
                out.append(assistant)
        else:
            out.extend(results)
            if texts:
                out.append({"role": "user", "content": "\n".join(texts)})
    return out


def tool_wires(tool_specs: Sequence[ToolSpec]) -> list[ToolWire]:
    """Tool definitions for the tools block, with schema noise (titles, `$schema`) removed."""
    return [
        {
            "type": "function",
            "function": {
                "name": spec["name"],
                "description": spec.get("description", ""),
                "parameters": parameters_schema(spec),
            },
        }
        for spec in tool_specs
    ]


def parameters_schema(spec: ToolSpec) -> dict[str, Any]:
    """The JSON schema of a tool's arguments (Strands wraps it as `{"json": schema}`), cleaned."""
    raw: Any = spec.get("inputSchema", {})
    if isinstance(raw, dict) and "json" in raw:
        raw = raw["json"]
    if not isinstance(raw, dict):
        return {"type": "object", "properties": {}}
    cleaned = _clean_schema(raw)
    assert isinstance(cleaned, dict)
    cleaned.setdefault("type", "object")
    cleaned.setdefault("properties", {})
    return cleaned


def tool_result_text(result: ToolResult) -> str:
    """Flatten a tool result into the text the model reads (JSON compactly, errors prefixed)."""
    parts: list[str] = []
    for item in result.get("content", []):
        if "text" in item:
            parts.append(item["text"])
        elif "json" in item:
            parts.append(json.dumps(item["json"], ensure_ascii=False, separators=(",", ":")))
        else:
            parts.append(_UNSUPPORTED_BLOCK.format(kind=next(iter(item), "content")))
    text = "\n".join(parts)
    if result.get("status") == "error":
        return f"Error: {text}"
    return text


def _convert_block(
    block: ContentBlock, texts: list[str], calls: list[ToolCallWire], results: list[ChatMessage]
) -> None:
    if "text" in block:
        texts.append(block["text"])
    elif "toolUse" in block:
        tool_use = block["toolUse"]
        arguments: Any = tool_use.get("input", {})
        calls.append(
            {"name": tool_use["name"], "arguments": arguments if isinstance(arguments, dict) else {}}
        )
    elif "toolResult" in block:
        results.append({"role": "tool", "content": tool_result_text(block["toolResult"])})
    elif "reasoningContent" in block or "cachePoint" in block:
        return
    else:
        kind = next(iter(block), "content")
        logger.debug("block=<%s> | replacing unsupported content block with a placeholder", kind)
        texts.append(_UNSUPPORTED_BLOCK.format(kind=kind))


def _clean_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_clean_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    cleaned: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_NOISE:
            continue
        if key in _NAME_MAPS and isinstance(value, dict):
            # Keys of these maps are names (a property may be called "title"), values are schemas.
            cleaned[key] = {name: _clean_schema(sub) for name, sub in value.items()}
        else:
            cleaned[key] = _clean_schema(value)
    return cleaned


def _tojson(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _raise_exception(message: str) -> None:
    raise TemplateError(message)
