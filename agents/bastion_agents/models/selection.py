"""Pick a Strands model provider from one setting string.

Accepted forms (see :data:`ACCEPTED_FORMS`)::

    bedrock:<model-id>          Amazon Bedrock (Converse); needs region= or boto_session=
    sagemaker:<endpoint>        a SageMaker AI endpoint; needs region= or boto_session=
    openai:<base-url>#<model>   any OpenAI-compatible server (Ollama, vLLM, llama.cpp server, OpenAI)
    local                       the embedded llama.cpp model; needs model_path=
    scripted:<file>             a deterministic script (tests, demos); see bastion_agents.models.scripted
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from strands.models.model import Model

from .._errors import ConfigurationError

if TYPE_CHECKING:
    import boto3

__all__ = ["ACCEPTED_FORMS", "ModelSpec", "parse_model_spec", "select_model"]

logger = logging.getLogger(__name__)

ACCEPTED_FORMS = (
    "bedrock:<model-id>",
    "sagemaker:<endpoint>",
    "openai:<base-url>#<model>",
    "local",
    "scripted:<file>",
)
"""The model setting forms :func:`select_model` accepts."""

ProviderKind = Literal["bedrock", "sagemaker", "openai", "local", "scripted"]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A parsed model setting.

    Attributes:
        kind: The provider.
        target: Model id (bedrock), endpoint name (sagemaker), base URL (openai), script path
            (scripted); empty for ``local``.
        model: The model name for ``openai``; empty otherwise.
    """

    kind: ProviderKind
    target: str = ""
    model: str = ""


def _bad(spec: str, why: str) -> ConfigurationError:
    forms = ", ".join(repr(form) for form in ACCEPTED_FORMS)
    return ConfigurationError(f"bad model setting {spec!r}: {why}. Use one of: {forms}")


def parse_model_spec(spec: str) -> ModelSpec:
    """Parse a model setting string without building anything.

    Args:
        spec: One of :data:`ACCEPTED_FORMS`; surrounding whitespace is ignored.

    Returns:
        The parsed setting.

    Raises:
        ConfigurationError: The string is not one of the accepted forms (the message lists them).
    """
    text = spec.strip()
    if text == "local":
        return ModelSpec("local")
    kind, sep, rest = text.partition(":")
    rest = rest.strip()
    if not sep:
        raise _bad(spec, "missing '<provider>:'")
    if kind == "bedrock":
        if not rest:
            raise _bad(spec, "bedrock needs a model id")
        return ModelSpec("bedrock", rest)
    if kind == "sagemaker":
        if not rest:
            raise _bad(spec, "sagemaker needs an endpoint name")
        return ModelSpec("sagemaker", rest)
    if kind == "openai":
        base_url, hash_sign, model = rest.rpartition("#")
        if not hash_sign or not base_url or not model.strip():
            raise _bad(spec, "openai needs '<base-url>#<model>'")
        if not base_url.startswith(("http://", "https://")):
            raise _bad(spec, "the openai base URL must start with http:// or https://")
        return ModelSpec("openai", base_url, model.strip())
    if kind == "scripted":
        if not rest:
            raise _bad(spec, "scripted needs a script file path")
        return ModelSpec("scripted", rest)
    if kind == "local":
        raise _bad(spec, "'local' takes no argument; pass the weights file as model_path=")
    raise _bad(spec, f"unknown provider {kind!r}")


def select_model(
    spec: str,
    *,
    region: str | None = None,
    boto_session: boto3.Session | None = None,
    api_key: str | None = None,
    model_path: str | Path | None = None,
    local_options: Mapping[str, Any] | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> Model:
    """Build the Strands model named by one setting string.

    Nothing is sent over the network here: cloud and server clients connect on the first request.

    Args:
        spec: The setting, one of :data:`ACCEPTED_FORMS`.
        region: AWS region for ``bedrock`` and ``sagemaker``.
        boto_session: AWS session for ``bedrock`` and ``sagemaker`` (instead of ``region``).
        api_key: API key for ``openai``; None sends a placeholder accepted by local servers.
        model_path: GGUF weights file for ``local``.
        local_options: Extra settings for the embedded model's ``LocalModelConfig``.
        temperature: Sampling temperature for the remote providers (None: provider default).
        max_tokens: Output token cap for the remote providers (None: provider default).

    Returns:
        A :class:`strands.models.Model`.

    Raises:
        ConfigurationError: The setting is malformed, or a provider misses what it needs (a region, a
            weights file, an installed extra, a valid script).
    """
    parsed = parse_model_spec(spec)
    logger.debug("provider=<%s> | selecting model", parsed.kind)
    if parsed.kind == "bedrock":
        from ._bedrock import build_bedrock

        return build_bedrock(
            parsed.target,
            region=region,
            boto_session=boto_session,
            temperature=temperature,
            max_tokens=max_tokens,
        )
    if parsed.kind == "sagemaker":
        from ._sagemaker import build_sagemaker

        return build_sagemaker(
            parsed.target,
            region=region,
            boto_session=boto_session,
            temperature=temperature,
            max_tokens=max_tokens,
        )
    if parsed.kind == "openai":
        from ._openai import build_openai

        return build_openai(
            parsed.target, parsed.model, api_key=api_key, temperature=temperature, max_tokens=max_tokens
        )
    if parsed.kind == "local":
        from ._embedded import build_local

        return build_local(model_path, options=local_options)
    from .scripted import ScriptedModel

    return ScriptedModel.from_file(parsed.target)
