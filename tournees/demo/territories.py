"""The territories of the field reports, built from the shipped commune data.

People's names are fictional (a first name and a tree or a bird): any likeness is chance.
Structures and rooms are plausible, not a directory: a "France Services de Nîmes" here
stands at the town hall's address. The rooms "at the foot of social-housing buildings" of
Le Tampon are named after real quarters of the commune; their positions are made up around
the commune's centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from services.registry.adapters.communes import read_communes
from services.registry.domain.geography import Commune
from shared.geo import great_circle_km

FIRST_NAMES = (
    "Camille", "Dominique", "Sacha", "Alix", "Claude", "Morgan", "Charlie", "Lou", "Noa", "Andréa",
    "Maxime", "Eden", "Jordan", "Loïs", "Gaël", "Ange", "Marion", "Yaël", "Élie", "Sasha",
)  # fmt: skip
LAST_NAMES = (
    "Tilleul", "Roitelet", "Charme", "Mésange", "Frêne", "Pinson", "Sorbier", "Bouvreuil", "Aulne", "Fauvette",
    "Merisier", "Loriot", "Érable", "Grive", "Saule", "Verdier", "Noyer", "Linotte", "Tremble", "Bergeronnette",
)  # fmt: skip

WEEKDAYS = range(5)
FULL_WEEK = [{"weekday": d, "half": h} for d in WEEKDAYS for h in ("am", "pm")]


@cache
def communes() -> dict[str, Commune]:
    return {row["insee"]: Commune(**row) for row in read_communes()}


def fictional_name(i: int) -> str:
    return f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i * 7 + i // len(LAST_NAMES)) % len(LAST_NAMES)]}"


def location(insee: str) -> tuple[float, float]:
    place = communes()[insee].location
    if place is None:
        raise LookupError(f"commune {insee} has no known location")
    return place


@dataclass
class Post:
    """A conseiller's place: employer structure, home lieu, how they work."""

    structure: dict[str, Any]
    lieu: dict[str, Any]
    availability: list[dict[str, Any]] = field(default_factory=lambda: list(FULL_WEEK))
    weekly_hours: float = 35
    skills: tuple[str, ...] = ("smartphone", "demarches-en-ligne")


@dataclass
class Scenario:
    code: str
    name: str | None
    communes: list[str]
    posts: list[Post]
    town_halls: list[str]
    """Communes whose town hall becomes a lieu (salles lent by the mairie)."""
    extra_lieux: list[dict[str, Any]] = field(default_factory=list)


def structure(kind: str, label: str, insee: str) -> dict[str, Any]:
    commune = communes()[insee]
    lat, lon = location(insee)
    return {
        "name": f"{label} {commune.name}" if not label.endswith("'") else f"{label}{commune.name}",
        "kind": kind,
        "commune": insee,
        "address": commune.mairie_address or "",
        "latitude": lat,
        "longitude": lon,
    }


def room(
    name: str, kind: str, insee: str, *, capacity: int = 10, computers: bool = True, hours: str = ""
) -> dict[str, Any]:
    lat, lon = location(insee)
    return {
        "name": name,
        "kind": kind,
        "commune": insee,
        "address": communes()[insee].mairie_address or "",
        "latitude": lat,
        "longitude": lon,
        "capacity": capacity,
        "has_computers": computers,
        "opening_hours": hours or "Mo-Fr 09:00-12:30,13:30-17:30; PH off",
    }


def mortagne() -> Scenario:
    """One conseiller at the EPN of Mortagne-au-Perche; the hospital partnership; town halls nearby."""
    epn = structure("epn", "EPN de", "61293")
    return Scenario(
        code="epci:200036069",
        name=None,
        communes=[],
        posts=[Post(epn, room("EPN de Mortagne-au-Perche", "structure", "61293", capacity=12))],
        town_halls=["61029", "61404", "61414", "61475"],
        extra_lieux=[
            room("Centre hospitalier — salle des familles", "partenaire", "61293", capacity=8, computers=False)
        ],
    )


