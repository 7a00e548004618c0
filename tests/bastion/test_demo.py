"""`bastion demo` end to end with the scripted model: binding, a denial and a write, in-process."""

from __future__ import annotations

import pytest

from bastion.demo import run_demo
from bastion.settings import Settings


def test_demo_shows_binding_denial_and_write(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_demo(settings, model_spec="local")  # no weights in tmp: falls back to the scripted model
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
