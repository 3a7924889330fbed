"""A LAS fault in chromium: the school pasted a wrong key; the admin reads what is wrong in plain Dutch, saves the
right key with "Wijzigingen opslaan" and imports. Against our own school side on the live server."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ea import tasks
from ea.forms import huidig_schooljaar
from ea.models import ImportRun, Leerling
from tests.browser.conftest import login
from tests.ea.own_las import SLEUTEL, las_data, rekenwereld_koppeling, seed_own_las

PASSWORD = "Koppel-test-2026!"


@pytest.fixture
def opgehaald(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The fetches "Gegevens importeren" plans are recorded; the test is the worker that does them."""
    sent: list[int] = []
    monkeypatch.setattr(tasks, "dispatch", sent.append)
    return sent


def test_wrong_key_is_explained_then_fixed(
    page: Any, live_server: Any, settings: Any, django_user_model: Any, opgehaald: list[int]
) -> None:
    settings.BASE_URL = live_server.url
    seed_own_las(las_data(huidig_schooljaar()))
    user = django_user_model.objects.create_user("joost", password=PASSWORD, email="joost@vlinderboom.example")
    rekenwereld_koppeling(user, sleutel="21QW00-een-verkeerde-sleutel")

    login(page, "joost", PASSWORD)
    page.get_by_role("link", name="Gegevens importeren").first.click()
    page.get_by_role("button", name="Gegevens importeren").click()
    page.get_by_text("Gegevens worden opgehaald uit het LAS…").wait_for()
    assert tasks.execute(opgehaald[-1]) == "failed"
    message = page.locator(".message.error").inner_text()  # after the page refreshed itself
    assert message.startswith("De autorisatiesleutel wordt door het LAS niet geaccepteerd.")
    assert page.get_by_role("button", name="Opnieuw proberen").is_visible()
    assert "AutorisatieOngeldig" not in page.content() and not Leerling.objects.exists()
    assert not ImportRun.objects.exclude(state="failed").exists()

    page.get_by_role("link", name="Koppelen met LAS").first.click()
    assert page.get_by_text("U heeft een actieve koppeling met Koppelpunt (eigen LAS)").is_visible()
    assert page.locator("#sleutel-masker").inner_text() == "••••••••utel"
    page.get_by_label("Autorisatiesleutel").fill(SLEUTEL)
    page.get_by_role("button", name="Wijzigingen opslaan").click()
    assert page.get_by_text("Uw wijzigingen zijn opgeslagen.").is_visible()
    assert page.locator("#sleutel-masker").inner_text() == "••••••••k3Xa"

    page.get_by_role("link", name="Gegevens importeren").last.click()
    page.get_by_role("button", name="Gegevens importeren").click()
    page.get_by_text("Gegevens worden opgehaald uit het LAS…").wait_for()
    assert len(opgehaald) == 2 and tasks.execute(opgehaald[-1]) == "staged"
    page.get_by_role("heading", name=re.compile("Nieuwe groepen toevoegen")).wait_for()
    assert page.locator("tr[data-key=G5A]").is_visible()
    assert page.console_errors == []
