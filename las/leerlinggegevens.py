"""Answering Leerlinggegevens requests from the school's database.

`serve(koppeling, verzoek)` is the whole job after authentication: decide between `geengegevens`,
`geenwijzigingen` and data; load the vestiging's data with a fixed handful of queries (`values()`, no
per-pupil queries); keep only what the koppeling's profile allows (`uwlr.profiles`); for getrapt requests only
the requested groups; serialise with `uwlr.leerlinggegevens`; and cache the finished envelope bytes.

Decisions:
- Which pupils: those of the vestiging enrolled on the peildatum (today, clipped into the requested school year).
  A school year "has data" when it is the current one or the vestiging has groups in it; otherwise `geengegevens`.
- Teachers: those linked to a group of this vestiging in the year, plus the school's teachers without any group
  link (head, IB'er) — `Leerkracht` belongs to the school, not to one vestiging.
- Profiles: `KoppelingAanbod.profiel` names a `uwlr.profiles` profile (`lvs_set_eckid` → `lvs-set-eckid`). A
  client asking xsdversie 2.3 on a profile *with* ECK iD gets the UWLR 2.3 variant of that profile.
- Cache: the answer bytes are stored per (vestiging, schooljaar, peildatum, profile, xsdversie, operation, requested
  groups, data version) in `UwlrAntwoordCache` (shared by every worker) with a small per-process LRU in front.
  Any change to the vestiging's data bumps `Vestiging.data_version` (las.signals), which changes the key; old
  rows of the vestiging are deleted when a new one is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from las import models as m
from uwlr import model as um
from uwlr.leerlinggegevens import build_answer_envelope
from uwlr.profiles import LVS_SET_23, SMALLE_SET_23, Profile, apply_profile, get_profile

AUTEUR = "Koppelpunt"


@dataclass(frozen=True)
class Antwoord:
    """A finished answer: the SOAP envelope bytes, what it holds (for the access log), and which kind it is."""

    body: bytes
    uitkomst: str  # "ok", "geenwijzigingen", "geengegevens"
    leerlingen: int = 0
    leerkrachten: int = 0
    groepen: int = 0
    cached: bool = False


# ---------------------------------------------------------------------------------------------------------------
# Profiles


def profile_for(koppeling: m.Koppeling, xsdversie: str) -> Profile:
    """The `uwlr.profiles` profile this koppeling's partner gets, for the xsdversie it speaks."""
    name = koppeling.aanbod.profiel.replace("_", "-")
    profile = get_profile(name)
    if xsdversie == "2.3" and profile.eckid and name in ("smalle-set-eckid", "lvs-set-eckid"):
        return SMALLE_SET_23 if name.startswith("smalle") else LVS_SET_23
    return profile


# ---------------------------------------------------------------------------------------------------------------
# Loading


def _s(value: str | None) -> str | None:
    return value or None


