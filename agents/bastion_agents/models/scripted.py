"""A deterministic Strands model driven by a JSON script, for tests and plumbing demos.

The model never touches the network. Each time the agent calls it, it looks at the conversation and
answers with the first rule of the script that matches: either one tool call or one text reply.

Script format (JSON object; unknown keys are rejected)::

    {
      "rules": [
        {"when": {"user_regex": "cancel (?P<order_id>#W\\\\d+)"},
         "call": {"name": "get_order_details", "arguments": {"order_id": "{{order_id}}"}}},
        {"when": {"after_tool": "get_order_details", "tool_error": false},
         "say": "Order {{tool_result.order_id}} is {{tool_result.status}}."},
        {"when": {"after_tool": "*", "tool_error": true}, "say": "That did not work: {{tool_result}}"},
        {"say": "I can help with your orders."}
      ],
      "fallback": "I'm sorry, I can't help with that.",
      "max_calls_per_turn": 8
    }

Matching. A *turn* starts with a user text message. When the last message is that user text, only
rules **without** ``after_tool`` are considered; when the last message is a tool result, only rules
**with** ``after_tool`` are. All conditions given in ``when`` must hold:

- ``user_contains``: case-insensitive substring of the latest user text.
- ``user_regex``: Python regex searched (case-insensitive) in the latest user text; its named groups
  become template variables.
- ``after_tool``: name of the tool whose result is the last message, or ``"*"`` for any tool.
- ``tool_error``: ``true``/``false``: the last tool result was / was not an error.
- ``system_contains``: case-insensitive substring of the system prompt (lets one script behave
  differently per principal, since the system prompt names who the user is).

Actions (exactly one per rule): ``call`` ``{"name", "arguments"}`` asks for a tool call (the tool need
not be bound: an unbound call is then refused by the agent like any other) or ``say`` replies with
text. When no rule matches, or the turn already made ``max_calls_per_turn`` calls, the model says
``fallback``.

Templates. ``{{name}}`` in ``say`` and in any string inside ``arguments`` is replaced by: ``user`` (the
latest user text), named groups of ``user_regex``, ``tool_name``, ``tool_result`` (the last tool
result's text) and ``tool_result.<path>`` (a dotted path, integer parts index lists, into the result
parsed as JSON). An argument string that is exactly one ``{{...}}`` takes the value's JSON type;
unknown names are left as written.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from strands.models.model import Model
from strands.types.content import ContentBlock, Messages
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolSpec

from .._errors import ConfigurationError

__all__ = ["ScriptedModel", "ScriptedModelConfig"]

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")
_WHOLE_TEMPLATE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}$")


class _When(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user_contains: str | None = None
    user_regex: str | None = None
    after_tool: str | None = None
    tool_error: bool | None = None
    system_contains: str | None = None

    @model_validator(mode="after")
    def _check_regex(self) -> _When:
        if self.user_regex is not None:
            try:
                re.compile(self.user_regex)
            except re.error as exc:
                raise ValueError(f"user_regex is not a valid regular expression: {exc}") from exc
        return self


class _Call(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    when: _When = Field(default_factory=_When)
    call: _Call | None = None
    say: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> _Rule:
        if (self.call is None) == (self.say is None):
            raise ValueError("each rule needs exactly one of 'call' or 'say'")
        return self


class _Script(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[_Rule]
    fallback: str = "I'm sorry, I can't help with that."
    max_calls_per_turn: int = Field(default=8, ge=1)


class ScriptedModelConfig(TypedDict, total=False):
    """What :meth:`ScriptedModel.get_config` reports.

    Attributes:
        script_path: The script file, when the model was loaded from one.
        rules: Number of rules in the script.
        context_window_limit: Reported to Strands; the scripted model has no real limit.
    """

    script_path: str | None
    rules: int
    context_window_limit: int | None


@dataclass(frozen=True, slots=True)
class _Situation:
    """What the script can see of the conversation at one model call."""

    user_text: str
    system_prompt: str
    tool_name: str | None
    tool_result_text: str
    tool_result_value: Any
    tool_error: bool
    calls_this_turn: int
    tool_uses_so_far: int


class ScriptedModel(Model):
    """A :class:`strands.models.Model` that answers from a script (see the module docstring).

    Deterministic and offline: the same conversation always gives the same answer, and tool-use ids are
    ``scripted-<n>`` numbered through the conversation. The model keeps no state between calls, so one
    instance can serve many sessions at once.

    Args:
        script: The parsed script (a mapping in the documented format).
        script_path: Where it came from, for :meth:`get_config` and error messages.

    Raises:
        ConfigurationError: The script does not follow the documented format.
    """

    def __init__(self, script: Mapping[str, Any], *, script_path: str | None = None) -> None:
        where = f" in {script_path}" if script_path else ""
        try:
            self._script = _Script.model_validate(dict(script))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigurationError(
                f"invalid scripted-model script{where}: {problems}. "
                "See bastion_agents.models.scripted for the format."
            ) from None
        self._config: ScriptedModelConfig = {
            "script_path": script_path,
            "rules": len(self._script.rules),
            "context_window_limit": None,
        }

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedModel:
        """Load a script from a JSON file.

        Args:
            path: The script file (UTF-8 JSON).

        Returns:
            The model.

        Raises:
            ConfigurationError: The file is missing, not JSON, or not in the script format.
        """
        file = Path(path)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(f"scripted-model script not found: {file}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"cannot read scripted-model script {file}: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigurationError(f"scripted-model script {file} must hold a JSON object with 'rules'")
        return cls(data, script_path=str(file))

    def update_config(self, **model_config: Any) -> None:
        """Accept ``context_window_limit`` only; the script itself cannot be changed.

        Raises:
            ConfigurationError: Any other key.
        """
        unknown = sorted(set(model_config) - {"context_window_limit"})
        if unknown:
            raise ConfigurationError(f"ScriptedModel accepts only context_window_limit, not {unknown}")
        if "context_window_limit" in model_config:
            self._config["context_window_limit"] = model_config["context_window_limit"]

    def get_config(self) -> ScriptedModelConfig:
        """Return the model's configuration (see :class:`ScriptedModelConfig`)."""
        return dict(self._config)  # type: ignore[return-value]

    async def structured_output(
        self, output_model: type[T], prompt: Messages, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[dict[str, T | Any], None]:
        """Not supported: scripts produce tool calls and text only.

        Raises:
            ConfigurationError: Always.
        """
        raise ConfigurationError("ScriptedModel does not support structured output")
        yield {}  # pragma: no cover  (makes this an async generator)

    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterable[StreamEvent]:
        """Answer the conversation with the first matching rule, as Strands stream events.

        Args:
            messages: The conversation so far.
            tool_specs: The bound tools (not used to restrict calls).
            system_prompt: The system prompt (used by ``system_contains``).
            **kwargs: Other Strands arguments (ignored).

        Yields:
            ``messageStart``, one content block (a tool use or text deltas), ``messageStop`` and
            ``metadata`` events.
        """
        situation = _read_situation(messages, system_prompt or "")
        rule, variables = self._pick(situation)
        yield {"messageStart": {"role": "assistant"}}
        if rule is not None and rule.call is not None:
            arguments = _render_value(rule.call.arguments, variables)
            tool_use_id = f"scripted-{situation.tool_uses_so_far + 1}"
            logger.debug("tool=<%s>, tool_use_id=<%s> | scripted tool call", rule.call.name, tool_use_id)
            yield {
                "contentBlockStart": {
                    "start": {"toolUse": {"name": rule.call.name, "toolUseId": tool_use_id}}
                }
            }
            yield {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(arguments)}}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "tool_use"}}
        else:
            text = _render_text(
                rule.say if rule is not None and rule.say is not None else self._script.fallback, variables
            )
            yield {"contentBlockStart": {"start": {}}}
            for chunk in _chunks(text):
                yield {"contentBlockDelta": {"delta": {"text": chunk}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "end_turn"}}
        yield {
            "metadata": {
                "usage": {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0},
                "metrics": {"latencyMs": 0},
            }
        }

    def _pick(self, situation: _Situation) -> tuple[_Rule | None, dict[str, Any]]:
        variables: dict[str, Any] = {"user": situation.user_text}
        if situation.tool_name is not None:
            variables["tool_name"] = situation.tool_name
            variables["tool_result"] = situation.tool_result_text
            variables[".tool_result_value"] = situation.tool_result_value
        if situation.calls_this_turn >= self._script.max_calls_per_turn:
            logger.debug("calls=<%d> | scripted model reached max_calls_per_turn", situation.calls_this_turn)
            return None, variables
        for rule in self._script.rules:
            groups = _matches(rule.when, situation)
            if groups is not None:
                return rule, {**variables, **groups}
        return None, variables


