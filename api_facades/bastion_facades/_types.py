"""JSON value types shared by the facade toolkit."""

from __future__ import annotations

from typing import Any, TypeAlias

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
"""Any JSON value an operation may return."""

JsonObject: TypeAlias = dict[str, JsonValue]
"""A JSON object produced by the facade."""

LegacyJson: TypeAlias = dict[str, Any]
"""A JSON object as received from a legacy API (untyped wire data)."""
