"""Adapter: ``openai:<base-url>#<model>`` → :class:`strands.models.openai.OpenAIModel`.

Any OpenAI-compatible chat-completions server works: Ollama (``http://127.0.0.1:11434/v1``), vLLM,
llama.cpp's server, or OpenAI itself.
"""

from __future__ import annotations

from typing import Any

from strands.models.openai import OpenAIModel

__all__ = ["LOCAL_SERVER_API_KEY", "build_openai"]

LOCAL_SERVER_API_KEY = "not-needed"
"""Placeholder key sent when none is given; local servers ignore it, the OpenAI client needs one."""


def build_openai(
    base_url: str,
    model_id: str,
    *,
    api_key: str | None,
    temperature: float | None,
    max_tokens: int | None,
) -> OpenAIModel:
    """Build a model served by an OpenAI-compatible endpoint; nothing is sent until the first request.

    Args:
        base_url: The API base URL, e.g. ``http://127.0.0.1:11434/v1``.
        model_id: The model name the server knows, e.g. ``qwen2.5:7b``.
        api_key: The server's API key; None sends :data:`LOCAL_SERVER_API_KEY`.
        temperature: Sampling temperature, or None for the server's default.
        max_tokens: Output token cap, or None for the server's default.

    Returns:
        The model.
    """
    params: dict[str, Any] = {}
    if temperature is not None:
        params["temperature"] = temperature
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    return OpenAIModel(
        client_args={"base_url": base_url, "api_key": api_key or LOCAL_SERVER_API_KEY},
        model_id=model_id,
        params=params or None,
    )
