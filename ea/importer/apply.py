"""Apply a staged import in one transaction: everything or nothing.

Pupils of an imported (or, at a jaarovergang, archived) group who are not in the import are deactivated,
never deleted; so are LAS teachers missing from an import that carries the school's whole teacher list. The
membership of the imported samengestelde groepen is replaced by what the LAS sent. Manual decisions become
lasting LinkRules. Writes are bulk, in batches.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ea.importer import bulk
from ea.importer.fouten import ImportFout
from ea.importer.reconcile import load, reconcile
from ea.models import (
    Besluit,
    Groep,
    ImportRun,
    Leerkracht,
    Leerling,
    LinkRule,
    School,
    StagedGroep,
    StagedLeerkracht,
    StagedLeerling,
    StagedRecord,
)

log = logging.getLogger(__name__)
BATCH = 1000
_PERSON = ["achternaam", "voorvoegsel", "roepnaam", "extern_key", "eckid"]
_PUPIL_INSERT = ("school", *_PERSON, "geboortedatum", "jaargroep", "groep", "actief", "deactivated_at")
_PUPIL_UPDATE = (*_PERSON, "geboortedatum", "jaargroep", "groep", "actief", "deactivated_at")


def te_archiveren(run: ImportRun, imported_groups: set[int]) -> list[int]:
    """Groups of an earlier school year that a jaarovergang import archives (unless linked to in this import)."""
    if not run.schooljaar:
        return []
    qs = Groep.objects.filter(school_id=run.school_id, gearchiveerd=False).exclude(schooljaar="")
    ids = qs.filter(schooljaar__lt=run.schooljaar).values_list("id", flat=True)
    return [pk for pk in ids if pk not in imported_groups]


def te_deactiveren(run: ImportRun, imported_groups: set[int], in_import: set[int], archief: Sequence[int]) -> list[int]:
    """Active pupils of an imported (existing) or archived group who are not in the import."""
    groep_ids = imported_groups | set(archief)
    if not groep_ids:
        return []
    actief = Leerling.objects.filter(school_id=run.school_id, actief=True, groep__isnull=False)
    return [pk for pk, g in actief.values_list("id", "groep_id") if g in groep_ids and pk not in in_import]


def leerkrachten_te_deactiveren(run: ImportRun, in_import: set[int]) -> list[int]:
    """Active LAS teachers (with a LAS key) missing from an import that carries the school's whole teacher list.

    Teachers made by hand in the application (no LAS key) are never touched, and an answer without the complete
    list (see `staging.heeft_alle_leerkrachten`) deactivates nobody it simply did not carry.
    """
    if not run.leerkrachten_compleet:
        return []
    actief = Leerkracht.objects.filter(school_id=run.school_id, actief=True).exclude(extern_key="")
    return [pk for pk in actief.values_list("id", flat=True) if pk not in in_import]


def _imported_groups(groepen: Sequence[Any]) -> set[int]:
    return {g.target_id for g in groepen if g.besluit == Besluit.BESTAAND}


def _in_import(leerlingen: Sequence[Any]) -> set[int]:
    return {p.target_id for p in leerlingen if p.target_id is not None}


def _targets(staged: QuerySet[Any]) -> set[int]:
    """The existing records the staged rows point at."""
    return {t for t in staged.values_list("target_id", flat=True) if t is not None}


def samenvatting(run: ImportRun) -> dict[str, Any]:
    """Counts for the summary screen: per kind Nieuw / Te wijzigen / Niet importeren, plus deactivations."""
    counts: dict[str, Any] = {}  # per kind a dict of counts, then the totals and the list of teachers without e-mail
    for soort, model in (("groepen", StagedGroep), ("leerkrachten", StagedLeerkracht), ("leerlingen", StagedLeerling)):
        agg = model.objects.filter(run=run).aggregate(
            nieuw=Count("id", filter=Q(besluit=Besluit.NIEUW)),
            te_wijzigen=Count("id", filter=Q(besluit=Besluit.BESTAAND, wijzigt=True)),
            ongewijzigd=Count("id", filter=Q(besluit=Besluit.BESTAAND, wijzigt=False)),
            niet=Count("id", filter=Q(besluit=Besluit.NIET)),
        )
        counts[soort] = agg
    imported = _targets(StagedGroep.objects.filter(run=run, besluit=Besluit.BESTAAND))
    in_import = _targets(StagedLeerling.objects.filter(run=run, target_id__isnull=False))
    archief = te_archiveren(run, imported)
    counts["te_deactiveren"] = len(te_deactiveren(run, imported, in_import, archief))
    # A matched teacher set to Niet importeren keeps its target: it is in the LAS, so it does not count as gone.
    lk_in_import = _targets(StagedLeerkracht.objects.filter(run=run, target_id__isnull=False))
    counts["leerkrachten_te_deactiveren"] = len(leerkrachten_te_deactiveren(run, lk_in_import))
    counts["te_archiveren"] = len(archief)
    counts["zonder_email"] = list(
        StagedLeerkracht.objects.filter(run=run, besluit=Besluit.NIEUW, email="").values_list("id", flat=True)
    )
    return counts


def afbreken(run: ImportRun) -> None:
    """IMPORT AFBREKEN: the staged data is dropped; the application's data is not touched."""
    with transaction.atomic():
        updated = ImportRun.objects.filter(pk=run.pk, state=ImportRun.STAGED).update(
            state=ImportRun.ABORTED, finished_at=timezone.now()
        )
        if updated:
            _drop_staged(run)


