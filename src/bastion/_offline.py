"""Offline switches for the libraries Bastion pulls in (see DESIGN.md, section 4).

Bastion never downloads models or data at run time and sends no telemetry. These defaults are set
with `os.environ.setdefault`, so an operator can still override any of them.
"""

from __future__ import annotations

import os

__all__ = ["OFFLINE_DEFAULTS", "apply_offline_defaults"]

OFFLINE_DEFAULTS: dict[str, str] = {
    # Hugging Face hub (pulled in transitively): never reach the hub.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    # LiteLLM fetches a model cost map at import unless told to use its bundled copy.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    # tldextract fetches the public suffix list unless the URL list is empty.
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    # OpenTelemetry: no exporter unless configured explicitly.
    "OTEL_SDK_DISABLED": "true",
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
    "DO_NOT_TRACK": "1",
}


def apply_offline_defaults() -> None:
    """Set every switch in `OFFLINE_DEFAULTS` that the environment does not already set."""
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
