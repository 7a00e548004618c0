"""Turn the ``model`` setting into a Strands model, with the embedded default's availability check."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bastion_agents import select_model
from bastion_agents.models.weights import QWEN25_CODER_1_5B
from strands.models import Model

from bastion.settings import Settings

__all__ = ["FETCH_COMMAND", "ModelUnavailable", "local_weights_path", "resolve_model"]

FETCH_COMMAND = "./scripts/demo (installs the runtime and fetches the weights)"

_ALTERNATIVES = (
    "or point Bastion at another model: BASTION_MODEL='openai:http://127.0.0.1:11434/v1#qwen2.5:7b' "
    "(Ollama or any OpenAI-compatible server) or BASTION_MODEL='bedrock:<model-id>'"
)


class ModelUnavailable(RuntimeError):
    """The configured model cannot run here; the message says in one line what to do instead."""


def local_weights_path(settings: Settings) -> Path:
    """Where the embedded model's verified GGUF file lives."""
    return settings.models_dir / QWEN25_CODER_1_5B.file_name


def resolve_model(settings: Settings, spec: str) -> tuple[Model, str]:
    """Build the model named by ``spec``.

    Args:
        settings: Supplies the models directory, region, API key and thread count.
        spec: A model setting (see `bastion_agents.models.selection.ACCEPTED_FORMS`).

    Returns:
        ``(model, label)`` where label is a short human description for transcripts.

    Raises:
        ModelUnavailable: ``local`` was asked for but llama-cpp-python or the weights are missing.
        bastion_agents.ConfigurationError: The spec is not one of the accepted forms.
    """
    if spec.strip() == "local":
        weights = local_weights_path(settings)
        if importlib.util.find_spec("llama_cpp") is None:
            raise ModelUnavailable(
                "The embedded model runtime (llama-cpp-python) is not installed: run %s, %s."
                % (FETCH_COMMAND, _ALTERNATIVES)
            )
        if not weights.is_file():
            raise ModelUnavailable(
                "The embedded model's weights are missing (%s): run %s, %s."
                % (weights, FETCH_COMMAND, _ALTERNATIVES)
            )
        model = select_model("local", model_path=weights, local_options={"n_threads": settings.local_threads})
        return model, "local · Qwen2.5-Coder-1.5B-Instruct Q4_K_M (llama.cpp, in-process)"
    model = select_model(
        spec,
        region=settings.aws_region,
        api_key=settings.openai_api_key.get_secret_value(),
    )
    return model, spec
