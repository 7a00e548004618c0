"""The one exception root of Bastion, and the marker of usage errors."""

from __future__ import annotations

__all__ = ["BastionError", "BastionUsageError"]


class BastionError(Exception):
    """Root of every error Bastion raises.

    Messages are safe to show to an end user or a model: no stack trace, token, secret or raw
    back-end text, and they say what to do next.
    """


class BastionUsageError(BastionError):
    """Bastion was configured or called wrongly (a developer's mistake, fixed by changing the code or
    the configuration), as opposed to a run-time failure."""
