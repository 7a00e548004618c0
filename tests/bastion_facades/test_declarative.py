"""Declared operations: steps and chained look-ups, JMESPath projection with caps, errors, hooks,
resources and owner look-ups, the call scope, and checks made when a facade is built."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from bastion_facades import (
    ArgumentError,
    Cap,
    ConfigurationError,
    ErrorMapper,
    Facade,
    HookCall,
    JsonValue,
    LegacyAuthError,
    Operation,
    PageNumberPaging,
    Projection,
    Resource,
    Step,
    SystemClient,
    ToolCallError,
    Traits,
    UpstreamError,
)
from pydantic import BaseModel

READ = Traits(access="read")


class TicketArgs(BaseModel):
    ticket_id: str


class QueueArgs(BaseModel):
    queue: str


class NoArgs(BaseModel):
    pass


TICKETS: dict[str, dict[str, Any]] = {
    "T1": {
        "id": "T1",
        "ownerId": "u1",
        "title": "Broken",
        "state": {"name": "OPEN"},
        "tags": ["a", None],
        "note": None,
    },
}
COMMENTS = [{"id": f"c{i}", "text": f"comment {i}"} for i in range(7)]


class Backend:
    """A ticket system: GET /tickets/{id}, GET /tickets/{id}/comments (paged), POST /tickets/{id}/close."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(
            (request.method, path + ("?" + request.url.query.decode() if request.url.query else ""))
        )
        if self.down:
            return httpx.Response(503)
        parts = path.strip("/").split("/")
        ticket = TICKETS.get(parts[1]) if len(parts) > 1 else None
        if ticket is None:
            return httpx.Response(404, json={"error": {"code": "TKT-404", "message": "Ticket not found"}})
        if parts[2:] == ["comments"]:
            page, size = int(request.url.params["page"]), int(request.url.params["pageSize"])
            data = COMMENTS[(page - 1) * size : page * size]
            return httpx.Response(200, json={"data": data, "paging": {"totalItems": 7, "totalPages": 3}})
        if parts[2:] == ["close"] and request.method == "POST":
            return httpx.Response(200, json={**ticket, "state": {"name": "CLOSED"}})
        return httpx.Response(200, json=ticket)


GET_TICKET = Step("GET", "/tickets/{id}", name="ticket", path_params={"id": "args.ticket_id"})
TICKET_RESOURCE = Resource("ticket", "ticket_id", lookup=GET_TICKET, owner="ownerId")
TICKET_ERRORS = ErrorMapper(by_code={"TKT-404": "No ticket {ticket_id}; list tickets first."})


def _operations() -> list[Operation]:
    return [
        Operation(
            "get_ticket",
            "Get a ticket.",
            TicketArgs,
            Traits(access="read", resource="ticket", data_classes=frozenset({"NAME"})),
            steps=(
                GET_TICKET,
                Step(
                    "GET",
                    "/tickets/{id}/comments",
                    name="comments",
                    path_params={"id": "ticket.id"},  # chained: from the first step's answer
                    paging=PageNumberPaging(page_size=3),
                    max_items=5,
                ),
            ),
            projection=Projection(
                "compact({id: ticket.id, title: ticket.title, state: lower(ticket.state.name), "
                "note: ticket.note, comments: comments[*].text})",
                (Cap("comments", 2, "comment_count", total="comments_total"),),
            ),
        ),
        Operation(
            "close_ticket",
            "Close a ticket.",
            TicketArgs,
            Traits(access="write", destructive=True, resource="ticket"),
            steps=(
                Step(
                    "POST",
                    "/tickets/{id}/close",
                    path_params={"id": "args.ticket_id"},
                    body="{reason: 'done'}",
                ),
            ),
            projection="{id: response.id, state: response.state.name}",
        ),
        Operation("echo_queue", "Echo.", QueueArgs, READ, hook=_echo),
    ]


async def _echo(call: HookCall) -> JsonValue:
    assert isinstance(call.arguments, QueueArgs)
    return {"queue": call.arguments.queue.upper(), "values": list(call.values)}


