"""Shared fixtures for bastion_policies tests."""

from __future__ import annotations

import pytest
from bastion_policies import PolicyEngine, Principal


@pytest.fixture(scope="session")
def engine() -> PolicyEngine:
    return PolicyEngine.retail()


@pytest.fixture
def customer() -> Principal:
    return Principal("sara_doe_496", ("customer",))


@pytest.fixture
def agent() -> Principal:
    return Principal("agent_7", ("support_agent",))
