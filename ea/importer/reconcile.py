"""Reconcile staged LAS records with the application's own groups, teachers and pupils.

Each staged record ends up Nieuw, Bestaand (with a target) or Niet importeren. Automatic links, in this order:
the ECK iD of an existing record, a lasting LinkRule keyed on the ECK iD, the LAS key of an existing record
(unless that record carries a different ECK iD: then it is someone else), a LinkRule keyed on the LAS key.
Records still unmatched get a proposal when exactly one unlinked record has the same name and birth date
(teachers: e-mail address); the wizard shows it as such and the user can change it. Decisions the user made by
hand (`handmatig`) are kept on every re-evaluation. A group set to Niet importeren takes its pupils with it.

Everything works on in-memory rows with dict lookups: one query per table, whatever the size of the school.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ea.importer.fouten import ImportFout
from ea.importer.rows import DECISION, GroepRow, LeerkrachtRow, LeerlingRow
from ea.models import (
    Besluit,
    Groep,
    ImportRun,
    Leerkracht,
    Leerling,
    LinkRule,
    StagedGroep,
    StagedLeerkracht,
    StagedLeerling,
    StagedRecord,
)

SUGGESTIE = "suggestie"
GROEP_NIET = "groep"
_FIELDS = list(DECISION)


def norm(value: str | None) -> str:
    text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode().lower()
    return " ".join(text.replace("-", " ").split())


@dataclass
class _Index:
    records: dict[int, dict[str, Any]]
    by_eckid: dict[str, int] = field(default_factory=dict)
    by_key: dict[str, int] = field(default_factory=dict)
    rule_eckid: dict[str, LinkRule] = field(default_factory=dict)
    rule_key: dict[str, LinkRule] = field(default_factory=dict)
    by_hint: dict[Hashable, list[int]] = field(default_factory=lambda: defaultdict(list))
    # Records that may only be chosen by hand (groups of another school year): not linked automatically.
    alleen_handmatig: set[int] = field(default_factory=set)


def _index(
    records: list[dict[str, Any]], rules: Sequence[LinkRule], hint: Callable[[dict[str, Any]], Hashable]
) -> _Index:
    index = _Index(records={r["id"]: r for r in records})
    for r in records:
        if r.get("eckid"):
            index.by_eckid.setdefault(r["eckid"], r["id"])
        if r.get("extern_key"):
            index.by_key.setdefault(r["extern_key"], r["id"])
        if not r.get("eckid") and not r.get("extern_key"):
            h = hint(r)
            if h is not None:
                index.by_hint[h].append(r["id"])
    for rule in sorted(rules, key=lambda x: x.id):  # newest rule wins
        if rule.eckid:
            index.rule_eckid[rule.eckid] = rule
        if rule.extern_key:
            index.rule_key[rule.extern_key] = rule
    return index


def _match(rows: Sequence[Any], index: _Index, hint: Callable[[Any], Hashable], has_eckid: bool) -> None:
    claimed: set[int] = set()
    for row in rows:
        if row.handmatig and row.target_id is not None:
            if row.target_id in index.records and row.target_id not in claimed:
                claimed.add(row.target_id)
            elif row.besluit == Besluit.BESTAAND:  # the record it pointed at is gone or taken: decide again
                row.handmatig = False
            else:
                row.target_id = None
    for row in rows:
        row.suggestie_id = None
        if row.handmatig:
            continue
        row.besluit, row.target_id, row.reden = Besluit.NIEUW, None, ""
        eckid = row.eckid if has_eckid else ""
        target, reden, negeer = None, "", False
        if eckid and (t := index.by_eckid.get(eckid)) is not None:
            target, reden = t, StagedRecord.AUTO_ECKID
        if target is None and eckid and (rule := index.rule_eckid.get(eckid)) is not None:
            target, reden, negeer = rule.target_id, StagedRecord.REGEL, rule.actie == LinkRule.NEGEER
        if target is None and not negeer and row.key and (t := index.by_key.get(row.key)) is not None:
            other = index.records[t].get("eckid") or ""
            if not (other and eckid and other != eckid):
                target, reden = t, StagedRecord.AUTO_KEY
        if target is None and not negeer and row.key and (rule := index.rule_key.get(row.key)) is not None:
            target, reden, negeer = rule.target_id, StagedRecord.REGEL, rule.actie == LinkRule.NEGEER
        if negeer:
            row.besluit, row.reden = Besluit.NIET, StagedRecord.REGEL
            if target in index.records and target not in index.alleen_handmatig and target not in claimed:
                row.target_id = target
                claimed.add(target)
            continue
        usable = target in index.records and target not in index.alleen_handmatig
        if target is not None and usable and target not in claimed:
            row.besluit, row.target_id, row.reden = Besluit.BESTAAND, target, reden
            claimed.add(target)
    # Proposals last, so that no proposal takes a record another row links to by its numbers.
    for row in rows:
        if row.besluit != Besluit.NIEUW or row.handmatig:
            continue
        h = hint(row)
        candidates = [c for c in index.by_hint.get(h, ()) if c not in claimed] if h is not None else []
        if len(candidates) == 1:
            row.besluit, row.target_id, row.reden = Besluit.BESTAAND, candidates[0], SUGGESTIE
            claimed.add(candidates[0])


def _pupil_hint(r: Any) -> Hashable:
    get = r.get if isinstance(r, dict) else lambda k: getattr(r, k)
    if not get("geboortedatum") or not get("achternaam"):
        return None
    return (norm(f"{get('voorvoegsel')} {get('achternaam')}"), norm(get("roepnaam")), get("geboortedatum"))


def _teacher_hint(r: Any) -> Hashable:
    email = r.get("email") if isinstance(r, dict) else r.email
    return norm(email) or None


def _group_hint(r: Any) -> Hashable:
    return norm(r.get("naam") if isinstance(r, dict) else r.naam) or None


def _rules(school_id: int) -> dict[str, list[LinkRule]]:
    rules: dict[str, list[LinkRule]] = defaultdict(list)
    for rule in LinkRule.objects.filter(school_id=school_id):
        rules[rule.soort].append(rule)
    return rules


def existing_groups(run: ImportRun) -> list[dict[str, Any]]:
    """Groups a staged group may link to: the school's groups that are not archived."""
    qs = Groep.objects.filter(school_id=run.school_id, gearchiveerd=False)
    return _rows(qs, "id", "naam", "jaargroep", "soort", "schooljaar", "extern_key", "gearchiveerd")


