"""The nightly sync and results flow in-process, against a real HTTP LAS (the simulated one) and a real DB."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from ea.models import ImportRun, LasKoppeling, Leerling, School
from sync import services
from sync.models import ResultPush, SyncInstelling, SyncNacht, SyncRun, ToetsResultaat
from sync.simulatie import SimLas, brin, leerling_key
from uwlr import faults

pytestmark = pytest.mark.django_db
NACHT = dt.date(2026, 11, 26)


def _run_of(school_id: int) -> SyncRun:
    return SyncRun.objects.filter(school_id=school_id).latest("planned_at", "id")


def test_nightly_sync_applies_changes_that_link_automatically(scholen: list[int], sim_las: SimLas) -> None:
    sim_las.scholen[brin(0)].hernoemd = 2
    ids = services.plan_nacht(NACHT)
    assert len(ids) == 3
    assert services.run_due() == 3 + 3  # three syncs and three results pushes
    run0, run1 = _run_of(scholen[0]), _run_of(scholen[1])
    assert (run0.state, run0.uitkomst, run0.attempts) == (SyncRun.APPLIED, SyncRun.BIJGEWERKT, 1)
    assert run0.resultaat["geschreven"]["leerlingen_gewijzigd"] == 2
    assert Leerling.objects.get(school_id=scholen[0], extern_key=leerling_key(0, 1)).roepnaam == "Nieuwe1"
    assert (run1.state, run1.uitkomst) == (SyncRun.APPLIED, SyncRun.ONGEWIJZIGD)
    assert run0.import_run.state == ImportRun.APPLIED
    assert mail.outbox == []
    assert sim_las.pulls == {brin(0): 1, brin(1): 1, brin(2): 1}


def test_second_night_asks_a_delta_and_touches_nothing(scholen: list[int], sim_las: SimLas) -> None:
    services.plan_nacht(NACHT)
    services.run_due()
    imports = ImportRun.objects.count()
    before = list(Leerling.objects.order_by("pk").values())
    services.plan_nacht(NACHT + dt.timedelta(days=1))
    services.run_due()
    run = _run_of(scholen[0])
    assert (run.state, run.uitkomst, run.import_run) == (SyncRun.APPLIED, SyncRun.GEEN_WIJZIGINGEN, None)
    assert sim_las.geen_wijzigingen == {brin(0): 1, brin(1): 1, brin(2): 1}
    assert ImportRun.objects.count() == imports
    assert list(Leerling.objects.order_by("pk").values()) == before
    # The LAS changes: the next night gets the full data again.
    sim_las.scholen[brin(1)].gewijzigd_op = timezone.now() + dt.timedelta(seconds=1)
    sim_las.scholen[brin(1)].hernoemd = 1
    services.plan_nacht(NACHT + dt.timedelta(days=2))
    services.run_due()
    assert (_run_of(scholen[1]).state, _run_of(scholen[1]).uitkomst) == (SyncRun.APPLIED, SyncRun.BIJGEWERKT)


def test_new_pupils_keep_the_import_pending_and_mail_the_admins(scholen: list[int], sim_las: SimLas) -> None:
    sim_las.scholen[brin(2)].nieuw = 2
    services.plan_nacht(NACHT)
    services.run_due()
    run = _run_of(scholen[2])
    assert run.state == SyncRun.NEEDS_PERSON
    assert run.import_run.state == ImportRun.STAGED
    assert run.resultaat["handwerk"] == {"groepen": 0, "leerkrachten": 0, "leerlingen": 2}
    assert not Leerling.objects.filter(school_id=scholen[2], extern_key=leerling_key(2, 20)).exists()
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert msg.to == ["beheer2@sim.example"]
    assert "Deze nieuwe gegevens kunnen niet automatisch worden ingelezen" in msg.body
    assert f"https://koppelpunt.example/applicatie/school/{scholen[2]}/import/{run.import_run.pk}/groepen/" in msg.body
    # The other schools were applied as usual.
    assert _run_of(scholen[0]).state == SyncRun.APPLIED


def test_an_import_a_person_is_working_on_is_left_alone(
    scholen: list[int], sim_las: SimLas, django_user_model: Any
) -> None:
    sim_las.scholen[brin(2)].nieuw = 1
    services.plan_nacht(NACHT)
    services.run_due()
    pending = _run_of(scholen[2]).import_run
    ImportRun.objects.filter(pk=pending.pk).update(created_by=django_user_model.objects.first())
    services.plan_nacht(NACHT + dt.timedelta(days=1))
    services.run_due()
    run = _run_of(scholen[2])
    assert run.state == SyncRun.NEEDS_PERSON
    assert run.import_run == pending
    assert ImportRun.objects.get(pk=pending.pk).state == ImportRun.STAGED
    assert sim_las.pulls[brin(2)] == 1  # not pulled again


def test_sync_hold_when_too_many_pupils_would_change(scholen: list[int], sim_las: SimLas) -> None:
    sim_las.scholen[brin(0)].weg = 5  # 5 of 20 = 25 % would be deactivated
    services.plan_nacht(NACHT)
    services.run_due()
    run = _run_of(scholen[0])
    assert run.state == SyncRun.HELD
    assert "25%" in run.fout and "20%" in run.fout
    assert Leerling.objects.filter(school_id=scholen[0], actief=True).count() == 20
    assert run.import_run.state == ImportRun.STAGED
    assert "5 leerlingen (25% van de leerlingen)" in mail.outbox[0].body
    # A school that allows more applies it.
    SyncInstelling.objects.filter(school_id=scholen[0]).update(hold_percentage=30)
    services.plan_nacht(NACHT + dt.timedelta(days=1))
    services.run_due()
    run = _run_of(scholen[0])
    assert run.state == SyncRun.APPLIED
    assert run.resultaat["geschreven"]["leerlingen_gedeactiveerd"] == 5
    assert Leerling.objects.filter(school_id=scholen[0], actief=True).count() == 15
    assert ImportRun.objects.filter(school_id=scholen[0], state=ImportRun.ABORTED).count() == 1


def test_scheduled_pause_skips_the_school(scholen: list[int]) -> None:
    inst = services.instelling(scholen[1])
    inst.pauze_van, inst.pauze_tot = NACHT - dt.timedelta(days=3), NACHT + dt.timedelta(days=10)
    inst.save()
    services.plan_nacht(NACHT)
    assert set(SyncRun.objects.values_list("school_id", flat=True)) == {scholen[0], scholen[2]}
    now = timezone.make_aware(dt.datetime.combine(NACHT, dt.time(12, 0)))
    volgende = services.volgende_sync(School.objects.get(pk=scholen[1]), now)
    assert timezone.localtime(volgende).date() == NACHT + dt.timedelta(days=11)


def test_planning_a_night_twice_plans_it_once(scholen: list[int]) -> None:
    assert len(services.plan_nacht(NACHT)) == 3
    assert services.plan_nacht(NACHT) == []
    assert SyncRun.objects.count() == 3


def test_tick_plans_the_night_once_after_the_sync_time(scholen: list[int], settings: Any) -> None:
    settings.KOPPELPUNT_SYNC_TIME = "02:30"
    vroeg = timezone.make_aware(dt.datetime(2026, 11, 26, 2, 0))
    assert services.tick(vroeg)["gepland"] == 0
    laat = timezone.make_aware(dt.datetime(2026, 11, 26, 2, 31))
    assert services.tick(laat)["gepland"] == 3
    assert services.tick(laat + dt.timedelta(minutes=1))["gepland"] == 0
    assert SyncNacht.objects.get().voltooid


def test_only_one_worker_gets_a_claim(scholen: list[int]) -> None:
    [pk, *_] = services.plan_nacht(NACHT)
    token = services.claim(SyncRun, pk, "worker-a")
    assert token is not None
    assert services.claim(SyncRun, pk, "worker-b") is None
    assert services.execute_run(pk, "worker-b") is None
    run = SyncRun.objects.get(pk=pk)
    assert (run.state, run.worker, run.attempts) == (SyncRun.CLAIMED, token, 1)


def test_a_stale_claim_is_taken_back_and_the_dead_worker_cannot_finish(scholen: list[int], settings: Any) -> None:
    settings.KOPPELPUNT_SYNC_LEASE_SECONDS = 60
    [pk, *_] = services.plan_nacht(NACHT)
    dead = services.claim(SyncRun, pk, "worker-a")
    SyncRun.objects.filter(pk=pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=61))
    assert services.reclaim_stale() == 1
    run = SyncRun.objects.get(pk=pk)
    assert (run.state, run.worker) == (SyncRun.PLANNED, "")
    assert services.execute_run(pk, "worker-b") == SyncRun.APPLIED
    assert SyncRun.objects.get(pk=pk).attempts == 2
    assert not services._fenced(SyncRun, pk, dead, state=SyncRun.FAILED)
    assert SyncRun.objects.get(pk=pk).state == SyncRun.APPLIED


def test_reclaim_gives_up_after_the_last_attempt(scholen: list[int], settings: Any) -> None:
    settings.KOPPELPUNT_SYNC_LEASE_SECONDS = 60
    settings.KOPPELPUNT_SYNC_MAX_ATTEMPTS = 1
    [pk, *_] = services.plan_nacht(NACHT)
    services.claim(SyncRun, pk, "worker-a")
    SyncRun.objects.filter(pk=pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=61))
    services.reclaim_stale()
    assert SyncRun.objects.get(pk=pk).state == SyncRun.FAILED


def test_a_worker_that_lost_its_claim_writes_nothing(
    scholen: list[int], sim_las: SimLas, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim_las.scholen[brin(0)].hernoemd = 3
    [pk, *_] = services.plan_nacht(NACHT)
    real_apply = services.importer.apply

    def apply_then_lose_claim(ir: ImportRun, user: Any = None) -> dict[str, int]:
        result = real_apply(ir, user)
        SyncRun.objects.filter(pk=pk).update(worker="someone-else/1234")  # taken back and re-claimed meanwhile
        return result

    monkeypatch.setattr(services.importer, "apply", apply_then_lose_claim)
    assert services.execute_run(pk, "worker-a") is None
    assert not Leerling.objects.filter(school_id=scholen[0], roepnaam="Nieuwe0").exists()
    assert ImportRun.objects.filter(school_id=scholen[0], state=ImportRun.APPLIED).count() == 0
    assert SyncInstelling.objects.get(school_id=scholen[0]).laatst_ontvangen is None


def test_a_client_fault_fails_one_school_and_not_the_others(scholen: list[int]) -> None:
    koppeling = LasKoppeling.objects.get(school_id=scholen[1])
    koppeling.autorisatiesleutel = "21QW00-verkeerde-sleutel"
    koppeling.save()
    services.plan_nacht(NACHT)
    services.run_due()
    run = _run_of(scholen[1])
    assert (run.state, run.attempts) == (SyncRun.FAILED, 1)
    assert "autorisatiesleutel" in run.fout.lower()
    assert _run_of(scholen[0]).state == _run_of(scholen[2]).state == SyncRun.APPLIED


def test_a_las_that_is_down_is_tried_again_later(
    scholen: list[int], sim_las: SimLas, settings: Any, dispatched: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    settings.KOPPELPUNT_RETRY_BASE_SECONDS = 30
    [pk, *_] = services.plan_nacht(NACHT, enqueue=False)
    sim_las.down = 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.execute_run(pk) == SyncRun.PLANNED
    run = SyncRun.objects.get(pk=pk)
    assert run.attempts == 1 and run.not_before > timezone.now() + dt.timedelta(seconds=25)
    assert run.fout.startswith("Het LAS is niet bereikbaar")
    assert dispatched == [("sync", pk, 30.0)]
    assert services.execute_run(pk) is None  # not due yet
    SyncRun.objects.filter(pk=pk).update(not_before=timezone.now())
    assert services.execute_run(pk) == SyncRun.APPLIED
    assert SyncRun.objects.get(pk=pk).attempts == 2


def test_the_sync_gives_up_after_max_attempts(scholen: list[int], sim_las: SimLas, settings: Any) -> None:
    settings.KOPPELPUNT_SYNC_MAX_ATTEMPTS = 2
    [pk, *_] = services.plan_nacht(NACHT, enqueue=False)
    sim_las.down = 10
    services.execute_run(pk)
    SyncRun.objects.filter(pk=pk).update(not_before=timezone.now())
    assert services.execute_run(pk) == SyncRun.FAILED


# ---------------------------------------------------------------------------------------------------------------
# Results


def test_results_are_pushed_once_with_their_keys(scholen: list[int], sim_las: SimLas) -> None:
    ids = services.plan_pushes()
    assert len(ids) == 3
    for pk in ids:
        assert services.execute_push(pk) == ResultPush.DELIVERED
    keys = set(ToetsResultaat.objects.values_list("sleutel", flat=True))
    assert set(sim_las.ontvangen) == keys and set(sim_las.ontvangen.values()) == {1}
    assert not ToetsResultaat.objects.filter(afgeleverd_op__isnull=True).exists()
    assert services.plan_pushes() == []
    r = ToetsResultaat.objects.select_related("leerling").first()
    assert sim_las.opgeslagen[r.sleutel] == (brin(int(r.school.naam.split()[-1])), r.leerling.extern_key, r.score)


def test_results_of_pupils_the_las_does_not_know_wait(scholen: list[int], sim_las: SimLas) -> None:
    Leerling.objects.filter(school_id=scholen[0]).update(extern_key="")
    ids = services.plan_pushes()
    assert len(ids) == 2
    assert ToetsResultaat.objects.filter(school_id=scholen[0], push__isnull=True).count() == 2


def test_server_fault_is_retried_with_backoff_and_then_delivered(
    scholen: list[int], sim_las: SimLas, settings: Any, dispatched: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    settings.KOPPELPUNT_RETRY_BASE_SECONDS = 10
    [pk, *_] = services.plan_pushes(scholen[:1], enqueue=False)
    sim_las.fault = faults.TijdelijkNietBeschikbaar("Onderhoud tot 03:00")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.execute_push(pk) == ResultPush.QUEUED
        ResultPush.objects.filter(pk=pk).update(not_before=timezone.now())
        assert services.execute_push(pk) == ResultPush.QUEUED
    push = ResultPush.objects.get(pk=pk)
    assert (push.attempts, push.foutcode) == (2, "Server.TijdelijkNietBeschikbaar")
    assert dispatched == [("push", pk, 10.0), ("push", pk, 20.0)]  # exponential
    sim_las.fault = None
    ResultPush.objects.filter(pk=pk).update(not_before=timezone.now())
    assert services.execute_push(pk) == ResultPush.DELIVERED
    assert set(sim_las.ontvangen.values()) == {1}


def test_client_fault_is_rejected_for_the_service_desk_and_not_retried(
    scholen: list[int], sim_las: SimLas, dispatched: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    [pk, *_] = services.plan_pushes(scholen[:1], enqueue=False)
    sim_las.fault = faults.LeerlingOngeldig("Leerling 00AA-L000 is niet bekend bij deze school.")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.execute_push(pk) == ResultPush.REJECTED
    push = ResultPush.objects.get(pk=pk)
    assert push.foutcode == "Client.LeerlingOngeldig"
    assert push.fout == "Leerling ongeldig: Leerling 00AA-L000 is niet bekend bij deze school."
    assert dispatched == []
    assert services.execute_push(pk) is None
    # This LAS refuses every message, so the batch was split down to each of its two pupils: [both], [1], [2].
    assert sim_las.lr_verzoeken == push.verzoeken == 3
    assert services.plan_pushes(scholen[:1]) == []  # its results stay with the rejected push
    # The service desk sends it again once the cause is fixed.
    sim_las.fault = None
    with django_capture_on_commit_callbacks(execute=True):
        assert services.opnieuw_versturen(push)
    assert dispatched == [("push", pk, None)]
    assert services.execute_push(pk) == ResultPush.DELIVERED


def test_lost_messages_are_sent_again(
    scholen: list[int], settings: Any, dispatched: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    settings.KOPPELPUNT_REQUEUE_SECONDS = 600
    with django_capture_on_commit_callbacks(execute=True):
        [a, b, c] = services.plan_nacht(NACHT)
    assert [d[1] for d in dispatched if d[0] == "sync"] == [a, b, c]
    dispatched.clear()
    now = timezone.now()
    # b's message was delivered long ago but b still waits (the worker that got it died); c is a retry due later.
    SyncRun.objects.filter(pk=b).update(enqueued_at=now - dt.timedelta(seconds=601))
    SyncRun.objects.filter(pk=c).update(
        not_before=now + dt.timedelta(seconds=30), enqueued_at=now + dt.timedelta(seconds=30)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.requeue_due(now)
    assert [d for d in dispatched if d[0] == "sync"] == [("sync", b, None)]
    dispatched.clear()
    # A worker that starts sends every waiting job again: a previous one may have died holding their messages.
    with django_capture_on_commit_callbacks(execute=True):
        services.requeue_due(now, alle=True)
    [(_, pk, delay), *due] = [d for d in dispatched if d[0] == "sync"]
    assert pk == c and 25 < delay <= 30  # the retry keeps its remaining wait
    assert due == [("sync", a, None), ("sync", b, None)]


def test_a_run_planned_before_the_connection_was_renewed_uses_the_new_one(scholen: list[int], sim_las: SimLas) -> None:
    [pk, *_] = services.plan_nacht(NACHT)
    oud = LasKoppeling.objects.get(school_id=scholen[0])
    LasKoppeling.objects.filter(pk=oud.pk).update(status=LasKoppeling.VERVANGEN)
    nieuw = LasKoppeling.objects.get(pk=oud.pk)
    nieuw.pk = None
    nieuw.status = LasKoppeling.GOEDGEKEURD
    nieuw.save()
    assert services.execute_run(pk) == SyncRun.APPLIED
    LasKoppeling.objects.filter(school_id=scholen[1]).update(status=LasKoppeling.VERVANGEN)
    run = SyncRun.objects.get(school_id=scholen[1])
    assert services.execute_run(run.pk) == SyncRun.FAILED
    assert (
        SyncRun.objects.get(pk=run.pk).fout == "Deze school heeft geen actieve koppeling meer; er is niets opgehaald."
    )


def test_sync_hold_when_too_many_las_teachers_would_be_deactivated(db: Any, settings: Any) -> None:
    """A complete teacher list that leaves out more than the hold share of the school's LAS teachers is held, not
    applied: one shortened list from a LAS must not lock teachers out of the application unnoticed."""
    from ea.models import Leerkracht
    from sync.simulatie import SimSchool, leerkracht_key, seed

    settings.BASE_URL = "https://koppelpunt.example"
    with SimLas(scholen=[SimSchool(0, leerkrachten=5, leerkrachten_weg=2)]) as las:
        (school_id,) = seed(1, las.base_url, leerkrachten=5)
        services.plan_nacht(NACHT)
        services.run_due()
        run = _run_of(school_id)
        assert run.state == SyncRun.HELD, run.fout
        assert "2 van de 5 leerkrachten" in run.fout and "40%" in run.fout
        assert run.resultaat["leerkrachten_te_deactiveren"] == 2
        assert Leerkracht.objects.filter(school_id=school_id, actief=True).count() == 5
        assert "2 leerkrachten (40% van de leerkrachten uit het LAS) staan er niet meer in" in mail.outbox[0].body
        # One teacher of five leaving (20%, not above the 20% hold) is applied: deactivated, not deleted.
        las.scholen[brin(0)].leerkrachten_weg = 1
        services.plan_nacht(NACHT + dt.timedelta(days=1))
        services.run_due()
        run = _run_of(school_id)
        assert run.state == SyncRun.APPLIED, run.fout
        assert run.resultaat["geschreven"]["leerkrachten_gedeactiveerd"] == 1
        weg = Leerkracht.objects.get(school_id=school_id, extern_key=leerkracht_key(0, 0))
        assert not weg.actief and weg.deactivated_at is not None
        assert Leerkracht.objects.filter(school_id=school_id, actief=True).count() == 4


def test_one_teacher_leaving_a_small_school_is_not_held(db: Any, settings: Any) -> None:
    """One of three LAS teachers is 33%, above the hold share, but one teacher leaving is everyday business."""
    from ea.models import Leerkracht
    from sync.simulatie import SimSchool, seed

    settings.BASE_URL = "https://koppelpunt.example"
    with SimLas(scholen=[SimSchool(0, leerkrachten=3, leerkrachten_weg=1)]) as las:
        (school_id,) = seed(1, las.base_url, leerkrachten=3)
        services.plan_nacht(NACHT)
        services.run_due()
        run = _run_of(school_id)
        assert run.state == SyncRun.APPLIED, run.fout
        assert run.resultaat["geschreven"]["leerkrachten_gedeactiveerd"] == 1
        assert Leerkracht.objects.filter(school_id=school_id, actief=True).count() == 2
        assert not mail.outbox
