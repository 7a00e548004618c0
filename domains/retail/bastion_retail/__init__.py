"""The retail reference domain (tau2-bench retail), declared on Bastion as a product team would.

Everything a team writes for its own system is in this folder: the facade operations over its legacy
REST API (with each tool's traits), the resource kinds and how their owners are resolved, the user
groups, the Cedar policies (``policies/retail.cedar`` is portable to Amazon Bedrock AgentCore Policy;
``policies/retail.bastion.cedar`` holds the rules on session facts), the system prompt, the
development stand-in of the legacy system and the demo. Bastion loads it by name::

    bastion serve --domain retail        # entry point "retail" in group "bastion.domains"
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from bastion_facades import Facade
from bastion_policies import Principal

from bastion.domain import Domain, LegacyConnection, StandinConfig, package_files
from bastion_retail._facade import OPERATIONS, RESOURCES, TRANSFER_ACKNOWLEDGEMENT, create_retail_facade
from bastion_retail._prompt import retail_system_prompt
from bastion_retail._standin import RetailStandin

__all__ = [
    "GROUPS",
    "OPERATIONS",
    "RESOURCES",
    "TRANSFER_ACKNOWLEDGEMENT",
    "RetailStandin",
    "create_retail_facade",
    "domain",
    "find_data_dir",
    "retail_system_prompt",
]

GROUPS = frozenset({"customer", "support_agent", "support_readonly", "supervisor"})
"""The user groups the retail policies give meaning to."""

_INSTRUCTIONS = (
    "Retail customer-service tools. Only the tools you are allowed to use are listed; every call is "
    "decided again with its arguments and the session's facts."
)


@cache
def _policy_text() -> str:
    return (
        resources.files("bastion_retail").joinpath("data").joinpath("policy.md").read_text(encoding="utf-8")
    )


def _system_prompt(principal: Principal, *, compact: bool = False) -> str:
    return retail_system_prompt(_policy_text(), principal, compact=compact)


def find_data_dir() -> Path | None:
    """The tau2-bench retail data beside the checkout (``../shared/data/tau2-retail``), or None."""
    here = Path(__file__).resolve()
    candidates = [Path.cwd().parent / "shared", Path.cwd() / "shared", *(p / "shared" for p in here.parents)]
    for shared in candidates:
        folder = shared / "data" / "tau2-retail"
        if (folder / "db.json").is_file():
            return folder
    return None


def _connect(connection: LegacyConnection) -> Facade:
    return create_retail_facade(
        connection.base_url, connection.client_id, connection.client_secret, transport=connection.transport
    )


def _standin(config: StandinConfig) -> RetailStandin:
    return RetailStandin(config)


def _demo(*args: Any, **kwargs: Any) -> int:
    from bastion_retail._demo import run_demo

    return run_demo(*args, **kwargs)


domain = Domain(
    name="retail",
    title="Retail customer service (tau2-bench retail)",
    target="retail",
    groups=GROUPS,
    operations=OPERATIONS,
    resources=RESOURCES,
    connect=_connect,
    policy_files=package_files("bastion_retail", "policies/retail.cedar", "policies/retail.bastion.cedar"),
    system_prompt=_system_prompt,
    instructions=_INSTRUCTIONS,
    full_access_groups=("support_agent",),
    default_data_dir=find_data_dir,
    standin=_standin,
    demo=_demo,
)
"""The retail domain."""
