"""The nightly sync and the results flow: planning, claiming, doing and finishing jobs.

Everything a worker needs is here, so the same code runs in a huey worker (`sync.tasks`), in
`koppelpunt sync` (in-process) and in the demo's background thread. Every function is safe to call from any
number of processes at once: a job is taken with a conditional UPDATE and finished only by the holder of its
claim token.

One school's sync:
1. pull the school from its LAS with `laatstontvangengegevens` (the time the data now in the application was
   fetched); `geenwijzigingen` → done, nothing touched;
2. stage + reconcile with the import engine of the wizard (`ea.importer`);
3. apply automatically when every change links automatically, unless more than the school's hold share of its
   pupils would change or be deactivated (the sync hold); otherwise keep the import pending and e-mail the school's
   admins a link to the wizard.
A LAS that is down or answers a Server fault is retried with exponential backoff; a Client fault (wrong key,
connection ended at the school…) is not retried: the service desk sees it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from ea import importer
from ea import koppelen as ea_koppelen
from ea import tasks as ea_tasks
from ea.importer.reconcile import SUGGESTIE
from ea.models import (
    Besluit,
    ImportRun,
    LasKoppeling,
    Leerkracht,
    Leerling,
    School,
    StagedGroep,
    StagedLeerkracht,
    StagedLeerling,
)
from koppelpunt.jobs import Hartslag, claim_token, worker_naam
from sync import conf
from sync.models import ResultPush, SyncInstelling, SyncNacht, SyncRun, Toets, ToetsResultaat
from uwlr import faults, leerresultaten, model, soap
from uwlr.client import SchoolId, UwlrClient, school_mismatch
from uwlr.transport import HttpxTransport, Transport
from uwlr.validation import OngeldigAntwoord

log = logging.getLogger(__name__)

class ClaimVerloren(Exception):
    """This worker's claim was taken back (its lease ran out): its work must not be written."""


# ---------------------------------------------------------------------------------------------------------------
# Dispatch: how a job id reaches a worker. Replaced in tests; the default sends a huey message after commit.


def _huey_dispatch(kind: str, pk: int, delay: float | None) -> None:
    from sync import tasks

    task = tasks.sync_task if kind == "sync" else tasks.push_task
    if delay and delay > 0:
        task.schedule((pk,), delay=delay)
    else:
        task(pk)


dispatch: Callable[[str, int, float | None], None] = _huey_dispatch


def _enqueue(kind: str, ids: Sequence[int], delay: float | None = None) -> None:
    if not ids:
        return
    model_cls = SyncRun if kind == "sync" else ResultPush
    # When the message is expected to be delivered: a job still waiting well after that lost its message.
    expected = timezone.now() + dt.timedelta(seconds=delay or 0)
    model_cls.objects.filter(pk__in=list(ids)).update(enqueued_at=expected)

    def send() -> None:
        for pk in ids:
            try:
                dispatch(kind, pk, delay)
            except Exception:  # the job stays planned in our table; the scheduler's sweep sends it again
                log.exception("could not enqueue %s %s", kind, pk)

    transaction.on_commit(send)


# ---------------------------------------------------------------------------------------------------------------
# Settings per connection


def instelling(school: School | int) -> SyncInstelling:
    school_id = school if isinstance(school, int) else school.pk
    obj, _ = SyncInstelling.objects.get_or_create(school_id=school_id)
    return obj


def actieve_koppelingen() -> Any:
    return LasKoppeling.objects.filter(status=LasKoppeling.GOEDGEKEURD).select_related("las_type", "school")


