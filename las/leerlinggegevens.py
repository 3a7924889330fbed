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
from typing import Any, Final

from django.db import IntegrityError, connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from las import models as m
from uwlr import model as um
from uwlr.leerlinggegevens import build_answer_envelope
from uwlr.profiles import LVS_SET_23, SMALLE_SET_23, VOLLEDIG, Profile, allowed_fields, get_profile

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


_LEERLING_COLUMNS: Final = (
    "key", "eckid", "achternaam", "voorvoegsel", "voornamen", "voorletters", "roepnaam", "geboortedatum",
    "geslacht", "start_ondw_jgr3", "jaargroep", "gebruikersnaam", "emailadres", "bsn_ondwnr_4", "instroomdatum",
    "uitstroomdatum", "mutatiedatum",
)
_LEERKRACHT_COLUMNS: Final = (
    "key", "eckid", "achternaam", "voorvoegsel", "voornamen", "voorletters", "roepnaam", "gebruikersnaam",
    "emailadres", "mutatiedatum",
)
_DATE_COLUMNS: Final = frozenset({"geboortedatum", "start_ondw_jgr3", "instroomdatum", "uitstroomdatum"})
_TEXT_COLUMNS: Final = frozenset(_LEERLING_COLUMNS + _LEERKRACHT_COLUMNS) - _DATE_COLUMNS - {"geslacht", "mutatiedatum"}


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    moment = dt.datetime.fromisoformat(value)  # SQLite: naive UTC text
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _rows(qs: Any, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The rows of `qs.values_list(*columns)` without Django's per-value converters (the ORM builds the SQL).

    On SQLite the converters (text → date/datetime) cost more than the query; the few date columns we need are
    converted by `_date`/`_datetime`, which also accept the native values other databases return.
    """
    query = qs.values_list(*columns).query
    sql, params = query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass
class Geladen:
    """What `load` returns: the data in the profile's shape, plus every record's group membership (which the
    getrapt selection needs even when the profile does not send groups)."""

    data: um.Leerlinggegevens
    leerling_groepen: list[tuple[str | None, frozenset[str]]]  # per pupil: stamgroep key, composed group keys
    leerkracht_groepen: list[tuple[frozenset[str], frozenset[str]]]  # per teacher: groep keys, composed keys


def load(
    vestiging: m.Vestiging, schooljaar: m.Schooljaar, peildatum: dt.date, xsdversie: str = um.DEFAULT_XSD_VERSIE,
    profile: Profile = VOLLEDIG,
) -> Geladen:
    """Everything the vestiging has for `schooljaar`, already in the shape `profile` allows.

    Equivalent to `uwlr.profiles.apply_profile(load(..., VOLLEDIG).data, profile)` (a test holds it to that),
    but only the allowed columns are read and no record is built twice: a fixed handful of queries, whatever the
    number of pupils.
    """
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
    if sgroep_key:
        for leerling_id, sgroep_id in (
            Through.objects.filter(samengesteldegroep_id__in=list(sgroep_key))
            .order_by("samengesteldegroep__naam", "samengesteldegroep_id")
            .values_list("leerling_id", "samengesteldegroep_id")
        ):
            leden[leerling_id].append(sgroep_key[sgroep_id])

    # Pupils: read only what the profile lets through (plus the ids the mapping needs).
    ll_allowed = allowed_fields(profile, um.Leerling)
    ll_cols = tuple(c for c in _LEERLING_COLUMNS if c in ll_allowed or c == "key")
    need_jaargroep = "jaargroep" in ll_allowed
    cols = ("id", "groep_id", *ll_cols, *(("jaargroep",) if need_jaargroep and "jaargroep" not in ll_cols else ()))
    index = {c: i for i, c in enumerate(cols)}
    send_groep = "groep" in ll_allowed
    send_sgroepen = "samengestelde_groepen" in ll_allowed
    vestiging_key = vestiging.key if "vestiging" in ll_allowed else None
    minimal, fallback = profile.minimal_name, profile.key_only_as_fallback
    leerlingen: list[um.Leerling] = []
    leerling_groepen: list[tuple[str | None, frozenset[str]]] = []
    qs = m.Leerling.objects.filter(vestiging=vestiging).filter(_enrolled(peildatum)).order_by(
        "achternaam", "roepnaam", "pk")
    # Per column once: where it is in the row and how its value is converted (the loop below runs per pupil).
    plan = [(c, index[c], _date if c in _DATE_COLUMNS else _datetime if c == "mutatiedatum"
             else _s if c in _TEXT_COLUMNS else None) for c in ll_cols]
    for row in _rows(qs, cols):
        values: dict[str, Any] = {c: (row[i] if conv is None else conv(row[i])) for c, i, conv in plan}
        groep = groep_by_id.get(row[1])
        groep_key = groep["key"] if groep else None
        sgroepen = leden.get(row[0], [])
        if need_jaargroep:
            values["jaargroep"] = row[index["jaargroep"]] or (
                groep["jaargroep"] if groep and groep["jaargroep"] != "C" else None)
        ll = um.Leerling(**values)
        if send_groep:
            ll.groep = groep_key
        if send_sgroepen:
            ll.samengestelde_groepen = list(sgroepen)
        ll.vestiging = vestiging_key
        if fallback and ll.eckid:
            ll.key = None
        if minimal:
            _minimal_name(ll)
        leerlingen.append(ll)
        leerling_groepen.append((groep_key, frozenset(sgroepen)))

    # Teachers: linked to a group of this vestiging in the year, or to no group at all (school staff).
    links: dict[int, list[um.LeerkrachtGroep]] = defaultdict(list)
    if groep_by_id:
        for lk_id, groep_id, rol in (
            m.LeerkrachtGroep.objects.filter(groep_id__in=list(groep_by_id)).order_by("groep__naam", "pk")
            .values_list("leerkracht_id", "groep_id", "rol")
        ):
            links[lk_id].append(um.LeerkrachtGroep(groep_by_id[groep_id]["key"], False, [rol] if rol else []))
    if sgroep_key:
        for lk_id, sgroep_id, rol in (
            m.LeerkrachtSamengesteldeGroep.objects.filter(samengestelde_groep_id__in=list(sgroep_key))
            .order_by("samengestelde_groep__naam", "pk")
            .values_list("leerkracht_id", "samengestelde_groep_id", "rol")
        ):
            links[lk_id].append(um.LeerkrachtGroep(sgroep_key[sgroep_id], True, [rol] if rol else []))
    zonder_groep = ~Exists(m.LeerkrachtGroep.objects.filter(leerkracht=OuterRef("pk"))) & ~Exists(
        m.LeerkrachtSamengesteldeGroep.objects.filter(leerkracht=OuterRef("pk"))
    )
    lk_allowed = allowed_fields(profile, um.Leerkracht)
    lk_cols = tuple(c for c in _LEERKRACHT_COLUMNS if c in lk_allowed or c == "key")
    lk_rol = "rollen" in lk_allowed
    lk_groepen = "groepen" in lk_allowed
    leerkrachten: list[um.Leerkracht] = []
    leerkracht_groepen: list[tuple[frozenset[str], frozenset[str]]] = []
    qs_lk = m.Leerkracht.objects.filter(school=school).filter(Q(pk__in=list(links)) | zonder_groep).order_by(
        "achternaam", "roepnaam", "pk")
    for row in _rows(qs_lk, ("id", "rol", *lk_cols)):
        values = {}
        for c, v in zip(lk_cols, row[2:], strict=True):
            values[c] = _datetime(v) if c == "mutatiedatum" else (v or None)
        lk = um.Leerkracht(**values)
        own = links.get(row[0], [])
        if lk_rol and row[1]:
            lk.rollen = [row[1]]
        if lk_groepen:
            lk.groepen = [um.LeerkrachtGroep(g.key, g.samengesteld, list(g.rollen)) for g in own]
        if minimal:
            _minimal_name(lk)
        leerkrachten.append(lk)
        leerkracht_groepen.append((frozenset(g.key for g in own if not g.samengesteld),
                                   frozenset(g.key for g in own if g.samengesteld)))

    groep_extra = allowed_fields(profile, um.Groep)
    sgroep_extra = allowed_fields(profile, um.SamengesteldeGroep)
    school_allowed = profile.school
    school_values: dict[str, Any] = {
        "schooljaar": schooljaar.naam, "brincode": school.brincode, "dependancecode": vestiging.dependancecode,
        "schoolkey": vestiging.key, "peildatum": peildatum,
        "aanmaakdatum": timezone.localtime().replace(microsecond=0, tzinfo=None), "auteur": AUTEUR,
        "xsdversie": xsdversie,
    }
    data = um.Leerlinggegevens(
        school=um.School(**{k: v for k, v in school_values.items() if k in school_allowed or k == "schooljaar"}),
        vestigingen=[um.Vestiging(vestiging.key, vestiging.naam[:64], _s(vestiging.omschrijving),
                                  vestiging.mutatiedatum)] if profile.vestigingen else [],
        groepen=[um.Groep(g["key"], g["naam"], g["jaargroep"],
                          _s(g["omschrijving"]) if "omschrijving" in groep_extra else None,
                          g["mutatiedatum"] if "mutatiedatum" in groep_extra else None)
                 for g in groepen_rows] if profile.groepen else [],
        samengestelde_groepen=[um.SamengesteldeGroep(
            g["key"], g["naam"], _s(g["omschrijving"]) if "omschrijving" in sgroep_extra else None,
            g["mutatiedatum"] if "mutatiedatum" in sgroep_extra else None) for g in sgroepen_rows]
        if profile.groepen else [],
        leerlingen=leerlingen,
        leerkrachten=leerkrachten,
    )
    return Geladen(data, leerling_groepen, leerkracht_groepen)


def _minimal_name(person: um.Leerling | um.Leerkracht) -> None:
    # as uwlr.profiles does for TOP dossier – ECKiD: one name only, the roepnaam when there is one
    if person.roepnaam is not None:
        person.achternaam = None
        person.voorvoegsel = person.voornamen = person.voorletters = None


# ---------------------------------------------------------------------------------------------------------------
# Getrapt filtering (on the unfiltered data: a profile without groups must not change who is selected)


def _wanted(groep: str | None, groepen: frozenset[str], samengesteld: frozenset[str],
            refs: tuple[um.GroepRef, ...]) -> bool:
    """Does a record with stamgroep(en) `groep`/`groepen` and composed groups `samengesteld` match a request?

    A reference with a key selects the members of that (samengestelde) groep; one without a key the records
    bound to no groep of that kind.
    """
    for ref in refs:
        if ref.samengesteld:
            if (ref.key is None and not samengesteld) or (ref.key is not None and ref.key in samengesteld):
                return True
        elif ref.key is None:
            if groep is None and not groepen:
                return True
        elif ref.key == groep or ref.key in groepen:
            return True
    return False


def select_groups(geladen: Geladen, verzoek: um.Verzoek) -> um.Leerlinggegevens:
    """The part of the data a getrapt HaalLeerlingen/HaalLeerkrachten request asks for (others: everything)."""
    data, op, refs = geladen.data, verzoek.operation, verzoek.groepen
    if op is um.Operation.HAAL_LEERLINGEN:
        none: frozenset[str] = frozenset()
        return um.Leerlinggegevens(data.school, leerlingen=[
            ll for ll, (groep, sgroepen) in zip(data.leerlingen, geladen.leerling_groepen, strict=True)
            if _wanted(groep, none, sgroepen, refs)])
    if op is um.Operation.HAAL_LEERKRACHTEN:
        return um.Leerlinggegevens(data.school, leerkrachten=[
            lk for lk, (groepen, sgroepen) in zip(data.leerkrachten, geladen.leerkracht_groepen, strict=True)
            if _wanted(None, groepen, sgroepen, refs)])
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
        data = select_groups(load(vestiging, schooljaar, peildatum, verzoek.xsdversie, profile), verzoek)
    nothing = (
        (verzoek.operation in (um.Operation.HAAL_LEERLINGGEGEVENS, um.Operation.HAAL_LEERLINGEN)
         and not data.leerlingen)
        or (verzoek.operation is um.Operation.HAAL_LEERKRACHTEN and not data.leerkrachten)
    )
    if nothing:
        return _marker(verzoek, um.GEEN_GEGEVENS, "geengegevens")
    body = build_answer_envelope(verzoek.operation, data, xsdversie=verzoek.xsdversie)
    antwoord = Antwoord(body, "ok", *_counts(data, verzoek.operation))
    cache.put(key, vestiging.pk, version, antwoord)
    return antwoord


# ---------------------------------------------------------------------------------------------------------------
# The answer cache


def cache_key(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


class AnswerCache:
    """Finished answers in the database (shared by all workers) with a small LRU per process in front.

    The process copy is bounded in bytes (a 50,000-pupil answer is ~20 MB); the database keeps, per vestiging,
    only answers of the current data version made in the last two days (the peildatum is part of the key, so a
    new day makes new answers).
    """

    def __init__(self, local_bytes: int = 64 * 1024 * 1024) -> None:
        self._local: OrderedDict[str, Antwoord] = OrderedDict()
        self._max_bytes = local_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def _remember(self, key: str, antwoord: Antwoord) -> None:
        size = len(antwoord.body)
        if size > self._max_bytes:
            return
        with self._lock:
            old = self._local.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._local[key] = antwoord
            self._bytes += size
            while self._bytes > self._max_bytes:
                _key, evicted = self._local.popitem(last=False)
                self._bytes -= len(evicted.body)

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
        stale = timezone.now() - dt.timedelta(days=2)
        try:
            with transaction.atomic():
                m.UwlrAntwoordCache.objects.filter(vestiging_id=vestiging_id).filter(
                    Q(data_version__lt=version) | Q(aangemaakt_op__lt=stale)).delete()
                m.UwlrAntwoordCache.objects.create(
                    sleutel=key, vestiging_id=vestiging_id, data_version=version, inhoud=antwoord.body,
                    leerlingen=antwoord.leerlingen, leerkrachten=antwoord.leerkrachten, groepen=antwoord.groepen,
                )
        except IntegrityError:
            pass  # another worker stored the same answer first

    def clear_local(self) -> None:
        with self._lock:
            self._local.clear()
            self._bytes = 0


cache = AnswerCache()
