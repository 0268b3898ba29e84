"""The AsyncAPI documents under docs/asyncapi: current with the code, and saying what travels."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from shared.asyncapi import envelope_of, events_on, subject_matches
from shared.events import CATALOGUE, Envelope, LieuClosed, PermanenceCancelled, PermanenceMoved
from tournees import asyncapi
from tournees.cli import main


def test_the_committed_documents_are_those_the_code_generates(tmp_path: Path) -> None:
    written = asyncapi.generate(tmp_path)
    assert [path.name for path in written] == ["registry.json", "scheduling.json", "notifications.json"]
    for path in written:
        committed = asyncapi.DOCS / path.name
        assert committed.exists(), f"{committed} is missing: run `make asyncapi` and commit it"
        assert json.loads(committed.read_text(encoding="utf-8")) == json.loads(path.read_text(encoding="utf-8")), (
            f"{committed} is out of date with the code: run `make asyncapi` (tournees asyncapi) and commit it"
        )


def test_check_fails_on_a_stale_document_and_says_how_to_refresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncapi.generate(tmp_path)
    assert asyncapi.main(check=True, directory=tmp_path) == 0
    doc = json.loads((tmp_path / "scheduling.json").read_text(encoding="utf-8"))
    del doc["channels"]["scheduling.plan.published.v1"]
    (tmp_path / "scheduling.json").write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / "notifications.json").unlink()

    assert asyncapi.main(check=True, directory=tmp_path) == 1
    out = capsys.readouterr().out
    assert "scheduling.json is out of date" in out
    assert "notifications.json is out of date" in out
    assert "registry" not in out
    assert "make asyncapi" in out


def test_the_cli_checks_the_committed_documents() -> None:
    assert main(["asyncapi", "--check"]) == 0


def _doc(service: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((asyncapi.DOCS / f"{service}.json").read_text(encoding="utf-8"))
    return loaded


def _operations(service: str, action: str) -> dict[str, str]:
    doc = _doc(service)
    channels = doc["channels"]
    operations = doc["operations"]
    assert isinstance(channels, dict)
    assert isinstance(operations, dict)
    return {
        name: channels[op["channel"]["$ref"].rsplit("/", 1)[1]]["address"]
        for name, op in operations.items()
        if op["action"] == action
    }


def test_each_event_of_the_catalogue_is_published_by_exactly_one_service() -> None:
    published = [subject for service in asyncapi.SERVICES for subject in _operations(service, "send").values()]
    assert sorted(published) == sorted(CATALOGUE)


def test_the_documents_describe_what_each_service_subscribes_to() -> None:
    assert _operations("registry", "receive") == {}
    assert _operations("scheduling", "receive") == {
        "scheduling-registry": "registry.>",
        "scheduling-solver": "solver.solve.requested.v1",
    }
    assert _operations("notifications", "receive") == {
        "notifications-plans": "scheduling.plan.published.v1",
        "notifications-permanence-changes": "scheduling.permanence.>",
    }
    messages = _doc("notifications")["components"]
    assert isinstance(messages, dict)
    payload = messages["messages"]["notifications-permanence-changes:SubscribeMessage"]["payload"]
    assert payload == {
        "oneOf": [
            {"$ref": "#/components/schemas/PermanenceMovedEnvelope"},
            {"$ref": "#/components/schemas/PermanenceCancelledEnvelope"},
        ]
    }
    envelope = messages["schemas"]["PermanenceMovedEnvelope"]
    assert envelope["properties"]["subject"]["const"] == PermanenceMoved.subject
    assert envelope["properties"]["data"] == {"$ref": "#/components/schemas/PermanenceMoved"}
    assert set(envelope["required"]) == {name for name, f in Envelope.model_fields.items() if f.is_required()}


def test_a_typed_envelope_accepts_what_the_services_send_and_nothing_else() -> None:
    event = LieuClosed(lieu_id=uuid.uuid4())
    sent = Envelope.wrap(event, producer="registry").to_bytes()
    assert envelope_of(LieuClosed).model_validate_json(sent).model_dump(mode="json") == json.loads(sent)
    with pytest.raises(ValueError, match="subject"):
        envelope_of(PermanenceCancelled).model_validate_json(sent)


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("registry.>", "registry.lieu.opened.v1", True),
        ("registry.>", "registry", False),
        ("scheduling.permanence.>", "scheduling.plan.published.v1", False),
        ("scheduling.*.published.v1", "scheduling.plan.published.v1", True),
        ("scheduling.*", "scheduling.plan.published.v1", False),
        ("solver.solve.requested.v1", "solver.solve.requested.v1", True),
    ],
)
def test_subjects_match_as_in_nats(pattern: str, subject: str, matches: bool) -> None:
    assert subject_matches(pattern, subject) is matches


def test_a_wildcard_subscriber_receives_every_event_under_it() -> None:
    assert events_on("scheduling.permanence.>") == [PermanenceMoved, PermanenceCancelled]
    assert len(events_on("registry.>")) == 11
