"""What the AWS-backed providers (``bedrock:``, ``sagemaker:``) share: choosing the region."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import ConfigurationError

if TYPE_CHECKING:
    import boto3

__all__ = ["resolve_region"]


def resolve_region(provider: str, region: str | None, boto_session: boto3.Session | None) -> str:
    """The AWS region a provider will call: the explicit one, else the session's.

    Args:
        provider: ``bedrock`` or ``sagemaker``, for the error message.
        region: Region given explicitly, or None.
        boto_session: Session given explicitly, or None.

    Returns:
        The region name.

    Raises:
        ConfigurationError: Both a region and a session were given, or neither names a region.
    """
    if region and boto_session is not None:
        raise ConfigurationError(f"{provider}: pass either region or boto_session, not both")
    resolved = region or (boto_session.region_name if boto_session is not None else None)
    if not resolved:
        raise ConfigurationError(
            f"{provider}: no AWS region; pass region='us-east-1' (or a boto_session with one)"
        )
    return resolved
