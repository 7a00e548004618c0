"""A product team's own system, declared inside this test, runs through the unchanged core.

The "notes" domain has two resource kinds (``member``, self-owned; ``note``, owned by its author and
resolved through the facade), two groups (``member``, ``moderator``), its own Cedar policies and a
fake legacy system behind ``httpx.MockTransport`` with an API-key hop. Bind, check, an MCP call and an
agent turn all go through the same core code that serves the reference domains.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from bastion_agents import ScriptedModel, ToolCallEvent
from bastion_facades import (
    ApiKeyHeader,
    ErrorMapper,
    Facade,
    Operation,
    Resource,
    Step,
    SystemClient,
    Traits,
)
from bastion_policies import Principal
from pydantic import BaseModel, ConfigDict, Field

from bastion.domain import Domain, DomainError, LegacyConnection, catalog_for
from bastion.mcp_client import connect, result_text
from bastion.settings import Settings
from bastion.stack import Stack

NOTES = {
    "n1": {"noteId": "n1", "authorId": "ann", "text": "hello", "secret": "x"},
    "n2": {"noteId": "n2", "authorId": "bob", "text": "other", "secret": "y"},
}

PORTABLE = """
@id("member-own-profile")
@reason("members read their own profile")
permit (principal, action in AgentCore::Action::"MemberScopedTools", resource)
when { principal.hasTag("groups") && principal.getTag("groups") like "*\\"member\\"*" &&
       context.input has member_id && context.input.member_id == principal.id };

@id("member-notes")
@reason("members read notes (their own: see notes-own)")
permit (principal, action in AgentCore::Action::"NoteScopedTools", resource)
when { principal.hasTag("groups") && principal.getTag("groups") like "*\\"member\\"*" };

@id("moderator-all")
@reason("moderators use every tool")
permit (principal, action in AgentCore::Action::"notes", resource)
when { principal.hasTag("groups") && principal.getTag("groups") like "*\\"moderator\\"*" };
"""

BASTION_ONLY = """
@id("notes-own")
@reason("members may read only their own notes")
forbid (principal, action in AgentCore::Action::"NoteScopedTools", resource)
when { principal.hasTag("groups") && principal.getTag("groups") like "*\\"member\\"*" &&
       !(principal.getTag("groups") like "*\\"moderator\\"*") }
unless { context has bastion && context.bastion has resource_owner_id &&
         context.bastion.resource_owner_id == principal.id };
"""


class _NoteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note_id: str = Field(description="The note's id.")


class _MemberInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str = Field(description="The member's id.")


OPERATIONS = (
    Operation(
        name="read_note",
        description="Read one note.",
        input_model=_NoteInput,
        traits=Traits(access="read", resource="note"),
        steps=(Step("GET", "/notes/{id}", path_params={"id": "args.note_id"}),),
        projection="{note_id: response.noteId, text: response.text}",
    ),
    Operation(
        name="read_member",
        description="Read one member.",
        input_model=_MemberInput,
        traits=Traits(access="read", resource="member"),
        steps=(Step("GET", "/members/{id}", path_params={"id": "args.member_id"}),),
        projection="{member_id: response.memberId}",
    ),
)
RESOURCES = (
    Resource("member", "member_id", self_owned=True),
    Resource(
        "note",
        "note_id",
        lookup=Step("GET", "/notes/{id}", path_params={"id": "args.note_id"}),
        owner="authorId",
    ),
)


class FakeLegacy:
    """The team's legacy system: JSON over HTTP behind an API key; counts the requests it serves."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("X-API-Key") != "k3y":
            return httpx.Response(401, json={"error": {"code": "AUTH", "message": "no key"}})
        self.requests.append(f"{request.method} {request.url.path}")
        parts = request.url.path.strip("/").split("/")
        if parts[0] == "notes" and parts[1] in NOTES:
            return httpx.Response(200, json=NOTES[parts[1]])
        if parts[0] == "members":
            return httpx.Response(200, json={"memberId": parts[1]})
        return httpx.Response(404, json={"error": {"code": "NF", "message": "not found"}})


