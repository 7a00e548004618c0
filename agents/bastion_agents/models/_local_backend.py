"""The completion backend of the embedded model: llama-cpp-python, loaded once per weights file.

`llama_cpp` is imported lazily so `bastion_agents` imports without the `local` extra. One `Llama`
object per weights file is shared by every `LocalModel` in the process, together with a lock: a
`Llama` object holds one KV cache and serves one request at a time.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol, cast

from ._local_errors import ALTERNATIVES_HINT, INSTALL_HINT, LocalModelError, LocalModelUnavailableError

logger = logging.getLogger(__name__)

_GRAMMAR_CACHE_SIZE = 32


@dataclass(frozen=True)
class CompletionChunk:
    """A piece of generated text.

    Attributes:
        text: The text (may be empty).
        finish_reason: `"stop"` (end of turn or stop string), `"length"` (token limit) on the last
            chunk, `None` before.
    """

    text: str
    finish_reason: str | None = None


class CompletionBackend(Protocol):
    """What `LocalModel` needs from an inference engine (implemented by `LlamaCppBackend`)."""

    @property
    def chat_template(self) -> str:
        """The model's Jinja chat template."""
        ...

    @property
    def context_length(self) -> int:
        """The context window in tokens (prompt plus generated tokens)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens of a rendered prompt (special tokens written as text count as one)."""
        ...

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        json_schema: Mapping[str, Any] | None,
        stop: Sequence[str],
        seed: int,
        slot: Slot = "call",
        prose_only: bool = False,
    ) -> Iterator[CompletionChunk]:
        """Generate greedily (temperature 0) from a rendered prompt, optionally under a JSON schema.

        `slot` names the KV cache to use: call turns (prompts with the tools block) and text turns
        (prompts without it) share little prefix, so keeping one cache each lets both reuse theirs.
        `prose_only` constrains the reply to text that cannot open with a call (`PROSE_GBNF`).
        """
        ...


class LlamaLike(Protocol):
    """The subset of `llama_cpp.Llama` that `LlamaCppBackend` uses."""

    metadata: dict[str, str]

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        """Tokenize bytes."""
        ...

    def n_ctx(self) -> int:
        """Context window in tokens."""
        ...

    def create_completion(self, prompt: str | list[int], **kwargs: Any) -> Any:
        """Complete a prompt (streaming when `stream=True`)."""
        ...


PROSE_GBNF = r"""root ::= first rest
first ::= [^{<`\[\x00-\x20]
rest ::= [^\x00]*
"""
"""llama.cpp grammar for a plain-language reply: anything that does not open like a call (JSON, a
```json block or a <tool_call> tag)."""

Slot = Literal["call", "text"]
"""Which KV cache a completion uses (see `CompletionBackend.complete`)."""

GrammarFactory = Callable[[str], object]
"""Compiles a JSON schema (as a JSON string) into a grammar object `create_completion` accepts."""