def _drop_staged(run: ImportRun) -> None:
    for model in (StagedGroep, StagedLeerkracht, StagedLeerling):
        model.objects.filter(run=run).delete()


class _Verouderd(Exception):
    """The staged import was overtaken by another one applied since (see `apply`)."""


def apply(run: ImportRun, user: Any = None) -> dict[str, int]:
    """GEGEVENS IMPORTEREN. Returns the counts written; raises ImportFout (plain Dutch) and then changed nothing."""
    try:
        with transaction.atomic():
            # One import of a school at a time (a second admin, or the nightly sync): the school's row is the lock.
            School.objects.select_for_update().filter(pk=run.school_id).first()
            locked = ImportRun.objects.select_for_update().get(pk=run.pk)
            if locked.state != ImportRun.STAGED:
                raise ImportFout(_("This import has already been finished or aborted; start a new import."))
            if ImportRun.objects.filter(
                school_id=locked.school_id, state=ImportRun.APPLIED, finished_at__gt=locked.created_at
            ).exists():
                # Another import was applied after this one was compared with the application's data: its "new"
                # records may exist by now and would be added twice.
                raise _Verouderd
            resultaat = _apply(locked, user)
            locked.state, locked.finished_at, locked.resultaat = ImportRun.APPLIED, timezone.now(), resultaat
            locked.save(update_fields=["state", "finished_at", "resultaat"])
            _drop_staged(locked)
    except ImportFout:
        raise
    except _Verouderd:
        afbreken(run)
        raise ImportFout(
            _(
                "Another import for this school was carried out after this one was prepared, so its data are out "
                "of date. Nothing has been changed; start a new import."
            )
        ) from None
    except Exception as exc:
        log.exception("import %s failed", run.pk)
        with transaction.atomic():
            failed = ImportRun.objects.filter(pk=run.pk, state=ImportRun.STAGED).update(
                state=ImportRun.FAILED, finished_at=timezone.now(), fout=type(exc).__name__
            )
            if failed:
                _drop_staged(run)
        raise ImportFout(
            _(
                "Importing failed because of an error while saving. Nothing has been changed; "
                "start the import again or contact the service desk."
            )
        ) from exc
    run.refresh_from_db()
    return resultaat


