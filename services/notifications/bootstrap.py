"""Composition root of notifications: settings, database, broker, unit of work, routes, subscribers."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from services.notifications.adapters import orm
from services.notifications.adapters.personal_data import PersonalDataCipher
from services.notifications.adapters.smtp_email import SmtpEmailGateway
from services.notifications.adapters.twilio_sms import TwilioSmsGateway, twilio_client
from services.notifications.entrypoints import (
    api,
    bookings_api,
    consumers,
    privacy_api,
    retention_sweep,
    twilio_webhooks,
)
from services.notifications.service_layer.sender import Sender
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from services.notifications.settings import NotificationsSettings
from shared.auth import authenticator
from shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def sms_gateway(settings: NotificationsSettings) -> TwilioSmsGateway:
    token = settings.twilio_auth_token.get_secret_value()
    return TwilioSmsGateway(
        lambda: twilio_client(settings.twilio_api_url, settings.twilio_account_sid, token, settings.twilio_timeout_s),
        settings.twilio_from,
        status_callback=f"{settings.public_base_url.rstrip('/')}{twilio_webhooks.STATUS_PATH}",
        per_second=settings.sms_per_second,
        threads=settings.sender_concurrency,
    )


@dataclass(frozen=True)
class Notifications:
    runtime: ServiceRuntime
    app: FastAPI
    uow: Callable[[], NotificationsUnitOfWork]


def bootstrap(settings: NotificationsSettings | None = None) -> Notifications:
    settings = settings or NotificationsSettings()
    runtime = ServiceRuntime(settings, outbox=orm.outbox, migrations=MIGRATIONS)
    cipher = PersonalDataCipher(settings.encryption_key_list, settings.lookup_key.get_secret_value())

    sender: Sender | None = None

    def on_commit() -> None:
        runtime.wake_relay()
        if sender is not None:
            sender.wake()

    def uow() -> NotificationsUnitOfWork:
        return NotificationsUnitOfWork(runtime.sessions, cipher, on_commit=on_commit)

    if settings.sender_enabled:
        sender = Sender(
            uow,
            sms_gateway(settings),
            SmtpEmailGateway.from_settings(settings),
            settings.sending_rules.quiet,
            settings.sender_policy,
            cancel_phone=settings.sms_cancel_phone,
            email_domain=settings.email_domain,
        )
        runtime.add_worker(sender.run)

    runtime.include(consumers.router(uow, runtime.consumer_policy, settings.sending_rules))
    principal = authenticator(settings.auth_secret)
    app = runtime.http_app(
        api.router(uow, principal),
        bookings_api.router(uow, principal, settings.sending_rules, cancel_phone=settings.sms_cancel_phone),
        privacy_api.router(uow, principal),
        twilio_webhooks.router(uow, settings.twilio_auth_token.get_secret_value(), settings.public_base_url),
        title="Tournées — notifications",
        description="Usagers, bookings, SMS and e-mail reminders.",
    )
    bookings_api.error_handlers(app)
    privacy_api.error_handlers(app)
    runtime.add_worker(
        retention_sweep.worker(
            uow,
            retention=settings.usager_retention,
            batch=settings.retention_batch,
            interval_s=settings.retention_sweep_s,
        )
    )
    return Notifications(runtime, app, uow)
