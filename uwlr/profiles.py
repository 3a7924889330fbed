"""UWLR profiles as data-minimising filters over the model.

A profile says which fields may travel from the school to an application for one purpose; fields not named are
forbidden (UWLR 2.2.1 "profielen"). Here a profile is data: a frozen `Profile` with allow-lists per record type,
and `apply_profile(data, profile)` returns a copy of the data with everything else removed. `missing_required`
lists what a profile demands but the data lacks (the LVS set makes geboortedatum, geslacht, … mandatory).

Profiles (UWLR-SPEC §5, from the official v2p2 profile XSDs):
- `smalle-set` / `smalle-set-eckid`: Profiel smalle set 2.2, without / with ECK iD;
- `lvs-set` / `lvs-set-eckid`: Profiel LVS set 2.2, without / with ECK iD;
- `smalle-set-2.3`, `lvs-set-2.3`: UWLR 2.3 — the ECK iD is the primary pupil identifier, the LAS key only a
  fallback (left out for pupils that have an ECK iD); Smalle set 2.3 drops geboortedatum, LVS set 2.3 drops
  voorletters and bsn_ondwnr-4;
- `eckid`: for TOP dossier – ECKiD: only key, ECK iD and a minimal name (roepnaam, else achternaam).
- `volledig`: no filtering (everything the EDEXML schema allows); for tests and bilateral agreements only.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

from uwlr.model import (
    Groep,
    Leerkracht,
    LeerkrachtGroep,
    Leerling,
    Leerlinggegevens,
    SamengesteldeGroep,
    School,
    Vestiging,
)

_SCHOOL_ALL: Final = frozenset(f.name for f in dataclasses.fields(School))
_LEERLING_ALL: Final = frozenset(f.name for f in dataclasses.fields(Leerling)) - {"key", "eckid"}
_LEERKRACHT_ALL: Final = frozenset(f.name for f in dataclasses.fields(Leerkracht)) - {"key", "eckid"}


@dataclass(frozen=True)
class Profile:
    """Which data one purpose may receive. Field names are model attribute names (`voorletters`, `bsn_ondwnr_4`)."""

    name: str
    title: str
    xsdversie: str
    school: frozenset[str]
    leerling: frozenset[str]
    leerkracht: frozenset[str]
    groep: frozenset[str]  # besides key/naam/jaargroep, which a groep always has
    samengestelde_groep: frozenset[str]  # besides key/naam
    vestigingen: bool
    groepen: bool = True
    eckid: bool = True
    #: UWLR 2.3: a pupil with an ECK iD is sent without the LAS key (the key is only the fallback identifier)
    key_only_as_fallback: bool = False
    #: keep only one name element: roepnaam, or achternaam when there is no roepnaam
    minimal_name: bool = False
    #: fields the profile makes mandatory, per record type ("school", "leerling")
    required: tuple[tuple[str, frozenset[str]], ...] = ()

    def required_for(self, record: str) -> frozenset[str]:
        return dict(self.required).get(record, frozenset())


_SMALLE_LEERLING: Final = frozenset(
    {"achternaam", "voorvoegsel", "roepnaam", "geboortedatum", "jaargroep", "groep", "samengestelde_groepen"}
)
_LVS_LEERLING: Final = frozenset(
    {
        "achternaam",
        "voorvoegsel",
        "voorletters",
        "roepnaam",
        "geboortedatum",
        "geslacht",
        "start_ondw_jgr3",
        "jaargroep",
        "groep",
        "samengestelde_groepen",
        "bsn_ondwnr_4",
    }
)
_SCHOOL_PROFILE: Final = _SCHOOL_ALL
_LVS_REQUIRED: Final = (
    ("school", frozenset({"peildatum", "aanmaakdatum", "xsdversie"})),
    ("leerling", frozenset({"roepnaam", "geboortedatum", "geslacht", "jaargroep", "bsn_ondwnr_4"})),
)
_LVS23_REQUIRED: Final = (
    ("school", frozenset({"peildatum", "aanmaakdatum", "xsdversie"})),
    ("leerling", frozenset({"roepnaam", "geboortedatum", "geslacht", "jaargroep"})),
)


def _smalle(name: str, eckid: bool) -> Profile:
    return Profile(
        name=name,
        title="Profiel smalle set" + (" met ECK iD" if eckid else ""),
        xsdversie="2.2",
        school=_SCHOOL_PROFILE,
        leerling=_SMALLE_LEERLING,
        leerkracht=frozenset({"achternaam", "voorvoegsel", "roepnaam", "emailadres", "groepen"}),
        groep=frozenset(),
        samengestelde_groep=frozenset(),  # the viewer says omschrijving "niet toegestaan"
        vestigingen=False,
        eckid=eckid,
    )


def _lvs(name: str, eckid: bool) -> Profile:
    return Profile(
        name=name,
        title="Profiel LVS set" + (" met ECK iD" if eckid else ""),
        xsdversie="2.2",
        school=_SCHOOL_PROFILE,
        leerling=_LVS_LEERLING,
        leerkracht=frozenset({"achternaam", "voorvoegsel", "roepnaam", "groepen"}),
        groep=frozenset(),
        samengestelde_groep=frozenset({"omschrijving"}),
        vestigingen=False,
        eckid=eckid,
        required=_LVS_REQUIRED,
    )


SMALLE_SET: Final = _smalle("smalle-set", eckid=False)
SMALLE_SET_ECKID: Final = _smalle("smalle-set-eckid", eckid=True)
LVS_SET: Final = _lvs("lvs-set", eckid=False)
LVS_SET_ECKID: Final = _lvs("lvs-set-eckid", eckid=True)
SMALLE_SET_23: Final = dataclasses.replace(
    SMALLE_SET_ECKID,
    name="smalle-set-2.3",
    title="Profiel smalle set (UWLR 2.3)",
    xsdversie="2.3",
    leerling=_SMALLE_LEERLING - {"geboortedatum"},
    key_only_as_fallback=True,
)
LVS_SET_23: Final = dataclasses.replace(
    LVS_SET_ECKID,
    name="lvs-set-2.3",
    title="Profiel LVS set (UWLR 2.3)",
    xsdversie="2.3",
    leerling=_LVS_LEERLING - {"voorletters", "bsn_ondwnr_4"},
    key_only_as_fallback=True,
    required=_LVS23_REQUIRED,
)
ECKID: Final = Profile(
    name="eckid",
    title="TOP dossier – ECKiD",
    xsdversie="2.2",
    school=frozenset({"schooljaar", "brincode", "dependancecode", "instellingsnummer", "schoolkey", "xsdversie"}),
    leerling=frozenset({"achternaam", "roepnaam"}),
    leerkracht=frozenset({"achternaam", "roepnaam"}),
    groep=frozenset(),
    samengestelde_groep=frozenset(),
    vestigingen=False,
    groepen=False,
    minimal_name=True,
)
VOLLEDIG: Final = Profile(
    name="volledig",
    title="Volledige EDEXML-set (alleen bij bilaterale afspraak)",
    xsdversie="2.2",
    school=_SCHOOL_ALL,
    leerling=_LEERLING_ALL,
    leerkracht=_LEERKRACHT_ALL,
    groep=frozenset({"omschrijving", "mutatiedatum"}),
    samengestelde_groep=frozenset({"omschrijving", "mutatiedatum"}),
    vestigingen=True,
)

PROFILES: Final[dict[str, Profile]] = {
    p.name: p
    for p in (SMALLE_SET, SMALLE_SET_ECKID, LVS_SET, LVS_SET_ECKID, SMALLE_SET_23, LVS_SET_23, ECKID, VOLLEDIG)
}


def get_profile(name: str) -> Profile:
    """The profile called `name` (see `PROFILES`); KeyError with the known names otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None


