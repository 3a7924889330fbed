"""The sync screens: per connection (school admin, service desk of the same application) and the service desk's
overview of connections that need attention, in Dutch."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from ea.models import Applicatie, Klantenservice, LasKoppeling, SchoolBeheerder
from sync import services
from sync.models import ResultPush, SyncInstelling, SyncRun
from sync.simulatie import SimLas, brin
from uwlr import faults

pytestmark = pytest.mark.django_db
NACHT = dt.date(2026, 11, 26)


@pytest.fixture
def beheerder(scholen: list[int], django_user_model: Any) -> Client:
    user = django_user_model.objects.get(username="sim-beheer-0")
    user.set_password("wachtwoord-123")
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def klantenservice(scholen: list[int], django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user("ks", password="wachtwoord-123")
    Klantenservice.objects.create(user=user, applicatie=Applicatie.objects.get(naam="Simulatie"))
    client = Client()
    client.force_login(user)
    return client


def test_school_page_shows_last_and_next_sync_outcome_and_results(
    scholen: list[int], sim_las: SimLas, beheerder: Client
) -> None:
    sim_las.scholen[brin(0)].hernoemd = 2
    services.plan_nacht(NACHT)
    services.run_due()
    html = beheerder.get(f"/applicatie/synchronisatie/school/{scholen[0]}/").content.decode()
    assert "Nachtelijke synchronisatie van Simulatieschool 0" in html
    assert "Automatisch ingelezen: 0 nieuwe, 2 gewijzigde en 0 gedeactiveerde leerlingen." in html
    assert "Volgende synchronisatie" in html and "02:30" in html
    assert "2 van 2 afgeleverd bij het LAS" in html
    assert "afgeleverd" in html and "Veiligheidskleppen" in html


def test_pending_import_is_linked_from_the_school_page(scholen: list[int], sim_las: SimLas, beheerder: Client) -> None:
    sim_las.scholen[brin(0)].nieuw = 1
    services.plan_nacht(NACHT)
    services.run_due()
    run = SyncRun.objects.get(school_id=scholen[0])
    html = beheerder.get(f"/applicatie/synchronisatie/school/{scholen[0]}/").content.decode()
    assert "wacht op beheerder" in html
    assert "(0 groepen, 0 leerkrachten, 1 leerlingen)" in html
    assert f"/applicatie/school/{scholen[0]}/import/{run.import_run_id}/groepen/" in html


def test_admin_sets_hold_and_summer_pause(scholen: list[int], beheerder: Client) -> None:
    url = f"/applicatie/synchronisatie/school/{scholen[0]}/instellingen/"
    bad = beheerder.post(
        url, {"actief": "on", "hold_percentage": "15", "pauze_van": "2027-08-30", "pauze_tot": "2027-07-10"}
    )
    assert bad.status_code == 400
    assert "Het einde van de pauze mag niet voor het begin liggen." in bad.content.decode()
    ok = beheerder.post(
        url, {"actief": "on", "hold_percentage": "15", "pauze_van": "2027-07-10", "pauze_tot": "2027-08-22"}
    )
    assert ok.status_code == 302
    inst = SyncInstelling.objects.get(school_id=scholen[0])
    assert (inst.hold_percentage, inst.pauze_van, inst.pauze_tot) == (15, dt.date(2027, 7, 10), dt.date(2027, 8, 22))


def test_other_schools_and_strangers_get_nothing(scholen: list[int], beheerder: Client, django_user_model: Any) -> None:
    assert beheerder.get(f"/applicatie/synchronisatie/school/{scholen[1]}/").status_code == 404
    assert beheerder.post(f"/applicatie/synchronisatie/school/{scholen[1]}/nu/").status_code == 404
    assert beheerder.get("/applicatie/synchronisatie/klantenservice/").status_code == 403
    anon = Client()
    assert anon.get(f"/applicatie/synchronisatie/school/{scholen[0]}/").status_code == 302
    # A service-desk user of another application sees nothing of these schools.
    other = django_user_model.objects.create_user("ks2", password="wachtwoord-123")
    Klantenservice.objects.create(
        user=other, applicatie=Applicatie.objects.create(naam="X", klantcode="X", klantnaam="X")
    )
    c = Client()
    c.force_login(other)
    assert c.get(f"/applicatie/synchronisatie/school/{scholen[0]}/").status_code == 404
    assert "Simulatieschool" not in c.get("/applicatie/synchronisatie/klantenservice/").content.decode()


def test_service_desk_overview_lists_failing_connections_and_resends(
    scholen: list[int], sim_las: SimLas, klantenservice: Client, django_capture_on_commit_callbacks: Any
) -> None:
    koppeling = LasKoppeling.objects.get(school_id=scholen[1])
    koppeling.autorisatiesleutel = "verkeerd"
    koppeling.save()
    sim_las.scholen[brin(2)].weg = 10
    sim_las.fault = faults.LeerlingOngeldig("Leerling 00AA-L000 is niet bekend bij deze school.")
    services.plan_nacht(NACHT)
    services.run_due()
    html = klantenservice.get("/applicatie/synchronisatie/klantenservice/").content.decode()
    assert "Koppelingen die aandacht nodig hebben" in html
    assert "Simulatieschool 1" in html and "mislukt" in html and "autorisatiesleutel" in html
    assert "Simulatieschool 2" in html and "vastgehouden" in html
    assert "Leerling ongeldig: Leerling 00AA-L000 is niet bekend bij deze school." in html
    assert "geweigerd door het LAS" in html and "Opnieuw versturen" in html
    sim_las.fault = None
    push = ResultPush.objects.filter(state=ResultPush.REJECTED).first()
    with django_capture_on_commit_callbacks(execute=True):
        r = klantenservice.post(f"/applicatie/synchronisatie/klantenservice/resultaten/{push.pk}/opnieuw/")
    assert r.status_code == 302
    assert ResultPush.objects.get(pk=push.pk).state == ResultPush.QUEUED
    # The service desk may open the school's page too.
    assert klantenservice.get(f"/applicatie/synchronisatie/school/{scholen[1]}/").status_code == 200


def test_sync_now_queues_a_manual_run(
    scholen: list[int], beheerder: Client, dispatched: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = beheerder.post(f"/applicatie/synchronisatie/school/{scholen[0]}/nu/", follow=True)
    assert "De synchronisatie staat in de wachtrij" in r.content.decode()
    run = SyncRun.objects.get(school_id=scholen[0])
    assert run.aanleiding == SyncRun.HANDMATIG
    assert ("sync", run.pk, None) in dispatched


def test_ea_navigation_links_to_the_sync_page(scholen: list[int], beheerder: Client) -> None:
    SchoolBeheerder.objects.get(school_id=scholen[0])
    html = beheerder.get(f"/applicatie/school/{scholen[0]}/importeren/").content.decode()
    assert f'href="/applicatie/synchronisatie/school/{scholen[0]}/"' in html
