"""`bastion demo` end to end with the scripted model: binding, a denial and a write, in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from bastion_retail._demo import pick_cast, run_demo
from typer.testing import CliRunner

from bastion.cli import app
from bastion.domain import Domain
from bastion.settings import Settings

SCRIPT = Path(__file__).resolve().parents[2] / "domains/retail/bastion_retail/data/demo_script.json"


def test_demo_shows_binding_denial_and_write(
    settings: Settings, retail: Domain, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_demo(settings, retail, model_spec="local")  # no weights in tmp: falls back to the script
    out = capsys.readouterr().out
    assert code == 0, out
    assert "BASTION_MODEL='openai:" in out  # the one-line hint for another model
    assert "customer" in out and "support_agent" in out and "support_readonly" in out
    assert "not bound: find_user_id_by_email" in out
    assert "[model] get_order_details" in out
    assert "Denied by policy" in out
    assert "[model] cancel_pending_order" in out
    assert "status = 'cancelled'" in out
    assert "write visible in the legacy database: yes" in out


def test_demo_command_with_the_scripted_model(settings: Settings) -> None:
    assert SCRIPT.is_file()
    env = {"BASTION_STATE_DIR": str(settings.state_dir), "BASTION_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(
        app, ["demo", "--domain", "retail", "--model", "scripted:%s" % SCRIPT], env=env
    )
    assert result.exit_code == 0, result.output
    assert "Denied by policy" in result.output
    assert "cross-customer request denied by policy: yes" in result.output
    assert "write visible in the legacy database: yes" in result.output
    assert "Traceback" not in result.output


def test_pick_cast_needs_a_pending_order() -> None:
    db = {
        "users": {"u1": {"email": "u1@example.com"}},
        "orders": {"#W1": {"order_id": "#W1", "user_id": "u1", "status": "delivered"}},
    }
    with pytest.raises(LookupError, match="no pending order"):
        pick_cast(db)


def test_pick_cast_chooses_a_pending_order_and_another_customers_order() -> None:
    db = {
        "users": {"u1": {"email": "u1@example.com"}, "u2": {"email": "u2@example.com"}},
        "orders": {
            "#W2": {"order_id": "#W2", "user_id": "u2", "status": "pending"},
            "#W1": {"order_id": "#W1", "user_id": "u1", "status": "delivered"},
        },
    }
    cast = pick_cast(db)
    assert (cast.customer_id, cast.pending_order_id, cast.other_order_id) == ("u2", "#W2", "#W1")
    assert cast.customer_email == "u2@example.com"
