from typing import ClassVar

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: ClassVar[str] = "registry"
    default_http_port: ClassVar[int] = 8001

    login_token_ttl_s: int = 8 * 3600
    """How long a token from ``POST /auth/token`` is valid (``LOGIN_TOKEN_TTL_S``): a working day."""
