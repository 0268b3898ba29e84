from typing import ClassVar

from shared.settings import ServiceSettings


class SchedulingSettings(ServiceSettings):
    service_name: ClassVar[str] = "scheduling"
    default_http_port: ClassVar[int] = 8002

    solver_enabled: bool = True
    """Take solve requests from the work queue (off: this replica only serves the API)."""
    solver_threads: int = 2
    """CP-SAT search threads per solve; a replica solves one request at a time."""
    solver_lease_s: float = 30.0
    """How long a silent replica keeps a territory: after it, another replica takes the request over."""
    solver_heartbeat_s: float = 1.0
    """How often a running solve writes its progress and renews its lease."""
    solver_max_attempts: int = 3
    solver_name: str = ""
    """This replica's name in solve requests and leases (default: host:pid)."""
    registry_public_url: str = "http://127.0.0.1:8001"
    """The registry's address as the coordinator page's browser reaches it (login, absences); the
    registry's ``CORS_ORIGINS`` must name this service's origin."""
    notifications_public_url: str = "http://127.0.0.1:8003"
    """The notifications service's address as the coordinator page's browser reaches it (who is told)."""