def _rows(qs: QuerySet[Any], *fields: str) -> list[dict[str, Any]]:
    """The records as plain dicts (what values() gives; django-stubs types them as TypedDicts, not needed here)."""
    return cast(list[dict[str, Any]], list(qs.values(*fields)))


def reconcile(
    run: ImportRun,
    groepen: Sequence[GroepRow],
    leerkrachten: Sequence[LeerkrachtRow],
    leerlingen: Sequence[LeerlingRow],
) -> None:
    """Decide every staged row in place (keeping manual decisions) and flag the existing records that change."""
    rules = _rules(run.school_id)
    g_records = existing_groups(run)
    # Only this school year's (or year-less) groups link automatically; at a jaarovergang the LAS's new groups
    # become new groups and last year's are archived. An older group can still be chosen by hand.
    dit_jaar = [g for g in g_records if g["schooljaar"] in (run.schooljaar, "")]
    g_index = _index(dit_jaar, rules[LinkRule.GROEP], _group_hint)
    for rec in g_records:
        if rec["id"] not in g_index.records:
            g_index.records[rec["id"]] = rec
            g_index.alleen_handmatig.add(rec["id"])
    _match(groepen, g_index, _group_hint, has_eckid=False)

    t_records = _rows(
        Leerkracht.objects.filter(school_id=run.school_id),
        "id",
        "achternaam",
        "voorvoegsel",
        "roepnaam",
        "email",
        "extern_key",
        "eckid",
        "actief",
    )
    t_index = _index(t_records, rules[LinkRule.LEERKRACHT], _teacher_hint)
    _match(leerkrachten, t_index, _teacher_hint, has_eckid=True)

    p_records = _rows(
        Leerling.objects.filter(school_id=run.school_id),
        "id",
        "achternaam",
        "voorvoegsel",
        "roepnaam",
        "geboortedatum",
        "jaargroep",
        "groep_id",
        "extern_key",
        "eckid",
        "actief",
    )
    p_index = _index(p_records, rules[LinkRule.LEERLING], _pupil_hint)
    _match(leerlingen, p_index, _pupil_hint, has_eckid=True)

    niet = {g.key for g in groepen if g.besluit == Besluit.NIET}
    for row in leerlingen:
        if row.groep_key in niet:
            row.besluit, row.reden, row.handmatig = Besluit.NIET, GROEP_NIET, False
            # Keep target_id: a matched pupil who is not imported must not count as missing from the import.
        elif row.reden == GROEP_NIET:
            row.reden = ""

    group_target = {g.key: (g.target_id if g.besluit == Besluit.BESTAAND else None) for g in groepen}
    for g in groepen:
        g.wijzigt = (
            g.besluit == Besluit.BESTAAND
            and g.target_id is not None
            and _group_changes(g, g_index.records[g.target_id], run)
        )
    run_group_ids = {t for t in group_target.values() if t}
    memberships: dict[int, set[int]] = defaultdict(set)
    if any(t.besluit == Besluit.BESTAAND for t in leerkrachten):
        through = Leerkracht.groepen.through.objects.filter(leerkracht__school_id=run.school_id)
        for lk_id, g_id in through.values_list("leerkracht_id", "groep_id"):
            memberships[lk_id].add(g_id)
    groep_by_key = {g.key: g for g in groepen}
    for t in leerkrachten:
        t.wijzigt = (
            t.besluit == Besluit.BESTAAND
            and t.target_id is not None
            and _teacher_changes(
                t,
                t_index.records[t.target_id],
                memberships[t.target_id] & run_group_ids,
                groepen_doel(t.groep_keys, groep_by_key),
            )
        )
    samengesteld = {g.key: g for g in groepen if g.soort == Groep.SAMENGESTELD}
    run_sg_ids = {t for k, t in group_target.items() if t and k in samengesteld}
    lid_van: dict[int, set[int]] = defaultdict(set)
    if run_sg_ids and any(p.besluit == Besluit.BESTAAND for p in leerlingen):
        leden = Leerling.samengestelde_groepen.through.objects.filter(groep_id__in=run_sg_ids)
        for ll_id, g_id in leden.values_list("leerling_id", "groep_id"):
            lid_van[ll_id].add(g_id)
    for p in leerlingen:
        if p.besluit != Besluit.BESTAAND:
            p.wijzigt = False
            continue
        target: int = p.target_id  # type: ignore[assignment]
        p.wijzigt = _pupil_changes(p, p_index.records[target], group_target) or _lidmaatschap_verandert(
            lid_van[target], groepen_doel(p.samengestelde_keys, samengesteld)
        )


