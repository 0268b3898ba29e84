from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications.adapters import orm
from services.notifications.adapters.bookings_repository import BookingRepository, UsagerRepository
from services.notifications.adapters.messages_repository import MessageRepository
from services.notifications.adapters.personal_data import PersonalDataCipher
from services.notifications.adapters.privacy_repository import PrivacyRepository
from services.notifications.adapters.repository import PermanenceRepository
from services.notifications.adapters.webhooks_repository import WebhookRepository
from shared.unit_of_work import SqlAlchemyUnitOfWork


class NotificationsUnitOfWork(SqlAlchemyUnitOfWork):
    permanences: PermanenceRepository
    usagers: UsagerRepository
    bookings: BookingRepository
    messages: MessageRepository
    privacy: PrivacyRepository
    webhooks: WebhookRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: PersonalDataCipher,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(sessions, producer="notifications", outbox=orm.outbox, inbox=orm.inbox, on_commit=on_commit)
        self.cipher = cipher

    def _start_repositories(self, session: AsyncSession) -> None:
        self.permanences = PermanenceRepository(session)
        self.usagers = UsagerRepository(session, self.cipher)
        self.bookings = BookingRepository(session)
        self.messages = MessageRepository(session)
        self.privacy = PrivacyRepository(session)
        self.webhooks = WebhookRepository(session)
