"""Bastion: agents in front of legacy systems, bound by policy to what each user may do.

This distribution holds the ``bastion`` command line, the settings object (the only reader of
``BASTION_*`` environment variables), the domain declaration (:mod:`bastion.domain`) and the wiring of
one domain's deployment (:mod:`bastion.stack`). The layers
live in their own packages: ``bastion_facades``, ``bastion_policies``, ``bastion_mcp``,
``bastion_agents`` and ``bastion_evals``.
"""

from bastion.settings import Settings

__all__ = ["Settings"]
