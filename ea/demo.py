"""Demo data of the application side: the application "Rekenwereld", its service desk, a school admin and a
little existing data of that school; plus, when the school side's demo exists, a pending connection request
made with a verification code the demo school activated for Rekenwereld. Idempotent; prints the logins."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from ea import lastypes
from ea.forms import huidig_schooljaar
from ea.models import Applicatie, Groep, Klantenservice, LasKoppeling, LasType, Leerling, School, SchoolBeheerder

APP = ("Rekenwereld", "REKENWERELD", "Rekenwereld")
KLANTENSERVICE = ("rekenwereld_ks", "Klantenservice-2026!")
BEHEERDER = ("rekenwereld_beheer", "Rekenwereld-2026!")
BRIN = "21QW"
DEMO_CODE = "21QW00-Rekenwereld-demo-7Hq2"


def _user(username: str, password: str, **extra: Any) -> Any:
    user, created = get_user_model().objects.get_or_create(username=username, defaults=extra)
    if created:
        user.set_password(password)
        user.save()
    return user


def _las_activation(applicatie: Applicatie) -> bool:
    """On the demo school side: offer Rekenwereld and activate it for vestiging 21QW00 with DEMO_CODE."""
    try:
        from las import services
        from las.models import Koppeling, KoppelingAanbod, KoppelingType, Vestiging
    except ImportError:  # the school side is optional for this demo
        return False
    vestiging = Vestiging.objects.filter(school__brincode=BRIN, dependancecode="00").first()
    ktype = KoppelingType.objects.filter(slug="uwlr-leerlinggegevens").first()
    if vestiging is None or ktype is None:
        return False
    aanbod, _ = KoppelingAanbod.objects.get_or_create(
        slug="rekenwereld",
        defaults={
            "type": ktype,
            "naam": applicatie.naam,
            "omschrijving": "Rekenwereld – oefenen en toetsen voor rekenen",
            "klantcode": applicatie.klantcode,
            "klantnaam": applicatie.klantnaam,
        },
    )
    if not Koppeling.objects.lopend().filter(vestiging=vestiging, aanbod=aanbod).exists():
        beheerder = vestiging.beheerders.select_related("user").first() if hasattr(vestiging, "beheerders") else None
        services.activate(
            vestiging=vestiging,
            aanbod=aanbod,
            user=beheerder.user if beheerder else None,
            naam="Marieke de Groot",
            startdatum=dt.date.today(),
            code=DEMO_CODE,
        )
    return True


def _mirror_some_pupils(school: School) -> None:
    """A few pupils the application already knew before the connection (no external numbers), so the import
    wizard has something to propose (same name and birth date) and something to link by hand."""
    if Leerling.objects.filter(school=school).exists():
        return
    groep = Groep.objects.create(school=school, naam="Rekengroep 5 (eigen)", jaargroep="5")
    try:
        from las.models import Leerling as LasLeerling

        bron = list(
            LasLeerling.objects.filter(vestiging__school__brincode=BRIN, vestiging__dependancecode="00")
            .exclude(geboortedatum=None)
            .order_by("pk")[:3]
        )
    except ImportError:  # the school side is optional for this demo
        bron = []
    for i, p in enumerate(bron):
        roepnaam = getattr(p, "roepnaam", "") or ""
        Leerling.objects.create(
            school=school,
            groep=groep,
            achternaam=getattr(p, "achternaam", "") or "",
            voorvoegsel=getattr(p, "voorvoegsel", "") or "",
            # The third one is spelled differently: the wizard cannot guess it, the admin links it by hand.
            roepnaam=roepnaam + ("tje" if i == 2 else ""),
            geboortedatum=p.geboortedatum,
        )
    if not bron:
        Leerling.objects.create(
            school=school, groep=groep, achternaam="Jansen", roepnaam="Pieter", geboortedatum=dt.date(2017, 3, 2)
        )


def seed(stdout: Any, base_url: str = "") -> School:
    with transaction.atomic():
        lastypes.ensure()
        applicatie, _ = Applicatie.objects.get_or_create(
            naam=APP[0], defaults={"klantcode": APP[1], "klantnaam": APP[2]}
        )
        school, _ = School.objects.get_or_create(
            applicatie=applicatie, brincode=BRIN, dependancecode="", defaults={"naam": "OBS De Vlinderboom"}
        )
        ks = _user(
            KLANTENSERVICE[0],
            KLANTENSERVICE[1],
            first_name="Vera",
            last_name="Klantenservice",
            email="klantenservice@rekenwereld.example",
        )
        Klantenservice.objects.get_or_create(user=ks, defaults={"applicatie": applicatie})
        beheerder = _user(
            BEHEERDER[0],
            BEHEERDER[1],
            first_name="Joost",
            last_name="Beheerder",
            email="j.beheerder@vlinderboom.example.nl",
        )
        SchoolBeheerder.objects.get_or_create(user=beheerder, school=school)
        _mirror_some_pupils(school)
        pending = ""
        if _las_activation(applicatie) and not school.koppelingen.exists():
            koppeling = LasKoppeling(
                school=school,
                las_type=LasType.objects.get(naam="Koppelpunt (eigen LAS)"),
                brincode=BRIN,
                dependancecode="",
                schooljaar=huidig_schooljaar(),
                klantcode=applicatie.klantcode,
                klantnaam=applicatie.klantnaam,
                requested_by=beheerder,
            )
            koppeling.autorisatiesleutel = DEMO_CODE
            koppeling.save()
        if school.koppelingen.filter(status=LasKoppeling.AANGEVRAAGD).exists():
            pending = "  Er wacht een koppelingsaanvraag op goedkeuring door de klantenservice.\n"
    stdout.write(
        f"Applicatie (EA): {applicatie.naam}, school {school.naam} ({BRIN})\n"
        f"  Beheerder (school in de applicatie): {BEHEERDER[0]} / {BEHEERDER[1]}  → {base_url}/applicatie/\n"
        f"  Klantenservice: {KLANTENSERVICE[0]} / {KLANTENSERVICE[1]}  → {base_url}/applicatie/klantenservice/\n"
        + pending
    )
    return school
