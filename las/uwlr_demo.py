"""Demo seed for the UWLR service: an active Basispoort koppeling with a known verification code.

Called from `las.demo.seed`. Prints the connection details one per line as `name: value`, so anyone can call
the demo LAS at once (e.g. with zeep and the WSDL at `{endpoint}?wsdl`).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from las import services
from las.models import Koppeling, KoppelingAanbod, Schooljaar, Vestiging
from las.secrets import code_digest

DEMO_AANBOD = "basispoort"
DEMO_VERIFICATIECODE = "21QW00-Basispoort-demo-2026"
DEMO_XSDVERSIE = "2.2"


def seed_uwlr(stdout: Any, base_url: str, vestiging: Vestiging, user: Any) -> Koppeling | None:
    aanbod = KoppelingAanbod.objects.filter(slug=DEMO_AANBOD).first()
    if aanbod is None:
        return None
    koppeling = vestiging.koppelingen.lopend().filter(aanbod=aanbod).first()
    if koppeling is None:
        bezet = Koppeling.objects.filter(code_hmac=code_digest(DEMO_VERIFICATIECODE)).exists()
        if bezet:
            return None
        koppeling = services.activate(
            vestiging=vestiging, aanbod=aanbod, user=user, naam=user.get_full_name() or user.get_username(),
            startdatum=timezone.localdate(), code=DEMO_VERIFICATIECODE,
        )
    if koppeling.code_hmac != code_digest(DEMO_VERIFICATIECODE):
        stdout.write(f"UWLR-demo: de code van {aanbod.naam} is gewijzigd; de democode werkt niet meer.\n")
        return koppeling
    school = vestiging.school
    lines = {
        "verificatiecode": DEMO_VERIFICATIECODE,
        "klantcode": aanbod.klantcode,
        "klantnaam": aanbod.klantnaam,
        "brincode": school.brincode,
        "dependancecode": vestiging.dependancecode,
        "schooljaar": Schooljaar.voor_datum().naam,
        "xsdversie": DEMO_XSDVERSIE,
        "endpoint": f"{base_url}/school/uwlr/leerlinggegevens",
        "wsdl": f"{base_url}/school/uwlr/leerlinggegevens?wsdl",
        "leerresultaten_endpoint": f"{base_url}/school/uwlr/leerresultaten",
    }
    stdout.write(f"UWLR (LAS) – actieve koppeling {aanbod.naam} ({koppeling.get_status_display()}):\n")
    stdout.write("".join(f"{name}: {value}\n" for name, value in lines.items()))
    return koppeling
