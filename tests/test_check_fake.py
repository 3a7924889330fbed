"""`koppelpunt check` against real HTTP servers we control: a correct LAS built from the uwlr builders, and
deliberately broken ones. The checker runs in-process (`run_checks`) for detailed assertions and as a real
subprocess (`python -m koppelpunt.cli check ...`) for the command line, exit status and output."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from uwlr import leerlinggegevens, soap
from uwlr.client import SchoolId
from uwlr.conformance import Report, Status, Target, run_checks
from uwlr.faults import AutorisatieOngeldig, InterneFout, OngeldigBericht, OngeldigeKlantIdentificatie, UwlrFault
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
    Verzoek,
    Vestiging,
)
from uwlr.transport import HttpxTransport

ROOT = Path(__file__).resolve().parents[1]
KEY = "21QW01-Zq8wK3-geheim-sleutel"
KLANTCODE = "EA-0042"
KLANTNAAM = "Rekenwereld"
SCHOOLJAAR = "2025-2026"
CHANGED_AT = dt.datetime(2025, 9, 1, 12, 0, tzinfo=dt.UTC)


def school_data() -> Leerlinggegevens:
    return Leerlinggegevens(
        School(SCHOOLJAAR, brincode="21QW", dependancecode="01", xsdversie="2.2",
               aanmaakdatum=dt.datetime(2025, 9, 2, 8, 0)),
        [Vestiging("V1", "Hoofdgebouw")],
        [Groep("G5", "Groep 5", "5"), Groep("G6", "Groep 6", "6"), Groep("G7", "Groep 7 (leeg)", "7")],
        [SamengesteldeGroep("SG-REK", "Plusklas rekenen")],
        [
            Leerling("L1", achternaam="Jansen", roepnaam="Piet", groep="G5", samengestelde_groepen=["SG-REK"],
                     vestiging="V1"),
            Leerling("L2", achternaam="de Vries", roepnaam="Sara", groep="G6"),
            Leerling("L3", achternaam="Bakker", roepnaam="Ali", groep="G5"),
            Leerling("L4", roepnaam="Nieuw"),  # not in any group yet
        ],
        [
            Leerkracht("T1", achternaam="Visser", groepen=[LeerkrachtGroep("G5", rollen=["LRK"]),
                                                           LeerkrachtGroep("SG-REK", samengesteld=True)]),
            Leerkracht("T2", achternaam="Mulder", groepen=[LeerkrachtGroep("G6")]),
            Leerkracht("T3", achternaam="de Boer", rollen=["IB"]),  # no group
        ],
    )


def _in_scope(refs: tuple[GroepRef, ...], links: set[GroepRef]) -> bool:
    return any((ref.key is None and not links) or ref in links for ref in refs)


@dataclass
class Las:
    """A LAS speaking UWLR through our own parser and builders; the flags break it in specific ways."""

    data: Leerlinggegevens = field(default_factory=school_data)
    honours_laatstontvangen: bool = True
    klant_fault: type[UwlrFault] = OngeldigeKlantIdentificatie
    # the breakages
    fault_status: int = 500
    fault_content_type: str = soap.CONTENT_TYPE
    bare_faultcode: bool = False
    ongeldig_bericht_as: UwlrFault | None = None
    ignore_key: bool = False
    duplicate_pupils: bool = False
    echo_request: bool = False
    ignore_groepen: bool = False
    always_geenwijzigingen: bool = False

    def __call__(self, body: bytes, action: str) -> tuple[int, bytes, str]:
        try:
            return 200, self.answer(body, action), soap.CONTENT_TYPE
        except UwlrFault as fault:
            if isinstance(fault, OngeldigBericht) and self.ongeldig_bericht_as is not None:
                fault = self.ongeldig_bericht_as
            if self.echo_request:
                fault = type(fault)("Ontvangen: " + body.decode("utf-8", "replace"))
            content = soap.build_fault(fault)
            if self.bare_faultcode:
                content = content.replace(b"<faultcode>soap:", b"<faultcode>")
            return self.fault_status, content, self.fault_content_type

    def answer(self, body: bytes, action: str) -> bytes:
        envelope = soap.parse_request(body)
        aut = envelope.autorisatie
        if not self.ignore_key:
            if aut is None or aut.autorisatiesleutel != KEY:
                raise AutorisatieOngeldig("Autorisatiesleutel is ongeldig of geeft geen toegang tot de school")
            if (aut.klantcode, aut.klantnaam) != (KLANTCODE, KLANTNAAM):
                raise self.klant_fault()
        verzoek = leerlinggegevens.parse_request(envelope.body)
        if Operation.from_soap_action(action) is not verzoek.operation:
            raise OngeldigBericht("SOAPAction past niet bij het bericht")
        if verzoek.brin6 != "21QW01" and not self.ignore_key:
            raise AutorisatieOngeldig("Deze sleutel geeft geen toegang tot deze school")
        operation = verzoek.operation
        antwoord = self.select(verzoek)
        if self.duplicate_pupils and isinstance(antwoord, Leerlinggegevens) and operation.getrapt is False:
            broken = copy.deepcopy(antwoord)
            broken.leerlingen.append(replace(broken.leerlingen[0], roepnaam="Dubbel"))
            broken.leerlingen[1].jaargroep = "9"  # not in the schema's enumeration (8 is followed by 11)
            return soap.envelope(leerlinggegevens.build_answer(operation, broken, validate=False))
        return leerlinggegevens.build_answer_envelope(operation, antwoord, xsdversie=verzoek.xsdversie)

    def select(self, verzoek: Verzoek) -> Antwoord:
        since = verzoek.laatstontvangengegevens
        if self.always_geenwijzigingen:
            return GEEN_WIJZIGINGEN
        if self.ignore_groepen and verzoek.operation.has_groepen_ref:
            verzoek = replace(verzoek, groepen=(GroepRef(None), *(GroepRef(g.key) for g in self.data.groepen)))
        if self.honours_laatstontvangen and since is not None and since >= CHANGED_AT:
            return GEEN_WIJZIGINGEN
        if verzoek.schooljaar != SCHOOLJAAR:
            return GEEN_GEGEVENS
        data = self.data
        if verzoek.operation is Operation.HAAL_LEERLINGEN:
            pupils = [p for p in data.leerlingen if _in_scope(verzoek.groepen, _pupil_links(p))]
            return Leerlinggegevens(data.school, leerlingen=pupils)
        if verzoek.operation is Operation.HAAL_LEERKRACHTEN:
            teachers = []
            for t in data.leerkrachten:
                links = [g for g in t.groepen if GroepRef(g.key, g.samengesteld) in verzoek.groepen]
                if links or (not t.groepen and _in_scope(verzoek.groepen, set())):
                    teachers.append(replace(t, groepen=links))
            return Leerlinggegevens(data.school, leerkrachten=teachers) if teachers else GEEN_GEGEVENS
        return data


def _pupil_links(p: Leerling) -> set[GroepRef]:
    links = {GroepRef(k, samengesteld=True) for k in p.samengestelde_groepen}
    return links | ({GroepRef(p.groep)} if p.groep else set())


class _Handler(BaseHTTPRequestHandler):
    server: LasServer

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.actions.append(self.headers.get("SOAPAction", ""))
        status, content, content_type = self.server.las(body, self.headers.get("SOAPAction", "").strip('"'))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        pass


class LasServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, las: Las) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.las = las
        self.actions: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/uwlr/leerlinggegevens"


@pytest.fixture
def serve() -> Iterator[Callable[[Las], LasServer]]:
    servers: list[tuple[LasServer, threading.Thread]] = []

    def start(las: Las) -> LasServer:
        srv = LasServer(las)
        thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        servers.append((srv, thread))
        return srv

    yield start
    for srv, thread in servers:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def target(url: str, **changes: object) -> Target:
    base = Target(url, soap.Autorisatie(KEY, KLANTCODE, KLANTNAAM), SchoolId("21QW", "01"), SCHOOLJAAR)
    return replace(base, **changes)


def check(url: str, **changes: object) -> Report:
    with HttpxTransport() as transport:
        return run_checks(target(url, **changes), transport, timeout=10)


def lines(report: Report, status: Status) -> list[str]:
    return [c.line() for c in report.checks if c.status is status]


def find(report: Report, operation: str, check: str) -> list[Status]:
    return [c.status for c in report.checks if c.operation.startswith(operation) and c.check == check]


def run_cli(url: str, *extra: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KOPPELPUNT_ENV": "test", "KOPPELPUNT_CHECK_KEY": key}
    return subprocess.run(
        [sys.executable, "-m", "koppelpunt.cli", "check", url, "--klantcode", KLANTCODE, "--klantnaam", KLANTNAAM,
         "--brin", "21QW", "--dependancecode", "01", "--schooljaar", SCHOOLJAAR, "--timeout", "10", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


# ------------------------------------------------------------------------------------------- a correct LAS


def test_a_correct_las_passes_every_check(serve) -> None:
    server = serve(Las())
    report = check(server.url)
    assert report.ok, "\n" + report.text()
    assert lines(report, Status.WARN) == []
    # every operation was called, with its own SOAPAction; getrapt for every group and the key-less one
    groups = 3 + 1 + 1  # G5, G6, G7, SG-REK, and no group
    assert server.actions.count('"HaalLeerlinggegevens"') == 1 + 1 + 7  # data, laatstontvangen, fault probes
    assert server.actions.count(f'"{Operation.HAAL_STRUCTUUR.soap_action}"') == 2
    assert server.actions.count(f'"{Operation.HAAL_LEERLINGEN.soap_action}"') == groups
    assert server.actions.count(f'"{Operation.HAAL_LEERKRACHTEN.soap_action}"') == groups
    for operation in ("HaalLeerlinggegevens", "HaalStructuur", "HaalLeerlingen groep 'G5'",
                      "HaalLeerlingen samengestelde_groep 'SG-REK'", "HaalLeerkrachten zonder groep"):
        assert find(report, operation, "schema")[0] is Status.PASS
        assert find(report, operation, "regels")[0] is Status.PASS
    assert find(report, "getrapt samen", "verwijzingen") == [Status.PASS]
    assert find(report, "getrapt vs alles-in-1", "leerlingen") == [Status.PASS]
    laatst = [c for c in report.checks if c.check == "wijzigingen"]
    assert [(c.status, c.got) for c in laatst] == [(Status.PASS, "geenwijzigingen")] * 2
    probes = [c for c in report.checks if c.operation.startswith("fout:")]
    assert {c.operation for c in probes} == {
        "fout: verkeerde sleutel", "fout: verkeerde klantnaam", "fout: andere school (99ZZ)",
        "fout: onbekende xsdversie", "fout: kapotte XML", "fout: schooljaar verkeerd patroon",
        "fout: zonder autorisatieheader",
    }
    assert {(c.check, c.status) for c in probes} == {
        ("faultcode", Status.PASS), ("HTTP", Status.PASS), ("faultcode-vorm", Status.PASS)
    }
    assert all(c.ms is not None and c.ms >= 0 for c in probes)
    assert KEY not in report.text() and KEY not in json.dumps(report.as_dict())


def test_a_las_that_always_sends_data_and_refuses_with_autorisatie_ongeldig(serve) -> None:
    server = serve(Las(honours_laatstontvangen=False, klant_fault=AutorisatieOngeldig))
    report = check(server.url)
    assert report.ok, "\n" + report.text()
    laatst = [c for c in report.checks if c.check == "wijzigingen"]
    assert [c.status for c in laatst] == [Status.PASS] * 2
    assert all(c.got.startswith("de gegevens") for c in laatst)
    [warn] = [c for c in report.checks if c.status is Status.WARN]
    assert (warn.operation, warn.check, warn.got) == (
        "fout: verkeerde klantnaam", "faultcode", "Client.AutorisatieOngeldig"
    )


def test_the_cli_passes_a_correct_las_and_prints_json(serve) -> None:
    server = serve(Las())
    done = run_cli(server.url, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is True and result["totals"]["FAIL"] == 0 and result["totals"]["PASS"] > 40
    assert result["target"]["school"] == "21QW (dependance 01)"
    assert KEY not in done.stdout + done.stderr


# --------------------------------------------------------------------------------------------- broken LASes


def test_a_broken_las_is_reported_line_by_line_and_fails(serve) -> None:
    server = serve(Las(fault_status=200, bare_faultcode=True, ongeldig_bericht_as=InterneFout(),
                       ignore_key=True, duplicate_pupils=True, echo_request=True))
    done = run_cli(server.url)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert KEY not in out + done.stderr  # echoed back by the server, scrubbed by the checker
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]

    def failing(operation: str, check: str) -> str:
        hits = [line for line in failed if f" {operation}" in line and f" {check} " in line]
        assert hits, f"no FAIL for {operation} / {check} in:\n{out}"
        return hits[0]

    # schema-invalid data with duplicate pupil keys in the alles-in-1 answer
    assert "lg:jaargroep" in failing("HaalLeerlinggegevens ", "schema")
    assert "kreeg: dubbele key 'L1' bij leerling  (" in failing("HaalLeerlinggegevens ", "unieke keys")
    assert "'jaargroep' heeft een ongeldige waarde '9'" in failing("HaalLeerlinggegevens ", "regels")
    # the key is ignored: a wrong key, another school and no header all get data
    for probe in ("verkeerde sleutel", "andere school", "zonder autorisatieheader"):
        assert "gegevens (leerlinggegevens_antwoord met leerlinggegevens!)" in failing(f"fout: {probe}", "faultcode")
    # faults come with HTTP 200 and without the envelope prefix
    assert "HTTP 200" in failing("fout: onbekende xsdversie", "HTTP")
    assert "(geen prefix)" in failing("fout: onbekende xsdversie", "faultcode-vorm")
    # a malformed request gets the wrong faultcode
    assert "kreeg: Server.InterneFout" in failing("fout: kapotte XML", "faultcode")
    assert "kreeg: Server.InterneFout" in failing("fout: schooljaar verkeerd patroon", "faultcode")
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("Resultaat: ") and summary.endswith("NIET geslaagd")
    assert f"{len(failed)} FAIL" in summary


@pytest.mark.parametrize(
    ("las", "operation", "aspect", "got"),
    [
        (Las(fault_status=200), "fout: verkeerde sleutel", "HTTP",
         "HTTP 200, Content-Type text/xml; charset=utf-8"),
        (Las(fault_content_type="text/html"), "fout: kapotte XML", "HTTP", "HTTP 500, Content-Type text/html"),
        (Las(bare_faultcode=True), "fout: verkeerde sleutel", "faultcode-vorm",
         "Client.AutorisatieOngeldig (geen prefix)"),
        (Las(ongeldig_bericht_as=AutorisatieOngeldig()), "fout: schooljaar verkeerd patroon", "faultcode",
         "Client.AutorisatieOngeldig"),
        (Las(klant_fault=InterneFout), "fout: verkeerde klantnaam", "faultcode", "Server.InterneFout"),
    ],
)
def test_each_fault_breakage_is_named(serve, las: Las, operation: str, aspect: str, got: str) -> None:
    report = check(serve(las).url)
    assert not report.ok
    hits = [c for c in report.checks if c.status is Status.FAIL and c.operation == operation and c.check == aspect]
    assert [c.got for c in hits] == [got], report.text()


def test_a_las_that_ignores_the_group_filter_gets_warnings(serve) -> None:
    report = check(serve(Las(ignore_groepen=True)).url)
    assert report.ok, report.text()  # every answer is valid; the selection is what is wrong
    warned = {(c.operation, c.check): c.got for c in report.checks if c.status is Status.WARN}
    assert warned[("HaalLeerlingen groep 'G5'", "groepsfilter")] == "2 andere: 'L2'; 'L4'"
    assert warned[("HaalLeerlingen zonder groep", "groepsfilter")] == "3 andere: 'L1'; 'L2'; 'L3'"
    assert warned[("HaalLeerkrachten groep 'G6'", "groepsfilter")] == "2 andere: 'T1'; 'T3'"


def test_geenwijzigingen_without_laatstontvangengegevens_fails(serve) -> None:
    report = check(serve(Las(always_geenwijzigingen=True)).url)
    failed = [c for c in report.checks if c.status is Status.FAIL]
    assert {c.operation for c in failed} == {
        "HaalLeerlinggegevens", "HaalStructuur", "HaalLeerlingen zonder groep", "HaalLeerkrachten zonder groep"
    }
    assert {(c.check, c.got) for c in failed} == {("regels", "geenwijzigingen")}
    # the laatstontvangengegevens probes are satisfied by the same answer
    assert [c.status for c in report.checks if c.check == "wijzigingen"] == [Status.PASS, Status.PASS]


def test_an_unreachable_endpoint_is_one_clear_failure() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Handler) as probe:
        port = probe.server_address[1]  # closed again when we call it
    done = run_cli(f"http://127.0.0.1:{port}/uwlr")
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and "HaalLeerlinggegevens" in failed[0] and "Verbinding" in failed[0]
    assert done.stdout.strip().endswith("0 PASS, 1 FAIL, 0 WARN — NIET geslaagd")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--brin", "21qw"], "--brin must be a BRIN code"),
        (["--schooljaar", "2025-2027"], "--schooljaar must look like"),
        (["--schoolkey", "S1"], "not both"),
    ],
)
def test_bad_arguments_exit_with_2(args: list[str], message: str) -> None:
    done = run_cli("http://127.0.0.1:9/uwlr", *args)
    assert done.returncode == 2
    assert message in done.stderr
