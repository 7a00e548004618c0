"""Raw legacy response size vs facade output size, per retail operation, on real data.

For every retail operation, replays the first successful call of it found in the tau2-bench train
tasks' expected actions through `RetailFacade.invoke` against an in-process legacy API (on a
temporary copy of the database), and prints the bytes the legacy API returned for that call (all
HTTP responses it needed, the token hop excluded) next to the bytes of the facade's JSON result.
Prints figures; asserts nothing.

Usage:

    uv run --no-sync python scripts/bench_facade_sizes.py [--data ../shared/data/tau2-retail]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
from bastion_facades import FacadeError, LegacyClient, RetailFacade
from bastion_legacy import LegacyConfig, LegacyStore, create_app

CLIENT_ID = "bench"
CLIENT_SECRET = "bench-secret"  # noqa: S105 - a throwaway in-process credential


class CountingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and sums the body bytes of non-token responses."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.raw_bytes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if request.url.path != "/oauth/token":
            self.raw_bytes += len(body)
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)


def sample_calls(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The first successful expected call of each tool in the train tasks."""
    calls: dict[str, dict[str, Any]] = {"list_all_product_types": {}}
    for line in (data_dir / "expected_train.jsonl").read_text(encoding="utf-8").splitlines():
        for action in json.loads(line)["actions"]:
            if action["ok"] and action["name"] not in calls:
                calls[action["name"]] = action["arguments"]
    return calls


async def measure(
    template: Path, seed: Path, workdir: Path, name: str, arguments: dict[str, Any]
) -> tuple[int, int]:
    db_path = workdir / f"{name}.sqlite3"
    shutil.copyfile(template, db_path)
    config = LegacyConfig(db_path=db_path, seed_path=seed, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with LegacyStore.open(db_path, seed) as store:
        transport = CountingTransport(httpx.ASGITransport(app=create_app(config, store=store)))
        async with LegacyClient(
            "http://legacy.local", CLIENT_ID, CLIENT_SECRET, transport=transport
        ) as client:
            try:
                result = await RetailFacade(client).invoke(name, arguments)
                text = result if isinstance(result, str) else json.dumps(result, separators=(",", ":"))
            except FacadeError as exc:
                text = str(exc)
    return transport.raw_bytes, len(text.encode("utf-8"))


async def run(data_dir: Path, workdir: Path, calls: dict[str, dict[str, Any]]) -> None:
    seed = data_dir / "db.json"
    template = workdir / "template.sqlite3"
    LegacyStore.open(template, seed).close()
    print(f"{'operation':34} {'legacy bytes':>12} {'facade bytes':>12} {'ratio':>7}")
    total_raw = total_out = 0
    for name, arguments in sorted(calls.items()):
        raw, out = await measure(template, seed, workdir, name, arguments)
        total_raw += raw
        total_out += out
        ratio = f"{raw / out:6.1f}x" if raw and out else "   n/a"
        print(f"{name:34} {raw:12d} {out:12d} {ratio:>7}")
    print(f"{'total':34} {total_raw:12d} {total_out:12d} {total_raw / max(total_out, 1):6.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description="Raw legacy vs facade output sizes per retail operation.")
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/tau2-retail"
    )
    args = parser.parse_args()
    calls = sample_calls(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.data, Path(tmp), calls))


if __name__ == "__main__":
    main()
