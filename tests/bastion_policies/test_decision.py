from __future__ import annotations

from bastion_policies import Allow, Deny, SessionFacts


def test_allow_and_deny_are_typed_and_explainable() -> None:
    allow = Allow("get_user_details", ("customer-own-profile",), ("customers may read their profile",))
    deny = Deny("find_user_id_by_email", (), ("no policy permits customer to call find_user_id_by_email",))
    assert allow.allowed is True
    assert deny.allowed is False
    assert (
        allow.explain() == "allow get_user_details: customers may read their profile [customer-own-profile]"
    )
    assert deny.explain() == (
        "deny find_user_id_by_email: no policy permits customer to call find_user_id_by_email"
    )
    assert "\n" not in allow.explain()


def test_session_facts_pin_the_first_subject_only() -> None:
    facts = SessionFacts(session_id="s1")
    pinned = facts.acting_for("sara_doe_496")
    assert pinned.session_subject_id == "sara_doe_496"
    assert pinned.session_id == "s1"
    assert pinned.acting_for("someone_else").session_subject_id == "sara_doe_496"
    assert facts.acting_for(None) is facts
