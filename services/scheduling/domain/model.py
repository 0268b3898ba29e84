"""Scheduling domain: plans and their permanences; pure Python, no I/O."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.scheduling.domain.registry_copy import Conseiller, Lieu
from shared.events import Event, PermanenceCancelled, PermanenceMoved, PlannedPermanence, PlanPublished


class PlanError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


Kind = Literal["permanence", "atelier"]


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    REPLACED = "replaced"
    """A published plan a re-plan was published over."""


@dataclass(frozen=True)
class Permanence:
    """A conseiller at a lieu for a block of time on one date."""

    id: uuid.UUID
    conseiller_id: uuid.UUID
    commune: str
    lieu: str
    kind: Kind
    starts_at: dt.datetime
    ends_at: dt.datetime
    lieu_id: uuid.UUID | None = None
    """The registry's lieu, when the plan was solved (a plan made by hand may name a place freely)."""
    pinned: bool = False
    """Fixed by the coordinator: re-plans keep it (unless an absence or a closure makes it impossible)."""

    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


@dataclass(frozen=True)
class Change:
    """A permanence of the replaced plan that a re-plan does not keep: moved ``to`` another (the same lieu,
    that day), or cancelled (``to`` is None)."""

    old: Permanence
    to: Permanence | None


@dataclass(frozen=True)
class PlanChanges:
    """What publishing a re-plan tells, and what it does not need to."""

    reason: str
    changes: tuple[Change, ...]
    """The replaced plan's permanences that move or are cancelled, by start."""
    kept: tuple[Permanence, ...]
    """The replaced plan's permanences the re-plan keeps (same id): nothing to tell."""
    added: tuple[Permanence, ...]
    """The re-plan's permanences that are neither kept nor where one moved to, by start."""


