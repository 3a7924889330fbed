"""Shared helpers for the tests of the school's UWLR endpoints (tests/las/test_uwlr_*.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.test import Client
from django.utils import timezone
from lxml import etree

from las import services
from las.catalogus import load_catalogue
from las.demo import VestigingSpec, build_school
from las.models import Koppeling, KoppelingAanbod, KoppelingStatus, School, Vestiging
from uwlr import leerlinggegevens as lg
from uwlr import soap
from uwlr.model import Operation, Verzoek
from uwlr.schema import load_schema, validation_errors

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SCHEMAS = SHARED / "uwlr-schemas" / "Schemas"
WSDL_DIR = SHARED / "uwlr-schemas" / "wsdl"
LG_URL = "/school/uwlr/leerlinggegevens"
LR_URL = "/school/uwlr/leerresultaten"


def school(brincode: str = "21QW", deps: tuple[tuple[str, int], ...] = (("00", 24), ("01", 16)), seed: int = 1,
           naam: str | None = None) -> School:
    """A small realistic school (las.demo.build_school) with the given vestigingen and pupil counts."""
    return build_school(
        brincode=brincode, naam=naam or f"School {brincode}", bestuur="Stichting Test",
        vestigingen=[VestigingSpec(dep, f"Vestiging {brincode}{dep}", "Tiel", n) for dep, n in deps], seed=seed,
    )


def vestiging(brincode: str, dep: str = "00") -> Vestiging:
    return Vestiging.objects.select_related("school").get(school__brincode=brincode, dependancecode=dep)


def code_for(v: Vestiging, tail: str = "test-code-0001") -> str:
    return f"{v.code6}-{tail}"


def activate(v: Vestiging, slug: str = "snappet", code: str | None = None, *, start: dt.date | None = None,
             status: str | None = None) -> tuple[Koppeling, str]:
    """An activated koppeling of `v` for the offer `slug`, with its plain code."""
    code = code or code_for(v, f"{slug}-0123456789")
    if not KoppelingAanbod.objects.filter(slug=slug).exists():
        load_catalogue()  # a transactional test flushed the catalogue the migration loaded
    aanbod = KoppelingAanbod.objects.get(slug=slug)
    k = services.activate(vestiging=v, aanbod=aanbod, user=None, naam="Test", code=code,
                          startdatum=start or timezone.localdate())
    if status is not None:
        k.status = status
        k.save(update_fields=["status"])
    if k.status == KoppelingStatus.WACHT and status is None:
        services.confirm(k, wie="test")
        k.refresh_from_db()
    return k, code


def aut(k: Koppeling, code: str, **override: str) -> soap.Autorisatie:
    values = {"autorisatiesleutel": code, "klantcode": k.aanbod.klantcode, "klantnaam": k.aanbod.klantnaam}
    values.update(override)
    return soap.Autorisatie(**values)


def request(op: Operation, a: soap.Autorisatie, *, schooljaar: str | None = None, brincode: str | None = "21QW",
            v: Vestiging | None = None, **fields: Any) -> bytes:
    """The request bytes; `v` names that vestiging (brincode + dependancecode) instead of `brincode`."""
    from las.models import Schooljaar

    if v is not None:
        brincode = v.school.brincode
        fields.setdefault("dependancecode", None if v.dependancecode == "00" else v.dependancecode)

    verzoek = Verzoek(op, schooljaar or Schooljaar.voor_datum().naam, brincode=brincode, **fields)
    return lg.build_request(verzoek, a)


def post(client: Client, body: bytes, action: str | None = "", url: str = LG_URL, **extra: Any) -> Any:
    headers: dict[str, Any] = {"content_type": extra.pop("content_type", "text/xml; charset=utf-8")}
    if action is not None:
        headers["HTTP_SOAPACTION"] = action
    return client.post(url, body, **headers, **extra)


def call(client: Client, op: Operation, a: soap.Autorisatie, **fields: Any) -> Any:
    return post(client, request(op, a, **fields), f'"{op.soap_action}"')


def fault_of(response: Any) -> tuple[str, str]:
    """(faultcode local part, detail text) of a fault response; asserts it is one."""
    assert response.status_code == 500, response.content[:500]
    assert response["Content-Type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    fault = root.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    assert fault is not None, response.content[:500]
    code = fault.findtext("faultcode") or ""
    assert code.startswith("soap:"), code
    return code.split(":", 1)[1], " ".join(fault.find("detail").itertext()) if fault.find("detail") is not None else ""


def body_of(response: Any) -> etree._Element:
    assert response.status_code == 200, response.content[:800]
    return soap.parse_response(response.content)


def xsd_errors(response: Any) -> list[str]:
    return validation_errors(load_schema(SCHEMAS), body_of(response))
