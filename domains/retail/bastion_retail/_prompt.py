"""System prompts for the retail deployment, derived from tau2-bench's retail ``policy.md``.

The prompt tells the model who the user is. That is a convenience for the model, never a control:
what the user may do is decided by the tools bound to the session and by policy checks on every call.
"""

from __future__ import annotations

import re

from bastion_policies import Principal

__all__ = ["retail_system_prompt"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+\-]")
_MAX_ID = 64

# The policy's opening authentication paragraph; replaced for customers, who are identified by token.
_AUTH_PARAGRAPH = re.compile(
    r"At the beginning of the conversation, you have to authenticate the user identity.*?(?:\n\n|$)",
    re.DOTALL,
)


def _safe_id(value: str) -> str:
    """Return ``value`` reduced to id-like characters, so a claim cannot inject prompt text."""
    return _UNSAFE.sub("_", value)[:_MAX_ID] or "unknown"


def _role(principal: Principal) -> str:
    groups = set(principal.groups)
    if "supervisor" in groups:
        return "supervisor"
    if "support_agent" in groups:
        return "support_agent"
    if "support_readonly" in groups:
        return "support_readonly"
    return "customer"


def retail_system_prompt(policy_text: str, principal: Principal, *, compact: bool = False) -> str:
    """Build the retail agent's system prompt for one principal.

    A customer is told they are already authenticated (by their token) and that the agent acts only
    for them; the policy's "authenticate the user first" paragraph is dropped for them. Support staff
    get the policy's authentication rules (find the customer by e-mail or name + zip, one customer per
    conversation); read-only staff are told they cannot change anything.

    Args:
        policy_text: The retail policy (``policy.md``); used whole unless ``compact``.
        principal: Who is chatting; only ``user_id`` (reduced to id characters) and ``groups`` are used.
        compact: Return a short prompt (about 120 words) for small local models, whose prompt
            processing is slow; it restates only the essential rules.

    Returns:
        The system prompt.
    """
    user = _safe_id(principal.user_id)
    role = _role(principal)
    if role == "customer":
        who = (
            f"The user is authenticated as customer user id {user}; act only for them. "
            "Do not look up or act on any other user; refuse requests about other users."
        )
    elif role == "support_readonly":
        who = (
            f"You assist support staff member {user}, who has read-only access: you can look things up "
            "but cannot change anything. Identify the customer by email, or by name and zip code, "
            "before giving their details, and help one customer per conversation."
        )
    else:
        who = (
            f"You assist support {role.replace('_', ' ')} {user}, who serves customers. Before acting "
            "on a customer, find their user id by email, or by name and zip code, even if the user id "
            "is given. Help only one customer per conversation."
        )
    if compact:
        return (
            "You are a retail customer-service assistant. "
            f"{who} "
            "Use the tools to look up facts; never invent ids, amounts or policies. "
            "Make at most one tool call at a time. Before any change (cancel, modify, return, "
            "exchange), list the details and get an explicit 'yes'. Orders can be cancelled or "
            "modified only when pending, returned or exchanged only when delivered. "
            "If a tool says 'Denied by policy', tell the user you cannot do that. Answer briefly."
        )
    body = policy_text.strip()
    if role == "customer":
        body = _AUTH_PARAGRAPH.sub("", body)
    return (
        f"{who}\n"
        "If a tool result says 'Denied by policy', tell the user plainly that you cannot do that; do "
        "not try to work around it.\n\n"
        f"{body}\n"
    )
