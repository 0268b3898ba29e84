"""Notifications' tables (its own database)."""

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)

from shared.db import UtcDateTime
from shared.outbox import messaging_tables

metadata = MetaData()

permanences = Table(
    "permanences",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("plan_id", Uuid, nullable=False, index=True),
    Column("conseiller_id", Uuid, nullable=False),
    Column("commune", String(5), nullable=False),
    Column("lieu", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("territory", String(100), nullable=False, index=True),
    Column("capacity", Integer, nullable=True),
    Column("commune_name", String(200), nullable=False, server_default=""),
    Column("booked", Integer, nullable=False, server_default="0"),
    # `booked` counts active bookings; only `take_seat`/`release_seat` change it, atomically.
)

usagers = Table(
    "usagers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    # Contacts are stored encrypted (PersonalDataCipher) with a keyed hash to find them: never in clear.
    Column("phone_encrypted", Text, nullable=True),
    Column("phone_hash", String(64), nullable=True, index=True),
    Column("email_encrypted", Text, nullable=True),
    Column("email_hash", String(64), nullable=True, index=True),
    Column("preferred_channel", String(10), nullable=False),
    Column("consent", Boolean, nullable=False),
    Column("territory", String(100), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_booking_at", UtcDateTime(), nullable=True),
    # Replied STOP (or ARRÊT …) to an SMS: no SMS is sent to them until they reply START.
    Column("sms_opted_out", Boolean, nullable=False, server_default=false()),
    Column("opted_out_at", UtcDateTime(), nullable=True),
    # Personal data erased (retention or request): name replaced, contacts and their hashes NULL.
    Column("anonymised_at", UtcDateTime(), nullable=True),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("usager_id", Uuid, ForeignKey("usagers.id"), nullable=False, index=True),
    Column("permanence_id", Uuid, ForeignKey("permanences.id"), nullable=False, index=True),
    Column("status", String(10), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("cancelled_at", UtcDateTime(), nullable=True),
    Column("cancel_reason", String(500), nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    # One active booking per usager per permanence, even under concurrent requests.
    Index(
        "ux_bookings_active",
        "usager_id",
        "permanence_id",
        unique=True,
        sqlite_where=text("status = 'booked'"),
        postgresql_where=text("status = 'booked'"),
    ),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("booking_id", Uuid, ForeignKey("bookings.id"), nullable=False),
    Column("usager_id", Uuid, ForeignKey("usagers.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(500), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    # Twilio's sid of the sent SMS, and the delivery status its status callback last reported.
    Column("provider_sid", String(64), nullable=True),
    Column("delivery_status", String(20), nullable=True),
    Column("delivery_error_code", String(10), nullable=True),
    # The sender's bookkeeping: not tried before next_attempt_at (a claim, a backoff, quiet hours); a send whose
    # answer may have been lost since in_doubt_since.
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("in_doubt_since", UtcDateTime(), nullable=True),
    # Which reminder (minutes before the permanence); 0 for the other kinds.
    Column("lead_minutes", Integer, nullable=False, server_default="0"),
    # The W3C traceparent of the span that planned the message: its send is traced in that trace.
    Column("traceparent", String(55), nullable=True),
    # The send log (an outbox of messages to usagers): a message is planned once per booking, kind, version, lead.
    UniqueConstraint("booking_id", "kind", "version", "lead_minutes", name="uq_messages_booking_kind_version_lead"),
    UniqueConstraint("provider_sid", name="uq_messages_provider_sid"),
    Index("ix_messages_status_due_at", "status", "due_at"),
)

early_delivery_statuses = Table(
    "early_delivery_statuses",
    metadata,
    # A status callback for a sid no message has yet: Twilio answered the send, the sender has not recorded it.
    Column("provider_sid", String(64), primary_key=True),
    Column("delivery_status", String(20), nullable=False),
    Column("delivery_error_code", String(10), nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
)

# Twilio's webhooks applied, by what their signature covers (the idempotency token is not signed): a second POST of
# one is refused (a replay, or Twilio retrying one whose answer it lost). No phone number, no text.
inbound_sms = Table(
    "inbound_sms",
    metadata,
    Column("message_sid", String(64), primary_key=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("idempotency_token", String(100), nullable=True),
)

status_callbacks = Table(
    "status_callbacks",
    metadata,
    Column("message_sid", String(64), primary_key=True),
    Column("message_status", String(20), primary_key=True),
    Column("received_at", UtcDateTime(), nullable=False, index=True),
    Column("idempotency_token", String(100), nullable=True),
)

outbox, inbox = messaging_tables(metadata)
