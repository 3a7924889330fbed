"""Our own school side (the `las` app) as the LAS of EA tests: the same school data as a `uwlr.model` answer
and as rows in the LAS, with Rekenwereld activated there under SLEUTEL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import Resolver404, resolve

from ea import lastypes
from uwlr import model

SLEUTEL = "21QW00-Rekenwereld-k3Xa"
LAS_ENDPOINT = "/school/uwlr/leerlinggegevens"


def las_data(schooljaar: str) -> model.Leerlinggegevens:
    """What the LAS holds for 21QW00: two groups, three pupils, two teachers (one without e-mail)."""
    return model.Leerlinggegevens(
        school=model.School(schooljaar=schooljaar, brincode="21QW"),
        groepen=[
            model.Groep(key="G1", naam="Groep 1", jaargroep="1"),
            model.Groep(key="G5A", naam="Groep 5a", jaargroep="5"),
        ],
        leerlingen=[
            model.Leerling(
                key="L1",
                eckid="https://ketenid.nl/pilot/" + "a1" * 64,
                achternaam="Jansen",
                roepnaam="Piet",
                geboortedatum=dt.date(2016, 3, 2),
                jaargroep="5",
                groep="G5A",
            ),
            model.Leerling(
                key="L2",
                achternaam="Visser",
                roepnaam="Sara",
                geboortedatum=dt.date(2016, 5, 9),
                jaargroep="5",
                groep="G5A",
            ),
            model.Leerling(
                key="L3",
                achternaam="Smit",
                roepnaam="Noor",
                geboortedatum=dt.date(2020, 1, 20),
                jaargroep="1",
                groep="G1",
            ),
        ],
        leerkrachten=[
            model.Leerkracht(
                key="T1",
                achternaam="Bakker",
                roepnaam="Anna",
                emailadres="a.bakker@school.example",
                groepen=[model.LeerkrachtGroep(key="G5A", rollen=["LRK"])],
            ),
            model.Leerkracht(
                key="T2",
                achternaam="Mulder",
                roepnaam="Kees",
                groepen=[model.LeerkrachtGroep(key="G1", rollen=["LRK"])],
            ),
        ],
    )


def own_las_endpoint() -> bool:
    try:
        resolve(LAS_ENDPOINT)
    except Resolver404:
        return False
    return True


def seed_own_las(data: model.Leerlinggegevens) -> Any:
    """Put the same school in our own LAS and activate Rekenwereld there with SLEUTEL."""
    from las import services
    from las.catalogus import load_catalogue
    from las.models import (
        Bestuur,
        KoppelingAanbod,
        KoppelingType,
        LeerkrachtGroep,
        Schooljaar,
        Vestiging,
    )
    from las.models import Groep as LasGroep
    from las.models import Leerkracht as LasLeerkracht
    from las.models import Leerling as LasLeerling
    from las.models import School as LasSchool

    load_catalogue()
    lastypes.ensure()  # a transactional test's flush empties the rows the data migrations made
    school = LasSchool.objects.create(
        bestuur=Bestuur.objects.create(naam="Stichting Test"), brincode="21QW", naam="OBS De Vlinderboom"
    )
    vestiging = Vestiging.objects.create(school=school, dependancecode="00", naam="De Vlinderboom")
    jaar = Schooljaar.voor_datum()
    groepen = {
        g.key: LasGroep.objects.create(
            vestiging=vestiging, schooljaar=jaar, key=g.key, naam=g.naam, jaargroep=g.jaargroep
        )
        for g in data.groepen
    }
    for p in data.leerlingen:
        LasLeerling.objects.create(
            vestiging=vestiging,
            key=p.key,
            eckid=p.eckid or "",
            achternaam=p.achternaam,
            roepnaam=p.roepnaam,
            geboortedatum=p.geboortedatum,
            jaargroep=p.jaargroep,
            groep=groepen[p.groep],
        )
    for t in data.leerkrachten:
        lk = LasLeerkracht.objects.create(
            school=school, key=t.key, achternaam=t.achternaam, roepnaam=t.roepnaam, emailadres=t.emailadres or ""
        )
        for g in t.groepen:
            LeerkrachtGroep.objects.create(leerkracht=lk, groep=groepen[g.key])
    aanbod = KoppelingAanbod.objects.create(
        type=KoppelingType.objects.get(slug="uwlr-leerlinggegevens"),
        slug="rekenwereld",
        naam="Rekenwereld",
        klantcode="REKENWERELD",
        klantnaam="Rekenwereld",
        profiel="smalle_set_eckid",  # ECK iDs and teachers' e-mail addresses
    )
    return services.activate(
        vestiging=vestiging,
        aanbod=aanbod,
        user=None,
        naam="Anna de Vries",
        startdatum=dt.date.today() - dt.timedelta(days=1),
        code=SLEUTEL,
    )


def rekenwereld_koppeling(beheerder: Any = None, *, sleutel: str = SLEUTEL) -> Any:
    """Rekenwereld's approved connection for OBS De Vlinderboom to our own school side (LAS type "Koppelpunt (eigen
    LAS)", this school year), with `sleutel` as its key; `beheerder` (a user) becomes the school's admin."""
    from ea.forms import huidig_schooljaar
    from ea.models import Applicatie, LasKoppeling, LasType, SchoolBeheerder
    from ea.models import School as EaSchool

    app = Applicatie.objects.create(naam="Rekenwereld", klantcode="REKENWERELD", klantnaam="Rekenwereld")
    school = EaSchool.objects.create(applicatie=app, naam="OBS De Vlinderboom", brincode="21QW")
    if beheerder is not None:
        SchoolBeheerder.objects.create(user=beheerder, school=school)
    k = LasKoppeling(
        school=school,
        las_type=LasType.objects.get(naam="Koppelpunt (eigen LAS)"),
        brincode="21QW",
        schooljaar=huidig_schooljaar(),
        klantcode=app.klantcode,
        klantnaam=app.klantnaam,
        status=LasKoppeling.GOEDGEKEURD,
    )
    k.autorisatiesleutel = sleutel
    k.save()
    return k
