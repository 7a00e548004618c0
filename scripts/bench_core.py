"""Core figures for the retail domain, each measured in one run against its baseline, on this machine.

Starts the retail stack (legacy stand-in + MCP server, loopback, ephemeral ports) and prints:

1. ``get_order_details`` p50/p90 latency: a direct facade call to the stand-in vs the same call
   through MCP (a customer on their own order, one connection kept open); overhead vs goal ≤ 2 ms.
2. Policy check cost p50 (µs): ``PolicyEngine.check`` (no audit) vs raw ``cedarpy.is_authorized``
   with the same request, policies, entities and schema built once; retail catalog and a synthetic
   1,000-tool catalog; goal ≤ 1.2x raw and ≤ 60 µs.
3. Binding 1,000 tools: cold (fresh principal) and cached, in ms; goal ≤ 5 ms.
4. Throughput: ``get_order_details`` calls/s through MCP with concurrent clients (each its own
   connection and customer), bounded in time; goal ≥ 400/s.
5. Per retail operation (a valid call each, as a support agent, one conversation per operation on a
   fresh database): legacy HTTP requests per call (counted by a middleware on the stand-in's ASGI app;
   ``POST /oauth/token`` excluded) and audit records per call (new lines in the audit log).
6. The 74-task replay: wall time and final database hashes matched.

Every loop is bounded in count and time; everything runs on 127.0.0.1. Prints figures; asserts nothing.

Usage:

    uv run --no-sync python scripts/bench_core.py [--samples 300] [--clients 8] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cedarpy
from bastion_policies import (
    PolicyEngine,
    Principal,
    ResourceKind,
    SessionFacts,
    ToolArg,
    ToolCatalog,
    ToolSpec,
    action_id,
    scope_group,
)
from bastion_policies._cedar_model import (  # pyright: ignore[reportPrivateUsage]
    ACTION_TYPE,
    GATEWAY_TYPE,
    PRINCIPAL_TYPE,
    action_entities,
    principal_entity,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from bastion.domain import Domain, LegacyConnection, load_domain
from bastion.mcp_client import connect
from bastion.replay import read_tasks, replay
from bastion.settings import Settings
from bastion.stack import Stack

AUTH_PATH = "/oauth/token"
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "tau2-retail"
ORDER_TOOL = "get_order_details"


# ----------------------------------------------------------------------------- helpers
@dataclass
class Row:
    """One line of the summary table."""

    measure: str
    bastion: str
    baseline: str
    delta: str
    goal: str
    met: str


@dataclass
class RequestCounter:
    """Legacy HTTP requests seen by the stand-in, by path (token fetches kept apart)."""

    paths: Counter[str] = field(default_factory=Counter[str])

    def total(self, *, include_token: bool = False) -> int:
        return sum(n for p, n in self.paths.items() if include_token or p != AUTH_PATH)


class CountingMiddleware:
    """ASGI middleware counting every HTTP request the stand-in serves."""

    def __init__(self, app: ASGIApp, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.counter.paths[str(scope["path"])] += 1
        await self.app(scope, receive, send)


def pct(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed_async(call: Callable[[], Awaitable[Any]], count: int, seconds: float) -> list[float]:
    """Seconds per call for up to ``count`` calls or ``seconds`` of wall time."""
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    for _ in range(count):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
        if started > deadline:
            break
    return samples


def yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


# ----------------------------------------------------------------------------- 1. latency
async def latency(stack: Stack, domain: Domain, order: str, owner: str, samples: int) -> list[Row]:
    settings = stack.settings
    client_id = settings.legacy_client_id or domain.legacy_client_id
    secret = (
        settings.legacy_client_secret.get_secret_value()
        if settings.legacy_client_secret is not None
        else domain.legacy_client_secret
    )
    args = {"order_id": order}
    async with domain.facade(LegacyConnection(stack.urls.legacy, client_id, secret)) as facade:

        async def direct() -> None:
            await facade.invoke(ORDER_TOOL, args)

        await timed_async(direct, 20, 5.0)
        direct_s = await timed_async(direct, samples, 10.0)
    token = stack.mcp_token(Principal(owner, ("customer",)), "bench")
    async with connect(stack.urls.mcp, token) as client:

        async def via_mcp() -> None:
            result = await client.call_tool(ORDER_TOOL, args)
            if result.is_error:
                raise SystemExit(f"MCP {ORDER_TOOL} failed: {result.content}")

        await timed_async(via_mcp, 20, 5.0)
        mcp_s = await timed_async(via_mcp, samples, 15.0)
    d50, d90 = pct(direct_s, 0.5) * 1e3, pct(direct_s, 0.9) * 1e3
    m50, m90 = pct(mcp_s, 0.5) * 1e3, pct(mcp_s, 0.9) * 1e3
    overhead = m50 - d50
    n = f"n={len(mcp_s)}/{len(direct_s)}"
    return [
        Row(
            f"{ORDER_TOOL} p50 ms (MCP vs direct, {n})",
            f"{m50:.2f}",
            f"{d50:.2f}",
            f"+{overhead:.2f} ms",
            "overhead <= 2 ms",
            yes(overhead <= 2.0),
        ),
        Row(
            f"{ORDER_TOOL} p90 ms (MCP vs direct)",
            f"{m90:.2f}",
            f"{d90:.2f}",
            f"+{m90 - d90:.2f} ms",
            "-",
            "-",
        ),
    ]


# ----------------------------------------------------------------------------- 2./3. policies
BENCH_TARGET = "bench"
_MEMBER = 'principal.hasTag("groups") && principal.getTag("groups") like "*\\"member\\"*"'
_ADMIN = 'principal.hasTag("groups") && principal.getTag("groups") like "*\\"admin\\"*"'
SYNTHETIC_PORTABLE = f"""
@id("member-reads") @reason("members may use read tools")
permit (principal is AgentCore::OAuthUser, action in AgentCore::Action::"ReadTools",
        resource is AgentCore::Gateway) when {{ {_MEMBER} }};
