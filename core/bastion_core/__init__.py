"""Bastion's shared foundation: the exception root.

Every Bastion package defines one base error under :class:`BastionError` (``FacadeError``,
``PoliciesError``, ``McpServerError``, ``AgentsError``, ...). Errors that mean "the framework was used
or configured wrongly" also derive from :class:`BastionUsageError`, so an application can tell a
mistake to fix from a run-time failure to report::

    try:
        ...
    except BastionUsageError:   # fix the configuration or the call
        ...
    except BastionError:        # a run-time failure (back end down, token refused, ...)
        ...
"""

from bastion_core._errors import BastionError, BastionUsageError

__all__ = ["BastionError", "BastionUsageError"]
