from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ea import lastypes, tasks
from ea.models import Applicatie, Klantenservice, LasKoppeling, LasType, School, SchoolBeheerder
from uwlr import model

SCHOOLJAAR = "2025-2026"


def goedgekeurde_koppeling(school: School, fake_las: Any, *, getrapt: bool = False) -> LasKoppeling:
    """The school's approved connection to the test LAS (tests/ea/fake_las.py), with its key."""
    las_type = LasType.objects.create(naam="Test-LAS", leerlinggegevens_url=fake_las.url, getrapt=getrapt)
    k = LasKoppeling(
        school=school,
        las_type=las_type,
        brincode="21QW",
        schooljaar=SCHOOLJAAR,
        klantcode="REKENWERELD",
        klantnaam="Rekenwereld B.V.",
        status=LasKoppeling.GOEDGEKEURD,
    )
    k.autorisatiesleutel = fake_las.sleutel
    k.save()
    return k


def eckid(n: int) -> str:
    return f"https://ketenid.nl/pilot/{n:0128x}"


def leerling(key: str | None, achternaam: str, roepnaam: str, groep: str | None = None, **kw: Any) -> model.Leerling:
    kw.setdefault("geboortedatum", dt.date(2016, 1, 1))
    return model.Leerling(key=key, achternaam=achternaam, roepnaam=roepnaam, groep=groep, **kw)


def gegevens(
    groepen: list[model.Groep] | None = None,
    leerlingen: list[model.Leerling] | None = None,
    leerkrachten: list[model.Leerkracht] | None = None,
    schooljaar: str = SCHOOLJAAR,
) -> model.Leerlinggegevens:
    return model.Leerlinggegevens(
        school=model.School(schooljaar=schooljaar, brincode="21QW"),
        groepen=groepen or [],
        leerlingen=leerlingen or [],
        leerkrachten=leerkrachten or [],
    )


@pytest.fixture
def applicatie(db: Any) -> Applicatie:
    lastypes.ensure()  # data-migration rows are gone after a transactional test elsewhere flushed the tables
    return Applicatie.objects.create(naam="Rekenwereld", klantcode="REKENWERELD", klantnaam="Rekenwereld B.V.")


@pytest.fixture
def school(applicatie: Applicatie) -> School:
    return School.objects.create(applicatie=applicatie, naam="OBS De Linde", brincode="21QW", dependancecode="00")


@pytest.fixture
def beheerder(school: School, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(
        "beheerder", email="beheerder@delinde.example", password="geheim-wachtwoord-1", first_name="Bea"
    )
    SchoolBeheerder.objects.create(user=user, school=school)
    return user


@pytest.fixture
def klantenservice(applicatie: Applicatie, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(
        "vera", email="vera@rekenwereld.example", password="geheim-wachtwoord-2", first_name="Vera"
    )
    Klantenservice.objects.create(user=user, applicatie=applicatie)
    return user


@pytest.fixture
def fake_las() -> Any:
    from tests.ea.fake_las import running_fake_las

    with running_fake_las(gegevens(), "21QW00-sleutel-van-de-school") as las:
        yield las


@pytest.fixture(autouse=True)
def opgehaald(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The fetches the wizard sends to the queue are recorded instead of sent to huey; tests run them themselves."""
    sent: list[int] = []
    monkeypatch.setattr(tasks, "dispatch", sent.append)
    return sent


def importeer(client: Client, school: School, *, follow: bool = True) -> Any:
    """ "Gegevens importeren" as the admin sees it: the click, a worker that does the fetch, then the fetch page
    (with `follow`: on to the wizard's first tab, or the page with the LAS's error)."""
    response = client.post(reverse("ea:importeren", args=[school.pk]))
    assert response.status_code == 302, response
    tasks.run_due()
    return client.get(response.url, follow=follow)
