import datetime as dt
from email.utils import parseaddr
from typing import ClassVar

from pydantic import Field, SecretStr, TypeAdapter, model_validator

from services.notifications.domain.messages import SendingRules
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.domain.retention import DEFAULT_RETENTION
from services.notifications.service_layer.sender import SenderPolicy
from shared.settings import ServiceSettings

# Development keys only: refused when ENVIRONMENT=production (like the default AUTH_SECRET).
DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktdG91cm5lZXMtZmVybmV0LWtleS0wMDA="
DEV_LOOKUP_KEY = "dev-only-tournees-lookup-key-0123456789"
DEV_TWILIO_AUTH_TOKEN = "dev-only-tournees-twilio-auth-token"  # noqa: S105 - refused in production, below
DEV_TWILIO_ACCOUNT_SID = "AC" + "0" * 32
_DURATION = TypeAdapter(dt.timedelta)


class NotificationsSettings(ServiceSettings):
    service_name: ClassVar[str] = "notifications"
    default_http_port: ClassVar[int] = 8003

    encryption_keys: SecretStr = SecretStr(DEV_ENCRYPTION_KEY)
    """Fernet keys for usagers' phone numbers and e-mails, comma-separated: the first encrypts, all
    decrypt (rotation: put the new key first, re-encrypt, then drop the old one)."""
    lookup_key: SecretStr = SecretStr(DEV_LOOKUP_KEY)
    """Key of the hash that finds an usager by phone number (32+ characters)."""

    twilio_auth_token: SecretStr = SecretStr(DEV_TWILIO_AUTH_TOKEN)
    """Twilio account's auth token: it signs Twilio's webhooks (``X-Twilio-Signature``)."""
    twilio_account_sid: str = DEV_TWILIO_ACCOUNT_SID
    twilio_api_url: str = "http://127.0.0.1:8030"
    """Where the Messages API is: ``https://api.twilio.com`` in production, the fake Twilio elsewhere."""
    twilio_from: str = "+33700000000"
    """The number SMS go from (E.164); usagers reply STOP or ANNULER to it."""
    twilio_timeout_s: float = 15.0
    sms_per_second: float = 10.0
    """At most this many SMS a second from ``TWILIO_FROM``, per replica of the service."""
    sms_cancel_phone: str | None = None
    """A short number to call to cancel, written in the SMS instead of "reply ANNULER"."""

    sender_enabled: bool = True
    """Whether this replica sends due messages (``false``: API and subscribers only)."""
    sender_batch: int = 50
    sender_concurrency: int = 8
    sender_hold_s: float = 60.0
    """How long a sender holds the messages it claimed; another replica takes them over after that."""
    sender_poll_s: float = 1.0
    sender_max_attempts: int = 12

    public_base_url: str = "http://127.0.0.1:8003"
    """The URL Twilio calls this service at (``https://tournees.example.fr``). Webhook signatures are
    over the URL as Twilio sees it, so they are checked against this + the path, not against the
    request's Host and scheme: behind a TLS-terminating proxy those are not what Twilio called."""

    smtp_host: str = "127.0.0.1"
    """The mail server e-mails go through; in development the SMTP sink (``adapters/smtp_sink``)."""
    smtp_port: int = 8025
    smtp_username: str = ""
    """Empty: no AUTH (the sink needs none)."""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    """``STARTTLS`` before AUTH and sending (a production mail server on port 587)."""
    smtp_timeout_s: float = 30.0
    email_from: str = "Tournées <notifications@tournees.localhost>"
    """The ``From`` of e-mails to usagers; their replies come back to it."""

    quiet_start: dt.time = dt.time(20, 0)
    """Local time from which no message is sent to usagers (``QUIET_START``, "20:00")."""
    quiet_end: dt.time = dt.time(9, 0)
    """Local time messages may be sent again (``QUIET_END``, "09:00")."""
    reminder_leads: str = "P1D"
    """How long before a permanence each reminder is due, comma-separated ISO 8601 durations
    (``REMINDER_LEADS``: "P1D" the day before; "P1D,PT2H" the day before and two hours before)."""

    usager_retention: dt.timedelta = DEFAULT_RETENTION
    """How long an usager's personal data are kept after their last booking (their registration when they
    never booked), then erased (``USAGER_RETENTION``, "P183D" or seconds; ``domain.retention``)."""
    retention_sweep_s: float = Field(default=3600, gt=0)
    """How often usagers past the retention are looked for and anonymised (``RETENTION_SWEEP_S``)."""
    retention_batch: int = Field(default=200, ge=1)
    """How many usagers one transaction of that sweep anonymises (``RETENTION_BATCH``)."""

    @property
    def sending_rules(self) -> SendingRules:
        return SendingRules(self.reminder_lead_list, QuietHours(self.quiet_start, self.quiet_end))

    @property
    def reminder_lead_list(self) -> tuple[dt.timedelta, ...]:
        return tuple(_DURATION.validate_python(lead.strip()) for lead in self.reminder_leads.split(",") if lead.strip())

    @property
    def email_domain(self) -> str:
        """The domain of ``EMAIL_FROM``'s address: the right-hand side of the e-mails' Message-IDs."""
        return parseaddr(self.email_from)[1].rpartition("@")[2] or "tournees.localhost"

    @property
    def sender_policy(self) -> SenderPolicy:
        return SenderPolicy(
            batch=self.sender_batch,
            concurrency=self.sender_concurrency,
            hold=dt.timedelta(seconds=self.sender_hold_s),
            sms_timeout=dt.timedelta(seconds=self.twilio_timeout_s),
            email_timeout=dt.timedelta(seconds=self.smtp_timeout_s),
            poll_s=self.sender_poll_s,
            max_attempts=self.sender_max_attempts,
        )

    @property
    def encryption_key_list(self) -> list[str]:
        return [key.strip() for key in self.encryption_keys.get_secret_value().split(",") if key.strip()]

    @model_validator(mode="after")
    def _refuse_development_keys(self) -> "NotificationsSettings":
        if self.environment == "production" and (
            DEV_ENCRYPTION_KEY in self.encryption_key_list
            or self.lookup_key.get_secret_value() == DEV_LOOKUP_KEY
            or self.twilio_auth_token.get_secret_value() == DEV_TWILIO_AUTH_TOKEN
            or self.twilio_account_sid == DEV_TWILIO_ACCOUNT_SID
        ):
            raise ValueError(
                "ENCRYPTION_KEYS, LOOKUP_KEY, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to real values "
                "in production"
            )
        if self.environment == "production" and not self.twilio_api_url.startswith("https://"):
            raise ValueError("TWILIO_API_URL must be Twilio's https URL in production (https://api.twilio.com)")
        return self

    @model_validator(mode="after")
    def _reminder_leads_are_durations(self) -> "NotificationsSettings":
        try:
            self.sending_rules  # noqa: B018 - parses REMINDER_LEADS and checks each lead is positive
        except ValueError as exc:
            raise ValueError(f"REMINDER_LEADS: {exc}") from None
        return self

    @model_validator(mode="after")
    def _hold_outlasts_a_send(self) -> "NotificationsSettings":
        if self.sender_hold_s <= max(self.twilio_timeout_s, self.smtp_timeout_s):
            raise ValueError("SENDER_HOLD_S must be longer than TWILIO_TIMEOUT_S and SMTP_TIMEOUT_S")
        return self