def groepen_doel(keys: str, by_key: dict[str, GroepRow]) -> tuple[set[int], bool]:
    """(ids of existing groups, whether a new group is involved) that a record listing these group keys (one per
    line: a teacher's groups, a pupil's samengestelde groepen) will be linked to by this run."""
    ids: set[int] = set()
    nieuw = False
    for key in filter(None, keys.split("\n")):
        g = by_key.get(key)
        if g is None or g.besluit == Besluit.NIET:
            continue
        if g.besluit == Besluit.BESTAAND:
            ids.add(g.target_id)  # type: ignore[arg-type]
        else:
            nieuw = True
    return ids, nieuw


def _lidmaatschap_verandert(current: set[int], doel: tuple[set[int], bool]) -> bool:
    ids, nieuw = doel
    return nieuw or current != ids


def _group_changes(g: GroepRow, rec: dict[str, Any], run: ImportRun) -> bool:
    return (
        rec["naam"] != g.naam
        or rec["jaargroep"] != g.jaargroep
        or rec["soort"] != g.soort
        or rec["extern_key"] != g.key
        or rec["schooljaar"] != run.schooljaar
        or rec["gearchiveerd"]
    )


def _person_changes(s: Any, rec: dict[str, Any]) -> bool:
    return (
        rec["achternaam"] != s.achternaam
        or rec["voorvoegsel"] != s.voorvoegsel
        or rec["roepnaam"] != s.roepnaam
        or bool(s.key and rec["extern_key"] != s.key)
        or bool(s.eckid and rec["eckid"] != s.eckid)
        or not rec["actief"]
    )


def _teacher_changes(t: LeerkrachtRow, rec: dict[str, Any], current: set[int], doel: tuple[set[int], bool]) -> bool:
    ids, nieuw = doel
    return _person_changes(t, rec) or bool(t.email and norm(rec["email"]) != norm(t.email)) or nieuw or current != ids


def _pupil_changes(p: LeerlingRow, rec: dict[str, Any], group_target: dict[str, int | None]) -> bool:
    if p.groep_key and group_target.get(p.groep_key) is None:
        groep_verandert = True  # goes to a group that is created by this run
    else:
        groep_verandert = rec["groep_id"] != (group_target.get(p.groep_key) if p.groep_key else None)
    return (
        _person_changes(p, rec)
        or rec["geboortedatum"] != p.geboortedatum
        or rec["jaargroep"] != p.jaargroep
        or groep_verandert
    )