def _check_emails(leerkrachten: Sequence[Any]) -> None:
    missing, wrong = [], []
    for t in leerkrachten:
        if t.besluit != Besluit.NIEUW:
            continue
        if not t.email:
            missing.append(t.naam)
            continue
        try:
            validate_email(t.email)
        except ValidationError:
            wrong.append(t.naam)
    if missing:
        raise ImportFout(
            _("Fill in an e-mail address for the new teacher(s): %(names)s.") % {"names": ", ".join(missing[:10])}
        )
    if wrong:
        raise ImportFout(_("The e-mail address is invalid for: %(names)s.") % {"names": ", ".join(wrong[:10])})


def _apply(run: ImportRun, user: Any) -> dict[str, int]:
    groepen, leerkrachten, leerlingen = load(run)
    # Decide again inside the transaction: another import may have been applied since this one was staged.
    reconcile(run, groepen, leerkrachten, leerlingen)
    _check_emails(leerkrachten)
    school_id, now = run.school_id, timezone.now()
    result = {
        "groepen_nieuw": 0,
        "groepen_gewijzigd": 0,
        "leerkrachten_nieuw": 0,
        "leerkrachten_gewijzigd": 0,
        "leerlingen_nieuw": 0,
        "leerlingen_gewijzigd": 0,
        "leerlingen_gedeactiveerd": 0,
        "groepen_gearchiveerd": 0,
        "leerkrachten_gedeactiveerd": 0,
        # Changes only (not totals), so that an import that changes nothing writes all zeros.
        "lidmaatschappen_toegevoegd": 0,
        "lidmaatschappen_verwijderd": 0,
    }

    # Groups
    archief = te_archiveren(run, _imported_groups(groepen))
    group_id: dict[str, int] = {}
    new_groups = [
        Groep(
            school_id=school_id,
            naam=g.naam,
            jaargroep=g.jaargroep,
            soort=g.soort,
            schooljaar=run.schooljaar,
            extern_key=g.key,
        )
        for g in groepen
        if g.besluit == Besluit.NIEUW
    ]
    Groep.objects.bulk_create(new_groups, batch_size=BATCH)
    for obj in new_groups:
        group_id[obj.extern_key] = obj.pk
    changed = [g for g in groepen if g.besluit == Besluit.BESTAAND and g.wijzigt]
    existing = Groep.objects.in_bulk([g.target_id for g in changed])
    for g in changed:
        obj = existing[g.target_id]
        obj.naam, obj.jaargroep, obj.soort, obj.extern_key = g.naam, g.jaargroep, g.soort, g.key
        obj.schooljaar, obj.gearchiveerd = run.schooljaar, False
    Groep.objects.bulk_update(
        existing.values(), ["naam", "jaargroep", "soort", "extern_key", "schooljaar", "gearchiveerd"], batch_size=BATCH
    )
    for g in groepen:
        if g.besluit == Besluit.BESTAAND:
            group_id[g.key] = g.target_id  # type: ignore[assignment]
    deactiveren = te_deactiveren(run, _imported_groups(groepen), _in_import(leerlingen), archief)
    Groep.objects.filter(pk__in=archief).update(gearchiveerd=True)
    result.update(groepen_nieuw=len(new_groups), groepen_gewijzigd=len(changed), groepen_gearchiveerd=len(archief))

    # Teachers (the missing ones are decided before the new ones exist: those are not in the LAS list as targets)
    lk_deactiveren = leerkrachten_te_deactiveren(run, _in_import(leerkrachten))
    new_teachers = [
        (
            t,
            Leerkracht(
                school_id=school_id,
                achternaam=t.achternaam,
                voorvoegsel=t.voorvoegsel,
                roepnaam=t.roepnaam,
                email=t.email,
                extern_key=t.key,
                eckid=t.eckid,
            ),
        )
        for t in leerkrachten
        if t.besluit == Besluit.NIEUW
    ]
    Leerkracht.objects.bulk_create([obj for _, obj in new_teachers], batch_size=BATCH)
    changed_t = [t for t in leerkrachten if t.besluit == Besluit.BESTAAND and t.wijzigt]
    existing_t = Leerkracht.objects.in_bulk([t.target_id for t in changed_t])
    for t in changed_t:
        teacher = existing_t[t.target_id]
        _copy_person(teacher, t)
        if t.email:
            teacher.email = t.email
        teacher.actief, teacher.deactivated_at = True, None
    Leerkracht.objects.bulk_update(
        existing_t.values(), [*_PERSON, "email", "actief", "deactivated_at"], batch_size=BATCH
    )
    run_groups = set(group_id.values())
    through = Leerkracht.groepen.through
    links = [(obj.pk, t) for t, obj in new_teachers] + [(t.target_id, t) for t in changed_t]
    through.objects.filter(leerkracht_id__in=[pk for pk, _ in links], groep_id__in=run_groups).delete()
    rows = []
    for pk, t in links:
        for key in dict.fromkeys(filter(None, t.groep_keys.split("\n"))):
            if key in group_id:
                rows.append(through(leerkracht_id=pk, groep_id=group_id[key]))
    through.objects.bulk_create(rows, batch_size=BATCH)
    # Group links stay (as a deactivated pupil keeps its group): the pages show active teachers only.
    for start in range(0, len(lk_deactiveren), BATCH):
        Leerkracht.objects.filter(pk__in=lk_deactiveren[start : start + BATCH]).update(actief=False, deactivated_at=now)
    result.update(
        leerkrachten_nieuw=len(new_teachers),
        leerkrachten_gewijzigd=len(changed_t),
        leerkrachten_gedeactiveerd=len(lk_deactiveren),
    )

    # Pupils: the big table, written with plain executemany (no ids needed back).
    new_pupils = [
        (
            school_id,
            p.achternaam,
            p.voorvoegsel,
            p.roepnaam,
            p.key,
            p.eckid,
            p.geboortedatum,
            p.jaargroep,
            group_id.get(p.groep_key),
            True,
            None,
        )
        for p in leerlingen
        if p.besluit == Besluit.NIEUW
    ]
    eerste_nieuw = Leerling.objects.aggregate(m=Max("id"))["m"] or 0
    bulk.insert(Leerling, _PUPIL_INSERT, new_pupils)
    changed_p = [p for p in leerlingen if p.besluit == Besluit.BESTAAND and p.wijzigt]
    if changed_p:
        huidig = {
            pk: (key, eckid)
            for pk, key, eckid in Leerling.objects.filter(school_id=school_id).values_list("id", "extern_key", "eckid")
        }
        updates = []
        for p in changed_p:
            key, eckid = huidig[p.target_id]  # type: ignore[index]
            # A LAS that starts sending ECK iDs re-keys the record in place; an absent value keeps the old one.
            updates.append(
                (
                    p.achternaam,
                    p.voorvoegsel,
                    p.roepnaam,
                    p.key or key,
                    p.eckid or eckid,
                    p.geboortedatum,
                    p.jaargroep,
                    group_id.get(p.groep_key) if p.groep_key else None,
                    True,
                    None,
                    p.target_id,
                )
            )
        bulk.update(Leerling, _PUPIL_UPDATE, updates)
    for start in range(0, len(deactiveren), BATCH):
        Leerling.objects.filter(pk__in=deactiveren[start : start + BATCH]).update(actief=False, deactivated_at=now)
    result.update(
        leerlingen_nieuw=len(new_pupils), leerlingen_gewijzigd=len(changed_p), leerlingen_gedeactiveerd=len(deactiveren)
    )
    toegevoegd, verwijderd = _samengestelde_leden(run, groepen, leerlingen, group_id, eerste_nieuw)
    result.update(lidmaatschappen_toegevoegd=toegevoegd, lidmaatschappen_verwijderd=verwijderd)

    _save_rules(run, user, groepen, leerkrachten, leerlingen)
    return result


