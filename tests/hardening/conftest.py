"""Shared set-up for the attack tests: one school with an active koppeling, valid requests to mutate, and a checker
that says whether an answer is acceptable (a valid SOAP answer or a SOAP Client fault, never a server error)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from lxml import etree

from las import leerlinggegevens as las_lg
from las.catalogus import load_catalogue
from las.models import Groep, Koppeling, Leerling, Schooljaar
from tests.las.uwlr_helpers import activate, aut, school, vestiging
from uwlr import leerlinggegevens as lg
from uwlr import leerresultaten as lr
from uwlr import soap
from uwlr.model import GroepRef, Operation, Verzoek

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
# Faults a hostile request may get. Server.TijdelijkNietBeschikbaar only comes from a lockout (not under test here:
# the limits are raised); Server.InterneFout means we crashed.
ACCEPTABLE_FAULTS = {
    "Client.OngeldigBericht", "Client.AutorisatieOngeldig", "Client.OngeldigeKlantIdentificatie",
    "Client.XsdVersieOngeldig", "Client.LeerlingOngeldig", "Client.VocabulaireTermOngeldig",
    "Client.ToetsNormeringOngeldig", "Client.ScoreOngeldig", "Client.EldResultaatOngeldig",
}


@dataclass
class Target:
    koppeling: Koppeling
    code: str
    lg_request: bytes
    lr_request: bytes
    getrapt_requests: list[bytes]

    @property
    def autorisatie(self) -> soap.Autorisatie:
        return aut(self.koppeling, self.code)


def lr_request(k: Koppeling, code: str) -> bytes:
    pupils = list(Leerling.objects.filter(vestiging=k.vestiging).order_by("pk")[:2])
    toets = lr.Toets(
        toetscode=lr.VocabulaireGebondenVeld("REK-M5"), toetsnaam="Rekenen midden groep 5",
        vakgebied=lr.VocabulaireGebondenVeld("Rekenen en wiskunde"),
        toetsnormering=lr.Normering((lr.Norm("Onvoldoende", 0, 24), lr.Norm("Goed", 25, 50))),
    )
    verzoek = lr.LeerresultatenVerzoek(
        school=lr.ResultatenSchool(schooljaar=Schooljaar.voor_datum().naam, aanmaakdatum=dt.datetime(2026, 11, 20, 10),
                                   brincode=k.vestiging.school.brincode),
        toetsafnames=tuple(
            lr.Toetsafname(p.key, (lr.Resultaat(f"R{i}", dt.date(2026, 11, 18), "REK-M5", 20 + i),))
            for i, p in enumerate(pupils)
        ),
        toetsen=(toets,),
    )
    return lr.build_request(verzoek, aut(k, code))


def make_target() -> Target:
    load_catalogue()  # a transactional test (live server) starts from an empty database
    school("21QW", (("00", 12), ("01", 5)))
    k, code = activate(vestiging("21QW"), "snappet")
    a = aut(k, code)
    jaar = Schooljaar.voor_datum().naam
    lg_req = lg.build_request(Verzoek(Operation.HAAL_LEERLINGGEGEVENS, jaar, brincode="21QW"), a)
    groep = Groep.objects.filter(vestiging=k.vestiging).order_by("pk").first()
    refs = (GroepRef(key=groep.key if groep else None), GroepRef(key=None))
    getrapt = [lg.build_request(Verzoek(Operation.HAAL_STRUCTUUR, jaar, brincode="21QW"), a)] + [
        lg.build_request(Verzoek(op, jaar, brincode="21QW", groepen=refs), a)
        for op in (Operation.HAAL_LEERLINGEN, Operation.HAAL_LEERKRACHTEN)]
    return Target(k, code, lg_req, lr_request(k, code), getrapt)


@pytest.fixture
def target(db: None, settings: Any) -> Target:
    # Fuzzing sends thousands of bad keys from one address: lockouts are tested elsewhere.
    settings.UWLR_THROTTLE_FAILURES_IP = 10**9
    settings.UWLR_THROTTLE_FAILURES_KLANT = 10**9
    settings.UWLR_THROTTLE_FAILURES_VESTIGING = 10**9
    las_lg.cache.clear_local()
    return make_target()


def verdict(status: int, content_type: str, content: bytes) -> str:
    """'ok' or the fault code of an acceptable answer; raises AssertionError for anything else."""
    assert content_type.startswith("text/xml"), (status, content_type, content[:300])
    root = etree.fromstring(content)  # our own answers must be parseable by a plain parser
    assert root.tag == f"{{{SOAP_ENV}}}Envelope", content[:300]
    if status == 200:
        soap.parse_response(content)
        return "ok"
    assert status == 500, (status, content[:300])
    fault = root.find(f".//{{{SOAP_ENV}}}Fault")
    assert fault is not None, content[:300]
    code = (fault.findtext("faultcode") or "").split(":", 1)[-1]
    assert code in ACCEPTABLE_FAULTS, (code, content[:600])
    return code


def check(response: Any) -> str:
    return verdict(response.status_code, response.get("Content-Type", ""), response.content)