@id("member-own-account") @reason("members may use their own account's tools")
permit (principal is AgentCore::OAuthUser, action in AgentCore::Action::"{scope_group("account")}",
        resource is AgentCore::Gateway)
when {{ {_MEMBER} && context.input has account_id && context.input.account_id == principal.id }};
@id("admin-all") @reason("admins may use every tool")
permit (principal is AgentCore::OAuthUser, action in AgentCore::Action::"{BENCH_TARGET}",
        resource is AgentCore::Gateway) when {{ {_ADMIN} }};
"""
SYNTHETIC_BASTION = f"""
@id("member-own-tickets") @reason("members may act only on their own tickets")
forbid (principal is AgentCore::OAuthUser, action in AgentCore::Action::"{scope_group("ticket")}",
        resource is AgentCore::Gateway)
when {{ {_MEMBER} && !({_ADMIN}) }}
unless {{ context has bastion && context.bastion has resource_owner_id &&
          context.bastion.resource_owner_id == principal.id }};
"""


def synthetic_engine(tools: int) -> PolicyEngine:
    kinds = [ResourceKind("account", "account_id", True), ResourceKind("ticket", "ticket_id", False)]
    specs: list[ToolSpec] = []
    accesses = ("read", "write", "generic")
    for i in range(tools):
        kind = (None, "account", "ticket")[i % 3]
        args: tuple[ToolArg, ...] = (ToolArg("note", required=False),)
        if kind is not None:
            args = (ToolArg(f"{kind}_id"), *args)
        specs.append(
            ToolSpec(
                name=f"tool_{i:04d}",
                access=accesses[(i // 3) % 3],
                resource=kind,
                resource_argument=None if kind is None else f"{kind}_id",
                arguments=args,
                description=f"synthetic tool {i}",
            )
        )
    catalog = ToolCatalog(specs, kinds)
    sources = [("bench.cedar", SYNTHETIC_PORTABLE), ("bench.bastion.cedar", SYNTHETIC_BASTION)]
    return PolicyEngine(sources, catalog, target=BENCH_TARGET)


@dataclass(frozen=True)
class CheckCase:
    label: str
    engine: PolicyEngine
    sources: list[tuple[str, str]]
    principal: Principal
    tool: str
    arguments: dict[str, Any]
    facts: SessionFacts


def check_cost(case: CheckCase, count: int, seconds: float) -> tuple[list[Row], bool]:
    engine = case.engine
    # The raw baseline: the same request, policies, entities and schema, built once.
    policies = cedarpy.PolicySet.from_str("\n".join(text for _, text in case.sources))
    entities_json = [*action_entities(engine.catalog, engine.target), principal_entity(case.principal)]
    entities = cedarpy.Entities.from_json_str(json.dumps(entities_json))
    schema = cedarpy.Schema.from_str(engine.schema_text)
    bastion = {
        k: v
        for k, v in {
            "session_id": case.facts.session_id,
            "resource_owner_id": case.facts.resource_owner_id,
            "session_subject_id": case.facts.session_subject_id,
        }.items()
        if v is not None
    }
    request = {
        "principal": {"type": PRINCIPAL_TYPE, "id": case.principal.user_id},
        "action": {"type": ACTION_TYPE, "id": action_id(engine.target, case.tool)},
        "resource": {"type": GATEWAY_TYPE, "id": engine.gateway},
        "context": {"input": case.arguments, "bastion": bastion},
    }
    decision = engine.check(case.principal, case.tool, case.arguments, case.facts)
    raw = cedarpy.is_authorized(request, policies, entities, schema=schema)
    same = decision.allowed == raw.allowed
    engine_ns: list[int] = []
    raw_ns: list[int] = []
    deadline = time.perf_counter() + seconds
    for _ in range(count):  # interleaved, so drift hits both alike
        t0 = time.perf_counter_ns()
        engine.check(case.principal, case.tool, case.arguments, case.facts)
        t1 = time.perf_counter_ns()
        cedarpy.is_authorized(request, policies, entities, schema=schema)
        t2 = time.perf_counter_ns()
        engine_ns.append(t1 - t0)
        raw_ns.append(t2 - t1)
        if time.perf_counter() > deadline:
            break
    e50 = statistics.median(engine_ns) / 1e3
    r50 = statistics.median(raw_ns) / 1e3
    ratio = e50 / r50
    verdict = "allow" if decision.allowed else "deny"
    return [
        Row(
            f"check p50 us, {case.label} ({verdict}, n={len(engine_ns)})",
            f"{e50:.1f}",
            f"{r50:.1f}",
            f"{ratio:.2f}x",
            "<= 1.2x and <= 60 us",
            yes(ratio <= 1.2 and e50 <= 60.0),
        )
    ], same


def bind_cost(engine: PolicyEngine, count: int, seconds: float) -> list[Row]:
    tools = len(engine.catalog.names)
    cold: list[float] = []
    deadline = time.perf_counter() + seconds
    for i in range(count):  # a fresh principal each time: no cached entities, no cached binding
        principal = Principal(f"cold-{i}", ("member",))
        t0 = time.perf_counter()
        engine.bind(principal, audit=False)
        cold.append(time.perf_counter() - t0)
        if time.perf_counter() > deadline:
            break
    warm_principal = Principal("warm", ("member",))
    bound = len(engine.bind(warm_principal, audit=False))
    cached: list[float] = []
    for _ in range(count * 10):
        t0 = time.perf_counter()
        engine.bind(warm_principal, audit=False)
        cached.append(time.perf_counter() - t0)
    c50, c90 = pct(cold, 0.5) * 1e3, pct(cold, 0.9) * 1e3
    h50 = pct(cached, 0.5) * 1e3
    return [
        Row(
            f"bind {tools} tools, cold p50 ms ({bound} bound, n={len(cold)})",
            f"{c50:.2f}",
            "-",
            f"p90 {c90:.2f}",
            "<= 5 ms",
            yes(c50 <= 5.0),
        ),
        Row(
            f"bind {tools} tools, cached p50 ms (n={len(cached)})",
            f"{h50:.4f}",
            "-",
            "-",
            "<= 5 ms",
            yes(h50 <= 5.0),
        ),
    ]


# ----------------------------------------------------------------------------- 4. throughput
async def throughput(stack: Stack, pairs: Sequence[tuple[str, str]], seconds: float) -> Row:
    stop_at = time.perf_counter() + seconds
    cap = 50_000

    async def worker(index: int, order: str, owner: str) -> tuple[int, int]:
        done = errors = 0
        token = stack.mcp_token(Principal(owner, ("customer",)), f"bench-tp-{index}")
        async with connect(stack.urls.mcp, token) as client:
            await client.call_tool(ORDER_TOOL, {"order_id": order})  # warm up, not counted
            await start.wait()
            while time.perf_counter() < stop_at and done < cap:
                result = await client.call_tool(ORDER_TOOL, {"order_id": order})
                done += 1
                errors += int(result.is_error)
        return done, errors

    start = asyncio.Event()
    tasks = [asyncio.create_task(worker(i, o, u)) for i, (o, u) in enumerate(pairs)]
    await asyncio.sleep(0.5)  # let every client connect and warm up (bounded below)
    stop_at = time.perf_counter() + seconds
    began = time.perf_counter()
    start.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 30)
    elapsed = time.perf_counter() - began
    calls = sum(d for d, _ in results)
    errors = sum(e for _, e in results)
    rate = calls / elapsed
    return Row(
        f"{ORDER_TOOL} calls/s via MCP ({len(pairs)} clients, {elapsed:.1f} s, {errors} errors)",
        f"{rate:.0f}",
        "-",
        "-",
        ">= 400/s",
        yes(rate >= 400 and errors == 0),
    )


# ----------------------------------------------------------------------------- 5. per operation
def sample_calls(stack: Stack) -> dict[str, dict[str, Any]]:
    """One argument set per operation, taken from the benchmark's expected actions.

    Prefers an action preceded only by reads in its task, so it is valid on a fresh database; tools
    the data never calls get arguments derived from the seed database.
    """
    writes = {s.name for s in stack.engine.catalog if s.access == "write"}
    found: dict[str, dict[str, Any]] = {}
    with (DATA_DIR / "expected_train.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            clean = True
            for action in json.loads(line)["actions"]:
                name = action["name"]
                if name not in found and clean and action.get("ok", True):
                    found[name] = action["arguments"]
                clean = clean and name not in writes
    found.setdefault("list_all_product_types", {})
    if "modify_pending_order_payment" not in found:  # not in the data: a pending order, another card
        db = json.loads((DATA_DIR / "db.json").read_text(encoding="utf-8"))
        for order_id, order in db["orders"].items():
            methods = db["users"][order["user_id"]]["payment_methods"]
            paid = order["payment_history"][0]["payment_method_id"]
            cards = [k for k, v in methods.items() if k != paid and v["source"] == "credit_card"]
            if order["status"] == "pending" and cards:
                found["modify_pending_order_payment"] = {"order_id": order_id, "payment_method_id": cards[0]}
                break
    return found


def audit_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


async def per_operation(stack: Stack, counter: RequestCounter) -> list[list[str]]:
    standin = stack.standin
    assert standin is not None
    samples = sample_calls(stack)
    rows: list[list[str]] = []
    agent = Principal("bench-agent", ("support_agent",))
    for spec in stack.engine.catalog:
        args = samples.get(spec.name)
        if args is None:
            rows.append([spec.name, "-", "-", "-", "no sample call in the data"])
            continue
        standin.reset()
        token = stack.mcp_token(agent, f"bench-op-{spec.name}")
        async with connect(stack.urls.mcp, token) as client:
            await client.list_tools()  # as an agent does first; its "list" audit record is not counted
            before_http = Counter(counter.paths)
            before_audit = len(audit_lines(stack.audit.path))
            result = await asyncio.wait_for(client.call_tool(spec.name, args), timeout=30)
            new_records = audit_lines(stack.audit.path)[before_audit:]
            delta = counter.paths - before_http
        events = Counter(str(json.loads(r).get("event")) for r in new_records)
        legacy = sum(n for p, n in delta.items() if p != AUTH_PATH)
        detail = ", ".join(f"{p} x{n}" if n > 1 else p for p, n in delta.items() if p != AUTH_PATH)
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(events.items()))
        rows.append(
            [spec.name, str(legacy), f"{len(new_records)} ({kinds})", yes(not result.is_error), detail or "-"]
        )
    return rows


# ----------------------------------------------------------------------------- 6. replay
async def replay_all(stack: Stack) -> Row:
    path = DATA_DIR / "expected_train.jsonl"
    expected = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                raw = json.loads(line)
                expected[str(raw["task_id"])] = raw["final_db_sha256"]
    tasks = list(read_tasks(path))
    matched = 0
    began = time.perf_counter()
    async for outcome in replay(stack, tasks):
        matched += int(expected.get(outcome.task_id) == outcome.final_db_sha256)
    wall = time.perf_counter() - began
    return Row(
        f"replay {len(tasks)} tasks: wall s / hashes matched",
        f"{wall:.1f} s",
        "-",
        f"{matched}/{len(tasks)}",
        f"{len(tasks)}/{len(tasks)}",
        yes(matched == len(tasks)),
    )


# ----------------------------------------------------------------------------- main
async def run(args: argparse.Namespace, stack: Stack, domain: Domain, counter: RequestCounter) -> None:
    began = time.perf_counter()
    db = json.loads((DATA_DIR / "db.json").read_text(encoding="utf-8"))
    pairs: list[tuple[str, str]] = []
    owners: set[str] = set()
    for order_id, order in db["orders"].items():
        if order["user_id"] not in owners:
            owners.add(order["user_id"])
            pairs.append((order_id, order["user_id"]))
        if len(pairs) >= args.clients:
            break
    order, owner = pairs[0]
    rows: list[Row] = []
    rows += await latency(stack, domain, order, owner, args.samples)

    retail_sources = domain.policy_sources()
    retail = CheckCase(
        "retail",
        domain.engine(),
        retail_sources,
        Principal(owner, ("customer",)),
        ORDER_TOOL,
        {"order_id": order},
        SessionFacts("bench-session", owner, None),
    )
    synthetic = synthetic_engine(1000)
    synth_sources = [("bench.cedar", SYNTHETIC_PORTABLE), ("bench.bastion.cedar", SYNTHETIC_BASTION)]
    synth = CheckCase(
        "1,000-tool catalog",
        synthetic,
        synth_sources,
        Principal("m-1", ("member",)),
        "tool_0002",
        {"ticket_id": "T-1"},
        SessionFacts("bench-session", "m-1", None),
    )
    agree = True
    for case in (retail, synth):
        case_rows, same = check_cost(case, 5000, 5.0)
        rows += case_rows
        agree = agree and same
    rows += bind_cost(synthetic_engine(1000), 30, 10.0)
    rows.append(await throughput(stack, pairs, args.seconds))
    op_rows = await per_operation(stack, counter)
    rows.append(await replay_all(stack))

    print()
    print("Bastion core benchmark — retail domain, 127.0.0.1, one run (each figure vs its baseline)")
    print()
    print_table(
        ["measure", "bastion", "baseline", "overhead/ratio", "goal", "met"],
        [[r.measure, r.bastion, r.baseline, r.delta, r.goal, r.met] for r in rows],
        right={1, 2, 3},
    )
    if not agree:
        print("WARNING: the engine and raw Cedar disagreed on a decision")
    print()
    print("Per operation (support agent, one conversation each, fresh database; token fetches excluded)")
    print()
    print_table(["operation", "legacy HTTP", "audit records", "ok", "legacy requests"], op_rows, right={1})
    print()
    print(f"total wall time {time.perf_counter() - began:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description="Bastion core benchmark (retail domain, loopback).")
    parser.add_argument("--samples", type=int, default=300, help="latency samples per side")
    parser.add_argument("--clients", type=int, default=8, help="concurrent MCP clients for throughput")
    parser.add_argument("--seconds", type=float, default=5.0, help="throughput duration")
    args = parser.parse_args()
    domain = load_domain("retail")
    counter = RequestCounter()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Settings(state_dir=Path(tmp)), domain, model=None, ephemeral_ports=True)
        assert stack.standin is not None
        stack.standin.app.add_middleware(CountingMiddleware, counter=counter)
        with stack:
            asyncio.run(run(args, stack, domain, counter))


if __name__ == "__main__":
    main()
