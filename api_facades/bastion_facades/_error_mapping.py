"""Turning legacy error envelopes into short messages that tell the agent what to do next."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from bastion_facades._errors import LegacyAPIError, ToolCallError

logger = logging.getLogger(__name__)


class _Context(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "the given id"


@dataclass(frozen=True)
class ErrorMapper:
    """Maps :class:`LegacyAPIError` to :class:`ToolCallError` using message templates.

    Templates are ``str.format`` strings; ``{message}`` is the legacy message (without a trailing
    period), other fields come from the call's context (e.g. ``{order_id}``).

    Attributes:
        by_code: Template per legacy error code.
        by_message: Template per (code, exact legacy message); checked first.
        fallback: Template for anything else.
    """

    by_code: Mapping[str, str]
    by_message: Mapping[tuple[str, str], str] = field(default_factory=dict[tuple[str, str], str])
    fallback: str = "{message}. The request was not completed; check the arguments and try again."

    def to_tool_error(self, error: LegacyAPIError, context: Mapping[str, str] | None = None) -> ToolCallError:
        """The agent-facing error for ``error``; ``context`` fills the template's fields."""
        message = error.legacy_message.strip().rstrip(".")
        template = self.by_message.get((error.code, message)) or self.by_code.get(error.code) or self.fallback
        values = _Context(context or {})
        values["message"] = message
        logger.debug("code=<%s>, status=<%s> | mapped legacy error", error.code, error.status)
        return ToolCallError(template.format_map(values))
