"""The import wizard through its screens, against a real HTTP LAS built from uwlr messages."""

from __future__ import annotations

import datetime as dt
import re
import socket
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ea import koppelen, tasks
from ea.models import Groep, ImportRun, LasKoppeling, LasType, Leerkracht, Leerling, StagedGroep, StagedLeerling
from tests.ea.conftest import eckid, gegevens, goedgekeurde_koppeling, importeer, leerling
from uwlr import model

pytestmark = pytest.mark.django_db


def school_data() -> model.Leerlinggegevens:
    return gegevens(
        groepen=[
            model.Groep(key="G1", naam="Groep 1", jaargroep="1"),
            model.Groep(key="G5A", naam="Groep 5a", jaargroep="5"),
        ],
        leerlingen=[
            leerling("L1", "Jansen", "Piet", "G5A", eckid=eckid(1), geboortedatum=dt.date(2016, 3, 2)),
            leerling("L2", "Visser", "Sara", "G5A"),
            leerling("L3", "Smit", "Noor", "G1"),
        ],
        leerkrachten=[
            model.Leerkracht(
                key="T1",
                achternaam="Bakker",
                roepnaam="Anna",
                emailadres="a.bakker@school.example",
                groepen=[model.LeerkrachtGroep(key="G5A")],
            ),
            model.Leerkracht(
                key="T2", achternaam="Mulder", roepnaam="Kees", groepen=[model.LeerkrachtGroep(key="G5A")]
            ),
        ],
    )


@pytest.fixture
def koppeling(school: Any, beheerder: Any, fake_las: Any) -> LasKoppeling:
    fake_las.data = school_data()
    return goedgekeurde_koppeling(school, fake_las)


def test_full_wizard_with_manual_link_not_imported_group_and_email(
    client: Client, beheerder: Any, school: Any, koppeling: LasKoppeling, fake_las: Any
) -> None:
    pieter = Leerling.objects.create(
        school=school, achternaam="Jansen", roepnaam="Pieter", geboortedatum=dt.date(2016, 3, 2)
    )
    client.force_login(beheerder)
    # The click only plans the fetch (the LAS is asked in the background): the fetch page, which refreshes itself.
    response = client.post(reverse("ea:importeren", args=[school.pk]))
    run = ImportRun.objects.get()
    assert run.state == "ophalen" and fake_las.calls == []
    assert response.url == reverse("ea:import_ophalen", args=[school.pk, run.pk])
    page = client.get(response.url).content.decode()
    assert "Gegevens worden opgehaald uit het LAS…" in page and '<meta http-equiv="refresh" content="2">' in page
    assert tasks.execute(run.pk) == "staged" and fake_las.calls == ["HaalLeerlinggegevens"]
    response = client.get(response.url)
    assert response.url == reverse("ea:import_tab", args=[school.pk, run.pk, "groepen"])
    page = client.get(response.url).content.decode()
    for text in (
        "Groepen",
        "Leerkrachten",
        "Leerlingen",
        "Nieuwe groepen toevoegen",
        "Bestaande groepen koppelen",
        "Niet importeren",
        "koppeling aanpassen",
    ):
        assert text in page, text

    # Groep 1: Niet importeren; its pupil follows.
    g1 = StagedGroep.objects.get(run=run, key="G1")
    response = client.post(
        reverse("ea:import_besluit", args=[school.pk, run.pk, "groepen", g1.pk]), {"besluit": "niet"}
    )
    assert response.url.endswith(f"/groepen/#r{g1.pk}")
    assert StagedLeerling.objects.get(run=run, key="L3").besluit == "niet"

    # Piet Jansen → link by hand to "Pieter Jansen": search, koppel, back to the same row.
    piet = StagedLeerling.objects.get(run=run, key="L1")
    koppel_url = reverse("ea:import_koppel", args=[school.pk, run.pk, "leerlingen", piet.pk])
    page = client.get(koppel_url, {"q": "Jansen"}).content.decode()
    assert "Pieter Jansen" in page and ">koppel<" in page
    response = client.post(koppel_url, {"target": pieter.pk})
    assert response.url == reverse("ea:import_tab", args=[school.pk, run.pk, "leerlingen"]) + f"#r{piet.pk}"
    page = client.get(response.url).content.decode()
    assert "handmatig gekoppeld" in page

    # Summary refuses while Kees has no e-mail address; fill it in on the Leerkrachten tab.
    samenvatting = reverse("ea:import_samenvatting", args=[school.pk, run.pk])
    page = client.get(samenvatting).content.decode()
    assert "Sommige nieuwe leerkrachten hebben nog geen e-mailadres" in page
    response = client.post(samenvatting, {"actie": "importeren"}, follow=True)
    assert "Vul een e-mailadres in voor de nieuwe leerkracht(en): Kees Mulder" in response.content.decode()
    kees = run.leerkrachten.get(key="T2")
    client.post(reverse("ea:import_emails", args=[school.pk, run.pk]), {f"email-{kees.pk}": "k.mulder@school.example"})

    page = client.get(samenvatting).content.decode()
    rows = {
        label: (nieuw, wijzig, niet)
        for label, nieuw, wijzig, niet in re.findall(
            r"<tr><th>(\w+)</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", page
        )
    }
    assert rows == {"Groepen": ("1", "0", "1"), "Leerkrachten": ("2", "0", "0"), "Leerlingen": ("1", "1", "1")}
    for text in ("Wijzigen", "Gegevens importeren", "Import afbreken"):
        assert text in page
    response = client.post(samenvatting, {"actie": "importeren"}, follow=True)
    page = response.content.decode()
    assert "De gegevens zijn geïmporteerd" in page and "Leerlingen beheren" in page
    assert ">L1<" in page and ">L2<" in page  # each pupil shows its stable external code

    assert list(Groep.objects.values_list("extern_key", flat=True)) == ["G5A"]
    assert Leerling.objects.count() == 2 and not Leerling.objects.filter(extern_key="L3").exists()
    pieter.refresh_from_db()
    assert (pieter.extern_key, pieter.eckid, pieter.groep.extern_key) == ("L1", eckid(1), "G5A")
    assert Leerkracht.objects.get(extern_key="T2").email == "k.mulder@school.example"

    # The next import of the same data: nothing new, nothing to change, Groep 1 still not imported.
    importeer(client, school)
    run2 = ImportRun.objects.filter(state="staged").get()
    page = client.get(reverse("ea:import_samenvatting", args=[school.pk, run2.pk])).content.decode()
    assert re.findall(r"<td>(\d+)</td><td>(\d+)</td><td>\d+</td>", page) == [("0", "0")] * 3


