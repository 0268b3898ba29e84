from typing import ClassVar

from shared.settings import ServiceSettings


class SchedulingSettings(ServiceSettings):
    service_name: ClassVar[str] = "scheduling"
    default_http_port: ClassVar[int] = 8002
