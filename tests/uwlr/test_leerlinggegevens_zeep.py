"""Interoperability with zeep 4.3.3 as an independent SOAP stack, through the official WSDL.

zeep is only a test oracle here. It produces requests that our server-side parser must accept, and it reads
our answers — as far as it can: the table in ANSWER_CASES records what zeep can and cannot read (strict mode
chokes on valid `school` blocks and roepnaam-only names, a teacher with group links makes it loop without end,
and the empty geenwijzigingen/geengegevens answers raise a TypeError). zeep parsing runs in a subprocess with
a timeout and an address-space limit (tests/uwlr/zeep_probe.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree

from tests.uwlr.lg_samples import WSDL, full_school
from uwlr.leerlinggegevens import build_answer_envelope, parse_request_envelope
from uwlr.model import (
    GEEN_GEGEVENS,
    GEEN_WIJZIGINGEN,
    Antwoord,
    GroepRef,
    Leerkracht,
    LeerkrachtGroep,
    Leerling,
    Leerlinggegevens,
    Operation,
    School,
)
from uwlr.profiles import PROFILES, apply_profile

PROBE = Path(__file__).with_name("zeep_probe.py")
HEADER = {"msgpHeader": {"autorisatiesleutel": "sleutel-1", "klantcode": "EA-1", "klantnaam": "Uitgever X"}}


@pytest.fixture(scope="module")
def client() -> zeep.Client:
    return zeep.Client(str(WSDL))


def zeep_request(client: zeep.Client, op: Operation, **fields: Any) -> bytes:
    port = (
        "prtLeerlinggegevensService" if op is Operation.HAAL_LEERLINGGEGEVENS else "prtLeerlinggegevensService-getrapt"
    )
    service = client.bind("LeerlinggegevensService", port)
    message = client.create_message(service, op.value, _soapheaders=HEADER, **fields)
    return etree.tostring(message, xml_declaration=True, encoding="utf-8")


GROEPEN = {"_value_1": [{"groep": {"key": "G5A"}}, {"samengestelde_groep": {"key": "SG-REK"}}, {"groep": {}}]}
REQUEST_CASES = [
    ({"schooljaar": "2025-2026", "brincode": "21QW", "xsdversie": "2.2"}, {"brincode": "21QW"}),
    (
        {"schooljaar": "2025-2026", "brincode": "21QW", "dependancecode": "01", "xsdversie": "2.3"},
        {"dependancecode": "01", "xsdversie": "2.3"},
    ),
    (
        {"schooljaar": "2025-2026", "brincode": "21QW", "dependancecode": "00", "xsdversie": "2.2"},
        {"dependancecode": None},
    ),
    ({"schooljaar": "2025-2026", "schoolkey": "SCHOOL-7f3a", "xsdversie": "2.1"}, {"schoolkey": "SCHOOL-7f3a"}),
    (
        {
            "schooljaar": "2025-2026",
            "brincode": "21QW",
            "xsdversie": "2.2",
            "gegevenssetid": "Smalle-set-VO",
            "laatstontvangengegevens": dt.datetime(2025, 1, 2, 3, 4, 5),
        },
        {"gegevenssetid": "Smalle-set-VO", "laatstontvangengegevens": dt.datetime(2025, 1, 2, 3, 4, 5)},
    ),
]


@pytest.mark.parametrize("op", list(Operation), ids=lambda o: o.value)
@pytest.mark.parametrize(("fields", "expected"), REQUEST_CASES)
def test_requests_produced_by_zeep_are_accepted(
    client: zeep.Client, op: Operation, fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    if op.has_groepen_ref:
        fields = {**fields, "groepen": GROEPEN}
    envelope, verzoek = parse_request_envelope(zeep_request(client, op, **fields), op)
    assert verzoek.operation is op
    assert verzoek.schooljaar == "2025-2026"
    for name, value in expected.items():
        assert getattr(verzoek, name) == value, name
    assert envelope.autorisatie is not None
    assert (envelope.autorisatie.autorisatiesleutel, envelope.autorisatie.klantcode) == ("sleutel-1", "EA-1")
    if op.has_groepen_ref:
        assert verzoek.groepen == (GroepRef("G5A"), GroepRef("SG-REK", samengesteld=True), GroepRef(None))


def zeep_reads(op: Operation, antwoord: Antwoord, mode: str, timeout: float = 8.0) -> dict[str, Any]:
    """What zeep makes of our answer: {"ok": True, "summary": …}, {"ok": False, "error": …} or {"hang": True}."""
    message = build_answer_envelope(op, antwoord)
    try:
        done = subprocess.run(
            [sys.executable, str(PROBE), str(WSDL), op.value, mode, "1500"],
            input=message,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"hang": True}
    if done.returncode != 0:  # e.g. killed by the memory limit
        return {"ok": False, "error": f"exit {done.returncode}: {done.stderr.decode()[-200:]}"}
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


MINIMAL = School("2025-2026", brincode="21QW")
NO_TEACHERS = dataclasses.replace(full_school(), leerkrachten=[])
PUPIL = [Leerling("L1", achternaam="Jansen", roepnaam="Piet")]

# (id, operation, answer, zeep mode, expected: "ok" | "hang" | an error fragment)
ANSWER_CASES: list[tuple[str, Operation, Antwoord, str, str]] = [
    ("all-in-one, full school without teachers, lax", Operation.HAAL_LEERLINGGEGEVENS, NO_TEACHERS, "lax", "ok"),
    ("all-in-one, smalle set without teachers, lax", Operation.HAAL_LEERLINGGEGEVENS,
     apply_profile(NO_TEACHERS, PROFILES["smalle-set-eckid"]), "lax", "ok"),
    ("all-in-one, lvs set without teachers, lax", Operation.HAAL_LEERLINGGEGEVENS,
     apply_profile(NO_TEACHERS, PROFILES["lvs-set"]), "lax", "ok"),
    ("structuur, full school, lax", Operation.HAAL_STRUCTUUR, full_school(), "lax", "ok"),
    ("leerlingen, full school, lax", Operation.HAAL_LEERLINGEN, full_school(), "lax", "ok"),
    ("leerlingen, minimal school, strict", Operation.HAAL_LEERLINGEN, Leerlinggegevens(MINIMAL, leerlingen=PUPIL),
     "strict", "ok"),
    ("leerkrachten, teacher without group links, strict", Operation.HAAL_LEERKRACHTEN,
     Leerlinggegevens(MINIMAL, leerkrachten=[Leerkracht("T1", achternaam="B", emailadres="b@x.nl", rollen=["LRK"])]),
     "strict", "ok"),
    # what zeep cannot read (all valid against the official XSD, see test_every_answer_validates_and_round_trips)
    ("school with aanmaakdatum, strict", Operation.HAAL_LEERLINGEN,
     Leerlinggegevens(School("2025-2026", brincode="21QW", aanmaakdatum=dt.datetime(2025, 10, 1, 8)), leerlingen=PUPIL),
     "strict", "Unexpected element '{http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens}aanmaakdatum'"),
    ("school with xsdversie, strict", Operation.HAAL_LEERLINGEN,
     Leerlinggegevens(School("2025-2026", brincode="21QW", xsdversie="2.2"), leerlingen=PUPIL),
     "strict", "Unexpected element '{http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens}xsdversie'"),
    ("pupil with only a roepnaam, strict", Operation.HAAL_LEERLINGEN,
     Leerlinggegevens(MINIMAL, leerlingen=[Leerling("L1", roepnaam="Piet")]),
     "strict", "Unexpected element '{http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens}roepnaam'"),
    ("teacher with a group link, lax", Operation.HAAL_LEERKRACHTEN,
     Leerlinggegevens(MINIMAL, leerkrachten=[Leerkracht("T1", achternaam="B", groepen=[LeerkrachtGroep("G5A")])]),
     "lax", "hang"),
    ("all-in-one with teachers, lax", Operation.HAAL_LEERLINGGEGEVENS, full_school(), "lax", "hang"),
    ("geenwijzigingen", Operation.HAAL_LEERLINGGEGEVENS, GEEN_WIJZIGINGEN, "lax", "TypeError"),
    ("geengegevens", Operation.HAAL_LEERLINGEN, GEEN_GEGEVENS, "lax", "TypeError"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("op", "antwoord", "mode", "expected"),
    [
        pytest.param(*case[1:], id=case[0], marks=[pytest.mark.slow] if case[4] == "hang" else [])
        for case in ANSWER_CASES
    ],
)
def test_what_zeep_can_and_cannot_read_of_our_answers(
    op: Operation, antwoord: Antwoord, mode: str, expected: str
) -> None:
    result = zeep_reads(op, antwoord, mode)
    if expected == "hang":
        assert result == {"hang": True}
        return
    if expected != "ok":
        assert result.get("ok") is False and expected in result["error"], result
        return
    assert result.get("ok") is True, result
    assert isinstance(antwoord, Leerlinggegevens)
    summary = result["summary"]
    assert summary["school"]["schooljaar"] == antwoord.school.schooljaar
    if op in (Operation.HAAL_LEERLINGGEGEVENS, Operation.HAAL_LEERLINGEN):
        read = summary["leerlingen"]
        assert [p.get("key") for p in read] == [ll.key for ll in antwoord.leerlingen]
        assert [p.get("eckid") for p in read] == [ll.eckid for ll in antwoord.leerlingen]
        assert [p.get("achternaam") for p in read] == [ll.achternaam for ll in antwoord.leerlingen]
        assert [p.get("geboortedatum") for p in read] == [
            ll.geboortedatum.isoformat() if ll.geboortedatum else None for ll in antwoord.leerlingen
        ]
    if op in (Operation.HAAL_LEERLINGGEGEVENS, Operation.HAAL_STRUCTUUR) and (
        antwoord.groepen or antwoord.samengestelde_groepen
    ):
        assert summary["groepen"] == sorted(g.key for g in [*antwoord.groepen, *antwoord.samengestelde_groepen])
    if op is Operation.HAAL_LEERKRACHTEN:
        assert summary["leerkrachten"] == [lk.key for lk in antwoord.leerkrachten]
