"""UwlrClient against a real HTTP server (a tiny LAS on 127.0.0.1) and in process."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.uwlr.lg_samples import schools
from tests.uwlr.test_leerresultaten import rich_verzoek, without_ander
from uwlr import leerlinggegevens, leerresultaten, soap
from uwlr.client import SchoolId, UwlrClient
from uwlr.faults import (
    AutorisatieOngeldig,
    InterneFout,
    OngeldigBericht,
    ScoreOngeldig,
    TijdelijkNietBeschikbaar,
    TransportError,
    UnknownFault,
    UwlrFault,
)
from uwlr.model import (
    GEEN_GEGEVENS,
    GEEN_WIJZIGINGEN,
    Antwoord,
    Groep,
    GroepRef,
    Leerkracht,
    LeerkrachtGroep,
    Leerling,
    Leerlinggegevens,
    Operation,
    SamengesteldeGroep,
    School,
    Vestiging,
)
from uwlr.transport import HttpxTransport, InProcessTransport, TransportResponse
from uwlr.validation import OngeldigAntwoord

SLEUTEL = "99XX00-geheim-7f3a9c"
AUT = soap.Autorisatie(SLEUTEL, "EA-0042", "UitgeverX")
CHANGED_AT = dt.datetime(2025, 9, 1, 12, 0)


def school_data() -> Leerlinggegevens:
    """Two stamgroepen, two samengestelde groepen, a pupil in several groups, pupils and a teacher without one."""
    return Leerlinggegevens(
        School("2025-2026", brincode="99XX", xsdversie="2.2", aanmaakdatum=dt.datetime(2025, 9, 2, 8, 0)),
        [Vestiging("V1", "Hoofdgebouw")],
        [Groep("G5", "Groep 5", "5"), Groep("G6", "Groep 6", "6"), Groep("G7", "Groep 7 (leeg)", "7")],
        [SamengesteldeGroep("SG-REK", "Plusklas rekenen"), SamengesteldeGroep("SG-TAAL", "Taal")],
        [
            Leerling("L1", achternaam="Jansen", roepnaam="Piet", groep="G5", samengestelde_groepen=["SG-REK"],
                     vestiging="V1"),
            Leerling("L2", achternaam="de Vries", roepnaam="Sara", groep="G6",
                     samengestelde_groepen=["SG-REK", "SG-TAAL"]),
            Leerling("L3", achternaam="Bakker", roepnaam="Ali", groep="G5"),
            Leerling("L4", roepnaam="Nieuw"),  # not in any group yet
            Leerling("L5", achternaam="Smit", samengestelde_groepen=["SG-TAAL"]),  # only in a samengestelde groep
        ],
        [
            Leerkracht("T1", achternaam="Visser", groepen=[
                LeerkrachtGroep("G5", rollen=["LRK"]), LeerkrachtGroep("G6"),
                LeerkrachtGroep("SG-REK", samengesteld=True)]),
            Leerkracht("T2", achternaam="Mulder", groepen=[LeerkrachtGroep("G6", rollen=["LRK"])]),
            Leerkracht("T3", achternaam="de Boer", rollen=["IB"]),  # no group
        ],
    )


def _in_scope(refs: tuple[GroepRef, ...], groep: str | None, samengesteld: list[str]) -> bool:
    for ref in refs:
        if ref.key is None and groep is None and not samengesteld:
            return True
        if ref.key is not None and ((not ref.samengesteld and groep == ref.key) or
                                    (ref.samengesteld and ref.key in samengesteld)):
            return True
    return False


@dataclass
class FakeLas:
    """A small but honest LAS: parses every request with our server code and answers from `data`.

    Teachers in a getrapt answer carry only the links of the groups asked for, so the client must unite them.
    """

    data: Leerlinggegevens = field(default_factory=school_data)
    received: list[tuple[str, bytes]] = field(default_factory=list)
    resultaten: list[leerresultaten.LeerresultatenVerzoek] = field(default_factory=list)

    def __call__(self, body: bytes, soap_action: str) -> tuple[int, bytes]:
        self.received.append((soap_action, body))
        try:
            envelope = soap.parse_request(body)
            if envelope.autorisatie != AUT:
                raise AutorisatieOngeldig("Autorisatiesleutel is ongeldig of geeft geen toegang tot de school")
            if soap_action == leerresultaten.SOAP_ACTION:
                self.resultaten.append(leerresultaten.parse_request(envelope.body))
                return 200, leerresultaten.build_bevestiging()
            verzoek = leerlinggegevens.parse_request(envelope.body)
            assert Operation.from_soap_action(soap_action) is verzoek.operation
            return 200, leerlinggegevens.build_answer_envelope(verzoek.operation, self.answer(verzoek))
        except UwlrFault as fault:
            return 500, soap.build_fault(fault)

    def answer(self, verzoek: leerlinggegevens.Verzoek) -> Antwoord:
        since = verzoek.laatstontvangengegevens
        if since is not None and since >= CHANGED_AT:
            return GEEN_WIJZIGINGEN
        data = self.data
        if verzoek.operation is Operation.HAAL_LEERLINGEN:
            pupils = [p for p in data.leerlingen if _in_scope(verzoek.groepen, p.groep, p.samengestelde_groepen)]
            return Leerlinggegevens(data.school, leerlingen=pupils)
        if verzoek.operation is Operation.HAAL_LEERKRACHTEN:
            teachers = []
            for t in data.leerkrachten:
                links = [g for g in t.groepen if _in_scope(verzoek.groepen, None if g.samengesteld else g.key,
                                                           [g.key] if g.samengesteld else [])]
                if links or (not t.groepen and _in_scope(verzoek.groepen, None, [])):
                    teachers.append(Leerkracht(t.key, achternaam=t.achternaam, rollen=t.rollen, groepen=links))
            return Leerlinggegevens(data.school, leerkrachten=teachers) if teachers else GEEN_GEGEVENS
        return data


Responder = Callable[["_Handler"], None]


class _Handler(BaseHTTPRequestHandler):
    server: LasServer

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append((self.path, dict(self.headers.items()), body))
        self.body = body
        self.server.responder(self)

    def reply(self, status: int, content: bytes, content_type: str = soap.CONTENT_TYPE, length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


class LasServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.las = FakeLas()
        self.release = threading.Event()
        self.responder: Responder = self._las

    def _las(self, handler: _Handler) -> None:
        action = handler.headers.get("SOAPAction", "").strip('"')
        status, content = self.las(handler.body, action)
        handler.reply(status, content)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server() -> Iterator[LasServer]:
    srv = LasServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture
def client(server: LasServer) -> Iterator[UwlrClient]:
    with UwlrClient(server.url + "/lg", server.url + "/lr", AUT, timeout=5, getrapt_url=server.url + "/getrapt") as c:
        yield c


def normalised(data: Antwoord) -> tuple[object, ...]:
    assert isinstance(data, Leerlinggegevens)
    pupils = sorted((p.key, p.groep, tuple(sorted(p.samengestelde_groepen))) for p in data.leerlingen)
    teachers = sorted((t.key, tuple(sorted((g.key, g.samengesteld) for g in t.groepen))) for t in data.leerkrachten)
    return (data.school.brincode, [g.key for g in data.groepen], [s.key for s in data.samengestelde_groepen],
            pupils, teachers)


# --------------------------------------------------------------------------------------------------------------
# Leerlinggegevens over HTTP


def test_haal_leerlinggegevens_over_http(client: UwlrClient, server: LasServer) -> None:
    antwoord = client.haal_leerlinggegevens("99XX", "2025-2026", gegevenssetid="Smalle set")
    assert isinstance(antwoord, Leerlinggegevens)
    assert [p.key for p in antwoord.leerlingen] == ["L1", "L2", "L3", "L4", "L5"]
    assert [t.key for t in antwoord.leerkrachten] == ["T1", "T2", "T3"]
    (path, headers, body) = server.requests[0]
    assert path == "/lg"
    assert headers["SOAPAction"] == '"HaalLeerlinggegevens"'
    assert headers["Content-Type"] == "text/xml; charset=utf-8"
    verzoek = leerlinggegevens.parse_request(soap.parse_request(body).body)
    assert (verzoek.brincode, verzoek.dependancecode, verzoek.gegevenssetid) == ("99XX", None, "Smalle set")


def test_getrapt_operations_use_their_url_and_soap_action(client: UwlrClient, server: LasServer) -> None:
    structuur = client.haal_structuur(SchoolId("99XX", "01"), "2025-2026")
    assert isinstance(structuur, Leerlinggegevens) and not structuur.leerlingen
    assert [g.key for g in structuur.groepen] == ["G5", "G6", "G7"]
    leerlingen = client.haal_leerlingen("99XX", "2025-2026", [GroepRef("G5")])
    assert isinstance(leerlingen, Leerlinggegevens) and [p.key for p in leerlingen.leerlingen] == ["L1", "L3"]
    assert client.haal_leerlingen("99XX", "2025-2026", [GroepRef("G7")]) is GEEN_GEGEVENS
    leerkrachten = client.haal_leerkrachten("99XX", "2025-2026", [GroepRef(None)])
    assert isinstance(leerkrachten, Leerlinggegevens) and [t.key for t in leerkrachten.leerkrachten] == ["T3"]
    base = "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens/"
    assert [(p, h["SOAPAction"]) for p, h, _ in server.requests] == [
        ("/getrapt", f'"{base}structuur_verzoek"'),
        ("/getrapt", f'"{base}leerlingen_verzoek"'),
        ("/getrapt", f'"{base}leerlingen_verzoek"'),
        ("/getrapt", f'"{base}leerkrachten_verzoek"'),
    ]
    first = leerlinggegevens.parse_request(soap.parse_request(server.requests[0][2]).body)
    assert first.dependancecode == "01"


def test_haal_school_getrapt_equals_alles_in_1(client: UwlrClient, server: LasServer) -> None:
    alles = client.haal_school("99XX00", "2025-2026")
    server.requests.clear()
    getrapt = client.haal_school("99XX00", "2025-2026", getrapt=True)
    assert normalised(getrapt) == normalised(alles)
    assert isinstance(getrapt, Leerlinggegevens)
    # every pupil and teacher once, though L1/L2/L5 and T1 came back in several answers
    assert len(getrapt.leerlingen) == 5 and len(getrapt.leerkrachten) == 3
    t1 = next(t for t in getrapt.leerkrachten if t.key == "T1")
    assert {(g.key, g.samengesteld) for g in t1.groepen} == {("G5", False), ("G6", False), ("SG-REK", True)}
    assert next(g for g in t1.groepen if g.key == "G5").rollen == ["LRK"]
    actions = [h["SOAPAction"].rsplit("/", 1)[-1] for _, h, _ in server.requests]
    # structure, then 5 groups + the key-less reference for pupils and for teachers
    assert actions == ['structuur_verzoek"'] + ['leerlingen_verzoek"'] * 6 + ['leerkrachten_verzoek"'] * 6
    refs = [leerlinggegevens.parse_request(soap.parse_request(b).body).groepen for _, _, b in server.requests[1:7]]
    assert refs == [(GroepRef("G5"),), (GroepRef("G6"),), (GroepRef("G7"),), (GroepRef("SG-REK", True),),
                    (GroepRef("SG-TAAL", True),), (GroepRef(None),)]


def test_haal_school_getrapt_in_batches(client: UwlrClient, server: LasServer) -> None:
    getrapt = client.haal_school("99XX", "2025-2026", getrapt=True, groepen_per_verzoek=4)
    assert normalised(getrapt) == normalised(client.haal_school("99XX", "2025-2026"))
    assert len(server.requests) == 1 + 2 + 2 + 1


def test_geen_wijzigingen_alles_in_1_and_getrapt(client: UwlrClient, server: LasServer) -> None:
    later = CHANGED_AT + dt.timedelta(days=1)
    assert client.haal_school("99XX", "2025-2026", laatstontvangengegevens=later) is GEEN_WIJZIGINGEN
    assert client.haal_school("99XX", "2025-2026", True, laatstontvangengegevens=later) is GEEN_WIJZIGINGEN
    earlier = CHANGED_AT - dt.timedelta(days=1)
    server.requests.clear()
    full = client.haal_school("99XX", "2025-2026", True, laatstontvangengegevens=earlier)
    assert isinstance(full, Leerlinggegevens) and len(full.leerlingen) == 5
    sent = [leerlinggegevens.parse_request(soap.parse_request(b).body) for _, _, b in server.requests]
    assert sent[0].laatstontvangengegevens == earlier
    assert all(v.laatstontvangengegevens is None for v in sent[1:])


def test_unexpected_geenwijzigingen_in_getrapt_is_refused(server: LasServer) -> None:
    las = server.las

    def stubborn(body: bytes, action: str) -> tuple[int, bytes]:
        verzoek = leerlinggegevens.parse_request(soap.parse_request(body).body)
        if verzoek.operation is Operation.HAAL_LEERLINGEN:
            return 200, leerlinggegevens.build_answer_envelope(verzoek.operation, GEEN_WIJZIGINGEN)
        return las(body, action)

    client = UwlrClient(server.url, server.url, AUT, InProcessTransport(stubborn))
    with pytest.raises(OngeldigAntwoord, match="geenwijzigingen"):
        client.haal_school("99XX", "2025-2026", getrapt=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schools())
def test_getrapt_merge_equals_alles_in_1_for_any_school(data: Leerlinggegevens) -> None:
    client = UwlrClient("inproc://lg", "inproc://lr", AUT, InProcessTransport(FakeLas(data)))
    alles = client.haal_school("99XX", "2025-2026")
    for per_verzoek in (1, 3):
        assert normalised(client.haal_school("99XX", "2025-2026", True, groepen_per_verzoek=per_verzoek)) == \
            normalised(alles)


def test_getrapt_merge_refuses_references_outside_the_structure(server: LasServer) -> None:
    las = server.las

    def changing(body: bytes, action: str) -> tuple[int, bytes]:
        answer = las(body, action)
        if action.endswith("structuur_verzoek"):  # the school changes right after we fetched the structure
            las.data.samengestelde_groepen.append(SamengesteldeGroep("SG-NIEUW", "Nieuw"))
            las.data.leerlingen[0].samengestelde_groepen.append("SG-NIEUW")
        return answer

    client = UwlrClient(server.url, server.url, AUT, InProcessTransport(changing))
    with pytest.raises(OngeldigAntwoord, match="SG-NIEUW"):
        client.haal_school("99XX", "2025-2026", getrapt=True)


def test_school_id_forms() -> None:
    assert SchoolId.parse("21QW") == SchoolId("21QW")
    assert SchoolId.parse("21QW00") == SchoolId("21QW")
    assert SchoolId.parse("21QW03") == SchoolId("21QW", "03")
    assert SchoolId.parse(SchoolId(schoolkey="abc")) == SchoolId(schoolkey="abc")
    for bad in ("21qw", "21QW0", "school-1"):
        with pytest.raises(ValueError):
            SchoolId.parse(bad)


def test_schoolkey_request(client: UwlrClient, server: LasServer) -> None:
    client.haal_structuur(SchoolId(schoolkey="SCHOOL-1"), "2025-2026", xsdversie="2.3")
    verzoek = leerlinggegevens.parse_request(soap.parse_request(server.requests[0][2]).body)
    assert (verzoek.schoolkey, verzoek.brincode, verzoek.xsdversie) == ("SCHOOL-1", None, "2.3")


# --------------------------------------------------------------------------------------------------------------
# Leerresultaten over HTTP


def test_breng_leerresultaten_over_http(client: UwlrClient, server: LasServer) -> None:
    verzoek = without_ander()
    assert client.breng_leerresultaten(verzoek) is None
    assert server.las.resultaten == [verzoek]
    path, headers, _ = server.requests[0]
    assert (path, headers["SOAPAction"]) == ("/lr", '"BrengLeerresultaten"')


def test_breng_leerresultaten_fault_is_typed_with_detail(client: UwlrClient, server: LasServer) -> None:
    def refuse(handler: _Handler) -> None:
        handler.reply(500, soap.build_fault(ScoreOngeldig("resultaat 'R-1': score 120 hoger dan het maximum 100")))

    server.responder = refuse
    with pytest.raises(ScoreOngeldig) as info:
        client.breng_leerresultaten(rich_verzoek())
    assert info.value.detail == "resultaat 'R-1': score 120 hoger dan het maximum 100"


def test_breng_leerresultaten_refuses_an_answer_without_bevestiging(client: UwlrClient, server: LasServer) -> None:
    server.responder = lambda h: h.reply(200, leerlinggegevens.build_answer_envelope(
        Operation.HAAL_LEERLINGGEGEVENS, GEEN_GEGEVENS))
    with pytest.raises(TransportError, match="Onverwacht antwoord"):
        client.breng_leerresultaten(rich_verzoek())


def test_invalid_results_are_not_sent(client: UwlrClient, server: LasServer) -> None:
    good = rich_verzoek()
    bad = leerresultaten.LeerresultatenVerzoek(
        good.school,
        (leerresultaten.Toetsafname("L1", (leerresultaten.Resultaat("R", dt.date(2025, 1, 1), "REK-M5", -5),)),),
        good.toetsen,
    )
    with pytest.raises(ScoreOngeldig):
        client.breng_leerresultaten(bad)
    assert server.requests == []


# --------------------------------------------------------------------------------------------------------------
# Faults and transport errors


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (AutorisatieOngeldig("Autorisatiesleutel is ongeldig of geeft geen toegang tot de gevraagde school"), 500),
        (TijdelijkNietBeschikbaar(), 500),
        (TijdelijkNietBeschikbaar("Onderhoud tot 06:00"), 503),  # some servers pick another status: still the fault
        (InterneFout(), 500),
        (OngeldigBericht("schooljaar"), 200),  # a fault is a fault, even with 200
    ],
)
def test_soap_faults_become_typed_exceptions(
    client: UwlrClient, server: LasServer, fault: UwlrFault, status: int
) -> None:
    server.responder = lambda h: h.reply(status, soap.build_fault(fault))
    with pytest.raises(type(fault)) as info:
        client.haal_leerlinggegevens("99XX", "2025-2026")
    assert type(info.value) is type(fault)
    assert info.value.detail == fault.detail


def test_wrong_key_gives_autorisatie_ongeldig_from_the_las(server: LasServer) -> None:
    wrong = soap.Autorisatie("verkeerd", AUT.klantcode, AUT.klantnaam)
    with UwlrClient(server.url, server.url, wrong) as client, pytest.raises(AutorisatieOngeldig):
        client.haal_leerlinggegevens("99XX", "2025-2026")


def test_unknown_fault_code_is_kept(client: UwlrClient, server: LasServer) -> None:
    server.responder = lambda h: h.reply(500, soap.build_fault(UnknownFault("Client.Anders", "Iets anders")))
    with pytest.raises(UnknownFault) as info:
        client.haal_structuur("99XX", "2025-2026")
    assert info.value.raw_code == "Client.Anders"


@pytest.mark.parametrize(
    ("status", "content", "content_type"),
    [
        (502, b"<html><body>Bad Gateway</body></html>", "text/html"),
        (500, b"Internal Server Error", "text/plain"),
        (404, b"", "text/plain"),
        (200, b"<html>login</html>", "text/html"),
        (200, b"not xml at all", "text/plain"),
        (500, soap.envelope(b'<x xmlns="urn:x"/>'), soap.CONTENT_TYPE),  # SOAP but no fault with a 500
        (302, b"", "text/html"),  # a redirect is not followed: a POST must not silently go elsewhere
    ],
)
def test_http_errors_and_non_soap_become_transport_errors(
    client: UwlrClient, server: LasServer, status: int, content: bytes, content_type: str
) -> None:
    server.responder = lambda h: h.reply(status, content, content_type)
    with pytest.raises(TransportError) as info:
        client.haal_leerlinggegevens("99XX", "2025-2026")
    assert info.value.status_code == status
    assert not isinstance(info.value, UwlrFault)


def test_timeout_becomes_transport_error(server: LasServer) -> None:
    def slow(handler: _Handler) -> None:
        server.release.wait(10)
        handler.reply(200, leerresultaten.build_bevestiging())

    server.responder = slow
    with (
        UwlrClient(server.url, server.url, AUT, timeout=0.3) as client,
        pytest.raises(TransportError, match="time-out"),
    ):
        client.haal_leerlinggegevens("99XX", "2025-2026")


def test_trickling_answer_hits_the_total_deadline(server: LasServer) -> None:
    def trickle(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", soap.CONTENT_TYPE)
        handler.end_headers()
        for _ in range(40):
            if server.release.wait(0.05):
                return
            handler.wfile.write(b" ")
            handler.wfile.flush()

    server.responder = trickle
    with (
        UwlrClient(server.url, server.url, AUT, timeout=0.5) as client,
        pytest.raises(TransportError, match="time-out"),
    ):
        client.haal_leerlinggegevens("99XX", "2025-2026")


def test_connection_refused_becomes_transport_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with UwlrClient(f"http://127.0.0.1:{port}/", None, AUT, timeout=2) as client:
        with pytest.raises(TransportError, match="Verbinding"):
            client.haal_leerlinggegevens("99XX", "2025-2026")
        with pytest.raises(TransportError, match="Geen URL"):
            client.breng_leerresultaten(rich_verzoek())


@pytest.mark.parametrize("with_length", [True, False])
def test_response_size_cap(server: LasServer, with_length: bool) -> None:
    big = leerlinggegevens.build_answer_envelope(Operation.HAAL_LEERLINGGEGEVENS, school_data())
    server.responder = lambda h: h.reply(200, big, length=with_length)
    with UwlrClient(server.url, server.url, AUT, timeout=5, max_response_bytes=len(big) - 1) as client:
        with pytest.raises(TransportError, match="groter dan") as info:
            client.haal_leerlinggegevens("99XX", "2025-2026")
        assert info.value.status_code == 200
    with UwlrClient(server.url, server.url, AUT, timeout=5, max_response_bytes=len(big)) as client:
        assert isinstance(client.haal_leerlinggegevens("99XX", "2025-2026"), Leerlinggegevens)


def test_invalid_leerlinggegevens_answer_is_refused(client: UwlrClient, server: LasServer) -> None:
    data = school_data()
    data.leerlingen.append(Leerling("L1", achternaam="Dubbel"))
    answer = leerlinggegevens.build_answer_envelope(Operation.HAAL_LEERLINGGEGEVENS, data, validate=False)
    server.responder = lambda h: h.reply(200, answer)
    with pytest.raises(OngeldigAntwoord, match="dubbele key"):
        client.haal_leerlinggegevens("99XX", "2025-2026")


def test_secrets_and_bodies_are_not_logged(
    client: UwlrClient, server: LasServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.haal_school("99XX", "2025-2026", getrapt=True)
    client.breng_leerresultaten(without_ander())
    server.responder = lambda h: h.reply(500, soap.build_fault(AutorisatieOngeldig()))
    with pytest.raises(AutorisatieOngeldig) as info:
        client.haal_leerlinggegevens("99XX", "2025-2026")
    assert "HaalLeerlinggegevens" in caplog.text  # we do log what happened ...
    for secret in (SLEUTEL, "Jansen", "L1001"):  # ... but never the key or message content
        assert secret not in caplog.text
    assert SLEUTEL not in repr(client) and SLEUTEL not in str(info.value)


def test_connection_pool_is_reused(server: LasServer) -> None:
    ports: set[int] = set()
    original = _Handler.do_POST

    def record(self: _Handler) -> None:
        ports.add(self.client_address[1])
        original(self)

    _Handler.protocol_version = "HTTP/1.1"  # keep-alive, so a pooled connection can be reused
    _Handler.do_POST = record  # type: ignore[method-assign]
    try:
        with UwlrClient(server.url, server.url, AUT, timeout=5) as client:
            for _ in range(3):
                client.haal_structuur("99XX", "2025-2026")
    finally:
        _Handler.do_POST = original  # type: ignore[method-assign]
        _Handler.protocol_version = "HTTP/1.0"
    assert len(ports) == 1


# --------------------------------------------------------------------------------------------------------------
# In process


def test_in_process_transport_gives_the_same_answers(server: LasServer) -> None:
    las = FakeLas()
    client = UwlrClient("inproc://lg", "inproc://lr", AUT, InProcessTransport(las))
    with UwlrClient(server.url, server.url, AUT, timeout=5) as http_client:
        assert normalised(client.haal_school("99XX", "2025-2026", getrapt=True)) == normalised(
            http_client.haal_school("99XX", "2025-2026", getrapt=True))
    client.breng_leerresultaten(rich_verzoek())
    assert las.resultaten == [rich_verzoek()]
    assert las.received[-1][0] == "BrengLeerresultaten"
    response = InProcessTransport(las).send("x", "BrengLeerresultaten", b"<kapot", 1)
    assert isinstance(response, TransportResponse) and response.status_code == 500
    with pytest.raises(OngeldigBericht):
        soap.parse_response(response.content)


def test_httpx_transport_accepts_a_caller_client(server: LasServer) -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [seen.append]}) as own:
        transport = HttpxTransport(client=own)
        client = UwlrClient(server.url, server.url, AUT, transport)
        client.haal_structuur("99XX", "2025-2026")
        client.close()  # not ours to close
        client.haal_structuur("99XX", "2025-2026")
    assert len(seen) == 2 and seen[0].headers["soapaction"].startswith('"http://')
