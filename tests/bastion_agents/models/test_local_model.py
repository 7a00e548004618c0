"""The `local` provider's behaviour with a scripted fake backend (no llama.cpp, no weights)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from bastion_agents._errors import ConfigurationError
from bastion_agents.models._local_backend import CompletionChunk, LlamaCppBackend
from bastion_agents.models.local import (
    TEXT_TURN_INSTRUCTION,
    LocalModel,
    LocalModelConfig,
    LocalModelUnavailableError,
    WeightsNotFoundError,
)
from pydantic import BaseModel
from strands.types.content import Messages
from strands.types.exceptions import ContextWindowOverflowException
from strands.types.tools import ToolChoice, ToolSpec

TEMPLATE = (Path(__file__).parent / "qwen25_chat_template.jinja").read_text(encoding="utf-8")
SYSTEM = "You help retail customers."


def spec(name: str, **properties: str) -> ToolSpec:
    return {
        "name": name,
        "description": f"{name} tool.",
        "inputSchema": {
            "json": {
                "type": "object",
                "properties": {key: {"type": kind} for key, kind in properties.items()},
                "required": list(properties),
            }
        },
    }


ORDER = spec("get_order_details", order_id="string")
EMAIL = spec("find_user_id_by_email", email="string")
ASK: Messages = [{"role": "user", "content": [{"text": "Where is my order #W1?"}]}]
Event = dict[str, Any]
"""A stream event, loosely typed so tests can index it directly."""


def call(name: str, **arguments: Any) -> str:
    return json.dumps({"name": name, "arguments": arguments})


def after_order_lookup(result: str) -> Messages:
    """ASK, then a get_order_details call for #W1 and its successful result text."""
    return [
        *ASK,
        {
            "role": "assistant",
            "content": [
                {"toolUse": {"toolUseId": "t1", "name": "get_order_details", "input": {"order_id": "#W1"}}}
            ],
        },
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": "t1", "status": "success", "content": [{"text": result}]}}
            ],
        },
    ]


class FakeBackend:
    """Replays scripted completions in small chunks and records every request."""

    def __init__(self, *replies: str, context_length: int = 8192, finish: str = "stop") -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.chat_template = TEMPLATE
        self.context_length = context_length
        self.finish = finish

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        json_schema: Mapping[str, Any] | None,
        stop: Sequence[str],
        seed: int,
        slot: str = "call",
        prose_only: bool = False,
    ) -> Iterator[CompletionChunk]:
        self.requests.append(
            {
                "prompt": prompt,
                "schema": json_schema,
                "max_tokens": max_tokens,
                "seed": seed,
                "slot": slot,
                "prose_only": prose_only,
            }
        )
        reply = self.replies.pop(0)
        for start in range(0, len(reply), 4):
            yield CompletionChunk(reply[start : start + 4])
        yield CompletionChunk("", self.finish)


async def collect(
    model: LocalModel,
    messages: Messages = ASK,
    tools: list[ToolSpec] | None = None,
    tool_choice: ToolChoice | None = None,
    **kwargs: Any,
) -> list[Event]:
    tools = [ORDER, EMAIL] if tools is None else tools
    events = [
        event async for event in model.stream(messages, tools, SYSTEM, tool_choice=tool_choice, **kwargs)
    ]
    return cast(list[Event], events)


def text_of(events: list[Event]) -> str:
    return "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e
    )


def stop_reason(events: list[Event]) -> str:
    return next(e["messageStop"]["stopReason"] for e in events if "messageStop" in e)


def schema_names(schema: Mapping[str, Any] | None) -> set[str]:
    assert schema is not None
    return {branch["properties"]["name"]["const"] for branch in schema["anyOf"]}


def model_with(backend: FakeBackend, **config: Any) -> LocalModel:
    return LocalModel(cast(LocalModelConfig, {"model_path": "unused.gguf", **config}), backend=backend)


async def test_tool_call_event_shapes() -> None:
    backend = FakeBackend(call("get_order_details", order_id="#W1"))

    events = await collect(model_with(backend))

    assert events[0] == {"messageStart": {"role": "assistant"}}
    start = events[1]["contentBlockStart"]["start"]["toolUse"]
    assert start["name"] == "get_order_details"
    assert start["toolUseId"].startswith("tooluse_")
    assert json.loads(events[2]["contentBlockDelta"]["delta"]["toolUse"]["input"]) == {"order_id": "#W1"}
    assert events[3] == {"contentBlockStop": {}}
    assert events[4] == {"messageStop": {"stopReason": "tool_use"}}
    usage = events[5]["metadata"]["usage"]
    assert usage["inputTokens"] > 0
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert len(events) == 6


async def test_call_turn_prompt_lists_bound_tools_and_grammar_admits_only_them() -> None:
    backend = FakeBackend(call("get_order_details", order_id="#W1"))

    await collect(model_with(backend, seed=7, max_tokens=99))

    request = backend.requests[0]
    assert "<tools>" in request["prompt"]
    assert '"name": "get_order_details"' in request["prompt"]
    assert '"name": "answer_directly"' in request["prompt"]
    assert request["prompt"].endswith("<|im_start|>assistant\n<tool_call>\n")
    assert schema_names(request["schema"]) == {
        "get_order_details",
        "find_user_id_by_email",
        "answer_directly",
    }
    assert (request["seed"], request["max_tokens"]) == (7, 99)


