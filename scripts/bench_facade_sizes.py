"""Raw legacy response size vs facade output size, per retail operation, on real data.

For every retail operation, replays the first successful call of it found in the tau2-bench train
tasks' expected actions through the retail facade's `invoke` against an in-process legacy API (on a
temporary copy of the database), and prints the bytes the legacy API returned for that call (all
HTTP responses it needed, the token hop excluded) next to the bytes of the facade's JSON result, and
the same two sizes in tokens of the embedded model's tokenizer (Qwen2.5-Coder-1.5B GGUF vocabulary,
loaded vocab-only through llama-cpp-python; "n/a" when the `local` extra or the weights are missing).
Prints figures; asserts nothing.

Usage:

    uv run --no-sync python scripts/bench_facade_sizes.py [--data ../shared/data/tau2-retail]
        [--weights .bastion/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from bastion_facades import FacadeError
from bastion_legacy import LegacyConfig, LegacyStore, create_app
from bastion_retail import create_retail_facade

CLIENT_ID = "bench"
CLIENT_SECRET = "bench-secret"  # noqa: S105 - a throwaway in-process credential


class CountingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and sums the body bytes of non-token responses."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if request.url.path != "/oauth/token":
            self.bodies.append(body)
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)


def sample_calls(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The first successful expected call of each tool in the train tasks."""
    calls: dict[str, dict[str, Any]] = {"list_all_product_types": {}}
    for line in (data_dir / "expected_train.jsonl").read_text(encoding="utf-8").splitlines():
        for action in json.loads(line)["actions"]:
            if action["ok"] and action["name"] not in calls:
                calls[action["name"]] = action["arguments"]
    return calls


Tokenizer = Callable[[bytes], int]


def load_tokenizer(weights: Path) -> Tokenizer | None:
    """Token counter of the embedded model (vocab only, no weights in memory), or None if unavailable."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    if not weights.is_file():
        return None
    vocab = Llama(model_path=str(weights), vocab_only=True, verbose=False)
    return lambda text: len(vocab.tokenize(text, add_bos=False, special=False))


async def measure(
    template: Path, seed: Path, workdir: Path, name: str, arguments: dict[str, Any]
) -> tuple[list[bytes], bytes]:
    db_path = workdir / f"{name}.sqlite3"
    shutil.copyfile(template, db_path)
    config = LegacyConfig(db_path=db_path, seed_path=seed, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with LegacyStore.open(db_path, seed) as store:
        transport = CountingTransport(httpx.ASGITransport(app=create_app(config, store=store)))
        async with create_retail_facade(
            "http://legacy.local", CLIENT_ID, CLIENT_SECRET, transport=transport
        ) as facade:
            try:
                result = await facade.invoke(name, arguments)
                text = result if isinstance(result, str) else json.dumps(result, separators=(",", ":"))
            except FacadeError as exc:
                text = str(exc)
    return transport.bodies, text.encode("utf-8")


async def run(data_dir: Path, workdir: Path, calls: dict[str, dict[str, Any]], weights: Path) -> None:
    seed = data_dir / "db.json"
    template = workdir / "template.sqlite3"
    LegacyStore.open(template, seed).close()
    tokenizer = load_tokenizer(weights)
    print(f"{'operation':34} {'legacy B':>9} {'facade B':>9} {'ratio':>7}", end=" ")
    print(f"{'legacy tok':>10} {'facade tok':>10} {'ratio':>7}")
    totals = [0, 0, 0, 0]
    for name, arguments in sorted(calls.items()):
        bodies, out = await measure(template, seed, workdir, name, arguments)
        raw = sum(len(b) for b in bodies)
        row = [raw, len(out), 0, 0]
        if tokenizer is not None:
            row[2] = sum(tokenizer(b) for b in bodies)
            row[3] = tokenizer(out)
        totals = [t + r for t, r in zip(totals, row, strict=True)]
        print(_row(name, row, tokenizer is not None))
    print(_row("total", totals, tokenizer is not None))
    if tokenizer is None:
        print("tokens: n/a (install the `local` extra and fetch the weights: ./scripts/demo)")


def _ratio(a: int, b: int) -> str:
    return f"{a / b:6.1f}x" if a and b else "   n/a"


def _row(name: str, row: list[int], with_tokens: bool) -> str:
    raw, out, raw_tok, out_tok = row
    tokens = (
        f"{raw_tok:10d} {out_tok:10d} {_ratio(raw_tok, out_tok):>7}"
        if with_tokens
        else f"{'n/a':>10} {'n/a':>10}"
    )
    return f"{name:34} {raw:9d} {out:9d} {_ratio(raw, out):>7} {tokens}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Raw legacy vs facade output sizes per retail operation.")
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/tau2-retail"
    )
    parser.add_argument(
        "--weights",
        type=Path,
        default=Path(__file__).resolve().parents[1]
        / ".bastion/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    )
    args = parser.parse_args()
    calls = sample_calls(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.data, Path(tmp), calls, args.weights))


if __name__ == "__main__":
    main()
