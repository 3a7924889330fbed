"""The application side in chromium, the way seed 004 (Boom testcentrum ↔ SchoolOAS) describes it:
Koppelen met LAS → Aanvragen → the service desk tests and approves → the admin follows the e-mail's link →
Gegevens importeren with one manual link, one group not imported and one pupil deactivated → summary → database.

The LAS is our own school side: its UWLR endpoint served by the live server over real HTTP, its data built with the
`las` models, Rekenwereld activated there with a verification code that the school's admin pastes as the key.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail

from ea import tasks
from ea.models import Applicatie, Groep, ImportRun, Klantenservice, LasKoppeling, Leerkracht, Leerling, LinkRule
from ea.models import School as EaSchool
from ea.models import SchoolBeheerder as EaBeheerder
from tests.browser.conftest import login, screenshot
from tests.ea.own_las import SLEUTEL, las_data, seed_own_las

PASSWORD = "Koppel-test-2026!"


@pytest.fixture
def opgehaald(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The fetches "Gegevens importeren" plans are recorded; the test is the worker that does them."""
    sent: list[int] = []
    monkeypatch.setattr(tasks, "dispatch", sent.append)
    return sent


@pytest.fixture
def las(live_server: Any, settings: Any, transactional_db: None) -> str:
    """Our own school side holds `las_data` and has activated Rekenwereld; the LasType points at it."""
    from ea.forms import huidig_schooljaar

    settings.BASE_URL = live_server.url  # "{BASE_URL}/school/uwlr/leerlinggegevens" = the live server
    seed_own_las(las_data(huidig_schooljaar()))
    return "Koppelpunt (eigen LAS)"


def _ea_cast(django_user_model: Any) -> tuple[EaSchool, Any]:
    app = Applicatie.objects.create(naam="Rekenwereld", klantcode="REKENWERELD", klantnaam="Rekenwereld")
    school = EaSchool.objects.create(applicatie=app, naam="OBS De Vlinderboom", brincode="21QW")
    beheerder = django_user_model.objects.create_user(
        "joost", password=PASSWORD, email="joost@vlinderboom.example", first_name="Joost"
    )
    EaBeheerder.objects.create(user=beheerder, school=school)
    ks = django_user_model.objects.create_user(
        "vera", password=PASSWORD, email="vera@rekenwereld.example", first_name="Vera"
    )
    Klantenservice.objects.create(user=ks, applicatie=app)
    # What the application knew before: "Groep 5a" (no number), with Pieter (= the LAS's Piet, other spelling)
    # and Tim, who has left the school and is not in the LAS any more.
    groep = Groep.objects.create(school=school, naam="Groep 5a", jaargroep="5")
    Leerling.objects.create(
        school=school, groep=groep, achternaam="Jansen", roepnaam="Pieter", geboortedatum=dt.date(2016, 3, 2)
    )
    Leerling.objects.create(
        school=school, groep=groep, achternaam="de Wit", roepnaam="Tim", geboortedatum=dt.date(2016, 7, 7)
    )
    return school, beheerder


