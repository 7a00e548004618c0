"""The `bastion` command line: typed, short errors and working dev tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from bastion_policies import JwtVerifier, load_or_create_secret
from typer.testing import CliRunner

from bastion.cli import app
from bastion.domain import Domain
from bastion.settings import Settings
from bastion.stack import JWT_AUDIENCE, JWT_ISSUER

runner = CliRunner()


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {"BASTION_STATE_DIR": str(settings.state_dir), "BASTION_DATA_DIR": str(settings.data_dir)}


def test_token_is_verifiable_with_the_state_secret(
    env: dict[str, str], settings: Settings, retail: Domain
) -> None:
    result = runner.invoke(
        app, ["token", "--domain", "retail", "--user", "yusuf_rossi_9620", "--group", "customer"], env=env
    )
    assert result.exit_code == 0, result.output
    verifier = JwtVerifier(
        load_or_create_secret(settings.state_dir),
        issuer=JWT_ISSUER,
        audience=JWT_AUDIENCE,
        known_groups=retail.groups,
    )
    principal = verifier.verify(result.output.strip())
    assert principal.user_id == "yusuf_rossi_9620"
    assert principal.groups == ("customer",)


def test_token_for_a_group_the_domain_lacks_is_refused(env: dict[str, str], retail: Domain) -> None:
    assert "root" not in retail.groups
    result = runner.invoke(
        app, ["token", "--domain", "retail", "--user", "u", "--group", "customer", "--group", "root"], env=env
    )
    assert result.exit_code == 1
    assert "unknown group root" in result.output
    assert "customer" in result.output  # the groups the domain has are named
    assert "Traceback" not in result.output


def test_token_without_domain_uses_the_only_installed_one(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["token", "--user", "u", "--group", "customer"], env=env)
    assert result.exit_code == 0, result.output


def test_unknown_domain_is_a_short_error(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["token", "--domain", "nosuchdomain", "--user", "u", "--group", "x"], env=env)
    assert result.exit_code == 1
    assert "nosuchdomain" in result.output
    assert "Traceback" not in result.output


def test_replay_of_missing_file_says_so(env: dict[str, str], tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", "--domain", "retail", str(tmp_path / "nope.jsonl")], env=env)
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_replay_of_malformed_file_names_the_line(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    result = runner.invoke(app, ["replay", "--domain", "retail", str(bad)], env=env)
    assert result.exit_code == 1
    assert "line 1 is not JSON" in result.output


def test_non_loopback_host_is_refused(env: dict[str, str]) -> None:
    result = runner.invoke(
        app,
        ["token", "--domain", "retail", "--user", "u", "--group", "customer"],
        env={**env, "BASTION_HOST": "0.0.0.0"},  # noqa: S104 - the refused value
    )
    assert result.exit_code == 1
    assert "BASTION_HOST" in result.output and "loopback only" in result.output


def test_reset_restores_the_seed(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["reset", "--domain", "retail"], env=env)
    assert result.exit_code == 0, result.output
    assert "reset from" in result.output
