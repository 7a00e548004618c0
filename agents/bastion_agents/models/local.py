"""`local`: the embedded default model, a Strands model provider running a GGUF in-process.

Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) runs in llama-cpp-python on the CPU. Small models pick tools
poorly when left free, so each request is decoded in up to two turns (design and figures:
`shared/notes/local-model.md`):

1. **Call turn** — the conversation is rendered with the GGUF's own chat template *with* a tools block
   listing only the bound tools plus the pseudo-tool `answer_directly`, and decoded under a grammar that
   admits only a schema-valid call to one of them.
2. **Text turn** — if the model chose `answer_directly` (or would repeat a call it already made in this
   user turn), the conversation is rendered *without* the tools block and the reply is generated freely.

Generation is greedy (temperature 0, fixed seed), so the same conversation gives the same answer. One
`Llama` object per weights file is shared in the process and serves one request at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError
from strands.models.model import BaseModelConfig, Model
from strands.types.content import Messages
from strands.types.event_loop import StopReason
from strands.types.exceptions import ContextWindowOverflowException, StructuredOutputException
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolChoice, ToolSpec
from typing_extensions import Unpack, override

from .._errors import ConfigurationError
from ._local_backend import (
    CompletionBackend,
    CompletionChunk,
    SharedModel,
    Slot,
    import_llama_cpp,
    shared_model,
)
from ._local_calls import ANSWER_DIRECTLY, ANSWER_DIRECTLY_SPEC, ParsedCall, call_schema, parse_call
from ._local_errors import (
    LocalModelError,
    LocalModelUnavailableError,
    WeightsFetchError,
    WeightsIntegrityError,
    WeightsNotFoundError,
)
from ._local_prompt import ChatTemplate, to_chat_messages, tool_wires
from .weights import DEFAULT_FETCH_HINT, QWEN25_CODER_1_5B, verify_weights

__all__ = [
    "LocalModel",
    "LocalModelConfig",
    "LocalModelError",
    "LocalModelUnavailableError",
    "WeightsFetchError",
    "WeightsIntegrityError",
    "WeightsNotFoundError",
]

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

CALL_PREFIX = "<tool_call>\n"
"""Text the call turn starts with, as the template renders earlier calls (the grammar takes over after)."""

TEXT_TURN_INSTRUCTION = (
    "Reply to the user in plain language, using the tool results. Never write JSON or function calls."
)
"""Appended to the system prompt of a text turn when tools are in play (small models otherwise tend to
answer a tool result with another call written as JSON)."""

_STOP = ("<|im_end|>", "<|endoftext|>")
_CALL_MARKERS = ("{", "```", "<tool_call>")
_LOAD_KEYS = frozenset({"model_path", "sha256", "n_ctx", "n_threads"})
_DEFAULTS: dict[str, Any] = {
    "sha256": QWEN25_CODER_1_5B.sha256,
    "n_ctx": 8192,
    "n_threads": 2,
    "max_tokens": 1024,
    "seed": 42,
    "constrained": True,
}


class LocalModelConfig(BaseModelConfig, total=False):
    """Configuration of the embedded model.

    Attributes:
        model_path: The GGUF file (fetch it with `bastion_agents.models.weights.fetch_weights`); required.
        sha256: Expected sha256 of the file, checked before loading; defaults to the pinned
            Qwen2.5-Coder-1.5B Q4_K_M hash.
        n_ctx: Context window in tokens (prompt + reply); default 8192.
        n_threads: CPU threads; default 2.
        max_tokens: Maximum tokens generated per turn; default 1024.
        seed: Sampling seed (generation is greedy; the seed pins any remaining randomness); default 42.
        constrained: Decode tool calls under the call grammar (default True). False lets the model
            write calls freely (parsed from JSON, ```json blocks or `<tool_call>` tags): only for comparison.
        fetch_hint: How to fetch the weights, quoted in errors; defaults to the `weights` module command.
        context_window_limit: Context window reported to Strands; defaults to `n_ctx`.
    """

    model_path: str | Path
    sha256: str
    n_ctx: int
    n_threads: int
    max_tokens: int
    seed: int
    constrained: bool
    fetch_hint: str


class LocalModel(Model):
    """Strands model provider for the embedded GGUF model.

    Construction verifies the weights' sha256 (once per process) and loads them (once per process per
    file; both take a few seconds the first time), so set-up problems surface immediately.

    Args:
        config: The configuration; `model_path` is required.
        backend: An inference backend to use instead of loading `model_path` (for tests).

    Raises:
        LocalModelUnavailableError: llama-cpp-python is not installed (install the `local` extra or
            use `openai:`/`bedrock:`).
        WeightsNotFoundError: `model_path` does not exist.
        WeightsIntegrityError: The file's sha256 differs (the file is deleted).
        LocalModelError: llama.cpp could not load the file.

    Example:
        >>> model = LocalModel({"model_path": "state/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"})
        >>> agent = Agent(model=model, tools=bound_tools, system_prompt="You help the shop's customers.")
    """

    def __init__(self, config: LocalModelConfig, *, backend: CompletionBackend | None = None) -> None:
        self._config: dict[str, Any] = {**_DEFAULTS, **config}
        self._injected = backend
        self._shared: SharedModel | None = None
        self._template: ChatTemplate | None = None
        self._ensure_loaded()

    @override
    def update_config(self, **model_config: Unpack[LocalModelConfig]) -> None:  # type: ignore[override]
        """Update the configuration; changing the file or load parameters reloads on next use."""
        if _LOAD_KEYS & model_config.keys() and self._injected is None:
            self._shared = None
            self._template = None
        self._config.update(model_config)

    @override
    def get_config(self) -> LocalModelConfig:
        """The current configuration, defaults filled in."""
        config = dict(self._config)
        config.setdefault("context_window_limit", self._config["n_ctx"])
        return cast(LocalModelConfig, config)

    @override
    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        *,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Answer one model turn: a tool call (`stopReason` `tool_use`) or a text reply.

        Args:
            messages: The conversation; `toolResult` blocks are rendered as tool messages.
            tool_specs: The bound tools; the model may call only these.
            system_prompt: Short system prompt (every token costs ~15 ms of CPU per turn).
            tool_choice: `auto` (default), `any` (must call a tool) or `tool` (must call that tool).
            **kwargs: `cancel_signal` (a `threading.Event`) stops generation between tokens;
                `system_prompt_content` text blocks are used when `system_prompt` is None; the rest is
                ignored.

        Yields:
            Strands stream events: `messageStart`, content block start/delta/stop (text deltas stream
            as they are generated), `messageStop`, `metadata` with token usage (summed over the call
            and text turns of this request) and latency.

        Raises:
            ContextWindowOverflowException: The prompt plus `max_tokens` exceeds `n_ctx`.
            LocalModelError: The model or its chat template failed.
        """
        if system_prompt is None:
            system_prompt = _system_text(kwargs.get("system_prompt_content"))
        signal = kwargs.get("cancel_signal")
        cancel_event = _StopFlag(signal if isinstance(signal, threading.Event) else None)
        shared = self._ensure_loaded()

        def produce() -> Iterator[StreamEvent]:
            return self._events(messages, tool_specs or [], system_prompt, tool_choice, cancel_event)

        async for event in _drain_in_thread(produce, shared.lock, cancel_event):
            yield event

    @override
    async def structured_output(
        self, output_model: type[T], prompt: Messages, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[dict[str, T | Any], None]:
        """Generate one JSON object constrained to `output_model`'s schema and validate it.

        Yields:
            `{"output": instance}`.

        Raises:
            StructuredOutputException: The generated object does not validate (e.g. cut by `max_tokens`).
        """
        shared = self._ensure_loaded()
        cancel_event = _StopFlag(None)
        schema = output_model.model_json_schema()

        def produce() -> Iterator[str]:
            chat = to_chat_messages(prompt, system_prompt)
            rendered = self._template_or_load().render(chat, None)
            self._check_context(rendered)
            chunks = self._backend().complete(
                rendered,
                max_tokens=self._config["max_tokens"],
                json_schema=schema,
                stop=_STOP,
                seed=self._config["seed"],
                slot="text",
            )
            return iter([_collect(chunks, cancel_event)[0]])

        texts = [text async for text in _drain_in_thread(produce, shared.lock, cancel_event)]
        try:
            output = output_model.model_validate_json(texts[0] if texts else "")
        except ValidationError as exc:
            raise StructuredOutputException(
                f"the local model's output does not match the schema: {exc}"
            ) from exc
        yield {"output": output}

    # -- internals ---------------------------------------------------------------------------------

    def _ensure_loaded(self) -> SharedModel:
        if self._shared is not None:
            return self._shared
        if self._injected is not None:
            self._shared = SharedModel(backend=self._injected, lock=threading.Lock())
            return self._shared
        if "model_path" not in self._config:
            raise ConfigurationError("local: LocalModelConfig needs model_path (the GGUF weights file)")
        import_llama_cpp()  # fail fast with the install hint, before hashing a large file
        path = Path(self._config["model_path"])
        verify_weights(
            path, self._config["sha256"], fetch_hint=self._config.get("fetch_hint", DEFAULT_FETCH_HINT)
        )
        self._shared = shared_model(
            path, n_ctx=self._config["n_ctx"], n_threads=self._config["n_threads"], seed=self._config["seed"]
        )
        return self._shared

    def _backend(self) -> CompletionBackend:
        return self._ensure_loaded().backend

    def _template_or_load(self) -> ChatTemplate:
        if self._template is None:
            self._template = ChatTemplate(self._backend().chat_template)
        return self._template

    def _check_context(self, prompt: str) -> int:
        tokens = self._backend().count_tokens(prompt)
        limit = self._backend().context_length
        if tokens + self._config["max_tokens"] > limit:
            raise ContextWindowOverflowException(
                f"prompt of {tokens} tokens plus max_tokens {self._config['max_tokens']} exceeds the local "
                f"model's context window of {limit} tokens"
            )
        return tokens

    def _events(
        self,
        messages: Messages,
        tool_specs: Sequence[ToolSpec],
        system_prompt: str | None,
        tool_choice: ToolChoice | None,
        cancel: _StopFlag,
    ) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        template = self._template_or_load()
        specs, allow_answer = _apply_tool_choice(tool_specs, tool_choice)
        chat = to_chat_messages(messages, system_prompt)
        usage = [0, 0]
        call: ParsedCall | None = None

        if specs and self._config["constrained"]:
            wires = tool_wires([*specs, ANSWER_DIRECTLY_SPEC] if allow_answer else specs)
            prompt = template.render(chat, wires) + CALL_PREFIX
            usage[0] += self._check_context(prompt)
            yield {"messageStart": {"role": "assistant"}}
            call = self._call_turn(prompt, specs, allow_answer, usage, cancel)
            logger.debug("call=<%s> | call turn decided", call)
        elif specs:  # free-form: one unconstrained turn with the tools block; a call is parsed from it
            prompt = template.render(chat, tool_wires(specs))
            usage[0] += self._check_context(prompt)
            yield {"messageStart": {"role": "assistant"}}
            text, finish = self._generate(prompt, None, _STOP, usage, cancel)
            call = _bound_call(parse_call(text), specs, messages)
            if call is None:
                yield from _text_events([text])
                yield from _finish("max_tokens" if finish == "length" else "end_turn", usage, started)
                return
        else:
            yield {"messageStart": {"role": "assistant"}}

        if call is not None and call.name != ANSWER_DIRECTLY and not _repeats_call(messages, call):
            yield from _tool_use_events(call)
            yield from _finish("tool_use", usage, started)
            return
        text_system = _text_turn_system(system_prompt, bool(specs) or _has_tool_results(messages))
        text_prompt = template.render(to_chat_messages(messages, text_system), None)
        usage[0] += self._check_context(text_prompt)
        stop_reason = yield from self._text_turn(text_prompt, specs, messages, usage, cancel)
        yield from _finish(stop_reason, usage, started)

    def _call_turn(
        self,
        prompt: str,
        specs: Sequence[ToolSpec],
        allow_answer: bool,
        usage: list[int],
        cancel: _StopFlag,
    ) -> ParsedCall | None:
        schema = call_schema(specs, allow_answer=allow_answer)
        text, _ = self._generate(prompt, schema, _STOP, usage, cancel)
        call = parse_call(text)
        if call is not None and call.name == ANSWER_DIRECTLY and allow_answer:
            return call
        return _bound_call(call, specs, [])

    def _text_turn(
        self,
        prompt: str,
        specs: Sequence[ToolSpec],
        messages: Messages,
        usage: list[int],
        cancel: _StopFlag,
    ) -> Iterator[StreamEvent]:
        """Stream a free text reply; returns the Strands stop reason (via `yield from`).

        The start of the reply is held back while it could be a tool call written as text (small
        models do that despite the instruction): a call to a bound tool is then emitted as a real
        call; anything else is emitted as text once it is clear.
        """
        chunks = self._backend().complete(
            prompt,
            max_tokens=self._config["max_tokens"],
            json_schema=None,
            stop=_STOP,
            seed=self._config["seed"],
            slot="text",
        )
        finish: str | None = None
        held: list[str] = []
        streaming = False
        for chunk in chunks:
            if cancel.is_set():
                break
            finish = chunk.finish_reason or finish
            if not chunk.text:
                continue
            if streaming:
                yield {"contentBlockDelta": {"delta": {"text": chunk.text}}}
                continue
            held.append(chunk.text)
            head = "".join(held).lstrip()
            if head and not _may_be_call(head):
                streaming = True
                yield {"contentBlockStart": {"start": {}}}
                yield {"contentBlockDelta": {"delta": {"text": "".join(held)}}}
        text = "".join(held) if not streaming else ""
        usage[1] += self._backend().count_tokens(text) if text else 0
        if not streaming:
            written = parse_call(text)
            call = _bound_call(written, specs, messages)
            if call is not None:
                logger.debug("call=<%s> | text turn wrote a call, emitting it as a tool call", call)
                yield from _tool_use_events(call)
                return "tool_use"
            if written is not None:
                # A repeated or unbound call written as text is no answer: ask again for prose only.
                logger.debug("call=<%s> | text turn wrote an unusable call, retrying as prose", written)
                text, finish = self._generate(
                    prompt, None, _STOP, usage, cancel, slot="text", prose_only=True
                )
            yield {"contentBlockStart": {"start": {}}}
            if text:
                yield {"contentBlockDelta": {"delta": {"text": text}}}
        yield {"contentBlockStop": {}}
        return "max_tokens" if finish == "length" else "end_turn"

    def _generate(
        self,
        prompt: str,
        schema: dict[str, Any] | None,
        stop: Sequence[str],
        usage: list[int],
        cancel: _StopFlag,
        *,
        slot: Slot = "call",
        prose_only: bool = False,
    ) -> tuple[str, str | None]:
        chunks = self._backend().complete(
            prompt,
            max_tokens=self._config["max_tokens"],
            json_schema=schema,
            stop=stop,
            seed=self._config["seed"],
            slot=slot,
            prose_only=prose_only,
        )
        text, finish = _collect(chunks, cancel)
        usage[1] += self._backend().count_tokens(text) if text else 0
        return text, finish


def _apply_tool_choice(
    tool_specs: Sequence[ToolSpec], tool_choice: ToolChoice | None
) -> tuple[list[ToolSpec], bool]:
    """The tools the call turn may pick, and whether `answer_directly` is allowed."""
    specs = [spec for spec in tool_specs if spec["name"] != ANSWER_DIRECTLY]
    if not tool_choice or "auto" in tool_choice:
        return specs, True
    if "any" in tool_choice:
        return specs, not specs
    forced = cast(dict[str, Any], tool_choice).get("tool", {}).get("name")
    chosen = [spec for spec in specs if spec["name"] == forced]
    return (chosen, False) if chosen else (specs, True)


def _bound_call(call: ParsedCall | None, specs: Sequence[ToolSpec], messages: Messages) -> ParsedCall | None:
    """`call` if it names a bound tool and does not repeat a call of this user turn, else None."""
    if call is None or call.name not in {spec["name"] for spec in specs}:
        return None
    return None if _repeats_call(messages, call) else call


def _may_be_call(head: str) -> bool:
    """Whether the start of a reply could still turn out to be a call written as text."""
    return any(head.startswith(marker) or marker.startswith(head) for marker in _CALL_MARKERS)


def _text_turn_system(system_prompt: str | None, after_tools: bool) -> str | None:
    if not after_tools:
        return system_prompt
    return f"{system_prompt}\n\n{TEXT_TURN_INSTRUCTION}" if system_prompt else TEXT_TURN_INSTRUCTION


def _system_text(content: Any) -> str | None:
    if not isinstance(content, list):
        return None
    texts = [
        block["text"] for block in cast(list[dict[str, Any]], content) if isinstance(block.get("text"), str)
    ]
    return "\n".join(texts) or None


def _has_tool_results(messages: Messages) -> bool:
    return any("toolResult" in block for message in messages for block in message["content"])


def _repeats_call(messages: Messages, call: ParsedCall) -> bool:
    """Whether the same call (name and arguments) was already made since the user last wrote text."""
    for message in reversed(messages):
        for block in message["content"]:
            if "toolUse" in block:
                tool_use = block["toolUse"]
                if tool_use["name"] == call.name and tool_use.get("input") == call.arguments:
                    return True
        if message["role"] == "user" and any("text" in block for block in message["content"]):
            return False
    return False


def _tool_use_events(call: ParsedCall) -> Iterator[StreamEvent]:
    tool_use_id = f"tooluse_{uuid.uuid4().hex[:24]}"
    yield {"contentBlockStart": {"start": {"toolUse": {"name": call.name, "toolUseId": tool_use_id}}}}
    yield {
        "contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(call.arguments, ensure_ascii=False)}}}
    }
    yield {"contentBlockStop": {}}


def _text_events(texts: Sequence[str]) -> Iterator[StreamEvent]:
    yield {"contentBlockStart": {"start": {}}}
    for text in texts:
        if text:
            yield {"contentBlockDelta": {"delta": {"text": text}}}
    yield {"contentBlockStop": {}}


def _finish(stop_reason: StopReason, usage: list[int], started: float) -> Iterator[StreamEvent]:
    yield {"messageStop": {"stopReason": stop_reason}}
    yield {
        "metadata": {
            "usage": {"inputTokens": usage[0], "outputTokens": usage[1], "totalTokens": usage[0] + usage[1]},
            "metrics": {"latencyMs": int((time.perf_counter() - started) * 1000)},
        }
    }


def _collect(chunks: Iterator[CompletionChunk], cancel: _StopFlag) -> tuple[str, str | None]:
    pieces: list[str] = []
    finish: str | None = None
    for chunk in chunks:
        if cancel.is_set():
            break
        pieces.append(chunk.text)
        finish = chunk.finish_reason or finish
    return "".join(pieces), finish


class _StopFlag:
    """Stop request for one generation: set by the consumer leaving, or by the caller's cancel signal."""

    def __init__(self, external: threading.Event | None) -> None:
        self._own = threading.Event()
        self._external = external

    def set(self) -> None:
        self._own.set()

    def is_set(self) -> bool:
        return self._own.is_set() or (self._external is not None and self._external.is_set())


_Item = TypeVar("_Item")


async def _drain_in_thread(
    produce: Callable[[], Iterator[_Item]], lock: threading.Lock, cancel: _StopFlag
) -> AsyncGenerator[_Item, None]:
    """Run a blocking generator in a worker thread holding `lock`; relay its items to the event loop.

    The event loop never blocks on inference. If the consumer stops early (or is cancelled), `cancel`
    is set and the worker stops at its next token and releases the lock.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def post(kind: str, payload: Any) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, payload))
        except RuntimeError:  # the event loop is gone; nobody is listening any more
            cancel.set()

    def work() -> None:
        try:
            with lock:
                if cancel.is_set():
                    post("done", None)
                    return
                for item in produce():
                    if cancel.is_set():
                        break
                    post("item", item)
        except BaseException as exc:  # relayed to the consumer, re-raised there
            post("error", exc)
        else:
            post("done", None)

    thread = threading.Thread(target=work, name="bastion-local-model", daemon=True)
    thread.start()
    try:
        while True:
            kind, payload = await queue.get()
            if kind == "item":
                yield cast(_Item, payload)
            elif kind == "error":
                if isinstance(payload, ValueError) and "context window" in str(payload):
                    raise ContextWindowOverflowException(str(payload)) from payload
                raise payload
            else:
                return
    finally:
        cancel.set()
