"""Shared fixtures for bastion_policies tests: the retail reference domain's engine and catalog."""

from __future__ import annotations

import pytest
from bastion_policies import PolicyEngine, Principal, ToolCatalog
from bastion_retail import domain as retail


@pytest.fixture(scope="session")
def catalog() -> ToolCatalog:
    return retail.catalog()


@pytest.fixture(scope="session")
def engine() -> PolicyEngine:
    return retail.engine()


@pytest.fixture
def customer() -> Principal:
    return Principal("sara_doe_496", ("customer",))


@pytest.fixture
def agent() -> Principal:
    return Principal("agent_7", ("support_agent",))