def test_abort_changes_nothing(client: Client, beheerder: Any, school: Any, koppeling: LasKoppeling) -> None:
    client.force_login(beheerder)
    importeer(client, school)
    run = ImportRun.objects.get()
    response = client.post(
        reverse("ea:import_samenvatting", args=[school.pk, run.pk]), {"actie": "afbreken"}, follow=True
    )
    assert "De import is afgebroken. Er is niets veranderd." in response.content.decode()
    run.refresh_from_db()
    assert run.state == "aborted" and not Leerling.objects.exists() and not Groep.objects.exists()


def test_getrapt_las_is_fetched_in_steps(
    client: Client, beheerder: Any, school: Any, koppeling: Any, fake_las: Any
) -> None:
    LasType.objects.filter(pk=koppeling.las_type_id).update(getrapt=True)
    client.force_login(beheerder)
    importeer(client, school)
    assert fake_las.calls[0] == "HaalStructuur" and "HaalLeerlingen" in fake_las.calls
    run = ImportRun.objects.get()
    assert run.leerlingen.count() == 3 and run.leerkrachten.count() == 2 and run.groepen.count() == 2


def test_wrong_key_is_explained_in_plain_dutch(
    client: Client, beheerder: Any, klantenservice: Any, school: Any, koppeling: LasKoppeling
) -> None:
    koppeling.autorisatiesleutel = "21QW00-verkeerde-sleutel"
    koppeling.save()
    client.force_login(beheerder)
    page = importeer(client, school).content.decode()
    assert "De autorisatiesleutel wordt door het LAS niet geaccepteerd." in page and "Opnieuw proberen" in page
    assert "Client.AutorisatieOngeldig" not in page and ImportRun.objects.get().state == "failed"
    assert not StagedLeerling.objects.exists() and not StagedGroep.objects.exists()
    # The service desk sees the same on "Test verbinding".
    koppeling.status = LasKoppeling.AANGEVRAAGD
    koppeling.save()
    ks = Client()
    ks.force_login(klantenservice)
    page = ks.post(reverse("ea:aanvraag", args=[koppeling.pk]), {"actie": "test"}).content.decode()
    assert "De autorisatiesleutel wordt door het LAS niet geaccepteerd." in page


