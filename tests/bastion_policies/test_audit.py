from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from bastion_policies import AuditLog, Deny, PolicyEngine, Principal, SessionFacts


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_engine_writes_every_check_and_a_bind_summary(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "decisions.jsonl"
    engine = PolicyEngine.retail(audit=AuditLog(path))
    customer = Principal("sara_doe_496", ("customer",))
    engine.bind(customer, session_id="s1")
    engine.check(customer, "get_user_details", {"user_id": "sara_doe_496"}, SessionFacts(session_id="s1"))
    engine.check(customer, "find_user_id_by_email", {"email": "x" * 500}, SessionFacts(session_id="s1"))
    bind, allowed, denied = _lines(path)
    assert bind["kind"] == "bind"
    assert bind["session_id"] == "s1"
    assert bind["denied_tools"] == ["find_user_id_by_name_zip", "find_user_id_by_email"]
    assert "get_user_details" in bind["allowed_tools"]
    assert allowed["kind"] == "check"
    assert allowed["decision"] == "allow"
    assert allowed["policy_ids"] == ["customer-own-profile"]
    assert allowed["principal_id"] == "sara_doe_496"
    assert allowed["groups"] == ["customer"]
    assert allowed["arguments"] == {"user_id": "sara_doe_496"}
    assert str(allowed["ts"]).endswith("Z")
    assert denied["decision"] == "deny"
    assert denied["reasons"] == ["no policy permits customer to call find_user_id_by_email"]
    email = denied["arguments"]["email"]
    assert len(email) < 250


def test_concurrent_writes_give_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    log = AuditLog(path)
    p = Principal("u", ("customer",))
    decision = Deny("t", (), ("r",))

    def work() -> None:
        for _ in range(50):
            log.record_check(p, "t", {"a": "b" * 100}, decision)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(_lines(path)) == 400


def test_io_errors_are_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    log = AuditLog(blocker / "audit.jsonl")  # parent is a file: cannot be created
    with caplog.at_level(logging.WARNING):
        log.record_check(Principal("u", ("customer",)), "t", {}, Deny("t"))
    assert "could not write audit record" in caplog.text
