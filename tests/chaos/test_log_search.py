"""The fault suite's search of the logs finds a phone number in whatever form a line holds it."""

import pytest

from tests.chaos.invariants import PHONE


@pytest.mark.parametrize(
    "line",
    [
        "sending to +33620000012",
        "GET /Messages.json?To=%2B33620000012&PageSize=50",
        "numéro 06 20 00 00 12",
        "numéro 06.20.00.00.12",
        "0033 6 20 00 00 12",
        '{"to": "33620000012"}',
    ],
)
def test_a_phone_number_is_found(line: str) -> None:
    assert PHONE.search(line)


@pytest.mark.parametrize(
    "line",
    ["trace_id=4bf92f3577b34da6a3ce929d0e0e4736", "permanence 2026-12-01T09:30:00+01:00", "sequence 336200000123456"],
)
def test_other_numbers_are_not_taken_for_one(line: str) -> None:
    assert not PHONE.search(line)
