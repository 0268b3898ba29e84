"""The three services in-process on real NATS and SQLite: one trace from a registry change to notifications,
and the metrics each service serves on /metrics."""

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from services.notifications.service_layer.handlers import PLANS_CONSUMER
from services.scheduling.entrypoints.solver_queue import SOLVER_CONSUMER
from services.scheduling.service_layer.registry_copy import REGISTRY_CONSUMER
from shared.events import ConseillerRegistered, PlanPublished, SolveRequested
from shared.telemetry import inject
from tests.integration.helpers import eventually, metrics_text, sample
from tests.integration.registry_stack import ADMIN, MORTAGNE, RunningRegistry, mortagne_with_a_conseiller
from tests.integration.services_stack import MONDAY, registered_conseiller, slot, solved_plan


def _attribute(span: ReadableSpan, key: str) -> object:
    return (span.attributes or {}).get(key)


def _one(spans: list[ReadableSpan], kind: SpanKind, name: str, consumer: str | None = None) -> ReadableSpan:
    found = [
        s
        for s in spans
        if s.kind is kind
        and s.name == name
        and (consumer is None or _attribute(s, "messaging.consumer.group.name") == consumer)
    ]
    assert found, f"no {kind.name} span {name!r} among {sorted({s.name for s in spans})}"
    return found[0]


def _child_of(child: ReadableSpan, parent: ReadableSpan | trace.Span) -> bool:
    context = parent.get_span_context()
    return child.parent is not None and context is not None and child.parent.span_id == context.span_id


async def test_one_trace_from_a_registry_change_through_scheduling_to_notifications(clients, spans):
    # The coordinator's browser (or a gateway) starts the trace and sends its traceparent with each request.
    with trace.get_tracer("tests").start_as_current_span("coordinator") as root:
        traceparent = inject({})
    trace_id = root.get_span_context().trace_id
    for client in clients.values():
        client.headers.update(traceparent)

    await registered_conseiller(clients)

    async def territory_copied() -> bool:
        return (await clients["scheduling"].get(f"/territories/{MORTAGNE}", headers=ADMIN)).status_code == 200

    await eventually(territory_copied)
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "days": 5, "time_limit_s": 10}
    plan = await solved_plan(clients["scheduling"], body, ADMIN)
    assert (await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=ADMIN)).status_code == 200

    async def received() -> bool:
        params = {"plan_id": plan["id"]}
        listed = (await clients["notifications"].get("/permanences", params=params, headers=ADMIN)).json()
        return len(listed) == len(plan["permanences"])

    await eventually(received)
    finished = list(spans.get_finished_spans())

    # registry: the HTTP request, its SQL, the relay publishing the event it wrote to its outbox
    registered = _one(finished, SpanKind.SERVER, "POST /conseillers")
    assert _child_of(registered, root)
    sent = _one(finished, SpanKind.PRODUCER, f"send {ConseillerRegistered.subject}")
    assert sent.context.trace_id == trace_id
    sql = [s for s in finished if s.kind is SpanKind.CLIENT and _attribute(s, "db.system") == "sqlite"]
    assert any(_child_of(s, registered) for s in sql), "the registry's SQL is traced within its request"
    # scheduling: the consumer span, child of the relay's publish (its NATS headers)
    copied_span = _one(finished, SpanKind.CONSUMER, f"process {ConseillerRegistered.subject}", REGISTRY_CONSUMER)
    assert _child_of(copied_span, sent)
    assert any(_child_of(s, copied_span) for s in sql), "the consumer's SQL is traced within its span"
    # the solver works on the request in the trace of the HTTP request that queued it (the relay's NATS headers)
    asked = _one(finished, SpanKind.SERVER, "POST /plans/solve")
    solve_sent = _one(finished, SpanKind.PRODUCER, f"send {SolveRequested.subject}")
    solving = _one(finished, SpanKind.CONSUMER, f"process {SolveRequested.subject}", SOLVER_CONSUMER)
    assert _child_of(solving, solve_sent)
    assert _attribute(solving, "tournees.solve.outcome") == "finished"
    assert any(_child_of(s, solving) for s in sql), "the solver's SQL is traced within its span"
    # scheduling publishes the plan; notifications consumes it
    published = _one(finished, SpanKind.SERVER, "POST /plans/{plan_id}/publish")
    plan_sent = _one(finished, SpanKind.PRODUCER, f"send {PlanPublished.subject}")
    plan_received = _one(finished, SpanKind.CONSUMER, f"process {PlanPublished.subject}", PLANS_CONSUMER)
    assert _child_of(plan_received, plan_sent)
    assert plan_received.attributes is not None
    assert plan_received.attributes["messaging.message.id"] == plan_sent.attributes["messaging.message.id"]  # type: ignore[index]

    # One trace: every request, publish and consumer span of the story has the coordinator's trace id.
    story = [registered, sent, copied_span, asked, solve_sent, solving, published, plan_sent, plan_received]
    assert {s.context.trace_id for s in story} == {trace_id}
    assert {s.context.trace_id for s in finished if s.kind is SpanKind.CONSUMER} == {trace_id}


async def test_each_service_serves_its_metrics_after_the_work_they_count(clients):
    before = await metrics_text(clients["scheduling"])
    published_before = sample(before, "tournees_plans_published_total") or 0.0
    setup = await mortagne_with_a_conseiller(RunningRegistry(None, clients["registry"]))
    conseiller_id = setup["conseiller"]["id"]

    async def copied() -> bool:
        listing = (await clients["scheduling"].get("/conseillers", headers=ADMIN)).json()["items"]
        return any(c["id"] == conseiller_id for c in listing)

    await eventually(copied)
    body = {"territory": MORTAGNE, "week_start": MONDAY.isoformat(), "permanences": [slot(conseiller_id, 1, 9, 12)]}
    plan = (await clients["scheduling"].post("/plans", json=body, headers=ADMIN)).json()
    assert (await clients["scheduling"].post(f"/plans/{plan['id']}/publish", headers=ADMIN)).status_code == 200
    after = await metrics_text(clients["scheduling"])
    assert sample(after, "tournees_plans_published_total") == published_before + 1

    async def relayed() -> str | None:
        text = await metrics_text(clients["registry"])
        return text if sample(text, "tournees_outbox_backlog", service="registry") == 0 else None

    text = await eventually(relayed)  # the registry's events all left: its relay saw an empty backlog
    assert "# TYPE tournees_dead_letters_total counter" in text
    assert "# TYPE tournees_solve_seconds histogram" in text
    assert "# TYPE tournees_messages_failed_total counter" in text

    async def sampled() -> bool:
        text = await metrics_text(clients["notifications"])
        return sample(text, "tournees_consumer_pending", consumer=PLANS_CONSUMER) == 0

    await eventually(sampled)  # notifications was handed every plan published
