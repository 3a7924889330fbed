"""The application side talking to a hostile or broken LAS: every answer becomes a plain Dutch `LasFout`, never a
crash, a hang or a memory blow-up (the LAS is someone else's server; its answers are untrusted input too)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ea import koppelen, lastypes
from ea.models import Applicatie, LasKoppeling, LasType, School
from tests.hardening import payloads
from uwlr import leerlinggegevens as lg
from uwlr import model, soap

pytestmark = pytest.mark.django_db
SLEUTEL = "21QW00-hostile-las-0123456789"


def _valid_answer() -> bytes:
    data = model.Leerlinggegevens(
        school=model.School(schooljaar="2025-2026", brincode="21QW"),
        groepen=[model.Groep(key="G1", naam="Groep 1", jaargroep="1")],
        leerlingen=[model.Leerling(key="L1", achternaam="Jansen", roepnaam="Piet", groep="G1", jaargroep="1")],
    )
    return lg.build_answer_envelope(model.Operation.HAAL_LEERLINGGEGEVENS, data, validate=False)


VALID = _valid_answer()


def _answers() -> dict[str, tuple[int, str, bytes]]:
    hostile: dict[str, tuple[int, str, bytes]] = {
        name: (200, "text/xml", attack(VALID)) for name, attack in payloads.ATTACKS.items()
        if name not in payloads.HARMLESS and name not in ("long_key", "many_headers", "cdata_in_key")
    }
    hostile.update({
        "html_error_page": (502, "text/html", b"<html><body>Bad gateway</body></html>"),
        "empty_200": (200, "text/xml", b""),
        "json": (200, "application/json", b'{"leerlingen": []}'),
        "fault_without_code": (500, "text/xml",
                               soap.envelope(b"<soap:Fault><faultstring>x</faultstring></soap:Fault>")),
        "unknown_fault": (500, "text/xml", soap.envelope(
            b"<soap:Fault><faultcode>soap:Server.Weetniet</faultcode><faultstring>?</faultstring></soap:Fault>")),
        "wrong_answer_root": (200, "text/xml", soap.envelope(b'<x:leerlingen_antwoord xmlns:x="urn:x"/>')),
        "answer_for_other_school": (200, "text/xml", VALID.replace(b">21QW<", b">99ZZ<")),
    })
    return hostile


class HostileLas:
    def __init__(self) -> None:
        self.answer: tuple[int, str, bytes] = (200, "text/xml", VALID)
        self.delay = 0.0
        las = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if las.delay:
                    time.sleep(las.delay)
                status, content_type, body = las.answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/lg"


@pytest.fixture
def las() -> Iterator[HostileLas]:
    server = HostileLas()
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
def koppeling(db: None, las: HostileLas) -> LasKoppeling:
    lastypes.ensure()
    app = Applicatie.objects.create(naam="Rekenwereld", klantcode="REKENWERELD", klantnaam="Rekenwereld")
    school = School.objects.create(applicatie=app, naam="OBS De Linde", brincode="21QW", dependancecode="00")
    las_type = LasType.objects.create(naam="Vijandig LAS", leerlinggegevens_url=las.url, getrapt=False)
    k = LasKoppeling(school=school, las_type=las_type, brincode="21QW", schooljaar="2025-2026",
                     klantcode=app.klantcode, klantnaam=app.klantnaam, status=LasKoppeling.GOEDGEKEURD)
    k.autorisatiesleutel = SLEUTEL
    k.save()
    return k


def test_a_normal_answer_works(koppeling: LasKoppeling) -> None:
    assert [p.key for p in koppelen.haal_school(koppeling).leerlingen] == ["L1"]


@pytest.mark.parametrize("name", sorted(_answers()))
def test_hostile_answers_become_a_plain_las_fout(koppeling: LasKoppeling, las: HostileLas, name: str) -> None:
    las.answer = _answers()[name]
    started = time.perf_counter()
    with pytest.raises(koppelen.LasFout) as exc:
        koppelen.haal_school(koppeling)
    assert time.perf_counter() - started < 15
    melding = exc.value.melding
    assert melding and "Traceback" not in melding and "root:x" not in melding and SLEUTEL not in melding


def test_a_las_that_never_answers_times_out(koppeling: LasKoppeling, las: HostileLas, monkeypatch: Any) -> None:
    monkeypatch.setattr(koppelen, "TIMEOUT", 1.0)
    las.delay = 5
    started = time.perf_counter()
    with pytest.raises(koppelen.LasFout):
        koppelen.haal_school(koppeling)
    assert time.perf_counter() - started < 4.5




def test_markup_in_las_data_is_shown_as_text(koppeling: LasKoppeling, las: HostileLas) -> None:
    """Names from a LAS are untrusted: they reach the wizard and the pupil list as text, never as markup."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from ea import importer
    from ea.models import SchoolBeheerder

    evil = '<script>alert("x")</script>'
    attr = '"><img src=x onerror=alert(1)>'
    data = model.Leerlinggegevens(
        school=model.School(schooljaar="2025-2026", brincode="21QW"),
        groepen=[model.Groep(key="G1", naam=evil[:64], jaargroep="1")],
        leerlingen=[model.Leerling(key="L1", achternaam=evil, roepnaam=attr, groep="G1", jaargroep="1")],
    )
    las.answer = (200, "text/xml", lg.build_answer_envelope(model.Operation.HAAL_LEERLINGGEGEVENS, data,
                                                            validate=False))
    run = importer.stage(koppeling.school, koppelen.haal_school(koppeling), koppeling=koppeling)
    user = get_user_model().objects.create_user("bea")
    SchoolBeheerder.objects.create(user=user, school=koppeling.school)
    client = Client()
    client.force_login(user)
    pages = [client.get(f"/applicatie/school/{koppeling.school.pk}/import/{run.pk}/{tab}/").content.decode()
             for tab in ("groepen", "leerlingen")]
    importer.apply(run)
    pages.append(client.get(f"/applicatie/school/{koppeling.school.pk}/leerlingen/").content.decode())
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
    assert any("&lt;script&gt;alert" in html for html in pages)