def _domain(tmp_path: Path, legacy: FakeLegacy) -> Domain:
    portable = tmp_path / "notes.cedar"
    portable.write_text(PORTABLE, encoding="utf-8")
    only = tmp_path / "notes.bastion.cedar"
    only.write_text(BASTION_ONLY, encoding="utf-8")

    def connect_facade(connection: LegacyConnection) -> Facade:
        client = SystemClient(
            connection.base_url,
            system_name="notes system",
            auth=ApiKeyHeader(connection.client_secret),
            transport=httpx.MockTransport(legacy.handler),
        )
        return Facade(OPERATIONS, client, resources=RESOURCES, errors=ErrorMapper(by_code={}))

    def prompt(principal: Principal, *, compact: bool = False) -> str:
        return f"You help {principal.user_id} with notes."

    return Domain(
        name="notes",
        title="Notes",
        target="notes",
        groups=frozenset({"member", "moderator"}),
        operations=OPERATIONS,
        resources=RESOURCES,
        connect=connect_facade,
        policy_files=(portable, only),
        system_prompt=prompt,
        full_access_groups=("moderator",),
        legacy_client_id="svc",
        legacy_client_secret="k3y",
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "state", legacy_url="http://notes.legacy.invalid")


def test_bind_and_check_through_the_core(tmp_path: Path) -> None:
    domain = _domain(tmp_path, FakeLegacy())
    domain.check()
    engine = domain.engine()
    ann = Principal("ann", ("member",))
    assert engine.bind(ann).tool_names == ("read_note", "read_member")
    assert engine.check(ann, "read_member", {"member_id": "ann"}).allowed
    assert not engine.check(ann, "read_member", {"member_id": "bob"}).allowed
    assert engine.check(Principal("mo", ("moderator",)), "read_member", {"member_id": "bob"}).allowed


def test_mcp_call_resolves_the_owner_once_and_enforces_it(tmp_path: Path, settings: Settings) -> None:
    legacy = FakeLegacy()
    domain = _domain(tmp_path, legacy)
    with Stack(settings, domain, model=None, ephemeral_ports=True) as stack:
        ann = stack.issuer.issue("ann", ["member"])

        async def run() -> tuple[Any, Any]:
            async with connect(stack.urls.mcp, ann) as client:
                own = await client.call_tool("read_note", {"note_id": "n1"})
                other = await client.call_tool("read_note", {"note_id": "n2"})
                return own, other

        own, other = asyncio.run(run())
    assert not own.is_error
    assert json.loads(result_text(own)) == {"note_id": "n1", "text": "hello"}
    assert other.is_error
    assert other.meta is not None and other.meta["bastion/decision"]["outcome"] == "deny"
    assert other.meta["bastion/decision"]["policy_ids"] == ["notes-own"]
    # one legacy request per call: the owner look-up's answer is reused by the operation
    assert legacy.requests == ["GET /notes/n1", "GET /notes/n2"]


def test_agent_turn_through_the_core(tmp_path: Path, settings: Settings) -> None:
    legacy = FakeLegacy()
    domain = _domain(tmp_path, legacy)
    model = ScriptedModel(
        {
            "rules": [
                {
                    "when": {"user_regex": "note (?P<n>n\\d)"},
                    "call": {"name": "read_note", "arguments": {"note_id": "{{n}}"}},
                },
                {
                    "when": {"after_tool": "read_note", "tool_error": False},
                    "say": "It says {{tool_result.text}}.",
                },
                {"when": {"after_tool": "*", "tool_error": True}, "say": "Sorry: {{tool_result}}"},
            ]
        }
    )
    with Stack(settings, domain, model=model, ephemeral_ports=True) as stack:
        assert stack.factory is not None
        ann = Principal("ann", ("member",))
        session = stack.factory.open(ann, stack.issuer.issue("ann", ["member"]))

        async def turn(text: str) -> list[Any]:
            return [event async for event in session.ask(text)]

        try:
            events = asyncio.run(turn("what does note n1 say?"))
        finally:
            session.close()
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.tool, c.decision) for c in calls] == [("read_note", "allowed")]
    assert events[-1].text == "It says hello."  # pyright: ignore[reportAttributeAccessIssue]
    assert legacy.requests == ["GET /notes/n1"]  # no look-up calls made by the agent


def test_bad_declarations_are_refused_at_load(tmp_path: Path) -> None:
    bad_kind = Operation(
        name="orphan",
        description="x",
        input_model=_NoteInput,
        traits=Traits(access="read", resource="folder"),
    )
    with pytest.raises(DomainError, match=r"notes.*orphan.*folder"):
        catalog_for("notes", (*OPERATIONS, bad_kind), RESOURCES)
    domain = _domain(tmp_path, FakeLegacy())
    (tmp_path / "notes.cedar").write_text(
        '@id("x")\npermit (principal, action == AgentCore::Action::"notes___nope", resource);',
        encoding="utf-8",
    )
    with pytest.raises(DomainError, match=r"notes.*notes\.cedar"):
        domain.check()
