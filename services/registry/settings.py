from typing import ClassVar

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: ClassVar[str] = "registry"
    default_http_port: ClassVar[int] = 8001
