"""Binding and checks of the retail policies, per group."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import cedarpy
import pytest
from bastion_policies import (
    Allow,
    ConfigurationError,
    Deny,
    PolicyEngine,
    Principal,
    SessionFacts,
)
from bastion_retail import domain as retail

CATALOG = retail.catalog()
ALL_TOOLS = set(CATALOG.names)
LOOKUPS = {"find_user_id_by_email", "find_user_id_by_name_zip"}
WRITES = {s.name for s in CATALOG if s.access == "write"}
ORDER_TOOLS = {s.name for s in CATALOG if s.resource == "order"}

SARA = "sara_doe_496"
OTHER = "yusuf_rossi_9620"

# A valid argument set for every retail tool (user-scoped ones act on SARA).
ARGS: dict[str, dict[str, Any]] = {
    "calculate": {"expression": "2 + 2"},
    "cancel_pending_order": {"order_id": "#W1", "reason": "no longer needed"},
    "exchange_delivered_order_items": {
        "order_id": "#W1",
        "item_ids": ["1"],
        "new_item_ids": ["2"],
        "payment_method_id": "gift_card_1",
    },
    "find_user_id_by_name_zip": {"first_name": "Sara", "last_name": "Doe", "zip": "12345"},
    "find_user_id_by_email": {"email": "sara@example.com"},
    "get_order_details": {"order_id": "#W1"},
    "get_product_details": {"product_id": "6086499569"},
    "get_item_details": {"item_id": "1008292230"},
    "get_user_details": {"user_id": SARA},
    "list_all_product_types": {},
    "modify_pending_order_address": {
        "order_id": "#W1",
        "address1": "1 Main St",
        "address2": "",
        "city": "Austin",
        "state": "TX",
        "country": "USA",
        "zip": "78701",
    },
    "modify_pending_order_items": {
        "order_id": "#W1",
        "item_ids": ["1"],
        "new_item_ids": ["2"],
        "payment_method_id": "gift_card_1",
    },
    "modify_pending_order_payment": {"order_id": "#W1", "payment_method_id": "paypal_1"},
    "modify_user_address": {
        "user_id": SARA,
        "address1": "1 Main St",
        "address2": "",
        "city": "Austin",
        "state": "TX",
        "country": "USA",
        "zip": "78701",
    },
    "return_delivered_order_items": {
        "order_id": "#W1",
        "item_ids": ["1"],
        "payment_method_id": "gift_card_1",
    },
    "transfer_to_human_agents": {"summary": "wants a human"},
}


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("customer", ALL_TOOLS - LOOKUPS),
        ("support_readonly", ALL_TOOLS - WRITES),
        ("support_agent", ALL_TOOLS),
        ("supervisor", ALL_TOOLS),
    ],
)
def test_bind_gives_each_group_its_tools(engine: PolicyEngine, group: str, expected: set[str]) -> None:
    binding = engine.bind(Principal(SARA, (group,)))
    assert set(binding.tool_names) == expected
    assert set(binding.denied) == ALL_TOOLS - expected
    assert binding.tool_names == tuple(n for n in CATALOG.names if n in expected)  # catalog order
    for name in binding.denied:
        decision = binding.decisions[name]
        assert isinstance(decision, Deny)
        assert decision.reasons == (f"no policy permits {group} to call {name}",)


def test_a_user_without_groups_gets_no_tools(engine: PolicyEngine) -> None:
    binding = engine.bind(Principal(SARA, ()))
    assert binding.tool_names == ()
    assert "this user" in binding.decisions["calculate"].reasons[0]


def test_bind_subset_and_unknown_names(engine: PolicyEngine, customer: Principal) -> None:
    binding = engine.bind(customer, ["get_user_details", "find_user_id_by_email", "drop_tables"])
    assert binding.tool_names == ("get_user_details",)
    assert "get_user_details" in binding
    assert not binding.allows("drop_tables")
    assert "unknown tool" in binding.decisions["drop_tables"].reasons[0]


@pytest.mark.parametrize("group", ["customer", "support_agent", "support_readonly", "supervisor"])
@pytest.mark.parametrize("owner", [SARA, OTHER, None])
def test_bind_never_shows_less_than_a_call_allows(
    engine: PolicyEngine, group: str, owner: str | None
) -> None:
    principal = Principal(SARA, (group,))
    binding = engine.bind(principal)
    for tool, args in ARGS.items():
        call_args = dict(args)
        if "user_id" in call_args and owner is not None:
            call_args["user_id"] = owner
        for facts in (SessionFacts(resource_owner_id=owner), SessionFacts("s1", resource_owner_id=owner)):
            decision = engine.check(principal, tool, call_args, facts)
            if decision.allowed:
                assert binding.allows(tool), (group, tool, owner)


def test_customer_reads_own_profile(engine: PolicyEngine, customer: Principal) -> None:
    decision = engine.check(customer, "get_user_details", {"user_id": SARA})
    assert isinstance(decision, Allow)
    assert decision.policy_ids == ("customer-own-profile",)
    assert decision.resource_owner_id == SARA
    assert "customer-own-profile" in decision.explain()


def test_customer_cannot_read_or_change_another_profile(engine: PolicyEngine, customer: Principal) -> None:
    for tool in ("get_user_details", "modify_user_address"):
        decision = engine.check(customer, tool, {**ARGS[tool], "user_id": OTHER})
        assert isinstance(decision, Deny)
        assert decision.reasons == (f"no policy permits customer to call {tool}",)


def test_customer_order_call_on_own_order_is_allowed(engine: PolicyEngine, customer: Principal) -> None:
    for tool in sorted(ORDER_TOOLS):
        decision = engine.check(customer, tool, ARGS[tool], SessionFacts(resource_owner_id=SARA))
        assert isinstance(decision, Allow), decision.explain()
        assert decision.policy_ids == ("customer-orders",)


def test_customer_order_call_on_someone_elses_order_cites_bastion_policy(
    engine: PolicyEngine, customer: Principal
) -> None:
    decision = engine.check(
        customer, "cancel_pending_order", ARGS["cancel_pending_order"], SessionFacts(resource_owner_id=OTHER)
    )
    assert isinstance(decision, Deny)
    assert decision.policy_ids == ("bastion-customer-own-orders",)
    assert decision.reasons == ("customers may act only on their own orders",)


@pytest.mark.parametrize("facts", [None, SessionFacts(session_id="s1")])
def test_customer_order_call_without_owner_fact_fails_closed(
    engine: PolicyEngine, customer: Principal, facts: SessionFacts | None
) -> None:
    decision = engine.check(customer, "get_order_details", {"order_id": "#W1"}, facts)
    assert decision.policy_ids == ("bastion-customer-own-orders",)
    assert not decision.allowed


def test_customer_catalog_and_generic_tools(engine: PolicyEngine, customer: Principal) -> None:
    for tool in ("get_product_details", "list_all_product_types", "calculate", "transfer_to_human_agents"):
        assert engine.check(customer, tool, ARGS[tool]).allowed, tool
    assert not engine.check(customer, "find_user_id_by_email", ARGS["find_user_id_by_email"]).allowed


def test_support_agent_acts_for_one_customer_per_session(engine: PolicyEngine, agent: Principal) -> None:
    facts = SessionFacts(session_id="s1")
    first = engine.check(agent, "get_user_details", {"user_id": SARA}, facts)
    assert isinstance(first, Allow)
    assert first.policy_ids == ("support-agent-all-tools",)
    facts = facts.acting_for(first.resource_owner_id)
    # Same customer: user- and order-scoped calls pass; look-ups are not customer-scoped.
    assert engine.check(agent, "get_user_details", {"user_id": SARA}, facts).allowed
    same_order = SessionFacts("s1", resource_owner_id=SARA, session_subject_id=SARA)
    assert engine.check(agent, "cancel_pending_order", ARGS["cancel_pending_order"], same_order).allowed
    assert engine.check(agent, "find_user_id_by_email", ARGS["find_user_id_by_email"], facts).allowed
    # Another customer, directly or through an order, or an order of unknown owner: denied.
    other_user = engine.check(agent, "get_user_details", {"user_id": OTHER}, facts)
    other_order = SessionFacts("s1", resource_owner_id=OTHER, session_subject_id=SARA)
    unknown_owner = SessionFacts("s1", session_subject_id=SARA)
    for decision in (
        other_user,
        engine.check(agent, "get_order_details", {"order_id": "#W9"}, other_order),
        engine.check(agent, "get_order_details", {"order_id": "#W9"}, unknown_owner),
    ):
        assert isinstance(decision, Deny)
        assert decision.policy_ids == ("bastion-agent-one-customer",)
        assert "one customer" in decision.explain()


def test_supervisor_is_not_limited_to_one_customer(engine: PolicyEngine) -> None:
    boss = Principal("boss", ("supervisor",))
    facts = SessionFacts("s1", resource_owner_id=OTHER, session_subject_id=SARA)
    assert engine.check(boss, "cancel_pending_order", ARGS["cancel_pending_order"], facts).allowed
    # Nor does a supervisor need a session for customer calls.
    no_session = SessionFacts(resource_owner_id=OTHER)
    assert engine.check(boss, "cancel_pending_order", ARGS["cancel_pending_order"], no_session).allowed


def test_readonly_support_cannot_write(engine: PolicyEngine) -> None:
    staff = Principal("ro", ("support_readonly",))
    assert engine.check(staff, "get_user_details", {"user_id": OTHER}).allowed
    decision = engine.check(staff, "modify_user_address", {**ARGS["modify_user_address"], "user_id": OTHER})
    assert decision.reasons == ("no policy permits support_readonly to call modify_user_address",)


def test_unknown_tool_is_denied_not_raised(engine: PolicyEngine, agent: Principal) -> None:
    decision = engine.check(agent, "drop_all_tables", {"x": 1})
    assert isinstance(decision, Deny)
    assert decision.tool == "drop_all_tables"
    assert "unknown tool" in decision.explain()


@pytest.mark.parametrize(
    "arguments",
    [
        {"order_id": 5},
        {},
        {"order_id": "#W1", "extra": "x"},
        {"order_id": object()},
        "not a mapping",
    ],
)
def test_arguments_that_do_not_fit_the_schema_are_denied(
    engine: PolicyEngine, agent: Principal, arguments: Any
) -> None:
    decision = engine.check(agent, "get_order_details", arguments)
    assert isinstance(decision, Deny)
    assert decision.reasons == ("the arguments do not match get_order_details's input (order_id: string)",)


def test_none_arguments_count_as_absent_and_lists_as_sets(engine: PolicyEngine, agent: Principal) -> None:
    args = {**ARGS["return_delivered_order_items"], "item_ids": ("1", "1")}
    facts = SessionFacts("s1", resource_owner_id=SARA)
    assert engine.check(agent, "return_delivered_order_items", args, facts).allowed
    assert not engine.check(agent, "get_order_details", {"order_id": None}, facts).allowed


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_policy_ids_come_from_annotations(engine: PolicyEngine) -> None:
    assert engine.policy_ids == (
        "customer-own-profile",
        "customer-orders",
        "customer-catalog",
        "support-agent-all-tools",
        "support-readonly-reads",
        "supervisor-all-tools",
        "bastion-customer-own-orders",
        "bastion-agent-one-customer",
        "bastion-agent-needs-session",
    )


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.cedar", "permit (principal, action, resource);", "@id"),
        ("a.cedar", '@id("x") permit (principal, action, resource', "not valid Cedar"),
        (
            "a.cedar",
            '@id("x") permit (principal, action == AgentCore::Action::"retail___nope", resource);',
            "does not validate",
        ),
        (
            "a.cedar",
            '@id("x") permit (principal, action, resource) when { context has bastion };',
            r"\*\.bastion\.cedar",
        ),
    ],
)
def test_bad_policy_files_are_configuration_errors(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        PolicyEngine.from_files([_write(tmp_path, name, text)], CATALOG, target="retail")


def test_duplicate_ids_and_missing_files_are_configuration_errors(tmp_path: Path) -> None:
    rules = '@id("same") permit (principal, action, resource);'
    paths = [_write(tmp_path, "a.cedar", rules), _write(tmp_path, "b.cedar", rules)]
    with pytest.raises(ConfigurationError, match="repeated: same"):
        PolicyEngine.from_files(paths, CATALOG, target="retail")
    with pytest.raises(ConfigurationError, match="Cannot read"):
        PolicyEngine.from_files([tmp_path / "missing.cedar"], CATALOG, target="retail")


def test_engine_works_with_another_target_and_gateway(tmp_path: Path) -> None:
    text = (
        (files("bastion_retail") / "policies" / "retail.cedar")
        .read_text(encoding="utf-8")
        .replace('"retail___', '"shop___')
        .replace('Action::"retail"', 'Action::"shop"')
    )
    engine = PolicyEngine.from_files(
        [_write(tmp_path, "shop.cedar", text)], CATALOG, target="shop", gateway="arn:gw"
    )
    assert engine.check(Principal(SARA, ("customer",)), "get_item_details", {"item_id": "1"}).allowed
    # Without the Bastion-only file no order-owner rule applies.
    assert engine.check(Principal(SARA, ("customer",)), "get_order_details", {"order_id": "#W1"}).allowed


def test_a_forbid_that_cannot_be_evaluated_denies(engine: PolicyEngine, customer: Principal) -> None:
    """Cedar skips policies whose evaluation errors; for a forbid the engine must fail closed.

    The retail files validate, so no such error can be provoked through ``check``; this feeds the
    engine a Cedar result as cedarpy reports one (policy6 is bastion-customer-own-orders).
    """
    result = cedarpy.AuthzResult(
        {
            "decision": "Allow",
            "diagnostics": {
                "reason": ["policy1"],
                "errors": ["error while evaluating policy `policy6`: boom"],
            },
        }
    )
    spec = CATALOG["get_order_details"]
    decision = engine._interpret(engine._all, customer, spec, result, None)  # pyright: ignore[reportPrivateUsage]
    assert isinstance(decision, Deny)
    assert decision.policy_ids == ("bastion-customer-own-orders",)
    assert "denied to be safe" in decision.explain()