# ---------------------------------------------------------------------------------------------------------------
# Re-evaluation after a change by hand


def load(run: ImportRun) -> tuple[list[GroepRow], list[LeerkrachtRow], list[LeerlingRow]]:
    return GroepRow.load(run), LeerkrachtRow.load(run), LeerlingRow.load(run)


def herbereken(run: ImportRun) -> None:
    """Re-reconcile a staged run after a manual change; writes only the rows whose decision changed."""
    groepen, leerkrachten, leerlingen = load(run)
    before = [[r.decision() for r in rows] for rows in (groepen, leerkrachten, leerlingen)]
    reconcile(run, groepen, leerkrachten, leerlingen)
    kinds: tuple[tuple[list[Any], type[Any]], ...] = (
        (groepen, GroepRow),
        (leerkrachten, LeerkrachtRow),
        (leerlingen, LeerlingRow),
    )
    for (rows, cls), snap in zip(kinds, before, strict=True):
        cls.save_decisions([r for r, old in zip(rows, snap, strict=True) if r.decision() != old])


STAGED_MODELS: dict[str, type[Any]] = {
    LinkRule.GROEP: StagedGroep,
    LinkRule.LEERKRACHT: StagedLeerkracht,
    LinkRule.LEERLING: StagedLeerling,
}
TARGET_MODELS: dict[str, type[Any]] = {
    LinkRule.GROEP: Groep,
    LinkRule.LEERKRACHT: Leerkracht,
    LinkRule.LEERLING: Leerling,
}


def _staged(run: ImportRun, soort: str, staged_id: int) -> Any:
    if run.state != ImportRun.STAGED:
        raise ImportFout(_("This import has already been finished or aborted."))
    model = STAGED_MODELS[soort]
    try:
        return model.objects.get(run=run, pk=staged_id)
    except model.DoesNotExist:
        raise ImportFout(_("This record does not belong to this import.")) from None


def koppel_handmatig(run: ImportRun, soort: str, staged_id: int, target_id: int) -> None:
    """Link a staged record to an existing record chosen by the user ("koppel")."""
    with transaction.atomic():
        row = _staged(run, soort, staged_id)
        target_qs = TARGET_MODELS[soort].objects.filter(school_id=run.school_id, pk=target_id)
        if soort == LinkRule.GROEP:
            target_qs = target_qs.filter(gearchiveerd=False)
        if not target_qs.exists():
            raise ImportFout(_("The chosen record does not exist (any more) at this school."))
        model = STAGED_MODELS[soort]
        # One existing record can be the target of one staged record only: a manual link takes it over.
        model.objects.filter(run=run, target_id=target_id, handmatig=True).exclude(pk=row.pk).update(
            handmatig=False, besluit=Besluit.NIEUW, target_id=None
        )
        row.besluit, row.target_id, row.reden, row.handmatig = Besluit.BESTAAND, target_id, StagedRecord.HANDMATIG, True
        row.save(update_fields=_FIELDS)
        herbereken(run)


def zet_besluit(run: ImportRun, soort: str, staged_id: int, besluit: str) -> None:
    """Set a staged record to Nieuw or Niet importeren by hand, or back to the automatic decision ("auto")."""
    with transaction.atomic():
        row = _staged(run, soort, staged_id)
        if besluit == "auto":
            row.handmatig = False
        elif besluit == Besluit.NIEUW:
            row.besluit, row.target_id, row.reden, row.handmatig = besluit, None, StagedRecord.HANDMATIG, True
        elif besluit == Besluit.NIET:
            # A matched record keeps its target: not importing it must not make it look absent from the LAS.
            target = row.target_id if row.besluit == Besluit.BESTAAND else None
            row.besluit, row.target_id, row.reden, row.handmatig = besluit, target, StagedRecord.HANDMATIG, True
        else:
            raise ImportFout(_("Unknown choice."))
        row.save(update_fields=_FIELDS)
        herbereken(run)


def zet_email(run: ImportRun, staged_id: int, email: str) -> None:
    """The e-mail address entered in the wizard for a new teacher the LAS sent without one."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ImportFout(_("'%(email)s' is not a valid e-mail address.") % {"email": email}) from None
    row = _staged(run, LinkRule.LEERKRACHT, staged_id)
    row.email = email[:256]
    row.save(update_fields=["email"])