@dataclass
class Plan:
    """The rounds of a territory for one week."""

    id: uuid.UUID
    territory: str
    week_start: dt.date
    time_zone: str
    permanences: list[Permanence]
    status: PlanStatus = PlanStatus.DRAFT
    version: int = 1
    figures: dict[str, Any] | None = None
    """What the solve that made the plan reports (status, gap, travel, coverage…); None if made by hand."""
    replaces: uuid.UUID | None = None
    """For a re-plan: the published plan it will replace."""
    reason: str | None = None
    """For a re-plan: why (an absence, a closed lieu…), told to whoever is affected."""
    events: list[Event] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def draft(
        cls,
        id: uuid.UUID,
        territory: str,
        week_start: dt.date,
        time_zone: str,
        permanences: list[Permanence],
        conseillers: Mapping[uuid.UUID, Conseiller],
        figures: dict[str, Any] | None = None,
        replaces: Plan | None = None,
        reason: str | None = None,
    ) -> Plan:
        """A new draft; ``conseillers`` is the local copy of (at least) the conseillers it names."""
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PlanError("time_zone", f"unknown time zone {time_zone!r}") from exc
        if week_start.weekday() != 0:
            raise PlanError("week_start", "must be a Monday")
        for i, p in enumerate(permanences):
            where = f"permanences.{i}."
            _plannable(conseillers.get(p.conseiller_id), where)
            _refuse_times(p.starts_at, p.ends_at, week_start, zone, where)
        _refuse_overlaps(permanences)
        if replaces is not None and replaces.status is not PlanStatus.PUBLISHED:
            raise PlanError("replaces", "only a published plan can be re-planned")
        return cls(
            id, territory, week_start, time_zone, list(permanences), figures=figures,
            replaces=replaces.id if replaces else None, reason=reason,
        )  # fmt: skip

    def publish(
        self,
        replacing: Plan | None = None,
        capacities: Mapping[uuid.UUID, int] | None = None,
        commune_names: Mapping[str, str] | None = None,
    ) -> None:
        """Publish; a re-plan also replaces the plan it was made from, telling what moved or was cancelled.

        ``capacities`` (seats by lieu id) gives each atelier at a registry lieu its seats;
        ``commune_names`` (names by INSEE code) gives each permanence its commune's name, for the
        usagers' messages ("" for a commune it does not name).
        """
        self._refuse_publishing(replacing)
        if not self.permanences:
            raise PlanError("permanences", "an empty plan cannot be published")
        self.status = PlanStatus.PUBLISHED
        self.version += 1
        seats = dict(capacities or {})
        names = dict(commune_names or {})
        self.events.append(
            PlanPublished(
                plan_id=self.id,
                territory=self.territory,
                week_start=self.week_start,
                permanences=[
                    self._planned(p, seats, names) for p in sorted(self.permanences, key=lambda p: p.starts_at)
                ],
            )
        )
        if replacing is not None:
            replacing.status = PlanStatus.REPLACED
            replacing.version += 1
            self.events.extend(self._change_events(self.changes_from(replacing), seats, names))

    def changes_on_publishing(self, replaced: Plan | None) -> PlanChanges:
        """What publishing this re-plan would tell (``changes_from``): the very decision ``publish`` makes,
        refused as publishing would be."""
        if self.replaces is None:
            raise PlanError("replaces", "this plan replaces none: publishing it changes nothing published")
        self._refuse_publishing(replaced)
        assert replaced is not None  # it is the plan this one replaces
        return self.changes_from(replaced)

    def _refuse_publishing(self, replacing: Plan | None) -> None:
        if self.status is not PlanStatus.DRAFT:
            raise PlanError("status", f"plan is already {self.status.value}")
        if (replacing.id if replacing else None) != self.replaces:
            raise PlanError("replaces", "publish a re-plan with the plan it replaces")
        if replacing is not None and replacing.status is not PlanStatus.PUBLISHED:
            raise PlanError("replaces", f"the plan it replaces is {replacing.status.value} already")

    def replanned_from(self, replaced: Plan | None) -> Plan | None:
        """The published plan a re-plan of this plan replaces: the plan itself when published; for a draft,
        the plan it replaces (``replaced``; None when it replaces none). A replaced plan is not re-planned,
        nor a draft whose replaced plan is no longer published (a re-plan of it could never be published)."""
        if self.status is PlanStatus.PUBLISHED:
            return self
        if self.status is PlanStatus.REPLACED:
            raise PlanError("plan_id", "this plan was replaced: re-plan the plan that replaced it")
        if self.replaces is None:
            return None
        if replaced is None or replaced.id != self.replaces or replaced.status is not PlanStatus.PUBLISHED:
            raise PlanError("plan_id", "the plan this draft replaces is no longer published")
        return replaced

    def pin(self, permanence_id: uuid.UUID, pinned: bool) -> Permanence:
        if self.status is PlanStatus.REPLACED:
            raise PlanError("status", "this plan was replaced: pin in the plan that replaced it")
        index = self._index(permanence_id)
        if self.permanences[index].lieu_id is None:
            raise PlanError("permanence_id", "only a permanence at a registry lieu can be pinned")
        self.permanences[index] = replace(self.permanences[index], pinned=pinned)
        self.version += 1
        return self.permanences[index]

    def move(
        self,
        permanence_id: uuid.UUID,
        conseiller: Conseiller | None,
        lieu: Lieu | None,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        *,
        replaced: Plan | None,
        fresh_id: uuid.UUID,
    ) -> Permanence:
        """Move a permanence of a draft by hand: to ``conseiller``, at ``lieu`` (its commune and name),
        from ``starts_at`` to ``ends_at``; it keeps its kind and its pin. ``conseiller`` and ``lieu`` are
        the copy's (None: unknown). Refused: a plan no longer a draft, an archived conseiller, times
        outside the week or over two days, a conseiller in two places at once; any other rule it breaks
        is the check's to tell (``plan_check``). In a re-plan, see ``_id_once_moved`` for its id."""
        if self.status is not PlanStatus.DRAFT:
            raise PlanError("status", f"only a draft can be changed by hand; this plan is {self.status.value}")
        if (replaced.id if replaced else None) != self.replaces:
            raise PlanError("replaces", "move a re-plan's permanences with the plan it replaces")
        index = self._index(permanence_id)
        conseiller = _plannable(conseiller)
        if lieu is None:
            raise PlanError("lieu_id", "unknown lieu (not in scheduling's copy of the registry)")
        _refuse_times(starts_at, ends_at, self.week_start, ZoneInfo(self.time_zone), one_day=True)
        old = self.permanences[index]
        moved = replace(
            old, conseiller_id=conseiller.id, commune=lieu.commune, lieu=lieu.name, lieu_id=lieu.id,
            starts_at=starts_at, ends_at=ends_at,
        )  # fmt: skip
        moved = replace(moved, id=self._id_once_moved(old, moved, replaced, fresh_id))
        permanences = [*self.permanences[:index], moved, *self.permanences[index + 1 :]]
        _refuse_overlaps(permanences)
        self.permanences = sorted(permanences, key=lambda p: p.starts_at)  # by start, as a stored plan reads
        self.version += 1
        return moved

    def _id_once_moved(
        self, old: Permanence, moved: Permanence, replaced: Plan | None, fresh_id: uuid.UUID
    ) -> uuid.UUID:
        """A permanence keeps its id while no usager can have booked it. In a re-plan, the same id as the
        replaced plan's means "kept: nothing to tell" (``changes_from``): one moved onto exactly a
        permanence of the replaced plan (conseiller, lieu, start, end and kind) takes its id (unless another
        of this plan has it), and one the replaced plan published, moved elsewhere, gets ``fresh_id``."""
        if replaced is None:
            return old.id
        others = {p.id for p in self.permanences if p.id != old.id}
        landed_on = next((p.id for p in replaced.permanences if _slot(p) == _slot(moved) and p.id not in others), None)
        if landed_on is not None:
            return landed_on
        return fresh_id if old.id in {p.id for p in replaced.permanences} else old.id

    def _index(self, permanence_id: uuid.UUID) -> int:
        index = next((i for i, p in enumerate(self.permanences) if p.id == permanence_id), None)
        if index is None:
            raise PlanError("permanence_id", "no such permanence in this plan")
        return index

    def changes_from(self, previous: Plan) -> PlanChanges:
        """What publishing this re-plan does to each permanence of ``previous``: kept (same id: nothing
        to tell), moved to another time at the same lieu that day, or cancelled; and what is new."""
        zone = ZoneInfo(self.time_zone)
        now = {p.id for p in self.permanences}
        before = {p.id for p in previous.permanences}
        spare = [p for p in self.permanences if p.id not in before]
        kept: list[Permanence] = []
        changes: list[Change] = []
        for old in sorted(previous.permanences, key=lambda p: p.starts_at):
            if old.id in now:
                kept.append(old)
                continue
            day = old.starts_at.astimezone(zone).date()
            to = next((p for p in spare if p.lieu == old.lieu and p.starts_at.astimezone(zone).date() == day), None)
            if to is not None:
                spare.remove(to)
            changes.append(Change(old, to))
        added = sorted(spare, key=lambda p: p.starts_at)
        return PlanChanges(self.reason or "re-planned", tuple(changes), tuple(kept), tuple(added))

    def _change_events(
        self, changes: PlanChanges, seats: Mapping[uuid.UUID, int], names: Mapping[str, str]
    ) -> list[Event]:
        return [
            PermanenceCancelled(plan_id=self.id, permanence_id=c.old.id, reason=changes.reason)
            if c.to is None
            else PermanenceMoved(
                plan_id=self.id, permanence_id=c.old.id, to=self._planned(c.to, seats, names), reason=changes.reason
            )
            for c in changes.changes
        ]

    def _planned(
        self, p: Permanence, capacities: Mapping[uuid.UUID, int], commune_names: Mapping[str, str]
    ) -> PlannedPermanence:
        """The permanence as published; an atelier at a registry lieu has its capacity as seats, and
        the commune its name when ``commune_names`` has it."""
        seats = capacities.get(p.lieu_id) if p.kind == "atelier" and p.lieu_id is not None else None
        return PlannedPermanence(
            permanence_id=p.id,
            conseiller_id=p.conseiller_id,
            commune=p.commune,
            commune_name=commune_names.get(p.commune, ""),
            lieu=p.lieu,
            kind=p.kind,
            starts_at=p.starts_at,
            ends_at=p.ends_at,
            time_zone=self.time_zone,
            seats=seats,
        )