def test_request_approve_mail_and_import(
    page: Any, new_page: Any, las: str, django_user_model: Any, opgehaald: list[int]
) -> None:
    school, _ = _ea_cast(django_user_model)

    # 1. The school's admin: Beheer → Koppelen met LAS, Aanvragen.
    login(page, "joost", PASSWORD)
    page.get_by_role("heading", name=re.compile("Koppelen met Leerlingadministratiesysteem")).wait_for()
    page.get_by_label("Type koppeling").select_option(label=las)
    assert page.get_by_label("Brincode").input_value() == "21QW"
    page.get_by_label("Autorisatiesleutel").fill("kort")  # first a mistake: a wrong BRIN code
    page.get_by_label("Brincode").fill("21qw")
    page.get_by_role("button", name="Aanvragen").click()
    assert page.get_by_text("De brincode bestaat uit 2 cijfers gevolgd door 2 hoofdletters").is_visible()
    page.get_by_label("Brincode").fill("21QW")
    page.get_by_label("Autorisatiesleutel").fill(SLEUTEL)
    page.get_by_role("button", name="Aanvragen").click()
    page.locator("#lopende-aanvraag").wait_for()
    assert "wacht op goedkeuring door de klantenservice" in page.locator("#lopende-aanvraag").inner_text()
    assert SLEUTEL not in page.content()
    screenshot(page, "ea-koppelen-aangevraagd")

    # 2. The service desk: open requests → Controleren → Test verbinding → Goedkeuren.
    desk = new_page()
    login(desk, "vera", PASSWORD)
    desk.get_by_role("heading", name="Koppelingsaanvragen").wait_for()
    desk.locator("#open-aanvragen").get_by_role("row", name=re.compile("OBS De Vlinderboom")).get_by_role(
        "link", name="Controleren"
    ).click()
    assert "••••••••k3Xa" in desk.content() and SLEUTEL not in desk.content()
    desk.get_by_role("button", name="Test verbinding").click()
    assert (
        "De verbinding werkt: het LAS stuurde 2 groepen, 3 leerlingen en 2 leerkrachten."
        in desk.locator("#testresultaat").inner_text()
    )
    screenshot(desk, "ea-klantenservice-test")
    desk.get_by_role("button", name="Goedkeuren").click()
    assert "De aanvraag is goedgekeurd; 1 beheerder(s) kregen een e-mail." in desk.content()
    assert LasKoppeling.objects.get().status == "goedgekeurd"

    # 3. The e-mail: its link leads to the import screen.
    assert [m.to for m in mail.outbox] == [["vera@rekenwereld.example"], ["joost@vlinderboom.example"]]
    assert "goedgekeurd" in mail.outbox[1].subject
    link = re.search(r"http://\S+/importeren/", mail.outbox[1].body).group(0)
    page.goto(urlsplit(link).path)  # BASE_URL may name another host than the live server's
    page.get_by_role("heading", name="Gegevens importeren").wait_for()
    page.goto(f"/applicatie/school/{school.pk}/koppelen/")
    assert page.get_by_text(f"U heeft een actieve koppeling met {las}").is_visible()
    assert page.get_by_role("button", name="Wijzigingen opslaan").is_visible()
    page.get_by_role("link", name="Gegevens importeren").last.click()
    page.get_by_role("button", name="Gegevens importeren").click()

    # The LAS is asked in the background: a page that refreshes itself until a worker has fetched the data.
    page.get_by_text("Gegevens worden opgehaald uit het LAS…").wait_for()
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    screenshot(page, "ea-import-ophalen")
    assert len(opgehaald) == 1 and ImportRun.objects.get(pk=opgehaald[0]).state == "ophalen"
    assert tasks.execute(opgehaald[0]) == "staged"

    # 4. Groepen: Groep 5a is proposed (same name); Groep 1 → Niet importeren.
    page.get_by_role("heading", name=re.compile("Nieuwe groepen toevoegen")).wait_for()
    assert page.locator(".sectie-bestaand tr[data-key=G5A]").is_visible()
    page.locator("tr[data-key=G1]").get_by_role("button", name="Niet importeren").click()
    page.locator(".sectie-niet tr[data-key=G1]").wait_for()
    assert "door u op Niet importeren gezet" in page.locator("tr[data-key=G1]").inner_text()
    assert "voorstel: zelfde naam" in page.locator("tr[data-key=G5A]").inner_text()
    assert re.search(r"/groepen/#r\d+$", page.url)
    screenshot(page, "ea-import-groepen")

    # 5. Leerkrachten: Kees has no e-mail address; fill it in.
    page.get_by_role("link", name="Leerkrachten").click()
    page.get_by_label("E-mailadres Kees Mulder").fill("k.mulder@school.example")
    page.get_by_role("button", name="E-mailadressen opslaan").click()
    assert page.get_by_text("De e-mailadressen zijn opgeslagen.").is_visible()

    # 6. Leerlingen: Noor follows her group; Piet → koppeling aanpassen → search → koppel → back to the row.
    page.get_by_role("link", name="Leerlingen", exact=True).click()
    assert page.locator(".sectie-niet tr[data-key=L3]").is_visible()
    page.locator(".sectie-nieuw tr[data-key=L1]").get_by_role("link", name="koppeling aanpassen").click()
    page.get_by_role("textbox").fill("Jansen")
    page.get_by_role("button", name="Zoeken").click()
    screenshot(page, "ea-import-koppel-zoeken")
    page.get_by_role("row", name=re.compile("Pieter Jansen")).get_by_role("button", name="koppel").click()
    page.locator(".sectie-bestaand tr[data-key=L1]").wait_for()
    assert re.search(r"/leerlingen/#r\d+$", page.url)
    assert "handmatig gekoppeld" in page.locator("tr[data-key=L1]").inner_text()
    screenshot(page, "ea-import-leerlingen")

    # 7. Summary: Nieuw / Te wijzigen per kind, and one pupil to deactivate.
    page.get_by_role("link", name="Gegevens importeren").last.click()
    page.get_by_role("heading", name="Samenvatting").wait_for()
    cells = {
        row.locator("th").inner_text(): [c.inner_text() for c in row.locator("td").all()]
        for row in page.locator("#samenvatting tbody tr").all()
    }
    assert cells == {"Groepen": ["0", "1", "1"], "Leerkrachten": ["2", "0", "0"], "Leerlingen": ["1", "1", "1"]}
    assert (
        "1 leerling van een geïmporteerde groep komt niet in de import voor"
        in page.locator("#te-deactiveren").inner_text()
    )
    assert page.get_by_role("link", name="Wijzigen").is_visible()
    assert page.get_by_role("button", name="Import afbreken").is_visible()
    screenshot(page, "ea-import-samenvatting")
    page.get_by_role("button", name="Gegevens importeren").click()

    # 8. Leerlingen beheren: each pupil shows its stable external code; Tim is deactivated and can come back.
    page.get_by_role("heading", name="Leerlingen beheren").wait_for()
    assert page.get_by_text("De gegevens zijn geïmporteerd").is_visible()
    assert page.locator("tr[data-key=L1] td.code").inner_text() == "L1"
    assert page.locator("tr[data-key=L2] td.code").inner_text() == "L2"
    page.get_by_role("link", name=re.compile("Gedeactiveerd")).click()
    assert page.get_by_role("row", name=re.compile("Tim de Wit")).is_visible()
    assert page.console_errors == [] and desk.console_errors == []

    # 9. The database. The data came from our own LAS, which logged Rekenwereld's (getrapt) requests.
    from las.models import UwlrToegang

    assert set(UwlrToegang.objects.values_list("klantcode", flat=True)) == {"REKENWERELD"}
    assert "HaalStructuur" in set(UwlrToegang.objects.values_list("operatie", flat=True))
    pieter = Leerling.objects.get(roepnaam="Piet")
    assert (pieter.extern_key, pieter.eckid.startswith("https://ketenid.nl/pilot/"), pieter.groep.extern_key) == (
        "L1",
        True,
        "G5A",
    )
    assert Leerling.objects.count() == 3 and not Leerling.objects.filter(extern_key="L3").exists()
    tim = Leerling.objects.get(roepnaam="Tim")
    assert not tim.actief and tim.deactivated_at is not None
    assert list(Groep.objects.values_list("naam", "extern_key")) == [("Groep 5a", "G5A")]
    assert set(Leerkracht.objects.values_list("extern_key", "email")) == {
        ("T1", "a.bakker@school.example"),
        ("T2", "k.mulder@school.example"),
    }
    assert set(LinkRule.objects.values_list("soort", "actie", "extern_key")) == {
        ("groep", "negeer", "G1"),
        ("leerling", "koppel", "L1"),
    }