class LlamaCppBackend:
    """`CompletionBackend` over a `llama_cpp.Llama` object.

    Args:
        llama: A loaded `llama_cpp.Llama` (or a fake with the same methods, for tests); used for call turns.
        text_llama: A second `Llama` on the same file for text turns (the weights are memory-mapped,
            so it costs only its KV cache); defaults to `llama`.
        grammar_factory: Compiles JSON schemas to grammars; defaults to
            `llama_cpp.LlamaGrammar.from_json_schema` (imported lazily).
    """

    def __init__(
        self,
        llama: LlamaLike,
        *,
        text_llama: LlamaLike | None = None,
        grammar_factory: GrammarFactory | None = None,
    ) -> None:
        self._llama = llama
        self._text_llama = text_llama or llama
        self._grammar_factory = grammar_factory
        self._grammars: dict[str, object] = {}
        self._prose: object | None = None

    @property
    def chat_template(self) -> str:
        """The GGUF's `tokenizer.chat_template`.

        Raises:
            LocalModelError: The GGUF carries no chat template.
        """
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise LocalModelError(
                "the GGUF file has no chat template (tokenizer.chat_template); use a chat model"
            )
        return template

    @property
    def context_length(self) -> int:
        """The context window the `Llama` object was created with."""
        return self._llama.n_ctx()

    def count_tokens(self, text: str) -> int:
        """Token count of `text`, special tokens parsed."""
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        json_schema: Mapping[str, Any] | None,
        stop: Sequence[str],
        seed: int,
        slot: Slot = "call",
        prose_only: bool = False,
    ) -> Iterator[CompletionChunk]:
        """Stream a greedy completion; see `CompletionBackend.complete`."""
        if prose_only:
            grammar = self._prose_grammar()
        else:
            grammar = self._grammar(json_schema) if json_schema is not None else None
        llama = self._text_llama if slot == "text" else self._llama
        stream = llama.create_completion(
            prompt,
            max_tokens=max_tokens,
            temperature=0.0,
            top_k=1,
            seed=seed,
            stop=list(stop),
            grammar=grammar,
            stream=True,
        )
        for raw in cast(Iterator[dict[str, Any]], stream):
            choice: dict[str, Any] = raw["choices"][0]
            yield CompletionChunk(
                text=str(choice.get("text") or ""), finish_reason=choice.get("finish_reason")
            )

    def _prose_grammar(self) -> object:
        if self._prose is None:
            self._prose = import_llama_cpp().LlamaGrammar.from_string(PROSE_GBNF, verbose=False)
        return self._prose

    def _grammar(self, json_schema: Mapping[str, Any]) -> object:
        key = json.dumps(json_schema)  # key order matters: the grammar emits properties in this order
        grammar = self._grammars.get(key)
        if grammar is None:
            factory = self._grammar_factory or _default_grammar_factory()
            try:
                grammar = factory(key)
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                raise LocalModelError(
                    f"a tool's input schema cannot be turned into a grammar: {exc}"
                ) from exc
            if len(self._grammars) >= _GRAMMAR_CACHE_SIZE:
                self._grammars.pop(next(iter(self._grammars)))
            self._grammars[key] = grammar
        return grammar


@dataclass
class SharedModel:
    """A backend shared by every `LocalModel` using the same weights, with its request lock."""

    backend: CompletionBackend
    lock: threading.Lock


_SHARED: dict[str, SharedModel] = {}
_SHARED_LOCK = threading.Lock()


def import_llama_cpp() -> ModuleType:
    """Import `llama_cpp` or explain how to get it.

    Raises:
        LocalModelUnavailableError: llama-cpp-python is not installed or its native library fails to load.
    """
    try:
        return importlib.import_module("llama_cpp")
    except ImportError as exc:
        raise LocalModelUnavailableError(
            "the embedded model needs llama-cpp-python, which is not installed: "
            f"{INSTALL_HINT}, {ALTERNATIVES_HINT}"
        ) from exc
    except OSError as exc:  # the native library exists but cannot be loaded on this machine
        raise LocalModelUnavailableError(
            f"llama-cpp-python is installed but its native library does not load ({exc}); rebuild it with "
            f"portable CPU flags, {ALTERNATIVES_HINT}"
        ) from exc


def shared_model(path: Path, *, n_ctx: int, n_threads: int, seed: int) -> SharedModel:
    """Load the weights at `path` once per process and return the shared backend and lock.

    The file must already be verified (see `bastion_agents.models.weights.verify_weights`). A second
    call for the same file returns the first object, whatever its `n_ctx`/`n_threads`.

    Raises:
        LocalModelUnavailableError: llama-cpp-python is missing.
        LocalModelError: llama.cpp could not load the file.
    """
    key = str(path.resolve())
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is not None:
            return shared
        llama_cpp = import_llama_cpp()
        logger.debug("path=<%s>, n_ctx=<%d>, n_threads=<%d> | loading local model", key, n_ctx, n_threads)
        try:
            llamas = [
                llama_cpp.Llama(
                    model_path=key,
                    n_ctx=n_ctx,
                    n_threads=n_threads,
                    n_threads_batch=n_threads,
                    n_gpu_layers=0,
                    seed=seed,
                    use_mmap=True,
                    verbose=False,
                )
                for _ in range(2)  # call turns and text turns, each keeping its own KV cache
            ]
        except (ValueError, RuntimeError, OSError) as exc:
            raise LocalModelError(f"llama.cpp could not load {path}: {exc}; fetch the weights again") from exc
        backend = LlamaCppBackend(cast(LlamaLike, llamas[0]), text_llama=cast(LlamaLike, llamas[1]))
        shared = SharedModel(backend=backend, lock=threading.Lock())
        _SHARED[key] = shared
        return shared


def _default_grammar_factory() -> GrammarFactory:
    llama_cpp = import_llama_cpp()
    grammar_class: Any = llama_cpp.LlamaGrammar

    def factory(schema_json: str) -> object:
        return grammar_class.from_json_schema(schema_json, verbose=False)

    return factory
