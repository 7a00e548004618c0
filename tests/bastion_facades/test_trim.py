"""Trimming helpers and error mapping."""

from __future__ import annotations

from bastion_facades import ErrorMapper, LegacyAPIError, cap_list, capped_fields, pick, project


def test_project_renames_and_drops_missing() -> None:
    source = {"a": {"b": 1, "c": None}, "d": "x"}
    assert project(source, {"one": "a.b", "none": "a.c", "gone": "a.z", "dee": "d"}) == {"one": 1, "dee": "x"}
    assert project(source, {"none": "a.c"}, drop_none=False) == {"none": None}


def test_pick_walks_nested_mappings() -> None:
    assert pick({"a": {"b": {"c": 3}}}, "a.b.c") == 3
    assert pick({"a": [1]}, "a.b", "default") == "default"


def test_cap_list_keeps_the_total() -> None:
    capped = cap_list(list(range(30)), 25)
    assert (len(capped.items), capped.total, capped.truncated) == (25, 30, True)
    assert cap_list([1, 2], 25, total=7).total == 7
    assert not cap_list([1, 2], 25).truncated


def test_capped_fields_notes_truncation() -> None:
    assert capped_fields("orders", cap_list(["a"], 5), "order_count") == {"orders": ["a"], "order_count": 1}
    fields = capped_fields("orders", cap_list(["a", "b", "c"], 2), "order_count")
    assert fields["orders"] == ["a", "b"]
    assert fields["order_count"] == 3
    assert fields["orders_note"] == "Showing 2 of 3."


def test_error_mapper_prefers_message_rules_then_codes_then_fallback() -> None:
    mapper = ErrorMapper(
        by_code={"ORD-404": "Order not found: {order_id}. Look it up.", "X-1": "{message} ({missing})"},
        by_message={("ORD-422", "Invalid reason"): "Invalid reason. Use one of the allowed reasons."},
    )
    err = mapper.to_tool_error(LegacyAPIError(404, "ORD-404", "Order not found"), {"order_id": "#W1"})
    assert err.message == "Order not found: #W1. Look it up."
    err = mapper.to_tool_error(LegacyAPIError(422, "ORD-422", "Invalid reason."))
    assert err.message == "Invalid reason. Use one of the allowed reasons."
    err = mapper.to_tool_error(LegacyAPIError(422, "X-1", "Odd"))
    assert err.message == "Odd (the given id)"
    err = mapper.to_tool_error(LegacyAPIError(400, "ZZZ", "Strange thing."))
    assert err.message.startswith("Strange thing. The request was not completed")
