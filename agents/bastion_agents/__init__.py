"""Bastion agents: Strands agents bound per principal to policy-filtered MCP tools.

An :class:`AgentFactory` opens an :class:`AgentSession` per principal: an MCP client carrying the
principal's token, only the tools the server lists for them, a system prompt naming who the user is,
and a policy hook checking each call. :func:`create_chat_app` (FastAPI SSE) and
:func:`create_agentcore_app` (Amazon Bedrock AgentCore Runtime) serve sessions over HTTP.
:func:`select_model` picks the model provider from one setting string.
"""

from ._errors import (
    AgentRunError,
    AgentsError,
    ConfigurationError,
    SessionBusyError,
    SessionClosedError,
    SessionForbiddenError,
    ToolServerError,
)
from .agentcore import create_agentcore_app
from .chat import create_chat_app
from .events import ChatEvent, Decision, Final, PolicyDenialEvent, TextDelta, ToolCallEvent, ToolResultEvent
from .factory import AgentFactory, AgentSession, PromptBuilder, TokenExchange
from .guard import (
    DECISION_META_KEY,
    DENIED_PREFIX,
    PolicyChecker,
    PolicyGuard,
    ServerDecision,
    server_decision,
)
from .models import ACCEPTED_FORMS, ScriptedModel, select_model
from .sessions import SessionStore

__all__ = [
    "ACCEPTED_FORMS",
    "DECISION_META_KEY",
    "DENIED_PREFIX",
    "AgentFactory",
    "AgentRunError",
    "AgentSession",
    "AgentsError",
    "ChatEvent",
    "ConfigurationError",
    "Decision",
    "Final",
    "PolicyChecker",
    "PolicyDenialEvent",
    "PolicyGuard",
    "PromptBuilder",
    "ScriptedModel",
    "ServerDecision",
    "SessionBusyError",
    "SessionClosedError",
    "SessionForbiddenError",
    "SessionStore",
    "TextDelta",
    "TokenExchange",
    "ToolCallEvent",
    "ToolResultEvent",
    "ToolServerError",
    "create_agentcore_app",
    "create_chat_app",
    "select_model",
    "server_decision",
]
