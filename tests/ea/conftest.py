from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ea.models import Applicatie, Klantenservice, School, SchoolBeheerder
from uwlr import model

SCHOOLJAAR = "2025-2026"


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


class FakeLas:
    """A tiny real LAS on 127.0.0.1: answers UWLR Leerlinggegevens requests (alles-in-1 and getrapt) with
    messages built by uwlr.leerlinggegevens from `data`, and the real fault when the key is wrong."""

    def __init__(self, data: model.Leerlinggegevens, sleutel: str) -> None:
        self.data, self.sleutel = data, sleutel
        self.calls: list[str] = []
        self.server: Any = None

    def handle(self, body: bytes) -> tuple[int, bytes]:
        from uwlr import faults, leerlinggegevens, soap

        try:
            envelope, verzoek = leerlinggegevens.parse_request_envelope(body)
            if envelope.autorisatie is None or envelope.autorisatie.autorisatiesleutel != self.sleutel:
                raise faults.AutorisatieOngeldig("Onbekende autorisatiesleutel")
        except faults.UwlrFault as fault:
            return 500, soap.build_fault(fault)
        self.calls.append(verzoek.operation.value)
        data = self.data
        if verzoek.operation is model.Operation.HAAL_LEERLINGEN:
            keys = {r.key for r in verzoek.groepen}
            data = model.Leerlinggegevens(
                data.school,
                leerlingen=[p for p in data.leerlingen if p.groep in keys or (None in keys and not p.groep)],
            )
        elif verzoek.operation is model.Operation.HAAL_LEERKRACHTEN:
            keys = {r.key for r in verzoek.groepen}
            data = model.Leerlinggegevens(
                data.school,
                leerkrachten=[
                    t
                    for t in data.leerkrachten
                    if any(g.key in keys for g in t.groepen) or (None in keys and not t.groepen)
                ],
            )
        answer = leerlinggegevens.build_answer_envelope(
            verzoek.operation, data, xsdversie=verzoek.xsdversie, validate=False
        )
        return 200, answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/uwlr/leerlinggegevens"


@pytest.fixture
def fake_las() -> Any:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    las = FakeLas(gegevens(), "21QW00-sleutel-van-de-school")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, answer = las.handle(body)
            self.send_response(status)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    las.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=las.server.serve_forever, daemon=True)
    thread.start()
    yield las
    las.server.shutdown()
    las.server.server_close()
    thread.join(5)
