"""Passwords: the rule they follow, and their scrypt hashes (stdlib only).

A hash describes itself: ``scrypt$n$r$p$salt_b64$hash_b64``, so stronger parameters can come
later without invalidating the hashes stored before. A password never appears in an error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from services.registry.domain.errors import RuleBroken

MIN_LENGTH = 12
MAX_LENGTH = 1024  # scrypt reads all of it: a bound keeps a request from costing too much
SALT_BYTES = 16
KEY_BYTES = 32
SCHEME = "scrypt"


@dataclass(frozen=True)
class ScryptParameters:
    n: int = 2**14
    r: int = 8
    p: int = 1

    @property
    def maxmem(self) -> int:
        """What scrypt needs (128·n·r·p bytes), with room to spare."""
        return 2 * 128 * self.n * self.r * self.p + 1024 * 1024


DEFAULT = ScryptParameters()


def check_rules(password: str) -> str:
    """The password if it follows the rules; RuleBroken naming the field (never the value) if not."""
    if len(password) < MIN_LENGTH:
        raise RuleBroken("password", f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise RuleBroken("password", f"at most {MAX_LENGTH} characters")
    if not password.strip():
        raise RuleBroken("password", "not only spaces")
    return password


def hash_password(password: str, parameters: ScryptParameters = DEFAULT, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` with a fresh random salt (unless given, for tests)."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    key = _derive(password, salt, parameters)
    return "$".join((SCHEME, str(parameters.n), str(parameters.r), str(parameters.p), _b64(salt), _b64(key)))


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` gives ``encoded``; compared in constant time. False for a malformed hash."""
    try:
        parameters, salt, expected = _parse(encoded)
    except ValueError:
        return False
    return hmac.compare_digest(_derive(password, salt, parameters, len(expected)), expected)


def parameters_of(encoded: str) -> ScryptParameters:
    """The parameters a hash was made with (to re-hash the old ones after a change)."""
    return _parse(encoded)[0]


def _parse(encoded: str) -> tuple[ScryptParameters, bytes, bytes]:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise ValueError("not a scrypt hash")
    n, r, p = (int(part) for part in parts[1:4])
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise ValueError("bad scrypt parameters")
    salt, key = (base64.b64decode(part, validate=True) for part in parts[4:6])
    return ScryptParameters(n, r, p), salt, key


def _derive(password: str, salt: bytes, parameters: ScryptParameters, length: int = KEY_BYTES) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=parameters.n,
        r=parameters.r,
        p=parameters.p,
        maxmem=parameters.maxmem,
        dklen=length,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
