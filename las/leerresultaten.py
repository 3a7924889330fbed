"""Storing the results a partner brings back (BrengLeerresultaten) and reading them for the school's screens.

`store(koppeling, verzoek)` runs after authentication on a request `uwlr.leerresultaten.parse_request` accepted:

- every pupil is looked up among the koppeling's vestiging's pupils, by `leerlingid` (the LAS key we sent) or,
  failing that, by `eckid`; one unknown pupil → Client.LeerlingOngeldig naming it, and nothing is stored;
- a plain `score` must fall inside a band of the normering that applies (the toetsonderdeel's, else the toets's)
  when there is one → else Client.ScoreOngeldig;
- toetsen are upserted per (koppeling, toetscode) with their whole definition; results per (koppeling, result
  key), so sending the same message again changes nothing and a corrected result replaces the old one;
- all in one transaction: any failure stores nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from las import models as m
from uwlr import leerresultaten as lr
from uwlr.faults import AutorisatieOngeldig, LeerlingOngeldig, ScoreOngeldig


@dataclass(frozen=True)
class Opgeslagen:
    leerlingen: int
    resultaten: int
    nieuw: int
    toetsen: int


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) not in (None, ())}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def check_school(koppeling: m.Koppeling, school: lr.ResultatenSchool) -> None:
    """The message's school block must name the koppeling's own vestiging."""
    vestiging = koppeling.vestiging
    if school.schoolkey is not None:
        ok = school.schoolkey == vestiging.key
    else:
        ok = school.brincode == vestiging.school.brincode and (school.dependancecode or "00") == (
            vestiging.dependancecode
        )
    if not ok:
        raise AutorisatieOngeldig("Autorisatiesleutel is ongeldig of geeft geen toegang tot de gevraagde school.")


def _normering(toets: lr.Toets, onderdeelcode: str | None) -> lr.Normering | None:
    if onderdeelcode is not None:
        for onderdeel in toets.toetsonderdelen:
            if onderdeel.code.value == onderdeelcode and onderdeel.normering is not None:
                return onderdeel.normering
        if toets.toetsonderdelen:
            return None  # a part without its own normering: the whole test's bands do not apply to it
    return toets.toetsnormering


def normterm(normering: lr.Normering | None, score: int, label: str) -> str:
    """The norm term whose band holds `score`; ScoreOngeldig when a normering exists and no band does."""
    if normering is None or not normering.norms:
        return ""
    for norm in normering.norms:
        if norm.beginnormwaarde <= score <= norm.eindnormwaarde:
            return norm.term
    laag = min(n.beginnormwaarde for n in normering.norms)
    hoog = max(n.eindnormwaarde for n in normering.norms)
    raise ScoreOngeldig(f"{label}: score {score} valt buiten de normering van de toets ({laag} t/m {hoog}).")


def _weergave(resultaat: lr.Resultaat) -> tuple[str, int | None, str, dict[str, Any]]:
    score = resultaat.score
    if isinstance(score, lr.OsoResultaat):
        delen = []
        ts = score.toetsscore
        if ts is not None:
            if ts.vaardigheidsscore is not None:
                delen.append(f"vaardigheidsscore {ts.vaardigheidsscore}")
            if ts.aantalgoed is not None and ts.aantalopgaven is not None:
                delen.append(f"{ts.aantalgoed}/{ts.aantalopgaven} goed")
            elif ts.aantalgoed is not None:
                delen.append(f"{ts.aantalgoed} goed")
        for ref in score.referentiescores:
            delen.append(f"{ref.codereferentiescore}: {ref.waarde}")
        return ", ".join(delen) or "OSO-resultaat", None, m.Toetsresultaat.Soort.OSO, _jsonable(score)
    if isinstance(score, lr.AnderResultaat):
        return score.type_naam, None, m.Toetsresultaat.Soort.ANDER, _jsonable(score)
    return str(score), int(score), m.Toetsresultaat.Soort.SCORE, {}


def _find_leerlingen(vestiging: m.Vestiging, afnames: tuple[lr.Toetsafname, ...]) -> dict[int, int]:
    """index of each toetsafname → leerling pk; LeerlingOngeldig names the first pupil we do not know."""
    keys = {a.leerlingid for a in afnames}
    eckids = {a.eckid for a in afnames if a.eckid}
    rows = m.Leerling.objects.filter(vestiging=vestiging).filter(Q(key__in=keys) | Q(eckid__in=eckids)).values_list(
        "pk", "key", "eckid")
    by_key = {key: pk for pk, key, _e in rows}
    by_eckid = {e: pk for pk, _k, e in rows if e}
    found: dict[int, int] = {}
    for index, afname in enumerate(afnames):
        # The LAS key we sent identifies the pupil; UWLR 2.3 partners may put the ECK iD there instead.
        pk = by_key.get(afname.leerlingid) or by_eckid.get(afname.leerlingid)
        if pk is None and afname.eckid:
            pk = by_eckid.get(afname.eckid)
        if pk is None:
            raise LeerlingOngeldig(
                f"Leerling met leerlingid '{afname.leerlingid}'"
                + (f" en eckid '{afname.eckid}'" if afname.eckid else "")
                + " is niet bekend bij deze school(vestiging). Er zijn geen resultaten opgeslagen."
            )
        found[index] = pk
    return found


def store(koppeling: m.Koppeling, verzoek: lr.LeerresultatenVerzoek) -> Opgeslagen:
    """Store the toetsen and results of one message, all or nothing (see the module docstring)."""
    check_school(koppeling, verzoek.school)
    toetsen = {t.toetscode.value: t for t in verzoek.toetsen}
    with transaction.atomic():
        leerling_pk = _find_leerlingen(koppeling.vestiging, verzoek.toetsafnames)
        toets_rows: dict[str, m.Toets] = {}
        for code, toets in toetsen.items():
            row, _created = m.Toets.objects.update_or_create(
                koppeling=koppeling, toetscode=code,
                defaults={
                    "toetsnaam": toets.toetsnaam or "",
                    "vakgebied": toets.vakgebied.value if toets.vakgebied else "",
                    "leerjaar": toets.leerjaar.value if toets.leerjaar else "",
                    "versie": toets.versie.value if toets.versie else "",
                    "definitie": _jsonable(toets),
                },
            )
            toets_rows[code] = row
        existing = set(
            m.Toetsresultaat.objects.filter(
                koppeling=koppeling, key__in=[r.key for a in verzoek.toetsafnames for r in a.resultaten]
            ).values_list("key", flat=True)
        )
        count = nieuw = 0
        for index, afname in enumerate(verzoek.toetsafnames):
            for resultaat in afname.resultaten:
                toets = toetsen[resultaat.toetscode]
                weergave, score, soort, details = _weergave(resultaat)
                term = ""
                if score is not None:
                    term = normterm(_normering(toets, resultaat.toetsonderdeelcode), score,
                                    f"resultaat '{resultaat.key}'")
                if resultaat.infourl:
                    details = {**details, "infourl": resultaat.infourl}
                m.Toetsresultaat.objects.update_or_create(
                    koppeling=koppeling, key=resultaat.key,
                    defaults={
                        "leerling_id": leerling_pk[index], "toets": toets_rows[resultaat.toetscode],
                        "schooljaar": verzoek.school.schooljaar, "afnamedatum": resultaat.afnamedatum,
                        "toetsonderdeelcode": resultaat.toetsonderdeelcode or "", "soort": soort, "score": score,
                        "weergave": weergave[:300], "normterm": term[:256], "details": details,
                    },
                )
                count += 1
                nieuw += resultaat.key not in existing
    return Opgeslagen(len(set(leerling_pk.values())), count, nieuw, len(toets_rows))
