"""The guided path of `koppelpunt demo`: a second location of the demo school that is not connected yet.

The app seeds (`las.demo`, `ea.demo`, `sync.demo`) give the main location an active Basispoort koppeling and
Rekenwereld a pending request for it. The newcomer's own walk needs a location where nothing is done yet, so
every step is theirs: OBS De Vlinderboom – locatie Passewaaij (21QW01) in the LAS, the same location as a
school in Rekenwereld (administered by the demo application admin) with three pupils it already knew and
their test results, which reach the LAS once the import has linked the pupils. Idempotent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

GUIDED_DEPENDANCECODE = "01"
GUIDED_SCHOOLNAAM = "OBS De Vlinderboom – locatie Passewaaij"
# A suggestion only: the school admin may choose any code that starts with 21QW01 and has 20 to 50 characters.
GUIDED_CODE = "21QW01-Rekenwereld-mijn-code"


@dataclass(frozen=True)
class Login:
    role: str
    username: str
    password: str


def logins() -> list[Login]:
    from ea.demo import BEHEERDER, KLANTENSERVICE
    from las.demo import DEMO_BEHEERDER

    return [
        Login("schoolbeheerder (LAS)", *DEMO_BEHEERDER),
        Login("beheerder in de applicatie (EA)", *BEHEERDER),
        Login("klantenservice (EA)", *KLANTENSERVICE),
    ]


def seed_guided(stdout: Any, base_url: str = "") -> Any:
    """The not-yet-connected location on the application side, with pupils and results; returns its School."""
    from django.contrib.auth import get_user_model

    from ea.demo import APP, BEHEERDER, BRIN
    from ea.models import Applicatie, Groep, Leerling, School, SchoolBeheerder
    from las.models import Leerling as LasLeerling
    from sync.demo import TOETS
    from sync.models import Toets, ToetsResultaat

    applicatie = Applicatie.objects.filter(naam=APP[0]).first()
    beheerder = get_user_model().objects.filter(username=BEHEERDER[0]).first()
    if applicatie is None or beheerder is None:
        return None
    with transaction.atomic():
        school, created = School.objects.get_or_create(
            applicatie=applicatie, brincode=BRIN, dependancecode=GUIDED_DEPENDANCECODE,
            defaults={"naam": GUIDED_SCHOOLNAAM},
        )
        SchoolBeheerder.objects.get_or_create(user=beheerder, school=school)
        if created:
            groep = Groep.objects.create(school=school, naam="Rekengroep Passewaaij (eigen)", jaargroep="6")
            bron = list(
                LasLeerling.objects.filter(vestiging__school__brincode=BRIN,
                                           vestiging__dependancecode=GUIDED_DEPENDANCECODE)
                .exclude(geboortedatum=None).order_by("pk")[:3]
            )
            toets, _ = Toets.objects.get_or_create(
                applicatie=applicatie, code=TOETS["code"], defaults={k: v for k, v in TOETS.items() if k != "code"}
            )
            for i, p in enumerate(bron):
                # The third is spelled differently: the wizard cannot propose it, the admin links it by hand.
                leerling = Leerling.objects.create(
                    school=school, groep=groep, achternaam=p.achternaam, voorvoegsel=p.voorvoegsel,
                    roepnaam=p.roepnaam + ("tje" if i == 2 else ""), geboortedatum=p.geboortedatum,
                )
                ToetsResultaat(
                    school=school, leerling=leerling, toets=toets,
                    afnamedatum=dt.date.today() - dt.timedelta(days=3), score=(58 + 17 * i) % 101,
                ).save()
    return school


def guided_path(base_url: str, school_pk: int | None) -> str:
    """The short walk printed at start (Dutch, like the screens it points to)."""
    from ea.demo import BEHEERDER, KLANTENSERVICE
    from las.demo import DEMO_BEHEERDER

    wizard = f"{base_url}/applicatie/school/{school_pk}/koppelen/" if school_pk else f"{base_url}/applicatie/"
    return (
        "\nRondleiding (locatie Passewaaij, 21QW01 – hier is nog niets gekoppeld):\n"
        f"  1. School: log in als {DEMO_BEHEERDER[0]} op {base_url}/inloggen/ → Koppelingen → kies 21QW01 →\n"
        f"     'Rekenwereld' → Activeren; vul uw naam in, vink 'Voor akkoord' aan en bedenk een verificatiecode,\n"
        f"     bv. {GUIDED_CODE} → Gereed. Noteer de code.\n"
        f"  2. Applicatie: log in als {BEHEERDER[0]} → {GUIDED_SCHOOLNAAM} ({wizard})\n"
        "     → type koppeling 'Koppelpunt (eigen LAS)', plak de code bij Autorisatiesleutel → AANVRAGEN.\n"
        f"  3. Klantenservice: log in als {KLANTENSERVICE[0]} → bij de aanvraag van locatie Passewaaij: Controleren\n"
        "     → Test verbinding → Goedkeuren.\n"
        f"  4. Applicatie: als {BEHEERDER[0]} → Gegevens importeren → bekijk de tabbladen (twee leerlingen\n"
        "     worden voorgesteld, één koppelt u zelf) → GEGEVENS IMPORTEREN → samenvatting → GEGEVENS IMPORTEREN.\n"
        "  5. Resultaten: de worker in dit proces stuurt binnen enkele seconden de toetsresultaten naar het LAS;\n"
        f"     als {DEMO_BEHEERDER[0]}: {base_url}/school/21QW01/resultaten/\n"
        "  (Hoofdlocatie 21QW00: Basispoort is actief – de UWLR-gegevens hierboven; de aanvraag van Rekenwereld\n"
        "   wacht al bij de klantenservice.)\n"
    )
