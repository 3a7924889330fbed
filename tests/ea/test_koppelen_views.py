"""Koppelen met LAS, Verwijder nummers, the service desk and the e-mails: through the real views (Dutch)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from ea.models import Groep, LasKoppeling, LasType, Leerling
from ea.permissions import is_application_user

pytestmark = pytest.mark.django_db
SLEUTEL = "21QW00-geheime-sleutel-k3Xa"


def form_data(**kw: Any) -> dict[str, Any]:
    data = {
        "las_type": LasType.objects.get(naam="Koppelpunt (eigen LAS)").pk,
        "brincode": "21QW",
        "dependancecode": "00",
        "schooljaar": "2025-2026",
        "autorisatiesleutel": SLEUTEL,
        "schoolkey": "",
        "actie": "aanvragen",
    }
    data.update(kw)
    return data


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_home_sends_application_users_to_the_application(client: Client, beheerder: Any, school: Any) -> None:
    assert is_application_user(beheerder)
    response = login(client, beheerder).get("/")
    assert response.status_code == 302 and response.url == reverse("ea:home")
    assert client.get(reverse("ea:home")).url == reverse("ea:koppelen", args=[school.pk])


def test_form_shows_dutch_validation_errors(client: Client, beheerder: Any, school: Any) -> None:
    url = reverse("ea:koppelen", args=[school.pk])
    page = login(client, beheerder).get(url).content.decode()
    for text in (
        "Type koppeling",
        "Brincode*",
        "Dependancecode",
        "Schooljaar",
        "Autorisatiesleutel*",
        "SchoolKey",
        "Verwijder nummers",
        "Aanvragen",
    ):
        assert text in page, text
    bad = form_data(brincode="21qw", dependancecode="1", schooljaar="2025-2027", autorisatiesleutel="x" * 65)
    page = client.post(url, bad).content.decode()
    assert "De brincode bestaat uit 2 cijfers gevolgd door 2 hoofdletters" in page
    assert "De dependancecode bestaat uit 2 cijfers" in page
    assert "Vul het schooljaar in als twee opeenvolgende jaren" in page
    assert "De autorisatiesleutel mag maximaal 64 tekens lang zijn (deze heeft er 65)" in page
    page = client.post(url, form_data(autorisatiesleutel="", las_type="")).content.decode()
    assert "Plak hier de autorisatiesleutel" in page and "Kies het type koppeling" in page
    assert not LasKoppeling.objects.exists()


def test_request_stores_key_encrypted_and_never_shows_it(client: Client, beheerder: Any, school: Any) -> None:
    url = reverse("ea:koppelen", args=[school.pk])
    response = login(client, beheerder).post(url, form_data())
    assert response.status_code == 302
    k = LasKoppeling.objects.get()
    assert k.status == "aangevraagd" and k.requested_by == beheerder and k.dependancecode == ""
    assert SLEUTEL not in k.autorisatiesleutel_versleuteld and k.autorisatiesleutel == SLEUTEL
    assert (k.klantcode, k.klantnaam) == ("REKENWERELD", "Rekenwereld B.V.")
    assert k.sleutel_masker == "••••••••k3Xa"
    page = client.get(url).content.decode()
    assert "wacht op goedkeuring door de klantenservice" in page and SLEUTEL not in page


def test_verwijder_nummers_asks_first_and_deletes_nothing(client: Client, beheerder: Any, school: Any) -> None:
    g = Groep.objects.create(school=school, naam="Groep 3", extern_key="OLD-G3")
    Leerling.objects.create(
        school=school,
        achternaam="Jansen",
        roepnaam="Piet",
        groep=g,
        extern_key="OLD-1",
        eckid="https://ketenid.nl/pilot/1",
    )
    url = reverse("ea:verwijder_nummers", args=[school.pk])
    page = login(client, beheerder).get(url).content.decode()
    assert "1 groepen en 1 leerlingen" in page and "Ja, verwijder de nummers" in page
    assert Leerling.objects.get().extern_key == "OLD-1"  # a GET changes nothing
    client.post(url)
    p = Leerling.objects.get()
    assert (p.extern_key, p.eckid, p.groep_id, Groep.objects.get().extern_key) == ("", "", g.pk, "")


def test_service_desk_approves_and_every_admin_gets_the_import_link(
    client: Client, beheerder: Any, klantenservice: Any, school: Any, django_user_model: Any
) -> None:
    from ea.models import SchoolBeheerder

    tweede = django_user_model.objects.create_user("tweede", email="tweede@delinde.example")
    SchoolBeheerder.objects.create(user=tweede, school=school)
    login(client, beheerder).post(reverse("ea:koppelen", args=[school.pk]), form_data())
    k = LasKoppeling.objects.get()
    # The service desk hears of the new request.
    assert [m.to for m in mail.outbox] == [["vera@rekenwereld.example"]]
    assert "Nieuwe koppelingsaanvraag: OBS De Linde" in mail.outbox[0].subject
    assert f"/applicatie/klantenservice/aanvraag/{k.pk}/" in mail.outbox[0].body and SLEUTEL not in mail.outbox[0].body
    mail.outbox.clear()

    ks = Client()
    login(ks, klantenservice)
    assert ks.get("/").url == reverse("ea:home")
    page = ks.get(reverse("ea:aanvragen")).content.decode()
    assert "OBS De Linde" in page and "Wachten op goedkeuring" in page
    page = ks.get(reverse("ea:aanvraag", args=[k.pk])).content.decode()
    assert "••••••••k3Xa" in page and SLEUTEL not in page and "Test verbinding" in page
    response = ks.post(reverse("ea:aanvraag", args=[k.pk]), {"actie": "goedkeuren"})
    assert response.status_code == 302
    k.refresh_from_db()
    assert k.status == "goedgekeurd" and k.decided_by == klantenservice and k.decided_at
    assert sorted(m.to[0] for m in mail.outbox) == ["beheerder@delinde.example", "tweede@delinde.example"]
    body = mail.outbox[0].body
    assert "Deze nieuwe gegevens kunnen niet automatisch worden ingelezen" in body
    assert f"/applicatie/school/{school.pk}/importeren/" in body
    assert "goedgekeurd" in mail.outbox[0].subject and SLEUTEL not in body

    page = client.get(reverse("ea:koppelen", args=[school.pk])).content.decode()
    assert "U heeft een actieve koppeling met Koppelpunt (eigen LAS)" in page
    assert "Wijzigingen opslaan" in page and "Gegevens importeren" in page and "••••••••k3Xa" in page
    # Saving changes with the key field empty keeps the key.
    client.post(
        reverse("ea:koppelen", args=[school.pk]),
        form_data(autorisatiesleutel="", schooljaar="2026-2027", actie="opslaan"),
    )
    k.refresh_from_db()
    assert k.schooljaar == "2026-2027" and k.autorisatiesleutel == SLEUTEL and k.status == "goedgekeurd"
    # A decided request cannot be decided again.
    ks.post(reverse("ea:aanvraag", args=[k.pk]), {"actie": "afwijzen", "reden": "te laat"})
    k.refresh_from_db()
    assert k.status == "goedgekeurd"


def test_rejection_needs_a_reason_and_mails_it(
    client: Client, beheerder: Any, klantenservice: Any, school: Any
) -> None:
    login(client, beheerder).post(reverse("ea:koppelen", args=[school.pk]), form_data())
    k = LasKoppeling.objects.get()
    mail.outbox.clear()
    ks = login(Client(), klantenservice)
    page = ks.post(reverse("ea:aanvraag", args=[k.pk]), {"actie": "afwijzen", "reden": ""}).content.decode()
    assert "Geef een reden op" in page and not mail.outbox
    ks.post(
        reverse("ea:aanvraag", args=[k.pk]), {"actie": "afwijzen", "reden": "De brincode hoort bij een andere school."}
    )
    k.refresh_from_db()
    assert k.status == "afgewezen"
    assert "De brincode hoort bij een andere school." in mail.outbox[0].body
    page = client.get(reverse("ea:koppelen", args=[school.pk])).content.decode()
    assert "afgewezen" in page and "De brincode hoort bij een andere school." in page


def test_other_users_cannot_reach_a_school_or_the_service_desk(
    client: Client, beheerder: Any, school: Any, django_user_model: Any
) -> None:
    vreemde = django_user_model.objects.create_user("vreemde")
    login(client, vreemde)
    assert client.get(reverse("ea:koppelen", args=[school.pk])).status_code == 404
    assert client.get(reverse("ea:aanvragen")).status_code == 403
    login(client, beheerder)
    assert client.get(reverse("ea:aanvragen")).status_code == 403
