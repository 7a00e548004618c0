"""select_model: the five setting forms and the errors for bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from bastion_agents import ACCEPTED_FORMS, ConfigurationError, ScriptedModel, select_model
from bastion_agents.models import parse_model_spec
from strands.models.bedrock import BedrockModel
from strands.models.openai import OpenAIModel
from strands.models.sagemaker import SageMakerAIModel


def _session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="eu-west-1")


def test_bedrock_keeps_colons_in_the_model_id_and_uses_the_given_region() -> None:
    model = select_model("bedrock:us.amazon.nova-lite-v1:0", boto_session=_session(), temperature=0.0)
    assert isinstance(model, BedrockModel)
    assert model.get_config()["model_id"] == "us.amazon.nova-lite-v1:0"
    assert model.client.meta.region_name == "eu-west-1"


def test_bedrock_and_sagemaker_need_a_region() -> None:
    with pytest.raises(ConfigurationError, match="region"):
        select_model("bedrock:anthropic.claude")
    with pytest.raises(ConfigurationError, match="region"):
        select_model("sagemaker:my-endpoint")


def test_sagemaker_endpoint() -> None:
    model = select_model("sagemaker:my-endpoint", boto_session=_session(), max_tokens=256)
    assert isinstance(model, SageMakerAIModel)
    assert model.get_config()["endpoint_name"] == "my-endpoint"
    assert model.payload_config["max_tokens"] == 256


def test_openai_compatible_server_gets_base_url_model_and_placeholder_key() -> None:
    model = select_model("openai:http://127.0.0.1:11434/v1#qwen2.5:7b")
    assert isinstance(model, OpenAIModel)
    assert model.get_config()["model_id"] == "qwen2.5:7b"
    assert model.client_args["base_url"] == "http://127.0.0.1:11434/v1"
    assert model.client_args["api_key"]
    keyed = select_model("openai:https://api.example.com/v1#m", api_key="sk-x")
    assert isinstance(keyed, OpenAIModel)
    assert keyed.client_args["api_key"] == "sk-x"


def test_scripted_loads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"rules": [{"say": "hi"}]}), encoding="utf-8")
    model = select_model(f"scripted:{path}")
    assert isinstance(model, ScriptedModel)
    assert model.get_config()["script_path"] == str(path)


def test_local_needs_a_model_path() -> None:
    assert parse_model_spec(" local ").kind == "local"
    with pytest.raises(ConfigurationError, match="model_path"):
        select_model("local")


def test_local_with_a_missing_weights_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="local"):
        select_model("local", model_path=tmp_path / "absent.gguf")


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "gpt-4",
        "azure:foo",
        "bedrock:",
        "sagemaker:",
        "openai:http://127.0.0.1:11434/v1",
        "openai:127.0.0.1:11434#m",
        "openai:http://x#",
        "scripted:",
        "local:/tmp/x.gguf",
    ],
)
def test_bad_specs_list_the_accepted_forms(spec: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        select_model(spec)
    for form in ACCEPTED_FORMS:
        assert form in str(info.value)
