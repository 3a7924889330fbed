""" "Gegevens importeren" fetches the school from the LAS in the background (ea.tasks): the click returns at once
with a page that refreshes itself, a worker stages the import, and the page then goes on to the wizard's tabs.
Against a real HTTP LAS (tests/ea/fake_las.py) and the real database."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from ea import koppelen, tasks
from ea.models import ImportRun, LasKoppeling, LasType, StagedGroep, StagedLeerling
from tests.ea.conftest import eckid, gegevens, goedgekeurde_koppeling, leerling
from tests.ea.test_wizard_views import school_data
from uwlr import model
from uwlr.transport import HttpxTransport, TransportResponse

WACHTEN = "Gegevens worden opgehaald uit het LAS…"
VERVERSEN = '<meta http-equiv="refresh" content="2">'


@pytest.fixture
def koppeling(school: Any, beheerder: Any, fake_las: Any) -> LasKoppeling:
    fake_las.data = school_data()
    return goedgekeurde_koppeling(school, fake_las)


@pytest.fixture
def admin(client: Client, beheerder: Any) -> Client:
    client.force_login(beheerder)
    return client


def klik(client: Client, school: Any) -> Any:
    return client.post(reverse("ea:importeren", args=[school.pk]))


@pytest.mark.django_db
def test_the_click_returns_at_once_with_a_page_that_waits_for_the_worker(
    admin: Client,
    school: Any,
    koppeling: LasKoppeling,
    fake_las: Any,
    opgehaald: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = klik(admin, school)
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("ea:import_ophalen", args=[school.pk, run.pk])
    # Nothing was asked of the LAS in the request; the queue got the id only once the row was committed.
    assert fake_las.calls == [] and opgehaald == [run.pk]
    assert (run.state, run.worker, run.koppeling, run.created_by.username) == ("ophalen", "", koppeling, "beheerder")
    page = admin.get(response.url).content.decode()
    assert WACHTEN in page and VERVERSEN in page and "Opnieuw proberen" not in page
    # The start page says so too and links to the fetch.
    page = admin.get(reverse("ea:importeren", args=[school.pk])).content.decode()
    assert WACHTEN in page and reverse("ea:import_ophalen", args=[school.pk, run.pk]) in page

    # The worker: the same row becomes the staged import, and the page goes on to the wizard's first tab.
    assert tasks.execute(run.pk) == "staged"
    assert fake_las.calls == ["HaalLeerlinggegevens"]
    run.refresh_from_db()
    assert run.state == "staged" and run.leerkrachten_compleet and run.worker and run.claimed_at
    assert run.leerlingen.count() == 3 and run.groepen.count() == 2
    response = admin.get(reverse("ea:import_ophalen", args=[school.pk, run.pk]))
    assert response.url == reverse("ea:import_tab", args=[school.pk, run.pk, "groepen"])
    assert "Nieuwe groepen toevoegen" in admin.get(response.url).content.decode()
    # A duplicate or late message for the same fetch does nothing.
    assert tasks.execute(run.pk) is None and fake_las.calls == ["HaalLeerlinggegevens"]


@pytest.mark.django_db
def test_through_huey_the_message_carries_only_the_id(
    admin: Client,
    school: Any,
    koppeling: LasKoppeling,
    fake_las: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(tasks, "dispatch", tasks._huey_dispatch)
    HUEY.immediate = True  # huey runs the task as it is enqueued (in memory, this thread)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = klik(admin, school)
        run = ImportRun.objects.get()
        assert run.state == "staged" and fake_las.calls == ["HaalLeerlinggegevens"]
        tasks.ophaal_task(run.pk)  # delivered twice
    finally:
        HUEY.immediate = False
    assert fake_las.calls == ["HaalLeerlinggegevens"] and ImportRun.objects.get().state == "staged"
    assert admin.get(response.url).url == reverse("ea:import_tab", args=[school.pk, run.pk, "groepen"])


@pytest.mark.django_db
def test_a_second_click_shows_the_running_fetch(
    admin: Client,
    school: Any,
    koppeling: LasKoppeling,
    fake_las: Any,
    opgehaald: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        eerste = klik(admin, school)
    tasks.claim(opgehaald[0])  # a worker is on it
    with django_capture_on_commit_callbacks(execute=True):
        tweede = klik(admin, school)
    assert eerste.url == tweede.url and ImportRun.objects.count() == 1 and len(opgehaald) == 1
    assert WACHTEN in admin.get(tweede.url).content.decode()
    # Also when the second request does not see the first one's row in time: the database keeps one fetch.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ImportRun.objects.create(school=school, schooljaar="2025-2026", state=ImportRun.OPHALEN)


@pytest.mark.django_db
def test_a_las_failure_shows_the_dutch_message_and_a_retry(
    admin: Client, school: Any, koppeling: LasKoppeling, fake_las: Any
) -> None:
    koppeling.autorisatiesleutel = "21QW00-verkeerde-sleutel"
    koppeling.save()
    run_url = klik(admin, school).url
    run = ImportRun.objects.get()
    assert tasks.execute(run.pk) == "failed"
    run.refresh_from_db()
    assert run.fout.startswith("De autorisatiesleutel wordt door het LAS niet geaccepteerd.")
    page = admin.get(run_url).content.decode()
    assert 'class="message error"' in page and "De autorisatiesleutel wordt door het LAS niet geaccepteerd." in page
    assert "Client.AutorisatieOngeldig" not in page and VERVERSEN not in page
    assert f'action="{reverse("ea:importeren", args=[school.pk])}"' in page and "Opnieuw proberen" in page
    assert not StagedLeerling.objects.exists() and not StagedGroep.objects.exists()  # nothing half-staged

    # The school fixes the key; "Opnieuw proberen" starts a new fetch, which succeeds.
    koppeling.autorisatiesleutel = fake_las.sleutel
    koppeling.save()
    nieuw = klik(admin, school).url
    assert nieuw != run_url
    assert tasks.run_due() == 1
    assert admin.get(nieuw).url.endswith("/groepen/")
    assert sorted(ImportRun.objects.values_list("state", flat=True)) == ["failed", "staged"]


@pytest.mark.django_db
def test_data_against_the_standard_are_explained_and_nothing_is_staged(
    admin: Client, school: Any, koppeling: LasKoppeling, fake_las: Any
) -> None:
    fake_las.data = gegevens(
        groepen=[model.Groep(key="G1", naam="Groep 1", jaargroep="1")],
        leerlingen=[
            leerling("L1", "Jansen", "Piet", "G1", eckid=eckid(1)),
            leerling("L2", "Visser", "Sara", "G1", eckid=eckid(1)),
        ],
    )
    run_url = klik(admin, school).url
    assert tasks.run_due() == 1
    page = admin.get(run_url).content.decode()
    assert "Het LAS stuurde gegevens die niet aan de UWLR-standaard voldoen; er is niets geïmporteerd." in page
    assert "Opnieuw proberen" in page and not StagedLeerling.objects.exists()


@pytest.mark.django_db
def test_the_error_is_written_in_the_language_of_the_admin_who_clicked(
    admin: Client, school: Any, koppeling: LasKoppeling
) -> None:
    koppeling.autorisatiesleutel = "21QW00-verkeerde-sleutel"
    koppeling.save()
    admin.post(reverse("ea:importeren", args=[school.pk]), headers={"accept-language": "en"})
    run = ImportRun.objects.get()
    assert run.taal == "en" and tasks.execute(run.pk) == "failed"
    run.refresh_from_db()
    assert run.fout.startswith("The authorisation key is not accepted by the LAS.")


@pytest.mark.django_db
def test_a_fetch_whose_worker_died_can_be_retried(
    admin: Client, school: Any, koppeling: LasKoppeling, fake_las: Any
) -> None:
    dood_url = klik(admin, school).url
    dood = ImportRun.objects.get()
    token = tasks.claim(dood.pk)
    assert token
    # Three missed heartbeats: still alive as far as anyone can tell; the page keeps waiting, a click shows it.
    bijna = timezone.now() - dt.timedelta(seconds=tasks.DEAD_AFTER_SECONDS - 5)
    ImportRun.objects.filter(pk=dood.pk).update(heartbeat_at=bijna)
    assert VERVERSEN in admin.get(dood_url).content.decode()
    assert klik(admin, school).url == dood_url
    # Four missed heartbeats (two minutes, not the ten of an unclaimed fetch's lease): the page says so and offers
    # a retry; the retry starts afresh.
    assert tasks.DEAD_AFTER_SECONDS < tasks.LEASE_SECONDS
    lang_geleden = timezone.now() - dt.timedelta(seconds=tasks.DEAD_AFTER_SECONDS + 1)
    ImportRun.objects.filter(pk=dood.pk).update(heartbeat_at=lang_geleden)
    page = admin.get(dood_url).content.decode()
    assert "Het ophalen van de gegevens is onverwacht gestopt" in page and "Opnieuw proberen" in page
    assert VERVERSEN not in page
    nieuw_url = klik(admin, school).url
    assert nieuw_url != dood_url
    dood.refresh_from_db()
    assert dood.state == "failed" and "onverwacht gestopt" in dood.fout
    assert tasks.run_due() == 1
    assert admin.get(nieuw_url).url.endswith("/groepen/")

    # The dead worker comes back after all: its claim is gone, so it stages nothing.
    dood.state = ImportRun.OPHALEN
    with pytest.raises(tasks.ClaimVerloren):
        tasks._fetch_and_stage(dood, token)
    assert ImportRun.objects.filter(state="staged").count() == 1


@pytest.mark.django_db
def test_a_fetch_that_no_worker_took_can_be_retried(admin: Client, school: Any, koppeling: LasKoppeling) -> None:
    """The queue lost the message (or no worker runs): after the lease the admin may start again."""
    url = klik(admin, school).url
    # Unclaimed, it may be queued behind a night's jobs: the heartbeat rule does not apply to it.
    ImportRun.objects.update(created_at=timezone.now() - dt.timedelta(seconds=tasks.DEAD_AFTER_SECONDS + 1))
    assert VERVERSEN in admin.get(url).content.decode()
    ImportRun.objects.update(created_at=timezone.now() - dt.timedelta(seconds=tasks.LEASE_SECONDS + 1))
    assert "Opnieuw proberen" in admin.get(url).content.decode()
    assert klik(admin, school).url != url
    assert list(ImportRun.objects.order_by("pk").values_list("state", flat=True)) == ["failed", "ophalen"]


@pytest.mark.django_db
def test_no_queue_fails_the_fetch_at_once(
    admin: Client,
    school: Any,
    koppeling: LasKoppeling,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def geen_queue(run_id: int) -> None:
        raise ConnectionError("queue down")

    monkeypatch.setattr(tasks, "dispatch", geen_queue)
    with django_capture_on_commit_callbacks(execute=True):
        url = klik(admin, school).url
    page = admin.get(url).content.decode()
    assert "De verwerking op de achtergrond is op dit moment niet bereikbaar." in page and "Opnieuw proberen" in page


class TrageTransport(HttpxTransport):
    """The real HTTP transport to the real LAS, slower: a LAS that takes its time to answer."""

    def send(self, url: str, soap_action: str, body: bytes, timeout: float) -> TransportResponse:
        time.sleep(0.6)
        return super().send(url, soap_action, body, timeout)


@pytest.fixture
def trage_las(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(koppelen, "transport_factory", TrageTransport)
    monkeypatch.setattr(tasks, "HEARTBEAT_SECONDS", 0.1)
    yield


@pytest.mark.django_db(transaction=True)
def test_a_slow_las_keeps_the_fetch_alive_with_heartbeats(
    client: Client, beheerder: Any, school: Any, koppeling: LasKoppeling, fake_las: Any, trage_las: None
) -> None:
    LasType.objects.filter(pk=koppeling.las_type_id).update(getrapt=True)  # several calls
    client.force_login(beheerder)
    url = klik(client, school).url
    run = ImportRun.objects.get()
    uitkomst: list[str | None] = []

    def werk() -> None:
        try:
            uitkomst.append(tasks.execute(run.pk))
        finally:
            connections.close_all()  # this thread's own connection (left open, PostgreSQL warns when it is freed)

    worker = threading.Thread(target=werk)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not ImportRun.objects.filter(pk=run.pk).exclude(worker="").exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        claimed = ImportRun.objects.get(pk=run.pk).heartbeat_at
        time.sleep(0.5)
        fresh = ImportRun.objects.get(pk=run.pk)
        assert fresh.state == "ophalen" and fresh.heartbeat_at > claimed  # alive, not waiting on one call
        assert WACHTEN in client.get(url).content.decode()
    finally:
        worker.join(30)
    assert uitkomst == ["staged"] and fake_las.calls[0] == "HaalStructuur"
    assert client.get(url).url.endswith("/groepen/")


@pytest.mark.django_db
def test_a_lost_message_is_sent_again_by_the_scheduler_tick(
    admin: Client,
    school: Any,
    koppeling: LasKoppeling,
    fake_las: Any,
    opgehaald: list[int],
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The queue lost the fetch's message (a worker died holding it): the sync scheduler's minute sends it again a
    minute after the click, long before the lease would let the admin start over; a worker starting sends every
    waiting one."""
    from sync import services

    sync_jobs: list[tuple[str, int, float | None]] = []  # the tick may plan tonight's sync of this school
    monkeypatch.setattr(services, "dispatch", lambda kind, pk, delay: sync_jobs.append((kind, pk, delay)))
    with django_capture_on_commit_callbacks(execute=True):
        klik(admin, school)
    run = ImportRun.objects.get()
    assert opgehaald == [run.pk]
    opgehaald.clear()  # lost
    now = timezone.now()
    services.tick(now)
    assert opgehaald == []  # too early: its message may still be on its way
    services.tick(now + dt.timedelta(seconds=tasks.REQUEUE_SECONDS + 1))
    assert opgehaald == [run.pk]
    assert tasks.requeue_waiting(alle=True) == 1 and opgehaald == [run.pk, run.pk]
    # Duplicates cost one failed claim each; the fetch is done once, and a staged run is never sent again.
    assert tasks.execute(run.pk) == "staged" and tasks.execute(run.pk) is None
    assert fake_las.calls == ["HaalLeerlinggegevens"]
    services.tick(now + dt.timedelta(seconds=tasks.REQUEUE_SECONDS + 61))
    assert opgehaald == [run.pk, run.pk]
