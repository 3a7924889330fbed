"""Stage a LAS answer (`uwlr.model.Leerlinggegevens`) as rows of a new ImportRun, reconciled in the same pass."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ea.importer.fouten import ImportFout
from ea.importer.reconcile import reconcile
from ea.importer.rows import GroepRow, LeerkrachtRow, LeerlingRow
from ea.models import Groep, ImportRun, LasKoppeling, School
from uwlr import model


def _s(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def _dubbel(values: Iterable[str]) -> list[str]:
    return sorted(k for k, n in Counter(v for v in values if v).items() if n > 1)


def controleer(data: model.Leerlinggegevens) -> None:
    """The checks the UWLR schema cannot make (its identity constraints never fire), in plain Dutch."""
    groep_keys = [g.key for g in data.groepen] + [g.key for g in data.samengestelde_groepen]
    problemen: list[str] = []
    if d := _dubbel(groep_keys):
        problemen.append(_("groups with the same key: %(keys)s") % {"keys": ", ".join(d[:5])})
    if d := _dubbel(ll.key or "" for ll in data.leerlingen):
        problemen.append(_("pupils with the same key: %(keys)s") % {"keys": ", ".join(d[:5])})
    if d := _dubbel(ll.eckid or "" for ll in data.leerlingen):
        problemen.append(_("%(n)d ECK iD(s) used by more than one pupil") % {"n": len(d)})
    if d := _dubbel(lk.key for lk in data.leerkrachten):
        problemen.append(_("teachers with the same key: %(keys)s") % {"keys": ", ".join(d[:5])})
    if any(not (ll.key or ll.eckid) for ll in data.leerlingen):
        problemen.append(_("a pupil without a key and without an ECK iD"))
    bekend = set(groep_keys)
    onbekend = sorted({ll.groep for ll in data.leerlingen if ll.groep and ll.groep not in bekend})
    if onbekend:
        problemen.append(_("pupils in unknown groups: %(keys)s") % {"keys": ", ".join(onbekend[:5])})
    if problemen:
        raise ImportFout(
            _("The data from the LAS cannot be used: %(problems)s. Nothing has been changed.")
            % {"problems": "; ".join(problemen)}
        )


def _keys(values: Iterable[str | None]) -> str:
    return "\n".join(dict.fromkeys(k for k in (_s(v, 256) for v in values) if k))


def heeft_alle_leerkrachten(data: model.Leerlinggegevens) -> bool:
    """Whether an answer carries the school's whole teacher list, so that a LAS teacher missing from it has left.

    A whole-school answer (alles-in-1 HaalLeerlinggegevens, or the merged getrapt pull of `haal_school`) carries
    the structure and the teachers. A HaalLeerkrachten answer for some groups, a HaalStructuur or HaalLeerlingen
    answer, or a data set without teachers (an empty list is "not sent", not "everybody left") does not.
    """
    return bool(data.leerkrachten) and bool(data.groepen or data.samengestelde_groepen)


def afbreken(run: ImportRun) -> None:
    from ea.importer.apply import afbreken as _afbreken

    _afbreken(run)


def stage(
    school: School,
    data: model.Leerlinggegevens,
    *,
    koppeling: LasKoppeling | None = None,
    user: Any = None,
    schooljaar: str | None = None,
    leerkrachten_compleet: bool | None = None,
    run: ImportRun | None = None,
) -> ImportRun:
    """Stage `data` for review. `leerkrachten_compleet` says whether the answer holds the school's complete teacher
    list (LAS teachers missing from it are then deactivated); None derives it from the answer's shape. `run` is the
    wizard's background fetch (`ea.tasks`): its row becomes the staged import instead of a new one; the caller
    checks its claim inside the transaction this runs in."""
    controleer(data)
    if leerkrachten_compleet is None:
        leerkrachten_compleet = heeft_alle_leerkrachten(data)
    jaar = schooljaar or data.school.schooljaar or (koppeling.schooljaar if koppeling else "")
    groepen = [
        GroepRow(key=_s(g.key, 256), naam=_s(g.naam, 64), jaargroep=_s(g.jaargroep, 2), soort=Groep.STAMGROEP)
        for g in data.groepen
    ] + [
        GroepRow(key=_s(g.key, 256), naam=_s(g.naam, 64), jaargroep="", soort=Groep.SAMENGESTELD)
        for g in data.samengestelde_groepen
    ]
    leerkrachten = [
        LeerkrachtRow(
            key=_s(lk.key, 256),
            eckid=_s(lk.eckid, 256),
            achternaam=_s(lk.achternaam, 200),
            voorvoegsel=_s(lk.voorvoegsel, 10),
            roepnaam=_s(lk.roepnaam or lk.voorletters or lk.voornamen, 64),
            email=_s(lk.emailadres, 256),
            groep_keys=_keys(g.key for g in lk.groepen),
        )
        for lk in data.leerkrachten
    ]
    leerlingen = [
        LeerlingRow(
            key=_s(ll.key, 256),
            eckid=_s(ll.eckid, 256),
            achternaam=_s(ll.achternaam, 200),
            voorvoegsel=_s(ll.voorvoegsel, 10),
            roepnaam=_s(ll.roepnaam or ll.voorletters or ll.voornamen, 64),
            geboortedatum=ll.geboortedatum,
            jaargroep=_s(ll.jaargroep, 2),
            groep_key=_s(ll.groep, 256),
            samengestelde_keys=_keys(ll.samengestelde_groepen),
        )
        for ll in data.leerlingen
    ]
    with transaction.atomic():
        # One review at a time per school: an older unfinished import is superseded by this one.
        for old in ImportRun.objects.filter(school=school, state=ImportRun.STAGED):
            afbreken(old)
        if run is None:
            run = ImportRun.objects.create(
                school=school,
                koppeling=koppeling,
                schooljaar=jaar,
                created_by=user,
                leerkrachten_compleet=leerkrachten_compleet,
            )
        else:
            run.koppeling, run.schooljaar, run.created_by = koppeling, jaar, user
            run.leerkrachten_compleet, run.state = leerkrachten_compleet, ImportRun.STAGED
            run.save(update_fields=["koppeling", "schooljaar", "created_by", "leerkrachten_compleet", "state"])
        reconcile(run, groepen, leerkrachten, leerlingen)
        GroepRow.insert(run, groepen)
        LeerkrachtRow.insert(run, leerkrachten)
        LeerlingRow.insert(run, leerlingen)
    return run
