"""Accuracy and latency of the embedded model (`local`) on realistic retail requests.

Runs one model turn per request through the provider's Strands interface (`LocalModel.stream`), with
the retail tools bound, and scores the decision: did it call the right tool with exactly the right
arguments (or, for small talk, answer without a tool)? Prints figures; asserts nothing.

Tool schemas and descriptions are the retail facade's own (`bastion_retail.OPERATIONS`, what the MCP
server lists), so the script measures what ships without running the servers. Requests are phrased
from the tau2-bench train tasks' user instructions and use real ids from `db.json`.

Usage (after `uv sync --inexact --extra local` and fetching the weights):

    uv run --no-sync python scripts/bench_local_model.py \
        --model .bastion/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

Options: `--all-tools` binds all 16 retail tools (default: the 10 a customer-facing agent uses),
`--free-form` decodes without the call grammar (for comparison), `--agent` adds one full Strands
`Agent` round trip (call, tool result, answer), `--no-id-patterns` drops the `order_id` pattern.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion_agents.models.local import LocalModel, LocalModelConfig
from bastion_retail import OPERATIONS
from strands.types.content import Messages
from strands.types.tools import ToolSpec

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tau2-retail"
SYSTEM_PROMPT = (
    "You are a customer support agent of an online retail store. Use the tools to look up and change "
    "customers' accounts and orders. Use only ids the user or a tool gave you."
)
CUSTOMER_TOOLS = (
    "find_user_id_by_email",
    "find_user_id_by_name_zip",
    "get_user_details",
    "get_order_details",
    "get_product_details",
    "get_item_details",
    "list_all_product_types",
    "cancel_pending_order",
    "modify_pending_order_address",
    "transfer_to_human_agents",
)
ANY_TEXT = object()
"""Expected-argument marker: any non-empty string is right (free text such as a summary)."""


@dataclass(frozen=True)
class Case:
    """One request and the decision expected from the model (`tool=None`: answer without a tool)."""

    prompt: str
    tool: str | None
    arguments: dict[str, Any] = field(default_factory=lambda: {})


CASES = (
    Case(
        "Hi, my email is mia.garcia2723@example.com. Can you find my account?",
        "find_user_id_by_email",
        {"email": "mia.garcia2723@example.com"},
    ),
    Case(
        "I'm Yusuf Rossi, zip code 19122. I don't remember my email, can you look me up?",
        "find_user_id_by_name_zip",
        {"first_name": "Yusuf", "last_name": "Rossi", "zip": "19122"},
    ),
    Case("What's the status of my order #W2378156?", "get_order_details", {"order_id": "#W2378156"}),
    Case("Can you list all the product types you sell?", "list_all_product_types", {}),
    Case("Show me the details of product 6086499569.", "get_product_details", {"product_id": "6086499569"}),
    Case(
        "Please cancel order #W5199551 because I no longer need it.",
        "cancel_pending_order",
        {"order_id": "#W5199551", "reason": "no longer needed"},
    ),
    Case(
        "My user id is mei_kovacs_8020. Please show me my account details.",
        "get_user_details",
        {"user_id": "mei_kovacs_8020"},
    ),
    Case("What are the details of item 4107812777?", "get_item_details", {"item_id": "4107812777"}),
    Case(
        "I'm Ethan Garcia and I live in Denver, 80280. Please find my user id.",
        "find_user_id_by_name_zip",
        {"first_name": "Ethan", "last_name": "Garcia", "zip": "80280"},
    ),
    Case("Could you check order #W9300146 for me?", "get_order_details", {"order_id": "#W9300146"}),
    Case(
        "I placed order #W8367380 by mistake, please cancel it.",
        "cancel_pending_order",
        {"order_id": "#W8367380", "reason": "ordered by mistake"},
    ),
    Case(
        "I want to talk to a human agent about my refund, please transfer me.",
        "transfer_to_human_agents",
        {"summary": ANY_TEXT},
    ),
    Case(
        "My email is aarav.santos8321@example.com, which account is that?",
        "find_user_id_by_email",
        {"email": "aarav.santos8321@example.com"},
    ),
    Case(
        "Tell me about product 1656367028, which variants do you have?",
        "get_product_details",
        {"product_id": "1656367028"},
    ),
    Case(
        "Look up the user sofia_hernandez_5364 please.",
        "get_user_details",
        {"user_id": "sofia_hernandez_5364"},
    ),
    Case("Hello! How are you today?", None),
    Case("Thanks, that's all I needed. Bye!", None),
    Case("What can you help me with?", None),
)


@dataclass
class Outcome:
    """What the model did for one case, and how long it took."""

    case: Case
    tool: str | None
    arguments: dict[str, Any]
    text: str
    seconds: float
    input_tokens: int
    output_tokens: int
    decode_tokens_per_s: float | None

    @property
    def name_ok(self) -> bool:
        return self.tool == self.case.tool

    @property
    def exact_ok(self) -> bool:
        if not self.name_ok or set(self.arguments) != set(self.case.arguments):
            return False
        for key, expected in self.case.arguments.items():
            actual = self.arguments[key]
            if expected is ANY_TEXT:
                if not (isinstance(actual, str) and actual.strip()):
                    return False
            elif actual != expected:
                return False
        return True


def retail_tool_specs(names: tuple[str, ...] | None, *, id_patterns: bool = True) -> list[ToolSpec]:
    """Strands tool specs for the retail tools exactly as Bastion ships them (facade operations).

    With `id_patterns=False`, the `order_id` pattern is removed, to measure what it is worth.
    """
    operations = OPERATIONS
    specs: list[ToolSpec] = []
    for operation in operations:
        if names is not None and operation.name not in names:
            continue
        schema = operation.input_schema()
        if not id_patterns:
            schema["properties"].get("order_id", {}).pop("pattern", None)
        specs.append(
            {"name": operation.name, "description": operation.description, "inputSchema": {"json": schema}}
        )
    return specs


async def run_case(model: LocalModel, case: Case, specs: list[ToolSpec]) -> Outcome:
    messages: Messages = [{"role": "user", "content": [{"text": case.prompt}]}]
    started = time.perf_counter()
    tool: str | None = None
    tool_input = ""
    text: list[str] = []
    text_times: list[float] = []
    usage: dict[str, Any] = {}
    async for stream_event in model.stream(messages, specs, SYSTEM_PROMPT):
        event: dict[str, Any] = dict(stream_event)
        if "contentBlockStart" in event:
            start = event["contentBlockStart"].get("start", {})
            if "toolUse" in start:
                tool = start["toolUse"]["name"]
        elif "contentBlockDelta" in event:
            delta = event["contentBlockDelta"]["delta"]
            if "toolUse" in delta:
                tool_input += delta["toolUse"]["input"]
            elif "text" in delta:
                text.append(delta["text"])
                text_times.append(time.perf_counter())
        elif "metadata" in event:
            usage = dict(event["metadata"].get("usage", {}))
    seconds = time.perf_counter() - started
    decode = (len(text_times) - 1) / (text_times[-1] - text_times[0]) if len(text_times) > 8 else None
    return Outcome(
        case=case,
        tool=tool,
        arguments=json.loads(tool_input) if tool_input else {},
        text="".join(text),
        seconds=seconds,
        input_tokens=int(usage.get("inputTokens", 0)),
        output_tokens=int(usage.get("outputTokens", 0)),
        decode_tokens_per_s=decode,
    )


async def agent_round_trip(model: LocalModel, *, id_patterns: bool = True) -> None:
    """One real Strands Agent round trip: the model calls a tool, reads its result, answers."""
    from strands import Agent
    from strands.tools.tools import PythonAgentTool
    from strands.types.tools import ToolResult, ToolUse

    orders = json.loads((DATA / "db.json").read_text(encoding="utf-8"))["orders"]

    def order_details(tool_use: ToolUse, **_: Any) -> ToolResult:
        order_id = str(tool_use["input"].get("order_id", ""))
        order = orders.get(order_id)
        if order is None:
            text = f"Order not found: {order_id}."
        else:
            items = [{"name": item["name"], "price": item["price"]} for item in order["items"]]
            text = json.dumps({"order_id": order_id, "status": order["status"], "items": items})
        return {"toolUseId": tool_use["toolUseId"], "status": "success", "content": [{"text": text}]}

    spec = retail_tool_specs(("get_order_details",), id_patterns=id_patterns)[0]
    chosen = PythonAgentTool("get_order_details", spec, order_details)
    agent = Agent(model=model, tools=[chosen], system_prompt=SYSTEM_PROMPT, callback_handler=None)
    for attempt in ("cold", "warm"):
        started = time.perf_counter()
        result = await agent.invoke_async("What's the status of my order #W2378156?")
        seconds = time.perf_counter() - started
        calls = [
            block["toolUse"]["name"]
            for message in agent.messages
            for block in message["content"]
            if "toolUse" in block
        ]
        answer = str(result).strip()
        print(f"agent round trip ({attempt}): {seconds:.1f} s, tool calls {calls}, answer: {answer!r}")
        agent.messages.clear()


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="the GGUF weights file")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--all-tools", action="store_true", help="bind all 16 retail tools")
    parser.add_argument("--free-form", action="store_true", help="decode calls without the grammar")
    parser.add_argument("--agent", action="store_true", help="add a full Strands Agent round trip")
    parser.add_argument(
        "--no-id-patterns", action="store_true", help="drop the order_id pattern (to measure its effect)"
    )
    args = parser.parse_args()

    config: LocalModelConfig = {
        "model_path": args.model,
        "n_threads": args.threads,
        "constrained": not args.free_form,
        "max_tokens": 256,
    }
    started = time.perf_counter()
    model = LocalModel(config)
    load_seconds = time.perf_counter() - started
    specs = retail_tool_specs(None if args.all_tools else CUSTOMER_TOOLS, id_patterns=not args.no_id_patterns)
    print(
        f"model {args.model.name}: verified and loaded in {load_seconds:.1f} s; {len(specs)} tools bound; "
        f"{'free-form' if args.free_form else 'grammar-constrained'}"
        f"{', no order_id pattern' if args.no_id_patterns else ''}; {args.threads} threads; "
        f"load average {os.getloadavg()[0]:.1f}"
    )

    outcomes: list[Outcome] = []
    for case in CASES:
        outcome = await run_case(model, case, specs)
        outcomes.append(outcome)
        mark = "ok " if outcome.exact_ok else ("~  " if outcome.name_ok else "NO ")
        got = (
            f"{outcome.tool}({json.dumps(outcome.arguments)})"
            if outcome.tool
            else f"text: {outcome.text[:70]!r}"
        )
        print(f"{mark}{outcome.seconds:5.1f}s  {case.prompt[:58]:<58}  -> {got}")

    tool_cases = [o for o in outcomes if o.case.tool is not None]
    plain_cases = [o for o in outcomes if o.case.tool is None]
    warm = [o.seconds for o in outcomes[1:]]
    decode = [o.decode_tokens_per_s for o in outcomes if o.decode_tokens_per_s]
    print()
    print(f"exact calls (tool and arguments): {sum(o.exact_ok for o in tool_cases)}/{len(tool_cases)}")
    print(f"right tool name:                  {sum(o.name_ok for o in tool_cases)}/{len(tool_cases)}")
    print(f"no-tool prompts answered in text: {sum(o.name_ok for o in plain_cases)}/{len(plain_cases)}")
    print(f"cold turn: {outcomes[0].seconds:.1f} s ({outcomes[0].input_tokens} prompt tokens)")
    print(
        f"warm turns: median {statistics.median(warm):.1f} s, range {min(warm):.1f}-{max(warm):.1f} s "
        f"(tool calls median {statistics.median([o.seconds for o in tool_cases[1:]]):.1f} s, "
        f"text replies median {statistics.median([o.seconds for o in plain_cases]):.1f} s)"
    )
    if decode:
        print(f"generation speed (text replies): {statistics.median(decode):.1f} tokens/s")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other processes slow every figure)")
    if args.agent:
        await agent_round_trip(model, id_patterns=not args.no_id_patterns)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
