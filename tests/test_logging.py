"""Structured logs: JSON lines that hold identifiers, never keys, codes or pupil data."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from django.test import Client

from koppelpunt.logging import JsonFormatter, TextFormatter, mask

SECRET = "21QW00-Zeer-Geheime-Code-1234"


def record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError(f"autorisatiesleutel={SECRET}")
        except ValueError:
            exc_info = sys.exc_info()
    rec = logging.LogRecord("las.test", logging.INFO, __file__, 1, msg, args or None, exc_info)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


@pytest.mark.parametrize(
    "message",
    [
        f"autorisatiesleutel={SECRET}",
        f"verificatiecode: {SECRET}",
        f"login failed, password={SECRET}",
        f'payload {{"sleutel": "{SECRET}"}}',
        f"<autorisatiesleutel>{SECRET}</autorisatiesleutel>",
        f"KEY = {SECRET}",
    ],
)
def test_formatters_mask_key_like_values_in_messages(message: str) -> None:
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record(message))
        assert SECRET not in line and "***" in line


def test_json_formatter_masks_secret_fields_and_tracebacks_but_keeps_ids() -> None:
    line = JsonFormatter().format(
        record("koppeling %s activated", 7, exc=True, koppeling_id=7, vestiging_id=3, autorisatiesleutel=SECRET,
               api_key=SECRET, leerlingen=240, operatie="HaalLeerlinggegevens", ok=True)
    )
    entry = json.loads(line)
    assert SECRET not in line
    assert entry["message"] == "koppeling 7 activated" and entry["level"] == "INFO" and entry["logger"] == "las.test"
    assert (entry["koppeling_id"], entry["vestiging_id"], entry["leerlingen"], entry["ok"]) == (7, 3, 240, True)
    assert entry["operatie"] == "HaalLeerlinggegevens"
    assert entry["autorisatiesleutel"] == entry["api_key"] == "***"
    assert "ValueError" in entry["exception"] and "***" in entry["exception"]


def test_mask_leaves_plain_text_alone() -> None:
    text = "koppeling 12 voor vestiging 21QW00: 240 leerlingen, status actief"
    assert mask(text) == text


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Everything logged during the test, formatted as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.mark.django_db
def test_a_uwlr_request_logs_ids_but_no_key_or_pupil_data(json_lines: io.StringIO) -> None:
    from las import demo
    from las.models import Leerling
    from las.uwlr_demo import DEMO_VERIFICATIECODE
    from uwlr import leerlinggegevens as lg
    from uwlr import soap
    from uwlr.model import Operation, Verzoek

    demo.seed(io.StringIO(), base_url="http://testserver")
    verzoek = Verzoek(Operation.HAAL_LEERLINGGEGEVENS, demo.Schooljaar.voor_datum().naam, brincode="21QW",
                      xsdversie="2.2")
    client = Client()
    for code in (DEMO_VERIFICATIECODE, "21QW00-Fout-geraden-code-99"):
        body = lg.build_request(verzoek, soap.Autorisatie(code, "BASISPOORT", "Basispoort"))
        response = client.post("/school/uwlr/leerlinggegevens", body, content_type="text/xml; charset=utf-8",
                               HTTP_SOAPACTION='"HaalLeerlinggegevens"')
        assert response.status_code == (200 if code == DEMO_VERIFICATIECODE else 500)
    text = json_lines.getvalue()
    entries = [json.loads(line) for line in text.splitlines()]
    access = [e for e in entries if e["logger"] == "koppelpunt.request"]
    assert [(e["path"], e["status"], e["operation"]) for e in access] == [
        ("/school/uwlr/leerlinggegevens", 200, "HaalLeerlinggegevens"),
        ("/school/uwlr/leerlinggegevens", 500, "HaalLeerlinggegevens"),
    ]
    assert all(isinstance(e["duration_ms"], float) for e in access)
    ok, refused = access
    from las.models import Koppeling

    koppeling = Koppeling.objects.get(aanbod__slug="basispoort")
    assert (ok["koppeling_id"], ok["leerlingen"], ok["uitkomst"]) == (koppeling.pk, 240, "ok"), ok
    assert refused["koppeling_id"] is None and refused["uitkomst"] == "Client.AutorisatieOngeldig", refused
    # No key (right or wrong), no pupil's name, key or ECK iD anywhere in the log.
    assert DEMO_VERIFICATIECODE not in text and "Fout-geraden" not in text
    for leerling in Leerling.objects.all()[:50]:
        assert leerling.key not in text and leerling.achternaam not in text.replace("Koppelpunt", "")
        assert not leerling.eckid or leerling.eckid not in text


@pytest.mark.django_db
def test_access_lines_mask_a_token_in_the_path(json_lines: io.StringIO) -> None:
    token = "eyJrIjo0Mn0-1vXyZa-Zg3hT9vQm2pL0sN8cR4bE"
    Client().get(f"/school/bevestigen/{token}/")
    text = json_lines.getvalue()
    [line] = [json.loads(x) for x in text.splitlines() if '"koppelpunt.request"' in x]
    assert line["path"] == "/school/bevestigen/***/" and token not in text