def thionville() -> Scenario:
    """Three conseillers, three employers, thirteen communes around Thionville (Moselle: its own holidays)."""
    centre = location("57672")
    epci = [insee for insee, c in communes().items() if c.epci_siren == "992367730"]
    nearest = sorted(epci, key=lambda insee: great_circle_km(centre, location(insee)))[:13]
    mediatheque = structure("mediatheque", "Médiathèque de", "57672")
    return Scenario(
        code="custom:thionville-nord",
        name="Thionville et environs",
        communes=nearest,
        posts=[
            Post(mediatheque, room("Médiathèque Puzzle — espace numérique", "structure", "57672", capacity=14)),
            Post(structure("ccas", "CCAS de", nearest[1]), room("CCAS — salle d'accueil", "structure", nearest[1])),
            Post(
                structure("association", "Association Lien numérique de", nearest[2]),
                room("Association Lien numérique — atelier", "structure", nearest[2], capacity=8),
                availability=[*FULL_WEEK, {"weekday": 5, "half": "am", "every_weeks": 2, "from_date": "2026-12-05"}],
            ),
        ],
        town_halls=nearest[3:7],
    )


def gard() -> Scenario:
    """About fifty conseillers, at structures of the Gard's most populous communes."""
    return departement("30", conseillers=50, structures=30, name="Gard")


def departement(code: str, *, conseillers: int, structures: int, name: str | None = None) -> Scenario:
    """``conseillers`` at ``structures`` structures of the département's most populous communes, shared by the
    square root of their population."""
    ranked = sorted(
        (insee for insee, c in communes().items() if c.departement == code),
        key=lambda insee: -communes()[insee].population,
    )[:structures]
    weights = [math.sqrt(communes()[insee].population) for insee in ranked]
    seats = [max(1, round(conseillers * w / sum(weights))) for w in weights]
    kinds = (("france_services", "France Services de"), ("mediatheque", "Médiathèque de"), ("ccas", "CCAS de"))
    posts = []
    for insee, count in zip(ranked, seats, strict=True):
        for i in range(count):
            kind, label = kinds[i % len(kinds)]
            place = structure(kind, label, insee)
            posts.append(Post(place, room(f"{place['name']} — espace numérique", "structure", insee)))
    return Scenario(code=f"dep:{code}", name=name, communes=[], posts=posts, town_halls=[])


def charente_limousine() -> Scenario:
    """One conseillère for the gens du voyage across four former communautés de communes,
    in salles communales lent by town halls."""
    seat = structure("association", "Association d'accompagnement des gens du voyage — ", "16106")
    return Scenario(
        code="epci:200072049",
        name=None,
        communes=[],
        posts=[
            Post(seat, room("Local de l'association", "structure", "16106", capacity=6), skills=("demarches-en-ligne",))
        ],
        town_halls=["16106", "16070", "16192", "16303", "16373", "16232"],
    )


TAMPON_QUARTERS = (
    "Trois-Mares", "Bras-Creux", "Pont-d'Yves", "Bérive", "Dassy", "Les Araucarias", "Le Onzième", "Le Douzième",
    "Le Quatorzième", "Bourg-Murat",
)  # fmt: skip


def le_tampon() -> Scenario:
    """The CCAS du Tampon and its ten "Relais solidarité" at the foot of social-housing buildings."""
    ccas = structure("ccas", "CCAS du Tampon —", "97422")
    ccas["name"] = "CCAS du Tampon"
    lat, lon = location("97422")
    relays = [
        {
            **room(f"Relais solidarité {quarter}", "pied_immeuble", "97422", capacity=6, computers=False),
            "latitude": round(lat + 0.012 * math.cos(i * 0.63) * (1 + i % 3), 5),
            "longitude": round(lon + 0.012 * math.sin(i * 0.63) * (1 + i % 3), 5),
            "opening_hours": "Mo-Fr 08:30-12:00,13:30-16:30; PH off",
        }
        for i, quarter in enumerate(TAMPON_QUARTERS)
    ]
    return Scenario(
        code="epci:249740085",
        name=None,
        communes=[],
        posts=[
            Post(ccas, relays[0]),
            Post(ccas, relays[5], skills=("smartphone", "demarches-en-ligne", "caf")),
        ],
        town_halls=[],
        extra_lieux=relays[1:5] + relays[6:],
    )


def scenarios() -> list[Scenario]:
    return [mortagne(), thionville(), gard(), charente_limousine(), le_tampon()]
