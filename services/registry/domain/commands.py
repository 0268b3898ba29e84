import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RegisterConseiller:
    name: str
    home_commune: str
    weekly_hours: float
    conseiller_id: uuid.UUID = field(default_factory=uuid.uuid4)
