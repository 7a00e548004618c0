"""Adapter: ``sagemaker:<endpoint>`` → :class:`strands.models.sagemaker.SageMakerAIModel`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strands.models.sagemaker import SageMakerAIModel

from ._aws import resolve_region

if TYPE_CHECKING:
    import boto3

__all__ = ["build_sagemaker"]

_DEFAULT_MAX_TOKENS = 1024


def build_sagemaker(
    endpoint: str,
    *,
    region: str | None,
    boto_session: boto3.Session | None,
    temperature: float | None,
    max_tokens: int | None,
) -> SageMakerAIModel:
    """Build a model served by a SageMaker AI endpoint (OpenAI-style chat payload, streamed).

    No AWS call is made until the first request.

    Args:
        endpoint: The SageMaker endpoint name.
        region: AWS region; required unless ``boto_session`` carries one.
        boto_session: Session to take credentials and region from.
        temperature: Sampling temperature, or None for the container's default.
        max_tokens: Output token cap (default 1024).

    Returns:
        The model.

    Raises:
        ConfigurationError: No region was given, or both a region and a session were.
    """
    resolved = resolve_region("sagemaker", region, boto_session)
    payload: SageMakerAIModel.SageMakerAIPayloadSchema = {
        "max_tokens": max_tokens or _DEFAULT_MAX_TOKENS,
        "stream": True,
    }
    if temperature is not None:
        payload["temperature"] = temperature
    return SageMakerAIModel(
        endpoint_config={"endpoint_name": endpoint, "region_name": resolved},
        payload_config=payload,
        boto_session=boto_session,
    )
