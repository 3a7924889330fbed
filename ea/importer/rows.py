"""Light in-memory rows of a staged import (plain slotted objects, not model instances: an import of 30,000
pupils creates, reconciles and writes them without the ORM's per-instance cost)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.db import models

from ea.importer import bulk
from ea.models import Besluit, ImportRun, StagedGroep, StagedLeerkracht, StagedLeerling

DECISION = ("besluit", "target_id", "reden", "handmatig", "suggestie_id", "wijzigt")


class Row:
    __slots__ = ("pk", "key", *DECISION)
    DATA: ClassVar[tuple[str, ...]] = ()
    MODEL: ClassVar[type[models.Model]]

    def __init__(self, **values: Any) -> None:
        self.pk: int | None = None
        self.besluit: str = Besluit.NIEUW
        self.target_id: int | None = None
        self.reden = ""
        self.handmatig = False
        self.suggestie_id: int | None = None
        self.wijzigt = False
        for name, value in values.items():
            setattr(self, name, value)

    def decision(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in DECISION)

    @classmethod
    def load(cls, run: ImportRun) -> list[Any]:
        names = ("pk", *cls.DATA, *DECISION)
        qs = cls.MODEL._default_manager.filter(run=run).order_by("pk").values_list(*names)
        return [cls(**dict(zip(names, values, strict=True))) for values in qs]

    @classmethod
    def insert(cls, run: ImportRun, rows: list[Any]) -> None:
        columns = ("run", *cls.DATA, *DECISION)
        bulk.insert(cls.MODEL, columns, [(run.pk, *(getattr(r, f) for f in cls.DATA), *r.decision()) for r in rows])

    @classmethod
    def save_decisions(cls, rows: list[Any]) -> None:
        bulk.update(cls.MODEL, DECISION, [(*r.decision(), r.pk) for r in rows])


class GroepRow(Row):
    __slots__ = ("naam", "jaargroep", "soort")
    DATA = ("key", "naam", "jaargroep", "soort")
    MODEL = StagedGroep
    key: str
    naam: str
    jaargroep: str
    soort: str


class PersoonRow(Row):
    __slots__ = ("eckid", "achternaam", "voorvoegsel", "roepnaam")
    key: str
    eckid: str
    achternaam: str
    voorvoegsel: str
    roepnaam: str

    @property
    def naam(self) -> str:
        return " ".join(p for p in (self.roepnaam, self.voorvoegsel, self.achternaam) if p)


class LeerkrachtRow(PersoonRow):
    __slots__ = ("email", "groep_keys")
    DATA = ("key", "eckid", "achternaam", "voorvoegsel", "roepnaam", "email", "groep_keys")
    MODEL = StagedLeerkracht
    email: str
    groep_keys: str


class LeerlingRow(PersoonRow):
    __slots__ = ("geboortedatum", "jaargroep", "groep_key", "samengestelde_keys")
    DATA = (
        "key",
        "eckid",
        "achternaam",
        "voorvoegsel",
        "roepnaam",
        "geboortedatum",
        "jaargroep",
        "groep_key",
        "samengestelde_keys",
    )
    MODEL = StagedLeerling
    geboortedatum: dt.date | None
    jaargroep: str
    groep_key: str
    samengestelde_keys: str  # newline-separated
