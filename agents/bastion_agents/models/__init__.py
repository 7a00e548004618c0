"""Model providers for Bastion agents, selected by one setting string (see :func:`select_model`).

The embedded llama.cpp provider lives in :mod:`bastion_agents.models.local` and is imported only when
the ``local`` setting is selected.
"""

from .scripted import ScriptedModel, ScriptedModelConfig
from .selection import ACCEPTED_FORMS, ModelSpec, parse_model_spec, select_model

__all__ = [
    "ACCEPTED_FORMS",
    "ModelSpec",
    "ScriptedModel",
    "ScriptedModelConfig",
    "parse_model_spec",
    "select_model",
]
