"""The engine's cost model (one Cedar evaluation per check, per-principal caches), portable-only
pre-checks, resource owners, and the retail rule that a support agent's customer calls need a session."""

from __future__ import annotations

from typing import Any

import cedarpy
import pytest
from bastion_policies import Allow, Deny, PolicyEngine, Principal, SessionFacts
from bastion_policies import _engine as engine_module
from bastion_policies._cedar_model import principal_entity
from bastion_retail import domain as retail

SARA = "sara_doe_496"
OTHER = "yusuf_rossi_9620"
ORDER_ARGS = {"order_id": "#W1"}


class _Counter:
    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.wrapped(*args, **kwargs)


def test_a_check_costs_one_cedar_evaluation_and_entities_are_built_once_per_principal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = retail.engine()
    # Every Cedar evaluation goes through cedarpy.is_authorized_batch (is_authorized wraps it).
    evaluations = _Counter(cedarpy.is_authorized_batch)
    entity = _Counter(principal_entity)
    monkeypatch.setattr(cedarpy, "is_authorized_batch", evaluations)
    monkeypatch.setattr(engine_module, "principal_entity", entity)
    customer = Principal(SARA, ("customer",))
    for _ in range(3):
        assert engine.check(customer, "get_user_details", {"user_id": SARA}).allowed
    assert evaluations.calls == 3
    engine.bind(customer, audit=False)  # the whole catalog in one batched evaluation
    assert evaluations.calls == 4
    engine.bind(customer, audit=False)  # cached: no evaluation
    assert evaluations.calls == 4
    assert entity.calls == 1  # the principal's entities: built once, reused by every check and bind
    engine.check(Principal(OTHER, ("customer",)), "get_user_details", {"user_id": OTHER})
    assert entity.calls == 2  # another principal gets its own


def test_bindings_are_cached_per_principal(engine: PolicyEngine) -> None:
    customer = Principal(SARA, ("customer",))
    first = engine.bind(customer, audit=False)
    assert engine.bind(Principal(SARA, ("customer",)), audit=False) is first  # equal principal, same object
    agent = Principal(SARA, ("support_agent",))  # same id, other groups: another principal
    other = engine.bind(agent, audit=False)
    assert other is not first
    assert other.principal == agent
    assert set(other.tool_names) > set(first.tool_names)
    subset = engine.bind(customer, ["calculate"], audit=False)
    assert subset is not first
    assert subset.tool_names == ("calculate",)


def test_an_evicted_binding_is_rebuilt_with_the_same_decisions() -> None:
    engine = PolicyEngine(retail.policy_sources(), retail.catalog(), target="retail", cache_size=1)
    sara, other = Principal(SARA, ("customer",)), Principal(OTHER, ("customer",))
    first = engine.bind(sara, audit=False)
    engine.bind(other, audit=False)
    again = engine.bind(sara, audit=False)
    assert again is not first
    assert again.decisions == first.decisions


def test_portable_only_checks_ignore_bastion_only_rules(engine: PolicyEngine) -> None:
    customer = Principal(SARA, ("customer",))
    someone_elses = SessionFacts("s1", resource_owner_id=OTHER)
    full = engine.check(customer, "cancel_pending_order", {**ORDER_ARGS, "reason": "x"}, someone_elses)
    assert isinstance(full, Deny)
    assert full.policy_ids == ("bastion-customer-own-orders",)
    portable = engine.check(
        customer,
        "cancel_pending_order",
        {**ORDER_ARGS, "reason": "x"},
        someone_elses,
        point="agent",
        portable_only=True,
    )
    assert isinstance(portable, Allow)
    assert portable.policy_ids == ("customer-orders",)
    # Portable rules still apply: a customer may not read another customer's profile.
    assert not engine.check(customer, "get_user_details", {"user_id": OTHER}, portable_only=True).allowed
    # And a support agent without a session passes the pre-check (the server decides with the facts).
    agent = Principal("agent_7", ("support_agent",))
    assert engine.check(agent, "get_order_details", ORDER_ARGS, portable_only=True).allowed


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [("get_order_details", ORDER_ARGS), ("get_user_details", {"user_id": SARA})],
)
def test_a_support_agents_customer_call_needs_a_session(
    engine: PolicyEngine, agent: Principal, tool: str, arguments: dict[str, Any]
) -> None:
    without = engine.check(agent, tool, arguments, SessionFacts(resource_owner_id=SARA))
    assert isinstance(without, Deny)
    assert without.policy_ids == ("bastion-agent-needs-session",)
    assert "session" in without.explain()
    with_session = engine.check(agent, tool, arguments, SessionFacts("s1", resource_owner_id=SARA))
    assert isinstance(with_session, Allow)
    assert with_session.policy_ids == ("support-agent-all-tools",)


def test_a_support_agents_unscoped_calls_need_no_session(engine: PolicyEngine, agent: Principal) -> None:
    assert engine.check(agent, "find_user_id_by_email", {"email": "s@example.com"}).allowed
    assert engine.check(agent, "list_all_product_types", {}).allowed


def test_resource_owner_is_the_argument_of_a_self_owned_kind_only(engine: PolicyEngine) -> None:
    assert engine.resource_owner("get_user_details", {"user_id": SARA}) == SARA
    assert engine.resource_owner("get_user_details", {"user_id": ""}) is None
    assert engine.resource_owner("get_user_details", {}) is None
    assert engine.resource_owner("get_order_details", ORDER_ARGS) is None  # resolved by the server
    assert engine.resource_owner("calculate", {"expression": "1"}) is None
    assert engine.resource_owner("no_such_tool", {"user_id": SARA}) is None


def test_a_self_owned_calls_owner_comes_from_its_argument_not_the_facts(
    engine: PolicyEngine, customer: Principal
) -> None:
    """A caller cannot claim ownership through the facts: the user_id argument decides."""
    decision = engine.check(customer, "get_user_details", {"user_id": OTHER}, SessionFacts("s1", SARA))
    assert isinstance(decision, Deny)
    assert decision.resource_owner_id == OTHER
