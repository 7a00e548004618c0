"""Deterministic tool-call evals for QA (expected tool calls, arguments and denials per user group).

Not built yet: this workspace member reserves the package. Until it lands, facade fidelity is checked
with ``bastion replay`` (see the README).
"""

__all__: list[str] = []
