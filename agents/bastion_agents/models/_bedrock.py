"""Adapter: ``bedrock:<model-id>`` → :class:`strands.models.bedrock.BedrockModel`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strands.models.bedrock import BedrockModel

from ._aws import resolve_region

if TYPE_CHECKING:
    import boto3

__all__ = ["build_bedrock"]


def build_bedrock(
    model_id: str,
    *,
    region: str | None,
    boto_session: boto3.Session | None,
    temperature: float | None,
    max_tokens: int | None,
) -> BedrockModel:
    """Build a Bedrock Converse model; no AWS call is made until the first request.

    Args:
        model_id: A Bedrock model or inference-profile id (e.g. ``us.amazon.nova-lite-v1:0``).
        region: AWS region; required unless ``boto_session`` carries one.
        boto_session: Session to take credentials and region from.
        temperature: Sampling temperature, or None for the model's default.
        max_tokens: Output token cap, or None for the model's default.

    Returns:
        The model.

    Raises:
        ConfigurationError: No region was given, or both a region and a session were.
    """
    resolved = resolve_region("bedrock", region, boto_session)
    config: dict[str, Any] = {"model_id": model_id}
    if temperature is not None:
        config["temperature"] = temperature
    if max_tokens is not None:
        config["max_tokens"] = max_tokens
    if boto_session is not None:
        return BedrockModel(boto_session=boto_session, **config)
    return BedrockModel(region_name=resolved, **config)