async def test_answer_directly_runs_a_text_turn_without_tools_block() -> None:
    backend = FakeBackend(call("answer_directly"), "Hello! How can I help?")

    events = await collect(model_with(backend))

    assert text_of(events) == "Hello! How can I help?"
    assert stop_reason(events) == "end_turn"
    text_request = backend.requests[1]
    assert (backend.requests[0]["slot"], text_request["slot"]) == ("call", "text"), "separate KV caches"
    assert text_request["schema"] is None
    assert "<tools>" not in text_request["prompt"]
    assert f"{SYSTEM}\n\n{TEXT_TURN_INSTRUCTION}" in text_request["prompt"]
    assert [next(iter(e)) for e in events] == [
        "messageStart",
        "contentBlockStart",
        *["contentBlockDelta"] * (len(events) - 5),
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]


async def test_text_is_streamed_in_several_deltas() -> None:
    backend = FakeBackend(call("answer_directly"), "A reply long enough to arrive in several chunks.")

    events = await collect(model_with(backend))

    assert sum("contentBlockDelta" in e for e in events) > 3


async def test_tool_results_are_rendered_into_the_next_prompt() -> None:
    history = after_order_lookup("delivered")
    backend = FakeBackend(call("answer_directly"), "It was delivered.")

    events = await collect(model_with(backend), history)

    for request in backend.requests:
        assert "<tool_response>\ndelivered\n</tool_response>" in request["prompt"]
        assert (
            '<tool_call>\n{"name": "get_order_details", "arguments": {"order_id": "#W1"}}'
            in request["prompt"]
        )
    assert text_of(events) == "It was delivered."


async def test_repeating_a_call_of_this_turn_answers_in_text_instead() -> None:
    history = after_order_lookup("delivered")
    backend = FakeBackend(call("get_order_details", order_id="#W1"), "It was delivered.")

    events = await collect(model_with(backend), history)

    assert stop_reason(events) == "end_turn"
    assert text_of(events) == "It was delivered."


async def test_a_repeated_call_written_as_text_is_retried_as_prose() -> None:
    history = after_order_lookup("cancelled")
    repeat = call("get_order_details", order_id="#W1")
    backend = FakeBackend(call("answer_directly"), repeat, "The order is cancelled.")

    events = await collect(model_with(backend), history)

    assert text_of(events) == "The order is cancelled."
    assert repeat not in text_of(events)
    assert [r["prose_only"] for r in backend.requests] == [False, False, True]
    assert backend.requests[2]["slot"] == "text"


async def test_tool_choice_any_and_tool_restrict_the_grammar() -> None:
    backend = FakeBackend(
        call("get_order_details", order_id="#W1"), call("find_user_id_by_email", email="a@b.c")
    )
    model = model_with(backend)

    await collect(model, tool_choice={"any": {}})
    await collect(model, tool_choice={"tool": {"name": "find_user_id_by_email"}})

    assert schema_names(backend.requests[0]["schema"]) == {"get_order_details", "find_user_id_by_email"}
    assert schema_names(backend.requests[1]["schema"]) == {"find_user_id_by_email"}
    assert '"name": "get_order_details"' not in backend.requests[1]["prompt"], "only the forced tool is shown"


async def test_without_tools_there_is_one_plain_text_turn() -> None:
    backend = FakeBackend("Hi there.")

    events = await collect(model_with(backend), tools=[])

    assert text_of(events) == "Hi there."
    assert len(backend.requests) == 1
    assert backend.requests[0]["schema"] is None
    assert TEXT_TURN_INSTRUCTION not in backend.requests[0]["prompt"]


async def test_call_written_as_text_in_the_text_turn_becomes_a_tool_call() -> None:
    backend = FakeBackend(
        call("answer_directly"), "```json\n" + call("find_user_id_by_email", email="a@b.c") + "\n```"
    )

    events = await collect(model_with(backend))

    assert stop_reason(events) == "tool_use"
    assert events[1]["contentBlockStart"]["start"]["toolUse"]["name"] == "find_user_id_by_email"
    assert text_of(events) == ""


async def test_json_for_an_unbound_tool_in_the_text_turn_is_replaced_by_prose() -> None:
    reply = call("update_order_status", order_id="#W1")
    backend = FakeBackend(call("answer_directly"), reply, "I cannot change order statuses.")

    events = await collect(model_with(backend))

    assert stop_reason(events) == "end_turn"
    assert text_of(events) == "I cannot change order statuses."
    assert backend.requests[-1]["prose_only"] is True


async def test_token_limit_is_reported_as_max_tokens() -> None:
    backend = FakeBackend(call("answer_directly"), "A long", finish="length")

    events = await collect(model_with(backend))

    assert stop_reason(events) == "max_tokens"


