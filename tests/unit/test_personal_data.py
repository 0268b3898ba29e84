"""Personal data at rest: encrypted, readable after a key rotation, findable by a keyed hash."""

from typing import Any

import pytest

from services.notifications.adapters.personal_data import PersonalDataCipher, UnreadablePersonalData

LOOKUP = "lookup-key-for-tests-0123456789abcdef"
PHONE = "+33612345678"


def test_a_phone_number_is_stored_encrypted_and_read_back():
    cipher = PersonalDataCipher([PersonalDataCipher.new_key()], LOOKUP)
    token = cipher.encrypt(PHONE)
    assert PHONE not in token
    assert "612345678" not in token
    assert cipher.decrypt(token) == PHONE
    assert cipher.encrypt(PHONE) != token, "each encryption is fresh (random IV)"


def test_after_a_new_key_old_tokens_still_read_and_rotate_to_the_new_key():
    old, new = PersonalDataCipher.new_key(), PersonalDataCipher.new_key()
    before = PersonalDataCipher([old], LOOKUP)
    token = before.encrypt(PHONE)
    during = PersonalDataCipher([new, old], LOOKUP)
    assert during.decrypt(token) == PHONE
    rotated = during.rotate(token)
    after = PersonalDataCipher([new], LOOKUP)  # the old key removed once every token is rotated
    assert after.decrypt(rotated) == PHONE
    with pytest.raises(UnreadablePersonalData):
        after.decrypt(token)


def test_a_token_no_key_opens_is_refused_without_saying_what_it_holds():
    token = PersonalDataCipher([PersonalDataCipher.new_key()], LOOKUP).encrypt(PHONE)
    other = PersonalDataCipher([PersonalDataCipher.new_key()], LOOKUP)
    with pytest.raises(UnreadablePersonalData) as caught:
        other.decrypt(token)
    assert "612345678" not in str(caught.value)
    with pytest.raises(UnreadablePersonalData):
        other.rotate(token)


def test_the_lookup_hash_finds_equal_values_and_depends_on_its_key():
    key = PersonalDataCipher.new_key()
    one = PersonalDataCipher([key], LOOKUP)
    assert one.lookup_hash(PHONE) == PersonalDataCipher([PersonalDataCipher.new_key()], LOOKUP).lookup_hash(PHONE)
    assert one.lookup_hash(PHONE) != one.lookup_hash("+33612345679")
    assert one.lookup_hash(PHONE) != PersonalDataCipher([key], LOOKUP + "x").lookup_hash(PHONE)
    assert "612345678" not in one.lookup_hash(PHONE)


@pytest.mark.parametrize(
    ("keys", "lookup"), [([], LOOKUP), (["not-a-fernet-key"], LOOKUP), ([PersonalDataCipher.new_key()], "short")]
)
def test_bad_keys_are_refused_at_start(keys, lookup):
    with pytest.raises(ValueError, match="key") as caught:
        PersonalDataCipher(keys, lookup)
    assert "not-a-fernet-key" not in str(caught.value)


def test_production_refuses_the_development_keys_and_takes_real_ones():
    from pydantic import ValidationError

    from services.notifications.settings import NotificationsSettings

    real: dict[str, Any] = {"auth_secret": "a-real-secret-of-at-least-32-characters!", "environment": "production"}
    with pytest.raises(ValidationError, match="ENCRYPTION_KEYS"):
        NotificationsSettings(**real)
    new, old = PersonalDataCipher.new_key(), PersonalDataCipher.new_key()
    with pytest.raises(ValidationError, match="TWILIO_AUTH_TOKEN"):
        NotificationsSettings(**real, encryption_keys=new, lookup_key="l" * 40)
    with pytest.raises(ValidationError, match="TWILIO_ACCOUNT_SID"):
        NotificationsSettings(**real, encryption_keys=new, lookup_key="l" * 40, twilio_auth_token="a-real-token")
    twilio: dict[str, Any] = {"twilio_auth_token": "a-real-twilio-token", "twilio_account_sid": "AC" + "9" * 32}
    with pytest.raises(ValidationError, match="TWILIO_API_URL"):
        NotificationsSettings(**real, encryption_keys=new, lookup_key="l" * 40, **twilio)
    settings = NotificationsSettings(
        **real, encryption_keys=f"{new}, {old}", lookup_key="l" * 40, twilio_api_url="https://api.twilio.com", **twilio
    )
    assert settings.encryption_key_list == [new, old]
    cipher = PersonalDataCipher(settings.encryption_key_list, settings.lookup_key.get_secret_value())
    assert cipher.decrypt(PersonalDataCipher([old], "l" * 40).encrypt(PHONE)) == PHONE
    assert (
        PersonalDataCipher(NotificationsSettings().encryption_key_list, LOOKUP).decrypt(
            PersonalDataCipher(NotificationsSettings().encryption_key_list, LOOKUP).encrypt(PHONE)
        )
        == PHONE
    ), "the development key works locally"