T = TypeVar("T")


_Plan = tuple[Callable[[Any], Any], list[int], list[Any], list[int]]
_PLANS: dict[tuple[str, frozenset[str]], _Plan] = {}


def _plan(cls: type[Any], allowed: frozenset[str]) -> _Plan:
    """How to copy a `cls` keeping only `allowed` fields: a getter for the kept values, their positions, the
    defaults for everything else, and the positions of list fields (which need a fresh list per copy)."""
    cached = _PLANS.get((cls.__qualname__, allowed))
    if cached is not None:
        return cached
    fields = dataclasses.fields(cls)
    kept = [i for i, f in enumerate(fields) if f.name in allowed]
    template = [None if f.default is dataclasses.MISSING else f.default for f in fields]
    lists = [i for i, f in enumerate(fields) if f.default_factory is not dataclasses.MISSING]
    names = [fields[i].name for i in kept]
    # attrgetter returns a tuple only for two or more names
    getter = operator.attrgetter(*names) if len(names) > 1 else (lambda r: tuple(getattr(r, n) for n in names))
    plan = _PLANS[(cls.__qualname__, allowed)] = (getter, kept, template, lists)
    return plan


def _filtered(record: T, allowed: frozenset[str], keep: frozenset[str] = frozenset()) -> T:
    """A new `record` with only the `allowed` (or `keep`) fields; list fields are copied, never shared."""
    cls: type[Any] = type(record)
    getter, kept, template, lists = _plan(cls, allowed | keep)
    values = template.copy()
    for i in lists:
        values[i] = []
    for i, value in zip(kept, getter(record), strict=True):
        values[i] = list(value) if i in lists else value
    return cast(T, cls(*values))