def _matches(when: _When, situation: _Situation) -> dict[str, str] | None:
    """Return the regex groups when ``when`` holds for ``situation``, else None."""
    if (when.after_tool is None) != (situation.tool_name is None):
        return None
    if when.after_tool is not None and when.after_tool not in ("*", situation.tool_name):
        return None
    if when.tool_error is not None and when.tool_error != situation.tool_error:
        return None
    if when.user_contains is not None and when.user_contains.casefold() not in situation.user_text.casefold():
        return None
    if when.system_contains is not None and (
        when.system_contains.casefold() not in situation.system_prompt.casefold()
    ):
        return None
    groups: dict[str, str] = {}
    if when.user_regex is not None:
        found = re.search(when.user_regex, situation.user_text, flags=re.IGNORECASE)
        if found is None:
            return None
        groups = {k: v for k, v in found.groupdict().items() if v is not None}
    return groups


def _read_situation(messages: Messages, system_prompt: str) -> _Situation:
    tool_names: dict[str, str] = {}
    tool_uses = 0
    user_text = ""
    calls_this_turn = 0
    for message in messages:
        blocks: list[ContentBlock] = message["content"]
        if message["role"] == "assistant":
            for block in blocks:
                if "toolUse" in block:
                    tool_uses += 1
                    calls_this_turn += 1
                    tool_names[block["toolUse"]["toolUseId"]] = block["toolUse"]["name"]
        elif not any("toolResult" in block for block in blocks):
            texts = [block["text"] for block in blocks if "text" in block]
            if texts:
                user_text = "\n".join(texts)
                calls_this_turn = 0

    tool_name: str | None = None
    result_text = ""
    result_value: Any = None
    tool_error = False
    if messages and messages[-1]["role"] == "user":
        results = [block["toolResult"] for block in messages[-1]["content"] if "toolResult" in block]
        if results:
            last = results[-1]
            tool_name = tool_names.get(last["toolUseId"], "")
            tool_error = last.get("status") == "error"
            texts: list[str] = []
            for item in last.get("content", []):
                if "text" in item:
                    texts.append(item["text"])
                    if result_value is None:
                        result_value = _try_json(item["text"])
                elif "json" in item:
                    result_value = item["json"]
            result_text = "\n".join(texts) if texts else json.dumps(result_value)
    return _Situation(
        user_text=user_text,
        system_prompt=system_prompt,
        tool_name=tool_name,
        tool_result_text=result_text,
        tool_result_value=result_value,
        tool_error=tool_error,
        calls_this_turn=calls_this_turn,
        tool_uses_so_far=tool_uses,
    )


def _try_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


_MISSING = object()


def _lookup(name: str, variables: Mapping[str, Any]) -> Any:
    if name in variables:
        return variables[name]
    head, _, path = name.partition(".")
    if head != "tool_result" or not path:
        return _MISSING
    value: Any = variables.get(".tool_result_value")
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _render_text(template: str, variables: Mapping[str, Any]) -> str:
    def replace(found: re.Match[str]) -> str:
        value = _lookup(found.group(1), variables)
        return found.group(0) if value is _MISSING else _as_text(value)

    return _TEMPLATE.sub(replace, template)


def _render_value(value: Any, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _WHOLE_TEMPLATE.match(value)
        if whole is not None:
            found = _lookup(whole.group(1), variables)
            return value if found is _MISSING else found
        return _render_text(value, variables)
    if isinstance(value, list):
        return [_render_value(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: _render_value(item, variables) for key, item in value.items()}
    return value


def _chunks(text: str) -> list[str]:
    """Split text into word-sized deltas that join back to exactly ``text``."""
    parts = re.findall(r"\S+\s*|\s+", text)
    return parts or [text]