async def test_free_form_mode_parses_calls_from_plain_output() -> None:
    backend = FakeBackend("<tool_call>\n" + call("get_order_details", order_id="#W1") + "\n</tool_call>")

    events = await collect(model_with(backend, constrained=False))

    assert backend.requests[0]["schema"] is None
    assert "answer_directly" not in backend.requests[0]["prompt"]
    assert stop_reason(events) == "tool_use"


async def test_context_overflow_raises_the_strands_exception() -> None:
    backend = FakeBackend(call("answer_directly"), context_length=64)

    with pytest.raises(ContextWindowOverflowException, match="context window"):
        await collect(model_with(backend))


async def test_backend_errors_reach_the_caller() -> None:
    backend = FakeBackend()  # no scripted reply: complete() raises IndexError in the worker thread

    with pytest.raises(IndexError):
        await collect(model_with(backend))


async def test_cancelled_request_generates_nothing() -> None:
    backend = FakeBackend(call("answer_directly"), "never generated")
    cancel = threading.Event()
    cancel.set()

    events = await collect(model_with(backend), cancel_signal=cancel)

    assert events == []
    assert backend.requests == []


class Verdict(BaseModel):
    approved: bool
    reason: str


async def test_structured_output_decodes_under_the_output_schema() -> None:
    backend = FakeBackend('{"approved": true, "reason": "ok"}')

    events = [event async for event in model_with(backend).structured_output(Verdict, ASK, SYSTEM)]

    assert events == [{"output": Verdict(approved=True, reason="ok")}]
    assert backend.requests[0]["schema"] == Verdict.model_json_schema()


def test_config_round_trip_and_defaults() -> None:
    model = model_with(FakeBackend())

    model.update_config(max_tokens=64)

    config = cast(dict[str, Any], model.get_config())
    assert config["max_tokens"] == 64
    assert (config["n_ctx"], config["n_threads"], config["seed"]) == (8192, 2, 42)
    assert config["context_window_limit"] == 8192


def test_missing_extra_is_a_typed_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` raise ImportError

    with pytest.raises(LocalModelUnavailableError) as excinfo:
        LocalModel({"model_path": "absent.gguf"})

    assert isinstance(excinfo.value, ConfigurationError)
    assert "--extra local" in str(excinfo.value)
    assert "openai:" in str(excinfo.value)


def test_missing_weights_say_how_to_fetch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("bastion_agents.models.local.import_llama_cpp", lambda: None)

    with pytest.raises(WeightsNotFoundError, match="bastion models fetch"):
        LocalModel({"model_path": tmp_path / "absent.gguf", "fetch_hint": "run `bastion models fetch`"})


class FakeLlama:
    """The subset of llama_cpp.Llama the adapter uses."""

    def __init__(self) -> None:
        self.metadata = {"tokenizer.chat_template": TEMPLATE}
        self.completions: list[dict[str, Any]] = []

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        assert special and not add_bos
        return list(range(len(text.split())))

    def n_ctx(self) -> int:
        return 4096

    def create_completion(self, prompt: str | list[int], **kwargs: Any) -> Any:
        self.completions.append({"prompt": prompt, **kwargs})
        return iter(
            [
                {"choices": [{"text": "Hel", "finish_reason": None}]},
                {"choices": [{"text": "lo", "finish_reason": "stop"}]},
            ]
        )


def test_llama_adapter_is_greedy_and_compiles_schemas_in_key_order_once() -> None:
    llama, text_llama = FakeLlama(), FakeLlama()
    compiled: list[str] = []
    backend = LlamaCppBackend(
        llama, text_llama=text_llama, grammar_factory=lambda schema: compiled.append(schema) or "grammar"
    )
    schema = {"type": "object", "properties": {"name": {"const": "t"}, "arguments": {"type": "object"}}}

    first = list(backend.complete("p", max_tokens=5, json_schema=schema, stop=["<|im_end|>"], seed=3))
    list(backend.complete("p", max_tokens=5, json_schema=schema, stop=["<|im_end|>"], seed=3))

    assert first == [CompletionChunk("Hel"), CompletionChunk("lo", "stop")]
    assert len(compiled) == 1
    assert compiled[0].index('"name"') < compiled[0].index('"arguments"')
    options = llama.completions[0]
    assert (options["temperature"], options["seed"], options["max_tokens"], options["stream"]) == (
        0.0,
        3,
        5,
        True,
    )
    assert options["grammar"] == "grammar"
    list(backend.complete("p", max_tokens=5, json_schema=None, stop=[], seed=3, slot="text"))
    assert (len(llama.completions), len(text_llama.completions)) == (2, 1)
    assert text_llama.completions[0]["grammar"] is None
    assert backend.count_tokens("a b c") == 3
    assert backend.context_length == 4096
    assert backend.chat_template == TEMPLATE


async def test_system_prompt_content_is_used_when_no_plain_system_prompt() -> None:
    backend = FakeBackend("Hi.")
    model = model_with(backend)

    events = [
        event
        async for event in model.stream(ASK, [], None, system_prompt_content=[{"text": "Answer in French."}])
    ]

    assert events
    assert backend.requests[0]["prompt"].startswith("<|im_start|>system\nAnswer in French.<|im_end|>")
