"""Usagers' phone numbers and e-mail addresses at rest: encrypted, with key rotation, and findable.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under ``MultiFernet``: the first key
encrypts, every key decrypts. To rotate, put a new key first (``NOTIFICATIONS_ENCRYPTION_KEYS``,
comma-separated), re-encrypt the stored tokens with ``rotate``, then drop the old key once no
token needs it. A keyed hash (HMAC-SHA256 under its own key) finds an usager by phone number
(an inbound STOP) without decrypting every row and without the number in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class UnreadablePersonalData(ValueError):
    """A token none of the keys opens (a key removed too early, or damaged data)."""


class PersonalDataCipher:
    def __init__(self, keys: Sequence[str], lookup_key: str) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        if len(lookup_key) < 32:
            raise ValueError("the lookup key must be at least 32 characters")
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except ValueError as exc:  # the message names no key
            raise ValueError(f"an encryption key is not a Fernet key: {exc}") from None
        self._lookup_key = lookup_key.encode()

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise UnreadablePersonalData("no encryption key opens this token") from None

    def rotate(self, token: str) -> str:
        """The same value under the first key (a token already under it comes back re-encrypted too)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise UnreadablePersonalData("no encryption key opens this token") from None

    def lookup_hash(self, text: str) -> str:
        """Equal for equal values (E.164 numbers, lower-cased e-mails), meaningless without the key."""
        digest = hmac.new(self._lookup_key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