def _samengestelde_leden(
    run: ImportRun, groepen: Sequence[Any], leerlingen: Sequence[Any], group_id: dict[str, int], na_id: int
) -> tuple[int, int]:
    """Make the membership of this import's samengestelde groepen exactly what the LAS sent.

    Written as a difference (only what changed), so an unchanged import writes nothing. A pupil missing from the
    import, or no longer listed in a group, loses that membership; a matched pupil set to Niet importeren keeps
    its memberships untouched, as it keeps everything else. Groups outside this import are not touched.
    Returns (added, removed).
    """
    sg_ids = {group_id[g.key] for g in groepen if g.soort == Groep.SAMENGESTELD and g.key in group_id}
    if not sg_ids:
        return 0, 0
    nieuw_id: dict[tuple[str, str], int] = {}
    if any(p.besluit == Besluit.NIEUW and p.samengestelde_keys for p in leerlingen):
        # The new pupils were written without returning ids: find them by their numbers among this run's inserts.
        qs = Leerling.objects.filter(school_id=run.school_id, id__gt=na_id)
        nieuw_id = {(key, eckid): pk for pk, key, eckid in qs.values_list("id", "extern_key", "eckid")}
    gewenst: set[tuple[int, int]] = set()
    ongemoeid: set[int] = set()
    for p in leerlingen:
        if p.besluit == Besluit.NIET:
            if p.target_id is not None:
                ongemoeid.add(p.target_id)
            continue
        if not p.samengestelde_keys:
            continue
        pk = p.target_id if p.besluit == Besluit.BESTAAND else nieuw_id.get((p.key, p.eckid))
        if pk is None:
            continue
        for key in p.samengestelde_keys.split("\n"):
            gid = group_id.get(key)
            if gid in sg_ids:
                gewenst.add((pk, gid))
    through = Leerling.samengestelde_groepen.through
    huidig = {
        (ll, g): pk
        for pk, ll, g in through.objects.filter(groep_id__in=sg_ids).values_list("id", "leerling_id", "groep_id")
    }
    weg = [pk for (ll, g), pk in huidig.items() if (ll, g) not in gewenst and ll not in ongemoeid]
    for start in range(0, len(weg), BATCH):
        through.objects.filter(pk__in=weg[start : start + BATCH]).delete()
    erbij = [through(leerling_id=ll, groep_id=g) for ll, g in sorted(gewenst - huidig.keys())]
    through.objects.bulk_create(erbij, batch_size=BATCH)
    return len(erbij), len(weg)


