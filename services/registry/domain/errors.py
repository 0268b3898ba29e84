"""What the registry's rules refuse."""


class RuleBroken(ValueError):
    """Input that breaks a rule of the domain; answered 422 naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Conflict(Exception):
    """A change that contradicts the current state (overlapping absences, a stale version…); 409."""


class NotFound(LookupError):
    """No such thing; 404."""
