"""Skills: what a conseiller can lead and what a recurrence needs, as lowercase words."""

from __future__ import annotations

import re

SKILL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SKILL_RULE = "lowercase words (a-z, 0-9, - and _)"


def normalized(skill: object) -> str:
    """``" Smartphone "`` is ``"smartphone"``; check it against ``SKILL`` after."""
    return str(skill).strip().lower()