def _vandaag(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


# ---------------------------------------------------------------------------------------------------------------
# Planning


def plan_nacht(datum: dt.date | None = None, *, enqueue: bool = True) -> list[int]:
    """Plan the night's sync of every approved connection (not paused, sync on) and the results pushes.
    Idempotent: a school already planned for this night, or with an unfinished run, is left alone."""
    datum = datum or _vandaag()
    pauzes = {i.school_id: i for i in SyncInstelling.objects.all()}
    ids: list[int] = []
    for koppeling in actieve_koppelingen().order_by("pk"):
        inst = pauzes.get(koppeling.school_id)
        if inst is not None and (not inst.actief or inst.gepauzeerd(datum)):
            continue
        try:
            with transaction.atomic():
                run = SyncRun.objects.create(
                    school_id=koppeling.school_id, koppeling=koppeling, nacht=datum, aanleiding=SyncRun.NACHT
                )
        except IntegrityError:
            continue
        ids.append(run.pk)
    if enqueue:
        _enqueue("sync", ids)
    plan_pushes(enqueue=enqueue)
    log.info("night %s planned: %d syncs", datum, len(ids))
    return ids


def plan_handmatig(school_ids: Iterable[int] | None = None, *, enqueue: bool = False) -> list[int]:
    """`koppelpunt sync`: a run now for these schools (all approved connections when None). A school with an
    unfinished run keeps that one (its id is returned), so a manual sync never runs next to the nightly one."""
    qs = actieve_koppelingen().order_by("school_id")
    if school_ids is not None:
        qs = qs.filter(school_id__in=list(school_ids))
    ids: list[int] = []
    nieuw: list[int] = []
    for koppeling in qs:
        try:
            with transaction.atomic():
                run = SyncRun.objects.create(
                    school_id=koppeling.school_id,
                    koppeling=koppeling,
                    nacht=_vandaag(),
                    aanleiding=SyncRun.HANDMATIG,
                )
            nieuw.append(run.pk)
            ids.append(run.pk)
        except IntegrityError:
            bestaand = SyncRun.objects.filter(school_id=koppeling.school_id, state__in=SyncRun.ACTIVE).first()
            if bestaand is not None:
                ids.append(bestaand.pk)
    if enqueue:
        _enqueue("sync", nieuw)
    return ids


def _pushbare_resultaten(school_id: int) -> Any:
    return ToetsResultaat.objects.filter(school_id=school_id, push__isnull=True, afgeleverd_op__isnull=True).exclude(
        leerling__extern_key=""
    )


def plan_pushes(school_ids: Iterable[int] | None = None, *, enqueue: bool = True) -> list[int]:
    """Put every school's new results (of pupils the LAS knows) in a push, one unfinished push per school."""
    scholen = ToetsResultaat.objects.filter(push__isnull=True, afgeleverd_op__isnull=True)
    if school_ids is not None:
        scholen = scholen.filter(school_id__in=list(school_ids))
    school_set = set(scholen.values_list("school_id", flat=True).distinct())
    koppelingen = {k.school_id: k for k in actieve_koppelingen().filter(school_id__in=school_set)}
    batch = conf.get("KOPPELPUNT_PUSH_BATCH")
    ids: list[int] = []
    for school_id in sorted(koppelingen):
        try:
            with transaction.atomic():
                push = ResultPush.objects.create(school_id=school_id, koppeling=koppelingen[school_id])
                pks = list(_pushbare_resultaten(school_id).order_by("pk").values_list("pk", flat=True)[:batch])
                if not pks:
                    raise _Leeg
                n = ToetsResultaat.objects.filter(pk__in=pks, push__isnull=True).update(push=push)
                ResultPush.objects.filter(pk=push.pk).update(aantal=n)
        except (IntegrityError, _Leeg):
            continue
        ids.append(push.pk)
    if enqueue:
        _enqueue("push", ids)
    return ids


class _Leeg(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------
# Claims


def claim(model_cls: type[SyncRun] | type[ResultPush], pk: int, worker: str) -> str | None:
    """Take job `pk` if it is waiting and due: returns the claim token, or None when another worker has it,
    it is finished, or it is not due yet."""
    now = timezone.now()
    token = claim_token(worker)
    waiting = SyncRun.PLANNED if model_cls is SyncRun else ResultPush.QUEUED
    taken = model_cls.objects.filter(pk=pk, state=waiting, not_before__lte=now).update(
        state=model_cls.CLAIMED, worker=token, claimed_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    return token if taken == 1 else None


def _fenced(model_cls: type[SyncRun] | type[ResultPush], pk: int, token: str, **fields: Any) -> bool:
    """Write fields only while `token` still holds the claim; False when the claim was lost."""
    return model_cls.objects.filter(pk=pk, worker=token, state__in=model_cls.BUSY).update(**fields) == 1


def heartbeat(model_cls: type[SyncRun] | type[ResultPush], pk: int, token: str, **fields: Any) -> None:
    if not _fenced(model_cls, pk, token, heartbeat_at=timezone.now(), **fields):
        raise ClaimVerloren(f"{model_cls.__name__} {pk}")


def _hartslag(model_cls: type[SyncRun] | type[ResultPush], pk: int, token: str) -> Hartslag:
    return Hartslag(
        lambda: _fenced(model_cls, pk, token, heartbeat_at=timezone.now()),
        max(1.0, conf.get("KOPPELPUNT_SYNC_LEASE_SECONDS") / 4),
        f"heartbeat of {model_cls.__name__} {pk}",
    )


def reclaim_stale(now: dt.datetime | None = None) -> int:
    """Take back claims whose heartbeat stopped longer than the lease ago (a killed worker): the job is planned
    again, or marked failed when it has used all its attempts. Returns the number of jobs taken back."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=conf.get("KOPPELPUNT_SYNC_LEASE_SECONDS"))
    total = 0
    for model_cls, waiting, max_attempts in (
        (SyncRun, SyncRun.PLANNED, conf.get("KOPPELPUNT_SYNC_MAX_ATTEMPTS")),
        (ResultPush, ResultPush.QUEUED, conf.get("KOPPELPUNT_PUSH_MAX_ATTEMPTS")),
    ):
        stale = model_cls.objects.filter(state__in=model_cls.BUSY, heartbeat_at__lt=cutoff)
        total += stale.filter(attempts__gte=max_attempts).update(
            state=model_cls.FAILED,
            finished_at=now,
            fout="De verwerking stopte onverwacht (de worker is gestopt) en is te vaak opnieuw geprobeerd.",
        )
        ids = list(stale.values_list("pk", flat=True))
        n = model_cls.objects.filter(pk__in=ids, state__in=model_cls.BUSY, heartbeat_at__lt=cutoff).update(
            state=waiting, worker="", not_before=now, enqueued_at=None
        )
        if n:
            log.warning("took back %d stale %s claims", n, model_cls.__name__)
        total += n
    return total


def requeue_due(now: dt.datetime | None = None, *, alle: bool = False) -> int:
    """Send waiting jobs to the queue again when their message may have been lost: never sent, or still waiting
    long after it should have been delivered. With `alle` (a worker starting: the one before it may have died
    holding messages) every waiting job is sent again, a not-yet-due retry with its remaining delay. A duplicate
    message costs one failed claim."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=conf.get("KOPPELPUNT_REQUEUE_SECONDS"))
    count = 0
    for kind, model_cls, waiting in (("sync", SyncRun, SyncRun.PLANNED), ("push", ResultPush, ResultPush.QUEUED)):
        qs = model_cls.objects.filter(state=waiting)
        if not alle:
            qs = qs.filter(not_before__lte=now).filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff))
        due: list[int] = []
        for pk, not_before in qs.order_by("pk").values_list("pk", "not_before")[:10000]:
            if not_before <= now:
                due.append(pk)
            else:
                _enqueue(kind, [pk], delay=(not_before - now).total_seconds())
            count += 1
        _enqueue(kind, due)
    return count


def nacht_is_aan_de_beurt(now: dt.datetime | None = None) -> dt.date | None:
    local = timezone.localtime(now or timezone.now())
    return local.date() if local.time() >= conf.sync_time() else None


def volgende_sync(school: School, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the scheduler will next plan this school's sync (None when its sync is off)."""
    inst = instelling(school)
    if not inst.actief:
        return None
    local = timezone.localtime(now or timezone.now())
    datum = local.date()
    if SyncNacht.objects.filter(datum=datum, voltooid=True).exists() or local.time() >= conf.sync_time():
        datum += dt.timedelta(days=1)
    for _ in range(400):
        if not inst.gepauzeerd(datum):
            break
        datum += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(datum, conf.sync_time()))


def tick(now: dt.datetime | None = None) -> dict[str, int]:
    """The scheduler's minute: plan tonight once the sync time has passed (catching up a missed night), take back
    stale claims, and re-send jobs whose queue message was lost. Safe to run in several processes at once."""
    now = now or timezone.now()
    gepland = 0
    datum = nacht_is_aan_de_beurt(now)
    if datum is not None:
        nacht, _ = SyncNacht.objects.get_or_create(datum=datum)
        if not nacht.voltooid:
            gepland = len(plan_nacht(datum))
            SyncNacht.objects.filter(pk=nacht.pk).update(voltooid=True)
    teruggenomen = reclaim_stale(now)
    opnieuw = requeue_due(now) + ea_tasks.requeue_waiting(now)  # the import wizard's fetches too
    return {"gepland": gepland, "teruggenomen": teruggenomen, "opnieuw": opnieuw}


# ---------------------------------------------------------------------------------------------------------------
# One school's sync


def _autorisatie(koppeling: LasKoppeling) -> soap.Autorisatie:
    return soap.Autorisatie(
        autorisatiesleutel=koppeling.autorisatiesleutel, klantcode=koppeling.klantcode, klantnaam=koppeling.klantnaam
    )


def _school_id(koppeling: LasKoppeling) -> SchoolId:
    if koppeling.schoolkey:
        return SchoolId(schoolkey=koppeling.schoolkey)
    dep = koppeling.dependancecode if koppeling.dependancecode not in ("", "00") else None
    return SchoolId(koppeling.brincode, dep)


def _delta_sleutel(koppeling: LasKoppeling) -> str:
    return "|".join(
        [str(koppeling.pk), koppeling.schooljaar, koppeling.brincode, koppeling.dependancecode, koppeling.schoolkey]
    )


_local = threading.local()


def _transport() -> Transport:
    """One pooled HTTP transport per worker thread: a new one per job would load the CA bundle every time (tens
    of ms) and open new connections. Tests that replace `ea.koppelen.transport_factory` get theirs each time."""
    if ea_koppelen.transport_factory is not HttpxTransport:
        return ea_koppelen.transport_factory()
    transport = getattr(_local, "transport", None)
    if transport is None:
        transport = _local.transport = HttpxTransport()
    return transport


def close_transport() -> None:
    """Close this thread's pooled transport (call when a thread that did jobs ends)."""
    transport = getattr(_local, "transport", None)
    if transport is not None:
        _local.transport = None
        transport.close()


def _client(koppeling: LasKoppeling) -> UwlrClient:
    las_type = koppeling.las_type
    return UwlrClient(
        las_type.leerlinggegevens_adres or None,
        las_type.leerresultaten_adres or None,
        _autorisatie(koppeling),
        _transport(),
        float(conf.get("KOPPELPUNT_LAS_TIMEOUT")),
    )


def _close(client: UwlrClient) -> None:
    if client.transport is getattr(_local, "transport", None):
        return  # kept for the next job of this thread
    close = getattr(client.transport, "close", None)
    if callable(close):
        close()


def _is_tijdelijk(exc: BaseException) -> bool:
    """Worth trying again later: the LAS could not be reached or had a problem of its own."""
    if isinstance(exc, faults.TransportError):
        return True
    return isinstance(exc, faults.UwlrFault) and not exc.is_client_fault


@dataclass
class _Uitkomst:
    state: str
    uitkomst: str = ""
    fout: str = ""
    resultaat: dict[str, Any] | None = None
    import_run: ImportRun | None = None
    al_geschreven: bool = False  # the end state was written together with the import


def execute_run(run_id: int, worker: str | None = None) -> str | None:
    """Claim and do one sync. Returns its end state, or None when this worker did not get it. Never raises
    for a problem of the school: that ends in the run's state (one school's failure never stops the others)."""
    worker = worker or worker_naam()
    token = claim(SyncRun, run_id, worker)
    if token is None:
        return None
    run = SyncRun.objects.select_related("koppeling__las_type", "school").get(pk=run_id)
    try:
        heartbeat(SyncRun, run.pk, token, state=SyncRun.RUNNING)
        with _hartslag(SyncRun, run.pk, token):
            uitkomst = _sync(run, token)
    except ClaimVerloren:
        log.warning("sync %s: claim lost, work discarded", run_id)
        return None
    except Exception as exc:
        if _is_tijdelijk(exc):
            return _opnieuw_of_mislukt(run, token, exc)
        if isinstance(exc, faults.UwlrFault | OngeldigAntwoord | faults.TransportError):
            fout = ea_koppelen.melding_voor(exc, run.koppeling)
        elif isinstance(exc, importer.ImportFout):
            fout = str(exc)
        else:
            log.exception("sync %s of school %s failed", run_id, run.school_id)
            fout = "Er ging iets mis bij het verwerken (interne fout); de klantenservice is gewaarschuwd."
        uitkomst = _Uitkomst(SyncRun.FAILED, fout=fout)
    if not uitkomst.al_geschreven and not _fenced(
        SyncRun,
        run.pk,
        token,
        state=uitkomst.state,
        uitkomst=uitkomst.uitkomst,
        fout=uitkomst.fout,
        resultaat=uitkomst.resultaat or {},
        import_run=uitkomst.import_run,
        finished_at=timezone.now(),
    ):
        log.warning("sync %s: claim lost before finishing", run_id)
        return None
    log.info("sync %s of school %s: %s", run_id, run.school_id, uitkomst.state)
    return uitkomst.state


def _opnieuw_of_mislukt(run: SyncRun, token: str, exc: BaseException) -> str | None:
    fresh = SyncRun.objects.get(pk=run.pk)
    fout = ea_koppelen.melding_voor(exc, run.koppeling)
    if fresh.attempts >= conf.get("KOPPELPUNT_SYNC_MAX_ATTEMPTS"):
        ok = _fenced(SyncRun, run.pk, token, state=SyncRun.FAILED, fout=fout, finished_at=timezone.now())
        return SyncRun.FAILED if ok else None
    wait = conf.backoff(fresh.attempts)
    ok = _fenced(SyncRun, run.pk, token, state=SyncRun.PLANNED, worker="", fout=fout, not_before=timezone.now() + wait)
    if ok:
        _enqueue("sync", [run.pk], delay=wait.total_seconds())
        log.info("sync %s: LAS not available (%s), again in %s", run.pk, type(exc).__name__, wait)
        return SyncRun.PLANNED
    return None


def _open_import(school_id: int) -> ImportRun | None:
    return ImportRun.objects.filter(school_id=school_id, state=ImportRun.STAGED).order_by("-created_at").first()


def _handwerk(ir: ImportRun) -> bool:
    """Did a person start or touch this pending import? Then it is theirs and the sync leaves it alone."""
    if ir.created_by_id is not None:
        return True
    return any(
        m.objects.filter(run=ir, handmatig=True).exists() for m in (StagedGroep, StagedLeerkracht, StagedLeerling)
    )


def _sync(run: SyncRun, token: str) -> _Uitkomst:
    koppeling = run.koppeling
    if koppeling is None or koppeling.status != LasKoppeling.GOEDGEKEURD:
        # Renewed since the run was planned: sync with the school's current connection, if it has one.
        koppeling = actieve_koppelingen().filter(school_id=run.school_id).first()
        if koppeling is None:
            return _Uitkomst(
                SyncRun.FAILED, fout="Deze school heeft geen actieve koppeling meer; er is niets opgehaald."
            )
    inst = instelling(run.school_id)
    open_run = _open_import(run.school_id)
    if open_run is not None and _handwerk(open_run):
        return _Uitkomst(
            SyncRun.NEEDS_PERSON,
            fout="Er staat nog een import open die een beheerder moet afronden; er is niets opgehaald.",
            import_run=open_run,
        )
    if not koppeling.las_type.leerlinggegevens_adres:
        return _Uitkomst(
            SyncRun.FAILED,
            fout=f"Voor koppelingstype {koppeling.las_type.naam} is nog geen adres ingesteld; "
            "de klantenservice moet dat eerst invullen.",
        )
    since = inst.laatst_ontvangen if inst.delta_sleutel == _delta_sleutel(koppeling) else None
    opgehaald = timezone.now()
    client = _client(koppeling)
    try:
        antwoord = client.haal_school(
            _school_id(koppeling),
            koppeling.schooljaar,
            getrapt=koppeling.las_type.getrapt,
            xsdversie=koppeling.las_type.xsdversie,
            laatstontvangengegevens=timezone.localtime(since) if since else None,
        )
    finally:
        _close(client)
    heartbeat(SyncRun, run.pk, token)
    if isinstance(antwoord, model.GeenWijzigingen):
        if open_run is not None:  # last night's changes still wait for an admin
            return _Uitkomst(SyncRun.NEEDS_PERSON, uitkomst=SyncRun.GEEN_WIJZIGINGEN, import_run=open_run)
        return _Uitkomst(SyncRun.APPLIED, uitkomst=SyncRun.GEEN_WIJZIGINGEN)
    anders = (
        school_mismatch(_school_id(koppeling), antwoord.school)
        if isinstance(antwoord, model.Leerlinggegevens)
        else None
    )
    if anders:  # never import another school's pupils as this school's
        return _Uitkomst(SyncRun.FAILED, fout=anders)
    if not isinstance(antwoord, model.Leerlinggegevens) or not antwoord.leerlingen:
        return _Uitkomst(
            SyncRun.FAILED,
            fout=f"Het LAS heeft geen leerlingen voor deze school en schooljaar {koppeling.schooljaar}. "
            "Controleer de BRIN-code en het schooljaar van de koppeling.",
        )
    if open_run is not None:  # an earlier automatic import nobody looked at: fresh data replaces it
        importer.afbreken(open_run)
    ir = importer.stage(run.school, antwoord, koppeling=koppeling, schooljaar=koppeling.schooljaar)
    heartbeat(SyncRun, run.pk, token)
    return _beslis(run, token, inst, koppeling, ir, opgehaald)


def _telling(ir: ImportRun) -> dict[str, int]:
    """Records that need a person: new ones (nothing to link to) and proposals (same name, to be confirmed)."""
    telling: dict[str, int] = {}
    for soort, m in (("groepen", StagedGroep), ("leerkrachten", StagedLeerkracht), ("leerlingen", StagedLeerling)):
        telling[soort] = m.objects.filter(run=ir).filter(Q(besluit=Besluit.NIEUW) | Q(reden=SUGGESTIE)).count()
    return telling


def _beslis(
    run: SyncRun, token: str, inst: SyncInstelling, koppeling: LasKoppeling, ir: ImportRun, opgehaald: dt.datetime
) -> _Uitkomst:
    telling = _telling(ir)
    samenvatting = importer.samenvatting(ir)
    resultaat: dict[str, Any] = {"handwerk": telling}
    for soort in ("groepen", "leerkrachten", "leerlingen"):
        resultaat[soort] = {k: samenvatting[soort][k] for k in ("nieuw", "te_wijzigen", "ongewijzigd", "niet")}
    resultaat["te_deactiveren"] = samenvatting["te_deactiveren"]
    if any(telling.values()):
        _mail(ir, "niet_automatisch", {"telling": telling})
        return _Uitkomst(SyncRun.NEEDS_PERSON, resultaat=resultaat, import_run=ir)
    actief = Leerling.objects.filter(school_id=run.school_id, actief=True).count()
    geraakt = samenvatting["leerlingen"]["te_wijzigen"] + samenvatting["te_deactiveren"]
    aandeel = 100.0 * geraakt / actief if actief else 0.0
    resultaat["aandeel"] = round(aandeel, 1)
    if actief and aandeel > inst.hold_percentage:
        _mail(ir, "vastgehouden", {"aandeel": round(aandeel), "drempel": inst.hold_percentage, "geraakt": geraakt})
        return _Uitkomst(
            SyncRun.HELD,
            fout=f"Vastgehouden: {geraakt} van de {actief} leerlingen ({aandeel:.0f}%) zouden wijzigen of "
            f"gedeactiveerd worden; de grens is {inst.hold_percentage}%.",
            resultaat=resultaat,
            import_run=ir,
        )
    # Teachers are switched off too when a complete teacher list leaves them out; a LAS that one night sends a
    # shortened list would otherwise lock a school's teachers out of the application without anyone deciding it.
    lk_weg = samenvatting["leerkrachten_te_deactiveren"]
    resultaat["leerkrachten_te_deactiveren"] = lk_weg
    lk_actief = Leerkracht.objects.filter(school_id=run.school_id, actief=True).exclude(extern_key="").count()
    lk_aandeel = 100.0 * lk_weg / lk_actief if lk_actief else 0.0
    # One teacher leaving is everyday business, also at a small school where one is already a large share.
    if lk_weg > 1 and lk_aandeel > inst.hold_percentage:
        _mail(
            ir,
            "vastgehouden",
            {"leerkrachten": lk_weg, "lk_aandeel": round(lk_aandeel), "drempel": inst.hold_percentage},
        )
        return _Uitkomst(
            SyncRun.HELD,
            fout=f"Vastgehouden: {lk_weg} van de {lk_actief} leerkrachten uit het LAS ({lk_aandeel:.0f}%) zouden "
            f"gedeactiveerd worden; de grens is {inst.hold_percentage}%.",
            resultaat=resultaat,
            import_run=ir,
        )
    with transaction.atomic():
        geschreven = importer.apply(ir)
        # Finish inside the import's transaction: a worker whose claim was taken back writes nothing at all.
        if not _fenced(
            SyncRun,
            run.pk,
            token,
            state=SyncRun.APPLIED,
            uitkomst=SyncRun.BIJGEWERKT if any(geschreven.values()) else SyncRun.ONGEWIJZIGD,
            resultaat={**resultaat, "geschreven": geschreven},
            import_run=ir,
            fout="",
            finished_at=timezone.now(),
        ):
            raise ClaimVerloren(f"SyncRun {run.pk}")
        SyncInstelling.objects.filter(pk=inst.pk).update(
            laatst_ontvangen=opgehaald, delta_sleutel=_delta_sleutel(koppeling)
        )
    return _Uitkomst(SyncRun.APPLIED, import_run=ir, al_geschreven=True)


def _beheerder_adressen(school: School) -> list[str]:
    return sorted({b.user.email for b in school.beheerders.select_related("user") if b.user.email})


def _mail(ir: ImportRun, template: str, extra: dict[str, Any]) -> int:
    school = ir.school
    context = {
        "school": school,
        "applicatie": school.applicatie,
        "run": ir,
        "import_url": settings.BASE_URL.rstrip("/") + reverse("ea:import_tab", args=[school.pk, ir.pk, "groepen"]),
        **extra,
    }
    with translation.override("nl"):
        subject = render_to_string(f"sync/mail/{template}_onderwerp.txt", context).strip()
        body = render_to_string(f"sync/mail/{template}.txt", context)
    adressen = _beheerder_adressen(school)
    try:
        return send_mass_mail([(subject, body, settings.DEFAULT_FROM_EMAIL, [a]) for a in adressen])
    except Exception:  # the import stays pending and visible on the sync page; a lost mail must not fail the sync
        log.exception("mail %s for import %s could not be sent", template, ir.pk)
        return 0


# ---------------------------------------------------------------------------------------------------------------
# Results


def _per_leerling(push: ResultPush) -> list[list[ToetsResultaat]]:
    """The push's results not delivered yet, one list per pupil (the unit the LAS refuses or accepts)."""
    rows = (
        ToetsResultaat.objects.filter(push=push, afgeleverd_op__isnull=True)
        .select_related("leerling", "toets")
        .order_by("leerling_id", "pk")
    )
    per_leerling: dict[int, list[ToetsResultaat]] = {}
    for r in rows:
        per_leerling.setdefault(r.leerling_id, []).append(r)
    return list(per_leerling.values())


def _verzoek(
    leerlingen: Sequence[Sequence[ToetsResultaat]], koppeling: LasKoppeling
) -> leerresultaten.LeerresultatenVerzoek:
    afnames: list[leerresultaten.Toetsafname] = []
    toetsen: dict[int, Toets] = {}
    # A part may hold one pupil's results as separate units (split to find a refused score): one toetsafname each.
    samen: dict[int, list[ToetsResultaat]] = {}
    for items in leerlingen:
        samen.setdefault(items[0].leerling_id, []).extend(items)
    for items in samen.values():
        for r in items:
            toetsen[r.toets_id] = r.toets
        leerling = items[0].leerling
        afnames.append(
            leerresultaten.Toetsafname(
                leerlingid=leerling.extern_key,
                eckid=leerling.eckid or None,
                resultaten=tuple(
                    leerresultaten.Resultaat(
                        key=r.sleutel, afnamedatum=r.afnamedatum, toetscode=r.toets.code, score=r.score
                    )
                    for r in items
                ),
            )
        )
    if koppeling.schoolkey:
        ident: dict[str, Any] = {"schoolkey": koppeling.schoolkey}
    else:
        dep = koppeling.dependancecode if koppeling.dependancecode not in ("", "00") else None
        ident = {"brincode": koppeling.brincode, "dependancecode": dep}
    school = leerresultaten.ResultatenSchool(
        schooljaar=koppeling.schooljaar,
        aanmaakdatum=timezone.localtime(),
        xsdversie=koppeling.las_type.xsdversie or "2.2",
        auteur=koppeling.klantnaam[:128],
        **ident,
    )
    return leerresultaten.LeerresultatenVerzoek(
        school=school, toetsafnames=tuple(afnames), toetsen=tuple(_uwlr_toets(t) for t in toetsen.values())
    )


def _uwlr_toets(toets: Toets) -> leerresultaten.Toets:
    normering = None
    if toets.normering:
        normering = leerresultaten.Normering(
            norms=tuple(
                leerresultaten.Norm(
                    term=str(b["term"]),
                    beginnormwaarde=int(b["van"]),
                    eindnormwaarde=int(b["tot"]),
                    omschrijving=b.get("omschrijving") or None,
                )
                for b in toets.normering
            )
        )
    return leerresultaten.Toets(
        toetscode=leerresultaten.VocabulaireGebondenVeld(toets.code),
        toetsnaam=toets.naam[:128],
        toetsnormering=normering,
    )


def _foutcode(exc: faults.UwlrFault) -> str:
    """The code the LAS sent (also when it is not one of the standard's)."""
    return str(getattr(exc, "raw_code", exc.code))


def _fout_tekst(exc: faults.UwlrFault) -> str:
    code = _foutcode(exc)
    faultstring = getattr(exc, "raw_faultstring", exc.faultstring)
    return f"{faultstring}: {exc.detail}" if exc.detail else f"{faultstring} ({code})"


# Faults about one pupil's data: the rest of the batch is fine, so the batch is split to find the pupils the LAS
# refuses. Any other Client fault (key, school, message) would refuse every part alike.
_PER_LEERLING = (faults.LeerlingOngeldig, faults.ScoreOngeldig)


@dataclass
class _Levering:
    afgeleverd: int = 0  # results the LAS accepted in this attempt
    # per refused unit: a pupil's results, or one result when the LAS refused a score (ScoreOngeldig)
    geweigerd: list[tuple[list[ToetsResultaat], faults.UwlrFault]] = field(default_factory=list)

    def geweigerde_resultaten(self) -> int:
        return sum(len(items) for items, _ in self.geweigerd)

    def geweigerde_leerlingen(self) -> int:
        return len({items[0].leerling_id for items, _ in self.geweigerd})


@dataclass
class _Deel:
    leerlingen: list[list[ToetsResultaat]]
    fout_bekend: bool = False  # holds a pupil the LAS refuses: its parent was refused, its left sibling accepted
    rechts: _Deel | None = None  # the right sibling of a left half


def _lever_deel(push: ResultPush, token: str, deel: Sequence[Sequence[ToetsResultaat]]) -> int:
    """Mark a part the LAS accepted as delivered, under the claim: a worker that lost its claim writes nothing
    (the one that took over sends the same keys again; the LAS deduplicates)."""
    pks = [r.pk for items in deel for r in items]
    with transaction.atomic():
        if not _fenced(ResultPush, push.pk, token, heartbeat_at=timezone.now()):
            raise ClaimVerloren(f"ResultPush {push.pk}")
        return ToetsResultaat.objects.filter(pk__in=pks, push=push, afgeleverd_op__isnull=True).update(
            afgeleverd_op=timezone.now()
        )


def _breng(push: ResultPush, token: str, koppeling: LasKoppeling, client: UwlrClient) -> _Levering:
    """Send the push's undelivered results. When the LAS refuses a pupil (LeerlingOngeldig, ScoreOngeldig) in a
    batch of several pupils, the batch is halved and both halves are sent, recursively, so the other pupils'
    results get through and only the refused pupils' results stay behind: at most about 2·k·log2(n) requests for
    k refused pupils of n. A right half whose left sibling was accepted must hold the refused pupil, so it is
    split without being sent. A pupil refused for a score (ScoreOngeldig) has its results split the same way, so
    only the refused scores stay behind. Other faults and transport errors are raised, after what the LAS accepted
    so far has been marked delivered."""
    levering = _Levering()
    alle = _per_leerling(push)
    stapel = [_Deel(alle)] if alle else []  # depth first, left half before right half
    while stapel:
        deel = stapel.pop()
        if deel.fout_bekend and len(deel.leerlingen) > 1:
            stapel += _halveer(deel)
            continue
        # Counted, and the claim checked, before sending: a worker that lost its claim sends nothing more.
        heartbeat(ResultPush, push.pk, token, verzoeken=F("verzoeken") + 1)
        try:
            client.breng_leerresultaten(_verzoek(deel.leerlingen, koppeling))
        except _PER_LEERLING as exc:
            if len(deel.leerlingen) > 1:
                stapel += _halveer(deel)
            elif isinstance(exc, faults.ScoreOngeldig) and len(deel.leerlingen[0]) > 1:
                # One pupil, several results, one score refused: split the pupil's results the same way, so a
                # single out-of-range score does not hold back that pupil's other results.
                stapel.append(_Deel([[r] for r in deel.leerlingen[0]], fout_bekend=True))
            else:
                levering.geweigerd.append((deel.leerlingen[0], exc))
            continue
        levering.afgeleverd += _lever_deel(push, token, deel.leerlingen)
        if deel.rechts is not None:
            deel.rechts.fout_bekend = True
    return levering


def _halveer(deel: _Deel) -> list[_Deel]:
    """The two halves of a refused part, in stack order (the left half is popped first)."""
    midden = len(deel.leerlingen) // 2
    rechts = _Deel(deel.leerlingen[midden:])
    return [rechts, _Deel(deel.leerlingen[:midden], rechts=rechts)]


def _geweigerd_tekst(push: ResultPush, levering: _Levering) -> str:
    """The LAS's own explanations of the refused pupils (at most ten), for the service desk."""
    teksten = list(dict.fromkeys(_fout_tekst(exc) for _, exc in levering.geweigerd))
    tekst = "\n".join(teksten[:10])
    if len(teksten) > 10:
        tekst += f"\n… en nog {len(teksten) - 10} meldingen van het LAS."
    # Delivered in this attempt or an earlier one that the LAS or the network broke off.
    if ToetsResultaat.objects.filter(push=push, afgeleverd_op__isnull=False).exists():
        resultaten, leerlingen = levering.geweigerde_resultaten(), levering.geweigerde_leerlingen()
        tekst += (
            f"\nDe overige resultaten zijn wel afgeleverd; alleen {resultaten} "
            f"{'resultaat' if resultaten == 1 else 'resultaten'} van {leerlingen} "
            f"{'leerling' if leerlingen == 1 else 'leerlingen'} {'is' if resultaten == 1 else 'zijn'} geweigerd."
        )
    return tekst


def _weiger(push: ResultPush, token: str, exc: faults.UwlrFault, fout: str) -> bool:
    """End the push as rejected by the LAS (for the service desk), under the claim; False when the claim was lost."""
    return _fenced(
        ResultPush,
        push.pk,
        token,
        state=ResultPush.REJECTED,
        finished_at=timezone.now(),
        foutcode=_foutcode(exc)[:64],
        fout=fout,
    )


def execute_push(push_id: int, worker: str | None = None) -> str | None:
    """Claim and send one results push. Delivered → the results are marked delivered. A LAS that is down or
    answers a Server fault → queued again with backoff (the results stay with the push, in our tables, across
    restarts; what the LAS already accepted is not sent again). A Client fault → rejected with the LAS's Dutch
    explanation, for the service desk; not retried. When that fault is about one pupil's data (LeerlingOngeldig,
    ScoreOngeldig) the batch is split first (`_breng`), so that only the refused pupils' results are rejected."""
    worker = worker or worker_naam()
    token = claim(ResultPush, push_id, worker)
    if token is None:
        return None
    push = ResultPush.objects.select_related("koppeling__las_type").get(pk=push_id)
    now = timezone.now
    koppeling = push.koppeling
    if koppeling is not None and koppeling.status != LasKoppeling.GOEDGEKEURD:
        # The connection was renewed: send with the current one of the school.
        koppeling = actieve_koppelingen().filter(school_id=push.school_id).first()
    if koppeling is None:
        _fenced(
            ResultPush,
            push.pk,
            token,
            state=ResultPush.FAILED,
            finished_at=now(),
            fout="Er is geen actieve koppeling met het LAS meer; de resultaten zijn niet verstuurd.",
        )
        return ResultPush.FAILED
    if not koppeling.las_type.leerresultaten_adres:
        _fenced(
            ResultPush,
            push.pk,
            token,
            state=ResultPush.FAILED,
            finished_at=now(),
            fout=f"Voor koppelingstype {koppeling.las_type.naam} is geen adres voor leerresultaten ingesteld; "
            "de klantenservice moet dat eerst invullen.",
        )
        return ResultPush.FAILED
    try:
        heartbeat(ResultPush, push.pk, token, state=ResultPush.SENDING)
        client = _client(koppeling)
        try:
            with _hartslag(ResultPush, push.pk, token):
                levering = _breng(push, token, koppeling, client)
        finally:
            _close(client)
    except ClaimVerloren:
        return None
    except (faults.UwlrFault, faults.TransportError) as exc:
        if not _is_tijdelijk(exc):
            assert isinstance(exc, faults.UwlrFault)
            ok = _weiger(push, token, exc, _fout_tekst(exc))
            log.info("push %s rejected by the LAS: %s", push.pk, exc.code)
            return ResultPush.REJECTED if ok else None
        fresh = ResultPush.objects.get(pk=push.pk)
        fout = ea_koppelen.melding_voor(exc, koppeling)
        code = getattr(exc, "code", "") if isinstance(exc, faults.UwlrFault) else "transport"
        if fresh.attempts >= conf.get("KOPPELPUNT_PUSH_MAX_ATTEMPTS"):
            ok = _fenced(
                ResultPush, push.pk, token, state=ResultPush.FAILED, finished_at=now(), foutcode=code, fout=fout
            )
            return ResultPush.FAILED if ok else None
        wait = conf.backoff(fresh.attempts)
        if _fenced(
            ResultPush,
            push.pk,
            token,
            state=ResultPush.QUEUED,
            worker="",
            foutcode=code,
            fout=fout,
            not_before=now() + wait,
        ):
            _enqueue("push", [push.pk], delay=wait.total_seconds())
            log.info("push %s: LAS not available (%s), again in %s", push.pk, type(exc).__name__, wait)
            return ResultPush.QUEUED
        return None
    except Exception:
        log.exception("push %s failed", push.pk)
        ok = _fenced(
            ResultPush,
            push.pk,
            token,
            state=ResultPush.FAILED,
            finished_at=now(),
            fout="Er ging iets mis bij het samenstellen van de resultaten (interne fout).",
        )
        return ResultPush.FAILED if ok else None
    if levering.geweigerd:
        ok = _weiger(push, token, levering.geweigerd[0][1], _geweigerd_tekst(push, levering))
        log.info(
            "push %s: the LAS refused %d results of %d pupils (%s), %d other results delivered; %s requests",
            push.pk,
            levering.geweigerde_resultaten(),
            levering.geweigerde_leerlingen(),
            ", ".join(sorted({exc.code for _, exc in levering.geweigerd})),
            levering.afgeleverd,
            ResultPush.objects.filter(pk=push.pk).values_list("verzoeken", flat=True).first(),
        )
        return ResultPush.REJECTED if ok else None
    # Every part was marked delivered under the claim as it was accepted.
    if not _fenced(ResultPush, push.pk, token, state=ResultPush.DELIVERED, finished_at=now(), fout="", foutcode=""):
        # Another worker took it over after our lease ran out; it sends only what is not marked delivered.
        return None
    return ResultPush.DELIVERED


def opnieuw_versturen(push: ResultPush) -> bool:
    """The service desk sends a rejected or failed push again (after the cause was fixed)."""
    with transaction.atomic():
        if ResultPush.objects.filter(school_id=push.school_id, state__in=ResultPush.ACTIVE).exists():
            return False
        n = ResultPush.objects.filter(pk=push.pk, state__in=[ResultPush.REJECTED, ResultPush.FAILED]).update(
            state=ResultPush.QUEUED, attempts=0, not_before=timezone.now(), worker="", finished_at=None
        )
        if n:
            _enqueue("push", [push.pk])
    return bool(n)


# ---------------------------------------------------------------------------------------------------------------
# Doing due work in this process (koppelpunt sync, the demo's thread)


def run_due(worker: str | None = None, limit: int = 1000) -> int:
    """Do every due job now in this process (claims make it safe next to workers). Returns the number done."""
    worker = worker or worker_naam()
    now = timezone.now()
    done = 0
    for pk in SyncRun.objects.filter(state=SyncRun.PLANNED, not_before__lte=now).values_list("pk", flat=True)[:limit]:
        done += execute_run(pk, worker) is not None
    for pk in ResultPush.objects.filter(state=ResultPush.QUEUED, not_before__lte=now).values_list("pk", flat=True)[
        :limit
    ]:
        done += execute_push(pk, worker) is not None
    return done