def _facade(backend: Backend, **kwargs: Any) -> Facade:
    client = SystemClient(
        "http://tickets.test", system_name="ticket system", transport=httpx.MockTransport(backend)
    )
    return Facade(_operations(), client, resources=(TICKET_RESOURCE,), errors=TICKET_ERRORS, **kwargs)


async def test_steps_chain_and_the_projection_caps_lists_with_totals() -> None:
    backend = Backend()
    async with _facade(backend) as facade:
        result = await facade.invoke("get_ticket", {"ticket_id": "T1"})
    assert result == {
        "id": "T1",
        "title": "Broken",
        "state": "open",
        "comments": ["comment 0", "comment 1"],
        "comment_count": 7,
        "comments_note": "Showing 2 of 7.",
    }
    assert list(result) == ["id", "title", "state", "comments", "comment_count", "comments_note"]  # type: ignore[arg-type]
    assert backend.requests == [
        ("GET", "/tickets/T1"),
        ("GET", "/tickets/T1/comments?page=1&pageSize=3"),
        ("GET", "/tickets/T1/comments?page=2&pageSize=3"),  # max_items=5 stops before page 3
    ]


async def test_errors_are_mapped_with_the_arguments() -> None:
    async with _facade(Backend()) as facade:
        with pytest.raises(ToolCallError, match=r"^No ticket T9; list tickets first\.$"):
            await facade.invoke("get_ticket", {"ticket_id": "T9"})


async def test_a_hook_runs_python_for_the_rare_operation_that_needs_it() -> None:
    async with _facade(Backend()) as facade:
        assert await facade.invoke("echo_queue", {"queue": "vip"}) == {"queue": "VIP", "values": ["args"]}
        with pytest.raises(ArgumentError, match="queue: Field required"):
            await facade.invoke("echo_queue", {})


async def test_owner_of_and_the_first_step_share_one_get() -> None:
    backend = Backend()
    async with _facade(backend) as facade:
        scope = facade.scope()
        assert await facade.owner_of("ticket", "T1", scope=scope) == "u1"
        await facade.invoke("get_ticket", {"ticket_id": "T1"}, scope=scope)
    assert [r for r in backend.requests if r == ("GET", "/tickets/T1")] == [("GET", "/tickets/T1")]


async def test_a_missing_resource_has_no_owner_and_its_error_is_kept_for_the_call() -> None:
    backend = Backend()
    async with _facade(backend) as facade:
        scope = facade.scope()
        assert await facade.owner_of("ticket", "T9", scope=scope) is None
        with pytest.raises(ToolCallError, match="No ticket T9"):
            await facade.invoke("get_ticket", {"ticket_id": "T9"}, scope=scope)
    assert backend.requests == [("GET", "/tickets/T9")]


async def test_an_outage_is_never_reported_as_a_missing_resource() -> None:
    backend = Backend()
    backend.down = True
    async with _facade(backend) as facade:
        with pytest.raises(UpstreamError, match="The ticket system failed"):
            await facade.owner_of("ticket", "T1")

    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401)

    client = SystemClient(
        "http://tickets.test",
        system_name="ticket system",
        transport=httpx.MockTransport(refused),
        auth=_AlwaysRefused(),
    )
    async with Facade(_operations(), client, resources=(TICKET_RESOURCE,)) as facade:
        with pytest.raises(LegacyAuthError):
            await facade.owner_of("ticket", "T1")


