import datetime as dt
from typing import ClassVar

from pydantic import SecretStr, model_validator

from services.notifications.domain.messages import SendingRules
from services.notifications.domain.quiet_hours import QuietHours
from shared.settings import ServiceSettings

# Development keys only: refused when ENVIRONMENT=production (like the default AUTH_SECRET).
DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktdG91cm5lZXMtZmVybmV0LWtleS0wMDA="
DEV_LOOKUP_KEY = "dev-only-tournees-lookup-key-0123456789"


class NotificationsSettings(ServiceSettings):
    service_name: ClassVar[str] = "notifications"
    default_http_port: ClassVar[int] = 8003

    encryption_keys: SecretStr = SecretStr(DEV_ENCRYPTION_KEY)
    """Fernet keys for usagers' phone numbers and e-mails, comma-separated: the first encrypts, all
    decrypt (rotation: put the new key first, re-encrypt, then drop the old one)."""
    lookup_key: SecretStr = SecretStr(DEV_LOOKUP_KEY)
    """Key of the hash that finds an usager by phone number (32+ characters)."""

    quiet_start: dt.time = dt.time(20, 0)
    """Local time from which no message is sent to usagers (``QUIET_START``, "20:00")."""
    quiet_end: dt.time = dt.time(9, 0)
    """Local time messages may be sent again (``QUIET_END``, "09:00")."""
    reminder_lead: dt.timedelta = dt.timedelta(days=1)
    """How long before a permanence its reminder is due (``REMINDER_LEAD``, "P1D" or seconds)."""

    @property
    def sending_rules(self) -> SendingRules:
        return SendingRules(self.reminder_lead, QuietHours(self.quiet_start, self.quiet_end))

    @property
    def encryption_key_list(self) -> list[str]:
        return [key.strip() for key in self.encryption_keys.get_secret_value().split(",") if key.strip()]

    @model_validator(mode="after")
    def _refuse_development_keys(self) -> "NotificationsSettings":
        if self.environment == "production" and (
            DEV_ENCRYPTION_KEY in self.encryption_key_list or self.lookup_key.get_secret_value() == DEV_LOOKUP_KEY
        ):
            raise ValueError("ENCRYPTION_KEYS and LOOKUP_KEY must be set to real keys in production")
        return self