def _copy_person(obj: Any, s: Any) -> None:
    obj.achternaam, obj.voorvoegsel, obj.roepnaam = s.achternaam, s.voorvoegsel, s.roepnaam
    if s.key:
        obj.extern_key = s.key
    if s.eckid:  # a LAS that starts sending ECK iDs re-keys the record in place
        obj.eckid = s.eckid


def _save_rules(run: ImportRun, user: Any, *groups_of_rows: Sequence[Any]) -> None:
    """Manual decisions become lasting rules, keyed on the ECK iD and the LAS key (replacing older ones)."""
    rules: list[LinkRule] = []
    stale = Q()
    for soort, rows in zip((LinkRule.GROEP, LinkRule.LEERKRACHT, LinkRule.LEERLING), groups_of_rows, strict=True):
        for row in rows:
            if not row.handmatig or row.reden != StagedRecord.HANDMATIG:
                continue
            eckid = getattr(row, "eckid", "")
            ids = Q(eckid=eckid) if eckid else Q()
            if row.key:
                ids |= Q(extern_key=row.key)
            stale |= Q(soort=soort) & ids
            if row.besluit == Besluit.BESTAAND:
                rules.append(
                    LinkRule(
                        school_id=run.school_id,
                        soort=soort,
                        eckid=eckid,
                        extern_key=row.key,
                        actie=LinkRule.KOPPEL,
                        target_id=row.target_id,
                        created_by=user,
                    )
                )
            elif row.besluit == Besluit.NIET:
                rules.append(
                    LinkRule(
                        school_id=run.school_id,
                        soort=soort,
                        eckid=eckid,
                        extern_key=row.key,
                        actie=LinkRule.NEGEER,
                        target_id=row.target_id,
                        created_by=user,
                    )
                )
    if rules or stale:
        if stale:
            LinkRule.objects.filter(Q(school_id=run.school_id) & stale).delete()
        LinkRule.objects.bulk_create(rules, batch_size=BATCH)
