from __future__ import annotations

import json
import logging
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from bastion_policies import AuditLog, Deny, Principal, SessionFacts, arguments_digest
from bastion_retail import domain as retail

# Values a leaking log would show; none may appear in the file.
EMAIL = "secret.person@example.org"
FIRST, LAST, ZIP = "Wilhelmina", "Quackenbush", "90210"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_bind_writes_one_list_record_unless_told_not_to(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    engine = retail.engine(audit=AuditLog(path))
    customer = Principal("sara_doe_496", ("customer",))
    engine.bind(customer, audit=False)
    assert not path.exists()
    engine.bind(customer, session_id="s1")  # cached binding: still audited
    (record,) = _lines(path)
    assert (record["event"], record["point"], record["session_id"]) == ("list", "list", "s1")
    assert record["tools_denied"] == ["find_user_id_by_name_zip", "find_user_id_by_email"]
    assert "get_user_details" in record["tools_allowed"]
    assert record["decision"] is None


def test_check_writes_one_decision_record_with_a_digest_and_no_argument_values(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    log = AuditLog(path, digest_key=b"k" * 32)
    engine = retail.engine(audit=log)
    customer = Principal("sara_doe_496", ("customer",))
    agent = Principal("agent_7", ("support_agent",))
    args = {"first_name": FIRST, "last_name": LAST, "zip": ZIP}
    engine.check(customer, "get_user_details", {"user_id": "sara_doe_496"}, SessionFacts("s1"))
    assert len(_lines(path)) == 1
    engine.check(customer, "find_user_id_by_email", {"email": EMAIL}, SessionFacts("s1"))
    engine.check(agent, "find_user_id_by_name_zip", args, SessionFacts("s2"), point="agent")
    allowed, denied, pre_check = _lines(path)
    assert allowed["event"] == "decision"
    assert allowed["point"] == "server"
    assert allowed["decision"] == "allow"
    assert allowed["policy_ids"] == ["customer-own-profile"]
    assert allowed["principal_id"] == "sara_doe_496"
    assert allowed["groups"] == ["customer"]
    assert allowed["resource_owner_id"] == "sara_doe_496"
    assert allowed["session_id"] == "s1"
    assert str(allowed["ts"]).endswith("Z")
    assert denied["decision"] == "deny"
    assert denied["reasons"] == ["no policy permits customer to call find_user_id_by_email"]
    assert denied["args_digest"] == log.digest({"email": EMAIL})
    assert denied["args_digest"].startswith("hmac-sha256:")
    assert (pre_check["point"], pre_check["decision"], pre_check["tool"]) == (
        "agent",
        "allow",
        "find_user_id_by_name_zip",
    )
    assert pre_check["args_digest"] == log.digest(args)
    text = path.read_text(encoding="utf-8")
    for value in (EMAIL, FIRST, LAST, ZIP):
        assert value not in text
    assert all("arguments" not in record for record in _lines(path))


def test_a_fault_is_recorded_without_argument_values_or_a_decision(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    log = AuditLog(path)
    log.record_fault(
        "server", Principal("a", ("support_agent",)), "get_order_details", {"order_id": ZIP}, "UpstreamError"
    )
    (record,) = _lines(path)
    assert (record["event"], record["decision"], record["error"]) == ("fault", None, "UpstreamError")
    assert record["args_digest"] == arguments_digest({"order_id": ZIP})
    assert ZIP not in path.read_text(encoding="utf-8")


def test_digests_are_canonical_and_keyed() -> None:
    a = arguments_digest({"b": 1, "a": ["x"], "c": None})
    assert a == arguments_digest({"a": ("x",), "b": 1})  # key order, tuples and nulls do not matter
    assert a.startswith("sha256:")
    assert a != arguments_digest({"a": ["y"], "b": 1})
    assert arguments_digest({"a": 1}, b"k1") != arguments_digest({"a": 1}, b"k2")


def test_file_is_0600_and_a_created_parent_directory_0700(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "decisions.jsonl"
    AuditLog(path).record_decision("server", Principal("u", ("customer",)), "t", {}, Deny("t"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_concurrent_writes_give_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    log = AuditLog(path)
    p = Principal("u", ("customer",))
    decision = Deny("t", (), ("r",))

    def work() -> None:
        for _ in range(50):
            log.record_decision("server", p, "t", {"a": "b" * 100}, decision)

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
        log.record_decision("server", Principal("u", ("customer",)), "t", {}, Deny("t"))
    assert "could not write audit record" in caplog.text