def _minimal_name(person: Leerling | Leerkracht) -> None:
    if person.roepnaam is not None:
        person.achternaam = None
        person.voorvoegsel = person.voornamen = person.voorletters = None


def apply_profile(data: Leerlinggegevens, profile: Profile) -> Leerlinggegevens:
    """A copy of `data` with only what `profile` allows (the input is not changed)."""
    school = _filtered(data.school, profile.school)
    vestigingen = [dataclasses.replace(v) for v in data.vestigingen] if profile.vestigingen else []
    groepen: list[Groep] = []
    samengesteld: list[SamengesteldeGroep] = []
    if profile.groepen:
        groepen = [_filtered(g, profile.groep, frozenset({"key", "naam", "jaargroep"})) for g in data.groepen]
        samengesteld = [
            _filtered(s, profile.samengestelde_groep, frozenset({"key", "naam"})) for s in data.samengestelde_groepen
        ]
    leerlingen: list[Leerling] = []
    ids = frozenset({"key", "eckid"})
    for ll in data.leerlingen:
        new = _filtered(ll, profile.leerling, ids)
        if not profile.vestigingen:
            new.vestiging = None
        if not profile.groepen:
            new.groep = None
            new.samengestelde_groepen = []
        if not profile.eckid:
            new.eckid = None
        elif profile.key_only_as_fallback and new.eckid:
            new.key = None
        if profile.minimal_name:
            _minimal_name(new)
        leerlingen.append(new)
    leerkrachten: list[Leerkracht] = []
    for lk in data.leerkrachten:
        new_lk = _filtered(lk, profile.leerkracht, ids)
        if not profile.eckid:
            new_lk.eckid = None
        if profile.minimal_name:
            _minimal_name(new_lk)
        # per-group roles stay allowed in both profiles (the profile XSDs keep LeerkrachtGroepReferentieType)
        new_lk.groepen = [
            LeerkrachtGroep(g.key, g.samengesteld, list(g.rollen), list(g.rolomschrijvingen)) for g in new_lk.groepen
        ]
        leerkrachten.append(new_lk)
    return Leerlinggegevens(school, vestigingen, groepen, samengesteld, leerlingen, leerkrachten)


def missing_required(data: Leerlinggegevens, profile: Profile) -> list[str]:
    """What `profile` makes mandatory but `data` lacks (Dutch, one line per record and field)."""
    problems: list[str] = []
    for name in sorted(profile.required_for("school")):
        if getattr(data.school, name) is None:
            problems.append(f"school: '{name}' is verplicht in {profile.title}")
    required = profile.required_for("leerling")
    if required:
        for ll in data.leerlingen:
            for name in sorted(required):
                if getattr(ll, name) is None:
                    problems.append(f"leerling {ll.key or ll.eckid!r}: '{name}' is verplicht in {profile.title}")
    return problems


def allowed_fields(profile: Profile, record: type[Any]) -> frozenset[str]:
    """The model fields of `record` (School, Leerling, Leerkracht, Groep, …) that `profile` lets through."""
    if record is School:
        return profile.school
    if record is Leerling:
        return profile.leerling | ({"key", "eckid"} if profile.eckid else {"key"})
    if record is Leerkracht:
        return profile.leerkracht | ({"key", "eckid"} if profile.eckid else {"key"})
    if record is Groep:
        return profile.groep | {"key", "naam", "jaargroep"} if profile.groepen else frozenset()
    if record is SamengesteldeGroep:
        return profile.samengestelde_groep | {"key", "naam"} if profile.groepen else frozenset()
    if record is Vestiging:
        return frozenset(f.name for f in dataclasses.fields(Vestiging)) if profile.vestigingen else frozenset()
    raise TypeError(f"no profile rules for {record.__name__}")
