"""Walk the school's Koppelingen screens in chromium, as the seeds describe them (ESIS → Basispoort/Snappet/TOP)."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.utils import timezone

from las.models import Koppeling, KoppelingStatus
from las.secrets import code_digest
from tests.browser.conftest import login, screenshot
from tests.las.cast import PASSWORD, make_cast

SNAPPET_CODE = "21QW00Ygr67BfgKl!gr8mx"


def _open_overview(page: Any) -> None:
    login(page, "anna_school_a", PASSWORD)
    # Anna manages two vestigingen: Koppelingen first asks which one.
    assert page.get_by_role("heading", name="Vestiging kiezen").is_visible()
    page.get_by_role("row", name=re.compile("21QW00")).get_by_role("link", name="Openen").click()
    page.get_by_role("heading", name="Koppelingenoverzicht").wait_for()
    assert page.url.endswith("/school/21QW00/koppelingen/")


def _unfold(page: Any, group: str) -> Any:
    details = page.locator("details", has=page.locator("summary", has_text=group))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    assert details.locator("tbody tr").first.is_visible()
    return details


def _activation_form(page: Any, group: str, name: str) -> None:
    details = _unfold(page, group)
    details.get_by_role("row", name=re.compile(re.escape(name))).get_by_role("link", name="Activeren").click()
    page.get_by_role("heading", name="Koppeling activeren").wait_for()


def _submit_code(page: Any, code: str) -> None:
    page.get_by_label("Uw naam").fill("Anna de Vries")
    page.get_by_label("Voor akkoord").check()
    page.get_by_label("Verificatiecode").fill(code)
    page.get_by_role("button", name="Gereed").click()
    page.wait_for_load_state()


def _status_of(page: Any, name: str) -> str:
    row = page.locator("#geactiveerd tbody tr", has=page.get_by_role("link", name=name, exact=True))
    return row.locator(".status").inner_text()


def test_activate_snappet_with_invalid_then_valid_code(page: Any) -> None:
    make_cast()
    _open_overview(page)
    assert page.get_by_text("UWLR Leerlinggegevens (4 koppelingen)").is_visible()
    # Every group is folded until the school opens it.
    assert page.locator("details.groep[open]").count() == 0
    assert not page.get_by_role("row", name=re.compile("Snappet")).is_visible()
    screenshot(page, "koppelingenoverzicht")
    _activation_form(page, "UWLR Leerlinggegevens", "Snappet")
    # The screen of the seeds: details, terms download, mandate sentence, the user, the rules and the tip.
    for text in ("Koppelinggegevens", "Snappet UWLR koppeling", "Gebruikersvoorwaarden downloaden",
                 "Een gemandateerde gebruiker van het bestuur / de school gaat akkoord",
                 "anna_school_a", "(bijvoorbeeld: 21QW00)",
                 "Tip: kopieer of schrijf de verificatiecode op omdat deze ook in Snappet ingevuld moet worden."):
        assert page.get_by_text(text).first.is_visible(), text
    assert page.get_by_label("Startdatum").input_value() == timezone.localdate().strftime("%-d-%-m-%Y")
    screenshot(page, "koppeling-activeren")
    invalid = {
        "21QW00kort": "De verificatiecode is te kort: minimaal 20 tekens, u heeft er 10 ingevuld.",
        "21QW00" + "L" * 45: "De verificatiecode is te lang: maximaal 50 tekens, u heeft er 51 ingevuld.",
        "01AA00Ygr67BfgKl!gr8mx": "De verificatiecode moet beginnen met het brin- en vestigingsnummer van uw school: "
                                  "21QW00.",
    }
    for code, message in invalid.items():
        _submit_code(page, code)
        assert page.locator(".errorlist").get_by_text(message).is_visible(), message
        assert page.get_by_role("heading", name="Koppeling activeren").is_visible()
        assert Koppeling.objects.count() == 0
    screenshot(page, "koppeling-activeren-fout")

    _submit_code(page, SNAPPET_CODE)
    page.get_by_role("heading", name="Koppeling geactiveerd").wait_for()
    # Shown this once, to copy into Snappet.
    assert page.locator("#code").input_value() == SNAPPET_CODE
    screenshot(page, "koppeling-geactiveerd")
    page.get_by_role("link", name="Naar het koppelingenoverzicht").click()
    assert _status_of(page, "Snappet") == "Actief"
    row = page.locator("#geactiveerd tbody tr").first
    for text in ("UWLR Leerlinggegevens", "Gebruikersvoorwaarden", timezone.localdate().strftime("%-d-%-m-%Y"),
                 "Bewerken", "Beëindigen"):
        assert text in row.inner_text()
    assert SNAPPET_CODE not in page.content()
    uwlr = _unfold(page, "UWLR Leerlinggegevens")
    # An activated offer shows its status instead of a second Activeren button.
    assert uwlr.get_by_role("row", name=re.compile("Snappet")).get_by_role("link", name="Activeren").count() == 0
    screenshot(page, "koppelingenoverzicht-actief")
    koppeling = Koppeling.objects.get()
    assert koppeling.status == KoppelingStatus.ACTIEF and koppeling.code_hmac == code_digest(SNAPPET_CODE)

    # The same code for another partner is a duplicate.
    _activation_form(page, "UWLR Leerlinggegevens", "Basispoort")
    _submit_code(page, SNAPPET_CODE)
    assert page.locator(".errorlist").get_by_text("Deze verificatiecode is al in gebruik. Kies een andere code."
                                                  ).is_visible()
    assert Koppeling.objects.count() == 1
    assert page.console_errors == []


def test_pause_resume_and_end(page: Any) -> None:
    make_cast()
    _open_overview(page)
    _activation_form(page, "UWLR Leerlinggegevens", "Basispoort")
    _submit_code(page, "21QW00Basispoort-2026-a1")
    page.get_by_role("link", name="Naar het koppelingenoverzicht").click()
    assert _status_of(page, "Basispoort") == "Actief"

    # Pause: remove the verification code.
    page.locator("#geactiveerd").get_by_role("link", name="Bewerken").click()
    page.get_by_role("button", name="Verificatiecode verwijderen (pauzeren)").click()
    assert page.get_by_text("De verificatiecode is verwijderd: Basispoort is gepauzeerd.").is_visible()
    assert _status_of(page, "Basispoort") == "Gepauzeerd"
    assert Koppeling.objects.get().code_hmac is None

    # Resume: enter a new code.
    page.locator("#geactiveerd").get_by_role("link", name="Bewerken").click()
    assert page.get_by_text("De gegevensuitwisseling is gepauzeerd").is_visible()
    page.get_by_label("Nieuwe verificatiecode").fill("21QW00Basispoort-2026-b2")
    page.get_by_role("button", name="Gereed").click()
    page.get_by_role("heading", name="Koppeling hervat").wait_for()
    page.get_by_role("link", name="Naar het koppelingenoverzicht").click()
    assert _status_of(page, "Basispoort") == "Actief"

    # End, after confirming.
    page.locator("#geactiveerd").get_by_role("link", name="Beëindigen").click()
    assert page.get_by_text("Weet u zeker dat u de koppeling met Basispoort wilt beëindigen?").is_visible()
    page.get_by_role("button", name="Ja, koppeling beëindigen").click()
    assert page.get_by_text("Basispoort is beëindigd.").is_visible()
    assert page.locator("#geactiveerd").count() == 0
    history = page.locator("details#beeindigd")
    history.locator("summary").click()
    assert "Beëindigde koppelingen (1)" in history.locator("summary").inner_text()
    assert "Anna de Vries" in history.inner_text()
    history.get_by_role("link", name="Basispoort").click()
    events = page.locator("#events tbody tr")
    assert [row.get_attribute("data-soort") for row in events.all()] == [
        "activated", "paused", "resumed", "ended"]
    screenshot(page, "koppeling-geschiedenis")
    assert Koppeling.objects.get().status == KoppelingStatus.BEEINDIGD
    assert page.console_errors == []


def test_swv_top_dossier_waits_for_partner_confirmation(page: Any, new_page: Any, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    make_cast()
    _open_overview(page)
    _activation_form(page, "Samenwerkingsverband", "SWV TOP dossier koppeling")
    assert page.get_by_text("De partner moet de activering bevestigen").is_visible()
    _submit_code(page, "21QW00TopDossier-SWV-2026")
    assert page.get_by_text("moet de activering bevestigen. We hebben hun een e-mail gestuurd").is_visible()
    page.get_by_role("link", name="Naar het koppelingenoverzicht").click()
    assert _status_of(page, "SWV TOP dossier koppeling") == "Wacht op bevestiging"

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["support-topdossier@perspectiefopschool.example.nl"]
    assert "brin 21QW" in message.body
    link = re.search(r"(http://\S+/school/bevestigen/\S+/)", message.body).group(1)

    partner = new_page()  # not logged in
    partner.goto(link)
    assert partner.get_by_text("21QW00").is_visible()
    screenshot(partner, "partner-bevestigen")
    partner.get_by_role("button", name="Activering bevestigen").click()
    assert partner.get_by_text("Dank u wel. De koppeling is nu actief.").is_visible()

    page.reload()
    assert _status_of(page, "SWV TOP dossier koppeling") == "Actief"
    assert Koppeling.objects.get().status == KoppelingStatus.ACTIEF
    assert page.console_errors == [] and partner.console_errors == []