def _slot(p: Permanence) -> tuple[uuid.UUID, uuid.UUID | None, dt.datetime, dt.datetime, Kind]:
    """What stays the same when a permanence is kept (the solver's re-plans compare all but the kind)."""
    return p.conseiller_id, p.lieu_id, p.starts_at, p.ends_at, p.kind


def _plannable(conseiller: Conseiller | None, where: str = "") -> Conseiller:
    """The conseiller, if the copy knows them and they are not archived."""
    if conseiller is None:
        raise PlanError(f"{where}conseiller_id", "unknown conseiller (not registered yet?)")
    if conseiller.archived:
        raise PlanError(f"{where}conseiller_id", "this conseiller is archived")
    return conseiller


def _refuse_times(
    starts_at: dt.datetime, ends_at: dt.datetime, week_start: dt.date, zone: ZoneInfo, where: str = "",
    *, one_day: bool = False,
) -> None:  # fmt: skip
    """Aware times, in that order, starting in the week (local time); with ``one_day``, ending the day they start."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise PlanError(f"{where}starts_at", "times must carry a UTC offset")
    if ends_at <= starts_at:
        raise PlanError(f"{where}ends_at", "must be after starts_at")
    local_day = starts_at.astimezone(zone).date()
    if not week_start <= local_day < week_start + dt.timedelta(days=7):
        raise PlanError(f"{where}starts_at", f"not in the week of {week_start}")
    if one_day and ends_at.astimezone(zone).date() != local_day:
        raise PlanError(f"{where}ends_at", "a permanence ends the day it starts (local time)")


def _refuse_overlaps(permanences: list[Permanence]) -> None:
    by_conseiller: dict[uuid.UUID, list[Permanence]] = {}
    for p in permanences:
        by_conseiller.setdefault(p.conseiller_id, []).append(p)
    for items in by_conseiller.values():
        items.sort(key=lambda p: p.starts_at)
        for before, after in pairwise(items):
            if after.starts_at < before.ends_at:
                raise PlanError(
                    "permanences", f"conseiller {before.conseiller_id} is in two places at {after.starts_at}"
                )
