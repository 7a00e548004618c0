"""The bedrock: and sagemaker: providers against the real AWS service models (Stubber; no AWS call)."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from bastion_agents import select_model
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from strands.models.bedrock import BedrockModel
from strands.models.sagemaker import SageMakerAIModel
from strands.types.tools import ToolSpec

ORDER_TOOL: ToolSpec = {
    "name": "get_order_details",
    "description": "Get the status and details of an order.",
    "inputSchema": {
        "json": {
            "type": "object",
            "properties": {"order_id": {"type": "string", "pattern": "^#[A-Za-z0-9]+$"}},
            "required": ["order_id"],
        }
    },
}


def _converse_response(content: list[dict[str, Any]], stop_reason: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": {"inputTokens": 120, "outputTokens": 18, "totalTokens": 138},
        "metrics": {"latencyMs": 250},
    }


async def test_bedrock_tool_call_round_trips_through_the_service_model() -> None:
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    model = select_model("bedrock:us.amazon.nova-lite-v1:0", boto_session=session, temperature=0.0)
    assert isinstance(model, BedrockModel)
    model.update_config(streaming=False)
    tool_use = {"toolUse": {"toolUseId": "tu-1", "name": "get_order_details", "input": {"order_id": "#W1"}}}
    with Stubber(model.client) as stub:
        stub.add_response(
            "converse",
            _converse_response([tool_use], "tool_use"),
            {
                "modelId": "us.amazon.nova-lite-v1:0",
                "messages": ANY,
                "system": [{"text": "You are a retail assistant."}],
                "toolConfig": ANY,
                "inferenceConfig": {"temperature": 0.0},
            },
        )
        events = [
            event
            async for event in model.stream(
                [{"role": "user", "content": [{"text": "Where is my order #W1?"}]}],
                [ORDER_TOOL],
                "You are a retail assistant.",
            )
        ]
        stub.assert_no_pending_responses()
    starts = [e["contentBlockStart"]["start"] for e in events if "contentBlockStart" in e]
    assert starts and starts[0]["toolUse"]["name"] == "get_order_details"
    deltas = "".join(
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "contentBlockDelta" in e and "toolUse" in e["contentBlockDelta"]["delta"]
    )
    assert '"#W1"' in deltas
    assert any(e.get("messageStop", {}).get("stopReason") == "tool_use" for e in events)


async def test_bedrock_service_errors_surface_as_exceptions_not_text() -> None:
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    model = select_model("bedrock:us.amazon.nova-lite-v1:0", boto_session=session)
    assert isinstance(model, BedrockModel)
    model.update_config(streaming=False)
    with Stubber(model.client) as stub:
        stub.add_client_error("converse", service_error_code="AccessDeniedException", http_status_code=403)
        with pytest.raises(ClientError, match="AccessDeniedException"):
            _ = [e async for e in model.stream([{"role": "user", "content": [{"text": "hi"}]}], None, None)]


async def test_sagemaker_tool_call_round_trips_through_the_service_model() -> None:
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    model = select_model("sagemaker:retail-qwen", boto_session=session, max_tokens=256)
    assert isinstance(model, SageMakerAIModel)
    model.payload_config["stream"] = False  # not every SageMaker container streams
    body = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "call-1",
                            "type": "function",
                            "function": {"name": "get_order_details", "arguments": '{"order_id": "#W1"}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 90, "completion_tokens": 12, "total_tokens": 102},
    }
    with Stubber(model.client) as stub:
        stub.add_response(
            "invoke_endpoint",
            {
                "Body": StreamingBody(io.BytesIO(json.dumps(body).encode()), len(json.dumps(body))),
                "ContentType": "application/json",
            },
            {"EndpointName": "retail-qwen", "Body": ANY, "ContentType": "application/json", "Accept": ANY},
        )
        events = [
            event
            async for event in model.stream(
                [{"role": "user", "content": [{"text": "Where is my order #W1?"}]}], [ORDER_TOOL], "Be brief."
            )
        ]
        stub.assert_no_pending_responses()
    starts = [e["contentBlockStart"]["start"] for e in events if "contentBlockStart" in e]
    assert any(s.get("toolUse", {}).get("name") == "get_order_details" for s in starts)
    assert any(e.get("messageStop", {}).get("stopReason") == "tool_use" for e in events)
