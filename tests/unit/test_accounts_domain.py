"""Accounts and their passwords: scrypt hashes, the rules, the brute-force guard."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import pytest

from services.registry.domain import passwords
from services.registry.domain.accounts import FAILURE_WINDOW, Account, blocked_until
from services.registry.domain.errors import RuleBroken

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"
MORTAGNE = "epci:200036069"
FAST = passwords.ScryptParameters(n=2**4, r=1, p=1)


def test_a_hash_verifies_its_password_and_no_other():
    encoded = passwords.hash_password(PASSWORD)
    assert passwords.verify_password(PASSWORD, encoded)
    assert not passwords.verify_password(PASSWORD + "!", encoded)
    assert not passwords.verify_password(PASSWORD.upper(), encoded)


def test_a_hash_is_salted_and_describes_itself():
    first, second = passwords.hash_password(PASSWORD), passwords.hash_password(PASSWORD)
    assert first != second
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(key)) == 32
    assert passwords.parameters_of(first) == passwords.ScryptParameters(2**14, 8, 1)


def test_other_parameters_are_read_back_and_verify():
    encoded = passwords.hash_password(PASSWORD, FAST)
    assert encoded.startswith("scrypt$16$1$1$")
    assert passwords.parameters_of(encoded) == FAST
    assert passwords.verify_password(PASSWORD, encoded)
    same_salt = passwords.hash_password(PASSWORD, FAST, salt=b"0" * 16)
    assert same_salt == passwords.hash_password(PASSWORD, FAST, salt=b"0" * 16)
    assert same_salt != passwords.hash_password(PASSWORD, passwords.ScryptParameters(2**5, 1, 1), salt=b"0" * 16)


@pytest.mark.parametrize("encoded", ["", "scrypt$16$1$1$AAAA", "bcrypt$16$1$1$AAAA$AAAA", "scrypt$15$1$1$AAAA$AAAA"])
def test_a_malformed_hash_verifies_nothing(encoded):
    assert not passwords.verify_password(PASSWORD, encoded)


@pytest.mark.parametrize("password", ["", "short", "elevenchars", " " * 20, "x" * 1025])
def test_passwords_break_the_rules_without_being_named(password):
    with pytest.raises(RuleBroken) as caught:
        passwords.check_rules(password)
    assert caught.value.field == "password"
    if password.strip():
        assert password not in str(caught.value)


def test_twelve_characters_are_enough():
    assert passwords.check_rules("twelve chars") == "twelve chars"


def account(**overrides):
    fields: dict[str, Any] = {"login": " Coordination.Mortagne@Example.org ", "role": "coordinator",
                              "password": PASSWORD, "now": NOW, "territories": (MORTAGNE,), **overrides}  # fmt: skip
    return Account.create(uuid.uuid4(), **fields)


def test_an_account_keeps_a_lowercase_login_and_a_hash_never_the_password():
    made = account(name="  Coordination   du Perche ")
    assert (made.login, made.name, made.role, made.territories) == (
        "coordination.mortagne@example.org", "Coordination du Perche", "coordinator", (MORTAGNE,),
    )  # fmt: skip
    assert made.subject == "coordination.mortagne@example.org"
    assert PASSWORD not in repr(made)
    assert made.password_hash not in repr(made)
    assert made.may_log_in_with(PASSWORD)
    assert not made.may_log_in_with("wrong password!")
    assert account(name=None).name == "coordination.mortagne@example.org"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"login": "not an e-mail"}, "login"),
        ({"login": "x"}, "login"),
        ({"role": "superuser"}, "role"),
        ({"password": "too short"}, "password"),
        ({"territories": ()}, "territories"),
        ({"territories": ("mortagne",)}, "territories"),
        ({"role": "admin"}, "territories"),
        ({"role": "conseiller", "territories": ()}, "conseiller_id"),
        ({"role": "admin", "territories": (), "conseiller_id": uuid.uuid4()}, "conseiller_id"),
    ],
)
def test_bad_accounts_break_a_rule_naming_the_field(overrides, field):
    with pytest.raises(RuleBroken) as caught:
        account(**overrides)
    assert caught.value.field == field


def test_a_conseiller_account_is_the_conseiller_for_tokens():
    conseiller_id = uuid.uuid4()
    made = account(login="camille", role="conseiller", territories=(), conseiller_id=conseiller_id)
    assert made.subject == str(conseiller_id)


def test_a_deactivated_account_may_not_log_in_and_a_reset_changes_the_password():
    made = account()
    made.change(active=False)
    assert not made.may_log_in_with(PASSWORD)
    made.change(active=True, password="another long password")
    assert made.may_log_in_with("another long password")
    assert not made.may_log_in_with(PASSWORD)
    with pytest.raises(RuleBroken):
        made.change(territories=())
    with pytest.raises(RuleBroken):
        made.change(password="short")


def test_five_failures_within_the_window_block_until_the_oldest_leaves_it():
    failures = [NOW - dt.timedelta(minutes=m) for m in (1, 2, 3, 4)]
    assert blocked_until(failures, NOW) is None
    failures.append(NOW - dt.timedelta(minutes=10))
    assert blocked_until(failures, NOW) == NOW - dt.timedelta(minutes=10) + FAILURE_WINDOW
    assert blocked_until(failures, NOW + dt.timedelta(minutes=5, seconds=1)) is None
    old = [NOW - FAILURE_WINDOW - dt.timedelta(seconds=1)] * 10
    assert blocked_until(old, NOW) is None
