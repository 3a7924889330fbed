"""The demo prints a working UWLR koppeling: its printed values are all a partner needs to pull the school."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from las import demo
from uwlr import leerlinggegevens as lg
from uwlr import soap
from uwlr.model import Leerlinggegevens, Operation, Verzoek

pytestmark = pytest.mark.django_db


def test_demo_prints_an_active_koppeling_that_serves_the_school() -> None:
    out = io.StringIO()
    demo.seed(out, base_url="http://testserver")
    demo.seed(io.StringIO(), base_url="http://testserver")  # idempotent
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line and " " not in
                 line.split(": ", 1)[0])
    for name in ("verificatiecode", "klantcode", "klantnaam", "brincode", "dependancecode", "schooljaar",
                 "xsdversie", "endpoint"):
        assert lines.get(name), (name, out.getvalue())
    assert lines["endpoint"] == "http://testserver/school/uwlr/leerlinggegevens"
    body = lg.build_request(
        Verzoek(Operation.HAAL_LEERLINGGEGEVENS, lines["schooljaar"], brincode=lines["brincode"],
                dependancecode=None if lines["dependancecode"] == "00" else lines["dependancecode"],
                xsdversie=lines["xsdversie"]),
        soap.Autorisatie(lines["verificatiecode"], lines["klantcode"], lines["klantnaam"]),
    )
    response = Client().post("/school/uwlr/leerlinggegevens", body, content_type="text/xml; charset=utf-8",
                             HTTP_SOAPACTION='"HaalLeerlinggegevens"')
    antwoord = lg.parse_response(response.content, Operation.HAAL_LEERLINGGEGEVENS)
    assert isinstance(antwoord, Leerlinggegevens) and len(antwoord.leerlingen) == 240
