"""The Koppelingen screens through Django's test client: activation rules, lifecycle, confirmation, secrecy."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from las.models import Koppeling, KoppelingAanbod, KoppelingEvent, KoppelingStatus
from las.secrets import code_digest
from tests.las.cast import Cast

GOOD = "21QW00Ygr67BfgKl!gr8xx"  # 22 characters, starts with the vestiging's 6-character code


def activate(client: Client, code6: str = "21QW00", slug: str = "snappet", code: str = GOOD, **fields: object):
    data = {"naam": "Anna de Vries", "akkoord": "on", "startdatum": timezone.localdate().isoformat(),
            "verificatiecode": code}
    data.update({k: v for k, v in fields.items() if v is not None})
    for key in [k for k, v in fields.items() if v is None]:
        data.pop(key)
    return client.post(f"/school/{code6}/koppelingen/activeren/{slug}/", data)


def errors(response) -> list[str]:
    return re.findall(r'<ul class="errorlist[^"]*"[^>]*>\s*<li>(.*?)</li>', response.content.decode())


def test_overview_lists_catalogue_groups_with_counts(anna: Client, cast: Cast) -> None:
    page = anna.get("/school/21QW00/koppelingen/").content.decode()
    assert "Koppelingenoverzicht" in page and "Geactiveerde koppelingen" in page and "Beschikbare koppelingen" in page
    assert "UWLR Leerlinggegevens (4 koppelingen)" in page
    assert "Samenwerkingsverband (1 koppeling)" in page
    for naam in ("Basispoort", "Snappet", "UWLR-4D", "TOP dossier – ECKiD", "SWV TOP dossier koppeling"):
        assert naam in page


def test_activation_screen_has_the_seed_fields(anna: Client, cast: Cast) -> None:
    page = anna.get("/school/21QW00/koppelingen/activeren/snappet/").content.decode()
    for text in ("Koppeling activeren", "Koppelinggegevens", "Gebruikersvoorwaarden downloaden", "Uw naam",
                 "Voor akkoord", "Startdatum", "Verificatiecode", "Gereed", "anna_school_a",
                 "Een gemandateerde gebruiker van het bestuur / de school gaat akkoord",
                 "Tip: kopieer of schrijf de verificatiecode op omdat deze ook in Snappet ingevuld moet worden.",
                 "(bijvoorbeeld: 21QW00)", "Snappet UWLR koppeling", "Geen aanvullende kosten"):
        assert text in page, text


def test_valid_activation_is_active_and_shows_code_once(anna: Client, cast: Cast) -> None:
    response = activate(anna)
    assert response.status_code == 200
    body = response.content.decode()
    assert GOOD in body and "Koppeling geactiveerd" in body
    koppeling = Koppeling.objects.get()
    assert koppeling.status == KoppelingStatus.ACTIEF and koppeling.vestiging == cast.a00
    assert koppeling.code_hmac == code_digest(GOOD)
    assert koppeling.activated_by == cast.anna_school_a and koppeling.naam == "Anna de Vries"
    assert list(koppeling.events.values_list("soort", flat=True)) == ["activated"]
    overview = anna.get("/school/21QW00/koppelingen/").content.decode()
    assert "Actief" in overview and GOOD not in overview
    assert GOOD not in anna.get(f"/school/21QW00/koppelingen/{koppeling.pk}/").content.decode()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("21QW00abc", "De verificatiecode is te kort: minimaal 20 tekens, u heeft er 9 ingevuld."),
        ("21QW00" + "x" * 45, "De verificatiecode is te lang: maximaal 50 tekens, u heeft er 51 ingevuld."),
        ("21QW01Ygr67BfgKl!gr8xx", "De verificatiecode moet beginnen met het brin- en vestigingsnummer van uw school: "
                                   "21QW00."),
        ("21qw00Ygr67BfgKl!gr8xx", "De verificatiecode moet beginnen met het brin- en vestigingsnummer van uw school: "
                                   "21QW00."),
        ("21QW00 Ygr67 BfgKl gr8", "De verificatiecode mag geen spaties bevatten."),
        ("", "Vul een verificatiecode in."),
    ],
)
def test_invalid_codes_give_dutch_errors_and_save_nothing(anna: Client, cast: Cast, code: str, message: str) -> None:
    response = activate(anna, code=code)
    assert response.status_code == 200
    assert message in errors(response)
    assert not Koppeling.objects.exists()


def test_exactly_20_and_50_characters_are_accepted(anna: Client, cast: Cast) -> None:
    assert activate(anna, slug="snappet", code="21QW00" + "a" * 14).status_code == 200
    assert activate(anna, slug="basispoort", code="21QW00" + "b" * 44).status_code == 200
    assert Koppeling.objects.count() == 2


def test_duplicate_code_is_refused_even_across_schools(anna: Client, bram: Client, cast: Cast) -> None:
    activate(anna)
    response = activate(anna, slug="basispoort")
    assert "Deze verificatiecode is al in gebruik. Kies een andere code." in errors(response)
    assert Koppeling.objects.count() == 1
    # Another school cannot even pick a code that exists elsewhere (the prefix rule aside, the HMAC is unique).
    assert Koppeling.objects.filter(code_hmac=code_digest(GOOD)).count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"naam": ""}, "Vul uw naam in."),
        ({"akkoord": None}, "Vink ‘Voor akkoord’ aan om akkoord te gaan met de gebruikersvoorwaarden."),
        ({"startdatum": (dt.date.today() - dt.timedelta(days=2)).isoformat()},
         "De startdatum mag niet in het verleden liggen."),
        ({"startdatum": "gisteren"}, "Vul een geldige datum in."),
    ],
)
def test_other_fields_are_required(anna: Client, cast: Cast, fields: dict[str, object], message: str) -> None:
    response = activate(anna, **fields)
    assert message in errors(response)
    assert not Koppeling.objects.exists()


def test_later_startdatum_shows_not_started_yet(anna: Client, cast: Cast) -> None:
    later = timezone.localdate() + dt.timedelta(days=10)
    activate(anna, startdatum=later.isoformat())
    koppeling = Koppeling.objects.get()
    assert not koppeling.is_bruikbaar()
    assert koppeling.is_bruikbaar(later)
    overview = anna.get("/school/21QW00/koppelingen/").content.decode()
    assert f"Actief vanaf {later.day}-{later.month}-{later.year}" in overview


def test_pause_resume_rotate_end_with_history(anna: Client, cast: Cast) -> None:
    activate(anna)
    k = Koppeling.objects.get()
    url = f"/school/21QW00/koppelingen/{k.pk}/"
    # Empty "Gereed" is not a silent pause: it asks what to do.
    response = anna.post(url + "bewerken/", {"verificatiecode": "", "actie": "opslaan"})
    assert any("Vul een nieuwe verificatiecode in" in e for e in errors(response))
    anna.post(url + "bewerken/", {"verificatiecode": "", "actie": "pauzeren"})
    k.refresh_from_db()
    assert k.status == KoppelingStatus.GEPAUZEERD and k.code_hmac is None and not k.is_bruikbaar()
    new = "21QW00NieuweCode-2026-xyz"
    response = anna.post(url + "bewerken/", {"verificatiecode": new, "actie": "opslaan"})
    assert "Koppeling hervat" in response.content.decode()
    k.refresh_from_db()
    assert k.status == KoppelingStatus.ACTIEF and k.code_hmac == code_digest(new)
    rotated = "21QW00Geroteerd-2026-abcd"
    anna.post(url + "bewerken/", {"verificatiecode": rotated, "actie": "opslaan"})
    k.refresh_from_db()
    assert k.code_hmac == code_digest(rotated) and k.status == KoppelingStatus.ACTIEF
    # The confirmation page does not end it; the POST does.
    assert "Ja, koppeling beëindigen" in anna.get(url + "beeindigen/").content.decode()
    anna.post(url + "beeindigen/")
    k.refresh_from_db()
    assert k.status == KoppelingStatus.BEEINDIGD and k.ended_by == cast.anna_school_a and k.ended_at
    assert list(k.events.values_list("soort", flat=True)) == ["activated", "paused", "resumed", "rotated", "ended"]
    overview = anna.get("/school/21QW00/koppelingen/").content.decode()
    assert "Beëindigde koppelingen (1)" in overview
    detail = anna.get(url).content.decode()
    for label in ("Geactiveerd", "Gepauzeerd", "Hervat", "Verificatiecode gewijzigd", "Beëindigd", "Anna de Vries"):
        assert label in detail
    # An ended koppeling cannot be edited, and its last code cannot be used again.
    anna.post(url + "bewerken/", {"verificatiecode": "21QW00AnotherCode-123456", "actie": "opslaan"})
    k.refresh_from_db()
    assert k.code_hmac == code_digest(rotated)
    response = activate(anna, code=rotated)
    assert "Deze verificatiecode is al in gebruik. Kies een andere code." in errors(response)
    # A new Snappet koppeling with a new code is fine.
    activate(anna, code="21QW00Opnieuw-Snappet-01")
    assert Koppeling.objects.lopend().count() == 1


def test_partner_confirmation_by_mailed_link(anna: Client, cast: Cast, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = activate(anna, slug="swv-top-dossier", code="21QW00TopDossier-SWV-2026")
    assert "moet de activering bevestigen" in response.content.decode()
    k = Koppeling.objects.get()
    assert k.status == KoppelingStatus.WACHT and not k.is_bruikbaar()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["support-topdossier@perspectiefopschool.example.nl"]
    assert "21QW" in message.body and "vestiging 00" in message.body and "21QW00" in message.subject
    assert "21QW00TopDossier-SWV-2026" not in message.body
    link = re.search(r"http://testserver(/school/bevestigen/\S+/)", message.body).group(1)
    client = Client()  # the partner: not logged in
    page = client.get(link).content.decode()
    assert "Activering bevestigen" in page and "Wacht op bevestiging" in page
    k.refresh_from_db()
    assert k.status == KoppelingStatus.WACHT  # GET alone changes nothing
    page = client.post(link, {"naam": "Petra (TOP dossier)"}).content.decode()
    assert "De koppeling is nu actief." in page
    k.refresh_from_db()
    assert k.status == KoppelingStatus.ACTIEF and k.bevestigd_op is not None
    event = k.events.get(soort="confirmed")
    assert "TOP dossier" in event.wie and event.notitie == "Petra (TOP dossier)"
    # Using the link again confirms nothing more.
    assert "niets (meer) te bevestigen" in client.post(link).content.decode()
    assert k.events.filter(soort="confirmed").count() == 1


def test_tampered_or_expired_confirmation_link(anna: Client, cast: Cast, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    activate(anna, slug="swv-top-dossier", code="21QW00TopDossier-SWV-2026")
    link = re.search(r"http://testserver(/school/bevestigen/\S+/)", mail.outbox[0].body).group(1)
    client = Client()
    bad = client.post(link[:-3] + "x/")
    assert bad.status_code == 400 and "ongeldig" in bad.content.decode()
    settings.LAS_BEVESTIGING_MAX_AGE = -1
    expired = client.post(link)
    assert expired.status_code == 400 and "verlopen" in expired.content.decode()
    assert Koppeling.objects.get().status == KoppelingStatus.WACHT


def test_service_desk_confirms_in_admin(anna: Client, cast: Cast, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    activate(anna, slug="swv-top-dossier", code="21QW00TopDossier-SWV-2026")
    activate(anna, slug="snappet")
    desk = Client()
    desk.force_login(cast.service_desk)
    ids = list(Koppeling.objects.values_list("pk", flat=True))
    response = desk.post("/beheer/django/las/koppeling/", {"action": "bevestig", "_selected_action": ids},
                         follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 koppeling bevestigd." in page and "1 koppeling wachtte niet op bevestiging." in page
    k = Koppeling.objects.get(aanbod__slug="swv-top-dossier")
    assert k.status == KoppelingStatus.ACTIEF
    assert k.events.get(soort="confirmed").user == cast.service_desk


def test_resume_of_unconfirmed_koppeling_waits_again(anna: Client, cast: Cast, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    activate(anna, slug="swv-top-dossier", code="21QW00TopDossier-SWV-2026")
    k = Koppeling.objects.get()
    anna.post(f"/school/21QW00/koppelingen/{k.pk}/bewerken/", {"actie": "pauzeren"})
    anna.post(f"/school/21QW00/koppelingen/{k.pk}/bewerken/", {"verificatiecode": "21QW00TopDossier-SWV-new1"})
    k.refresh_from_db()
    assert k.status == KoppelingStatus.WACHT


def test_terms_download(client: Client, cast: Cast) -> None:
    response = client.get("/school/voorwaarden/snappet/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    text = client.get("/school/voorwaarden/uwlr-4d/")
    assert "Gebruikersvoorwaarden" in b"".join(text.streaming_content).decode()
    KoppelingAanbod.objects.filter(slug="bron").update(voorwaarden_bestand="../settings.py")
    assert client.get("/school/voorwaarden/bron/").status_code == 404


def test_plain_code_is_nowhere_in_database_or_logs(anna: Client, cast: Cast, caplog, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    caplog.set_level(logging.DEBUG)
    codes = ["21QW00Geheim-Snappet-0001", "21QW00Geheim-TOPSWV-00002", "21QW00Geheim-Rotated-0003"]
    activate(anna, code=codes[0])
    activate(anna, slug="swv-top-dossier", code=codes[1])
    k = Koppeling.objects.get(aanbod__slug="snappet")
    anna.post(f"/school/21QW00/koppelingen/{k.pk}/bewerken/", {"verificatiecode": codes[2]})
    assert KoppelingEvent.objects.count() >= 4 and caplog.records  # there was something to look at
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    text = value.decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                    found += [(table, code) for code in codes if code in text or code.lower() in text.lower()]
    assert found == []
    # Session data is signed base64: decode it too.
    from django.contrib.sessions.models import Session

    for session in Session.objects.all():
        decoded = repr(session.get_decoded())
        assert not any(code in decoded for code in codes)
    for record in caplog.records:
        dump = record.getMessage() + repr(vars(record))
        assert not any(code in dump for code in codes), record
    assert not any(code in m.body for m in mail.outbox for code in codes)


def test_error_pages_and_logs_mask_the_code(cast: Cast, settings, monkeypatch, caplog) -> None:
    """If activation crashes half-way, neither the debug error page nor the error log shows the code."""
    from django.views.decorators.debug import sensitive_variables

    settings.DEBUG = True

    @sensitive_variables()
    def boom(*args: object, **kwargs: object) -> str:
        raise RuntimeError("storage unavailable")

    monkeypatch.setattr("las.secrets._mac", boom)
    client = Client(raise_request_exception=False)
    client.force_login(cast.anna_school_a)
    response = activate(client)
    assert response.status_code == 500
    page = response.content.decode()
    assert "storage unavailable" in page and "verificatiecode" in page  # it is the real debug page
    assert GOOD not in page
    assert caplog.records and not any(GOOD in r.getMessage() + repr(vars(r)) for r in caplog.records)
    assert not Koppeling.objects.exists()