def peildatum_for(schooljaar: m.Schooljaar, today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    return min(max(today, schooljaar.begindatum), schooljaar.einddatum)


def _enrolled(peildatum: dt.date) -> Q:
    return (Q(instroomdatum__isnull=True) | Q(instroomdatum__lte=peildatum)) & (
        Q(uitstroomdatum__isnull=True) | Q(uitstroomdatum__gte=peildatum)
    )


_LEERLING_FIELDS = (
    "id", "key", "eckid", "achternaam", "voorvoegsel", "voornamen", "voorletters", "roepnaam", "geboortedatum",
    "geslacht", "start_ondw_jgr3", "jaargroep", "groep_id", "gebruikersnaam", "emailadres", "bsn_ondwnr_4",
    "instroomdatum", "uitstroomdatum", "mutatiedatum",
)
_LEERKRACHT_FIELDS = (
    "id", "key", "eckid", "achternaam", "voorvoegsel", "voornamen", "voorletters", "roepnaam", "gebruikersnaam",
    "emailadres", "rol", "mutatiedatum",
)


def load(
    vestiging: m.Vestiging, schooljaar: m.Schooljaar, peildatum: dt.date, xsdversie: str = um.DEFAULT_XSD_VERSIE,
) -> um.Leerlinggegevens:
    """Everything the vestiging has for `schooljaar` as one unfiltered `uwlr.model.Leerlinggegevens` (7 queries)."""
    school = vestiging.school
    groepen_rows = list(
        m.Groep.objects.filter(vestiging=vestiging, schooljaar=schooljaar)
        .order_by("naam", "pk").values("id", "key", "naam", "jaargroep", "omschrijving", "mutatiedatum")
    )
    sgroepen_rows = list(
        m.SamengesteldeGroep.objects.filter(vestiging=vestiging, schooljaar=schooljaar)
        .order_by("naam", "pk").values("id", "key", "naam", "omschrijving", "mutatiedatum")
    )
    groep_by_id = {g["id"]: g for g in groepen_rows}
    sgroep_key = {g["id"]: g["key"] for g in sgroepen_rows}

    leden: dict[int, list[str]] = defaultdict(list)
    Through = m.Leerling.samengestelde_groepen.through
    for leerling_id, sgroep_id in (
        Through.objects.filter(samengesteldegroep_id__in=list(sgroep_key))
        .order_by("samengesteldegroep__naam", "samengesteldegroep_id")
        .values_list("leerling_id", "samengesteldegroep_id")
    ):
        leden[leerling_id].append(sgroep_key[sgroep_id])

    leerlingen: list[um.Leerling] = []
    for r in (
        m.Leerling.objects.filter(vestiging=vestiging).filter(_enrolled(peildatum))
        .order_by("achternaam", "roepnaam", "pk").values(*_LEERLING_FIELDS).iterator(chunk_size=2000)
    ):
        groep = groep_by_id.get(r["groep_id"])
        jaargroep = r["jaargroep"] or (groep["jaargroep"] if groep and groep["jaargroep"] != "C" else None)
        leerlingen.append(um.Leerling(
            key=r["key"], eckid=_s(r["eckid"]), achternaam=_s(r["achternaam"]), voorvoegsel=_s(r["voorvoegsel"]),
            voornamen=_s(r["voornamen"]), voorletters=_s(r["voorletters"]), roepnaam=_s(r["roepnaam"]),
            geboortedatum=r["geboortedatum"], geslacht=r["geslacht"], start_ondw_jgr3=r["start_ondw_jgr3"],
            jaargroep=jaargroep, groep=groep["key"] if groep else None,
            samengestelde_groepen=leden.get(r["id"], []), vestiging=vestiging.key,
            gebruikersnaam=_s(r["gebruikersnaam"]), emailadres=_s(r["emailadres"]),
            bsn_ondwnr_4=_s(r["bsn_ondwnr_4"]), instroomdatum=r["instroomdatum"],
            uitstroomdatum=r["uitstroomdatum"], mutatiedatum=r["mutatiedatum"],
        ))

    links: dict[int, list[um.LeerkrachtGroep]] = defaultdict(list)
    for lk_id, groep_id, rol in (
        m.LeerkrachtGroep.objects.filter(groep_id__in=list(groep_by_id)).order_by("groep__naam", "pk")
        .values_list("leerkracht_id", "groep_id", "rol")
    ):
        links[lk_id].append(um.LeerkrachtGroep(groep_by_id[groep_id]["key"], False, [rol] if rol else []))
    for lk_id, sgroep_id, rol in (
        m.LeerkrachtSamengesteldeGroep.objects.filter(samengestelde_groep_id__in=list(sgroep_key))
        .order_by("samengestelde_groep__naam", "pk").values_list("leerkracht_id", "samengestelde_groep_id", "rol")
    ):
        links[lk_id].append(um.LeerkrachtGroep(sgroep_key[sgroep_id], True, [rol] if rol else []))
    zonder_groep = ~Exists(m.LeerkrachtGroep.objects.filter(leerkracht=OuterRef("pk"))) & ~Exists(
        m.LeerkrachtSamengesteldeGroep.objects.filter(leerkracht=OuterRef("pk"))
    )
    leerkrachten = [
        um.Leerkracht(
            key=r["key"], eckid=_s(r["eckid"]), achternaam=_s(r["achternaam"]), voorvoegsel=_s(r["voorvoegsel"]),
            voornamen=_s(r["voornamen"]), voorletters=_s(r["voorletters"]), roepnaam=_s(r["roepnaam"]),
            gebruikersnaam=_s(r["gebruikersnaam"]), emailadres=_s(r["emailadres"]),
            rollen=[r["rol"]] if r["rol"] else [], groepen=links.get(r["id"], []), mutatiedatum=r["mutatiedatum"],
        )
        for r in m.Leerkracht.objects.filter(school=school)
        .filter(Q(pk__in=list(links)) | zonder_groep)
        .order_by("achternaam", "roepnaam", "pk").values(*_LEERKRACHT_FIELDS)
    ]

    return um.Leerlinggegevens(
        school=um.School(
            schooljaar=schooljaar.naam, brincode=school.brincode, dependancecode=vestiging.dependancecode,
            schoolkey=vestiging.key, peildatum=peildatum,
            aanmaakdatum=timezone.localtime().replace(microsecond=0, tzinfo=None),
            auteur=AUTEUR, xsdversie=xsdversie,
        ),
        vestigingen=[um.Vestiging(vestiging.key, vestiging.naam[:64], _s(vestiging.omschrijving),
                                  vestiging.mutatiedatum)],
        groepen=[um.Groep(g["key"], g["naam"], g["jaargroep"], _s(g["omschrijving"]), g["mutatiedatum"])
                 for g in groepen_rows],
        samengestelde_groepen=[um.SamengesteldeGroep(g["key"], g["naam"], _s(g["omschrijving"]), g["mutatiedatum"])
                               for g in sgroepen_rows],
        leerlingen=leerlingen,
        leerkrachten=leerkrachten,
    )


# ---------------------------------------------------------------------------------------------------------------
# Getrapt filtering (on the unfiltered data: a profile without groups must not change who is selected)


def _wanted_leerling(ll: um.Leerling, refs: tuple[um.GroepRef, ...]) -> bool:
    for ref in refs:
        if ref.samengesteld:
            if (ref.key is None and not ll.samengestelde_groepen) or (
                ref.key is not None and ref.key in ll.samengestelde_groepen
            ):
                return True
        elif ref.key == ll.groep:  # key None asks for pupils without a stamgroep
            return True
    return False


def _wanted_leerkracht(lk: um.Leerkracht, refs: tuple[um.GroepRef, ...]) -> bool:
    for ref in refs:
        keys = {g.key for g in lk.groepen if g.samengesteld == ref.samengesteld}
        if (ref.key is None and not keys) or (ref.key is not None and ref.key in keys):
            return True
    return False


def select_groups(data: um.Leerlinggegevens, verzoek: um.Verzoek) -> um.Leerlinggegevens:
    op = verzoek.operation
    if op is um.Operation.HAAL_LEERLINGEN:
        return um.Leerlinggegevens(data.school, leerlingen=[
            ll for ll in data.leerlingen if _wanted_leerling(ll, verzoek.groepen)])
    if op is um.Operation.HAAL_LEERKRACHTEN:
        return um.Leerlinggegevens(data.school, leerkrachten=[
            lk for lk in data.leerkrachten if _wanted_leerkracht(lk, verzoek.groepen)])
    return data


# ---------------------------------------------------------------------------------------------------------------
# Deciding what to answer


def _aware(moment: dt.datetime) -> dt.datetime:
    # UWLR clients usually send naive local times (the viewer's example has no zone): read them as Dutch time.
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def changed_since(vestiging: m.Vestiging, moment: dt.datetime, peildatum: dt.date) -> bool:
    """True when the answer for `vestiging` may differ from one given at `moment`.

    Data changes bump the vestiging; pupils entering or leaving by date (instroom/uitstroom) do not, so those are
    checked against the dates passed since.
    """
    moment = _aware(moment)
    if vestiging.gewijzigd_op > moment:
        return True
    since = timezone.localtime(moment).date()
    if since >= peildatum:
        return False
    return m.Leerling.objects.filter(vestiging=vestiging).filter(
        Q(instroomdatum__gt=since, instroomdatum__lte=peildatum)
        | Q(uitstroomdatum__gte=since, uitstroomdatum__lt=peildatum)
    ).exists()


def has_data(vestiging: m.Vestiging, schooljaar: m.Schooljaar | None, today: dt.date) -> bool:
    if schooljaar is None:
        return False
    if schooljaar.begindatum <= today <= schooljaar.einddatum:
        return True
    return m.Groep.objects.filter(vestiging=vestiging, schooljaar=schooljaar).exists()


def _marker(verzoek: um.Verzoek, marker: um.GeenGegevens | um.GeenWijzigingen, uitkomst: str) -> Antwoord:
    return Antwoord(build_answer_envelope(verzoek.operation, marker, xsdversie=verzoek.xsdversie), uitkomst)


def _counts(data: um.Leerlinggegevens, op: um.Operation) -> tuple[int, int, int]:
    groepen = len(data.groepen) + len(data.samengestelde_groepen)
    if op is um.Operation.HAAL_LEERLINGEN:
        return len(data.leerlingen), 0, 0
    if op is um.Operation.HAAL_LEERKRACHTEN:
        return 0, len(data.leerkrachten), 0
    if op is um.Operation.HAAL_STRUCTUUR:
        return 0, 0, groepen
    return len(data.leerlingen), len(data.leerkrachten), groepen


def serve(koppeling: m.Koppeling, verzoek: um.Verzoek, *, today: dt.date | None = None) -> Antwoord:
    """The answer for an authenticated request (see the module docstring for what is in it)."""
    vestiging = koppeling.vestiging
    today = today or timezone.localdate()
    schooljaar = m.Schooljaar.objects.filter(naam=verzoek.schooljaar).first()
    if schooljaar is None or not has_data(vestiging, schooljaar, today):
        return _marker(verzoek, um.GEEN_GEGEVENS, "geengegevens")
    peildatum = peildatum_for(schooljaar, today)
    if verzoek.laatstontvangengegevens is not None and not changed_since(
        vestiging, verzoek.laatstontvangengegevens, peildatum
    ):
        return _marker(verzoek, um.GEEN_WIJZIGINGEN, "geenwijzigingen")
    profile = profile_for(koppeling, verzoek.xsdversie)
    refs = sorted((r.samengesteld, r.key or "") for r in verzoek.groepen) if verzoek.groepen else []
    key = cache_key(vestiging.pk, vestiging.data_version, schooljaar.naam, peildatum, profile.name,
                    verzoek.xsdversie, verzoek.operation.value, repr(refs))
    hit = cache.get(key)
    if hit is not None:
        return hit
    with transaction.atomic():
        # Read the version and the data in one transaction, so the cached bytes match the version in their key.
        version = m.Vestiging.objects.filter(pk=vestiging.pk).values_list("data_version", flat=True).get()
        if version != vestiging.data_version:
            key = cache_key(vestiging.pk, version, schooljaar.naam, peildatum, profile.name, verzoek.xsdversie,
                            verzoek.operation.value, repr(refs))
        data = select_groups(load(vestiging, schooljaar, peildatum, verzoek.xsdversie), verzoek)
    nothing = (
        (verzoek.operation in (um.Operation.HAAL_LEERLINGGEGEVENS, um.Operation.HAAL_LEERLINGEN)
         and not data.leerlingen)
        or (verzoek.operation is um.Operation.HAAL_LEERKRACHTEN and not data.leerkrachten)
    )
    if nothing:
        return _marker(verzoek, um.GEEN_GEGEVENS, "geengegevens")
    filtered = apply_profile(data, profile)
    body = build_answer_envelope(verzoek.operation, filtered, xsdversie=verzoek.xsdversie)
    antwoord = Antwoord(body, "ok", *_counts(filtered, verzoek.operation))
    cache.put(key, vestiging.pk, version, antwoord)
    return antwoord


# ---------------------------------------------------------------------------------------------------------------
# The answer cache


def cache_key(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


class AnswerCache:
    """Finished answers in the database (shared by all workers) with a small LRU per process in front."""

    def __init__(self, local_size: int = 16) -> None:
        self._local: OrderedDict[str, Antwoord] = OrderedDict()
        self._size = local_size
        self._lock = threading.Lock()

    def _remember(self, key: str, antwoord: Antwoord) -> None:
        with self._lock:
            self._local[key] = antwoord
            self._local.move_to_end(key)
            while len(self._local) > self._size:
                self._local.popitem(last=False)

    def get(self, key: str) -> Antwoord | None:
        with self._lock:
            found = self._local.get(key)
            if found is not None:
                self._local.move_to_end(key)
                return found
        row = m.UwlrAntwoordCache.objects.filter(sleutel=key).values_list(
            "inhoud", "leerlingen", "leerkrachten", "groepen").first()
        if row is None:
            return None
        antwoord = Antwoord(bytes(row[0]), "ok", row[1], row[2], row[3], cached=True)
        self._remember(key, antwoord)
        return antwoord

    def put(self, key: str, vestiging_id: int, version: int, antwoord: Antwoord) -> None:
        cached = Antwoord(antwoord.body, antwoord.uitkomst, antwoord.leerlingen, antwoord.leerkrachten,
                          antwoord.groepen, cached=True)
        self._remember(key, cached)
        try:
            with transaction.atomic():
                m.UwlrAntwoordCache.objects.filter(vestiging_id=vestiging_id, data_version__lt=version).delete()
                m.UwlrAntwoordCache.objects.create(
                    sleutel=key, vestiging_id=vestiging_id, data_version=version, inhoud=antwoord.body,
                    leerlingen=antwoord.leerlingen, leerkrachten=antwoord.leerkrachten, groepen=antwoord.groepen,
                )
        except IntegrityError:
            pass  # another worker stored the same answer first

    def clear_local(self) -> None:
        with self._lock:
            self._local.clear()


cache = AnswerCache()
