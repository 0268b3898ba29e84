from typing import ClassVar

from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: ClassVar[str] = "notifications"
    default_http_port: ClassVar[int] = 8003