def test_las_down_is_explained_in_plain_dutch(
    client: Client, beheerder: Any, klantenservice: Any, school: Any, koppeling: LasKoppeling
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    LasType.objects.filter(pk=koppeling.las_type_id).update(
        leerlinggegevens_url=f"http://127.0.0.1:{port}/uwlr/leerlinggegevens"
    )
    client.force_login(beheerder)
    page = importeer(client, school).content.decode()
    assert "Het LAS is niet bereikbaar." in page and "ConnectError" not in page


def test_connection_test_reports_counts(klantenservice: Any, koppeling: LasKoppeling) -> None:
    uitkomst = koppelen.test_verbinding(koppeling)
    assert uitkomst.ok and (uitkomst.groepen, uitkomst.leerlingen, uitkomst.leerkrachten) == (2, 3, 2)


def test_leerlingen_beheren_lists_deactivated_pupils_and_reactivates(
    client: Client, beheerder: Any, school: Any
) -> None:
    from django.utils import timezone

    weg = Leerling.objects.create(
        school=school, achternaam="de Wit", roepnaam="Tim", extern_key="L9", actief=False, deactivated_at=timezone.now()
    )
    Leerling.objects.create(school=school, achternaam="Jansen", roepnaam="Piet", extern_key="L1")
    client.force_login(beheerder)
    url = reverse("ea:leerlingen", args=[school.pk])
    page = client.get(url).content.decode()
    assert "Piet Jansen" in page and "Tim de Wit" not in page and "Gedeactiveerd (1)" in page
    page = client.get(url, {"status": "gedeactiveerd"}).content.decode()
    assert "Tim de Wit" in page and "Geselecteerde leerlingen heractiveren" in page
    response = client.post(f"{url}?status=gedeactiveerd", {"actie": "heractiveren", "leerling": [weg.pk]}, follow=True)
    assert "1 leerling(en) geheractiveerd." in response.content.decode()
    weg.refresh_from_db()
    assert weg.actief and weg.deactivated_at is None


def test_wizard_tab_of_a_big_school_takes_a_fixed_number_of_queries(
    client: Client, beheerder: Any, school: Any, django_assert_max_num_queries: Any
) -> None:
    from ea import importer

    data = gegevens(
        groepen=[model.Groep(key=f"G{i}", naam=f"Groep {i}", jaargroep="5") for i in range(100)],
        leerlingen=[leerling(f"L{i}", f"Naam{i}", "Kind", f"G{i % 100}") for i in range(3000)],
    )
    run = importer.stage(school, data)
    client.force_login(beheerder)
    for tab in ("groepen", "leerkrachten", "leerlingen"):
        with django_assert_max_num_queries(20):
            response = client.get(reverse("ea:import_tab", args=[school.pk, run.pk, tab]))
        assert response.status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("ea:import_samenvatting", args=[school.pk, run.pk])).status_code == 200


def test_an_import_of_another_school_is_not_reachable(
    client: Client, beheerder: Any, school: Any, applicatie: Any
) -> None:
    from ea import importer
    from ea.models import School

    ander = School.objects.create(applicatie=applicatie, naam="Andere school", brincode="12AB")
    run = importer.stage(ander, school_data())
    client.force_login(beheerder)
    assert client.get(reverse("ea:import_tab", args=[school.pk, run.pk, "groepen"])).status_code == 404
    assert client.get(reverse("ea:import_tab", args=[ander.pk, run.pk, "groepen"])).status_code == 404
    row = run.leerlingen.first()
    response = client.post(
        reverse("ea:import_besluit", args=[ander.pk, run.pk, "leerlingen", row.pk]), {"besluit": "niet"}
    )
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.besluit == "nieuw"