class _AlwaysRefused(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Any:
        yield request
        raise LegacyAuthError("refused")


async def test_writes_are_not_cached_and_clear_the_scope() -> None:
    backend = Backend()
    async with _facade(backend) as facade:
        scope = facade.scope()
        await facade.owner_of("ticket", "T1", scope=scope)
        assert await facade.invoke("close_ticket", {"ticket_id": "T1"}, scope=scope) == {
            "id": "T1",
            "state": "CLOSED",
        }
        await facade.invoke("close_ticket", {"ticket_id": "T1"}, scope=scope)
        await facade.owner_of("ticket", "T1", scope=scope)
    assert [m for m, _ in backend.requests] == ["GET", "POST", "POST", "GET"]


async def test_invoke_without_a_scope_never_repeats_a_request_within_the_call() -> None:
    backend = Backend()
    op = Operation(
        "twice",
        "Twice.",
        TicketArgs,
        READ,
        steps=(GET_TICKET, Step("GET", "/tickets/{id}", name="again", path_params={"id": "ticket.id"})),
        projection="again.title",
    )
    client = SystemClient(
        "http://tickets.test", system_name="ticket system", transport=httpx.MockTransport(backend)
    )
    async with Facade([op], client) as facade:
        assert await facade.invoke("twice", {"ticket_id": "T1"}) == "Broken"
        assert await facade.invoke("twice", {"ticket_id": "T1"}) == "Broken"
    assert backend.requests == [("GET", "/tickets/T1"), ("GET", "/tickets/T1")]  # once per call


def test_resources_and_validate() -> None:
    facade = _facade(Backend())
    assert dict(facade.resources()) == {"ticket": TICKET_RESOURCE}
    assert not TICKET_RESOURCE.self_owned and Resource("user", "user_id", self_owned=True).self_owned
    assert facade.validate("get_ticket", {"ticket_id": "T1"}) == {"ticket_id": "T1"}
    with pytest.raises(ArgumentError, match="unknown operation"):
        facade.operation("nope")
    assert facade.operation("close_ticket").read_only is False
    assert facade.operation("get_ticket").input_schema() == {
        "properties": {"ticket_id": {"type": "string"}},
        "required": ["ticket_id"],
        "type": "object",
    }


# Checks when the facade is built ------------------------------------------------------------------


def _client() -> SystemClient:
    return SystemClient(
        "http://x.test", system_name="x", transport=httpx.MockTransport(lambda r: httpx.Response(200))
    )


@pytest.mark.parametrize(
    ("operations", "resources", "message"),
    [
        (
            [Operation("a", "A.", TicketArgs, Traits(access="read", resource="ticket"))],
            (),
            r"Operation 'a' acts on resource kind 'ticket', which the facade does not declare",
        ),
        (
            [Operation("a", "A.", QueueArgs, Traits(access="read", resource="ticket"))],
            (TICKET_RESOURCE,),
            r"Operation 'a' acts on 'ticket' named by argument 'ticket_id', which its input model lacks",
        ),
        (
            [Operation("a", "A.", NoArgs, READ, steps=(GET_TICKET,), projection="ticket.[")],
            (),
            r"Operation 'a': projection does not compile",
        ),
        (
            [Operation("a", "A.", NoArgs, READ), Operation("a", "A again.", NoArgs, READ)],
            (),
            r"Operation 'a' is declared twice",
        ),
        (
            [
                Operation(
                    "a", "A.", NoArgs, READ, steps=(Step("GET", "/t/{id}", path_params={"x": "args.x"}),)
                )
            ],
            (),
            r"Operation 'a', step 'response': path '/t/\{id\}' has placeholders \['id'\] but "
            r"path_params \['x'\]",
        ),
        (
            [Operation("a", "A.", NoArgs, READ, steps=(Step("GET", "/t", query={"q": "args.("}),))],
            (),
            r"Operation 'a', step 'response': invalid JMESPath",
        ),
        (
            [Operation("a", "A.", NoArgs, READ, projection="x", hook=_echo)],
            (),
            r"Operation 'a': declare a projection or a hook, not both",
        ),
        (
            [Operation("a", "A.", NoArgs, READ, steps=(Step("POST", "/t", paging=PageNumberPaging()),))],
            (),
            r"only GET steps can be paged",
        ),
        (
            [],
            (Resource("ticket", "ticket_id"),),
            r"Resource 'ticket': declare either self_owned=True or a lookup",
        ),
        ([], (TICKET_RESOURCE, TICKET_RESOURCE), r"Resource 'ticket' is declared twice"),
        (
            [],
            (Resource("ticket", "ticket_id", lookup=GET_TICKET, owner="owner["),),
            r"Resource 'ticket': invalid JMESPath",
        ),
    ],
)
def test_bad_declarations_fail_when_the_facade_is_built(
    operations: list[Operation], resources: tuple[Resource, ...], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Facade(operations, _client(), resources=resources)
