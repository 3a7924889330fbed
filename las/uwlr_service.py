"""The school's two UWLR SOAP endpoints (Django views).

- `/school/uwlr/leerlinggegevens`: all four Leerlinggegevens operations on one URL (both WSDL ports point here),
  dispatched on the body root QName (the four request roots are distinct).
- `/school/uwlr/leerresultaten`: BrengLeerresultaten.
- `GET …?wsdl` serves the official WSDL with this server's real address; the XSDs it imports are served from
  `GET …?xsd=<file name>` (copies shipped in `las/uwlr_wsdl/`, so an installed server needs no `../shared`).
  The served `EDEXML.types.variabel.xsd` has its school-year enumeration (which stops at 2024-2025) widened,
  otherwise every answer for a current school year would be invalid against the schema we publish.

HTTP rules: POST only (GET only for ?wsdl/?xsd), CSRF-exempt (machine clients, authenticated by the header),
`Content-Type: text/xml` (SOAP 1.1), body at most `settings.UWLR_MAX_REQUEST_BYTES`.
SOAPAction: a value (quoted or bare) must be the one the WSDL gives for the body's operation, else
Client.OngeldigBericht. An absent or empty SOAPAction is accepted (SOAP 1.1 allows `""` to mean "the intent is
in the body", and some hand-written clients leave it out); the body root decides.

Every answer is logged in `UwlrToegang` (the school's "Laatste uitwisseling"), written in batches every half second
per process (`AccessLogBuffer`: one disk commit per request would cap an SQLite server at a few dozen requests
per second). Faults are SOAP 1.1 faults with
HTTP 500 and a Dutch explanation in `<detail>`; an unexpected exception becomes Server.InterneFout and is logged
with its traceback (the autorisatiesleutel is never in a log record: `uwlr.soap.Autorisatie` hides it).
"""

from __future__ import annotations

import atexit
import functools
import ipaddress
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from las import autorisatie, leerlinggegevens, leerresultaten
from las.models import Koppeling, UwlrToegang
from uwlr import leerlinggegevens as lg
from uwlr import leerresultaten as lr
from uwlr import soap
from uwlr.faults import AutorisatieOngeldig, InterneFout, OngeldigBericht, TijdelijkNietBeschikbaar, UwlrFault
from uwlr.model import Operation
from uwlr.validation import OngeldigAntwoord

log = logging.getLogger("las.uwlr")

WSDL_DIR = Path(__file__).resolve().parent / "uwlr_wsdl"
LEERLINGGEGEVENS_WSDL = "UWLR_Leerlinggegevens_v2p2.wsdl"
LEERRESULTATEN_WSDL = "UWLR_Leerresultaten_v2p2.wsdl"
BRENG_LEERRESULTATEN = "BrengLeerresultaten"


def max_request_bytes() -> int:
    return int(getattr(settings, "UWLR_MAX_REQUEST_BYTES", 20 * 1024 * 1024))


def max_leerlinggegevens_request_bytes() -> int:
    """Leerlinggegevens requests are a few KB (even with every group referenced); parsing is done before the key
    is checked, so a stranger's 20 MB request must not be allowed to cost a results-sized parse."""
    return min(max_request_bytes(), int(getattr(settings, "UWLR_MAX_LEERLINGGEGEVENS_REQUEST_BYTES", 1024 * 1024)))


# ---------------------------------------------------------------------------------------------------------------
# WSDL and XSD


@functools.cache
def _file(folder: str, name: str) -> str:
    return (WSDL_DIR / folder / name).read_text(encoding="utf-8")


@functools.cache
def xsd_names() -> frozenset[str]:
    return frozenset(p.name for p in (WSDL_DIR / "Schemas").glob("*.xsd"))


_LAST_YEAR = '<xs:enumeration value="2024-2025"/>'


@functools.cache
def _xsd_text(name: str) -> str:
    text = _file("Schemas", name)
    if name == "EDEXML.types.variabel.xsd":
        extra = "".join(f'<xs:enumeration value="{y}-{y + 1}"/>' for y in range(2025, 2100))
        text = text.replace(_LAST_YEAR, _LAST_YEAR + extra)
    return text


def _schema_link(endpoint: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1).rsplit("/", 1)[-1]
        return f'schemaLocation="{endpoint}?xsd={name}"'
    return replace


def wsdl_text(name: str, endpoint: str) -> str:
    """The WSDL `name` with every service address set to `endpoint` and its imports pointing at `?xsd=`."""
    text = _file("wsdl", name)
    text = re.sub(r'location="http://localhost:8080/NOTDEFINEDYET"', f'location="{endpoint}"', text)
    return re.sub(r'schemaLocation="([^"]+)"', _schema_link(endpoint), text)


def xsd_text(name: str, endpoint: str) -> str | None:
    if name not in xsd_names():
        return None
    return re.sub(r'schemaLocation="([^"]+)"', _schema_link(endpoint), _xsd_text(name))


def _describe(request: HttpRequest, wsdl: str) -> HttpResponse:
    endpoint = request.build_absolute_uri(request.path)
    if "wsdl" in request.GET:
        return HttpResponse(wsdl_text(wsdl, endpoint), content_type=soap.CONTENT_TYPE)
    name = request.GET.get("xsd")
    if name:
        text = xsd_text(name, endpoint)
        if text is None:
            return HttpResponse("Onbekend schema.\n", status=404, content_type="text/plain; charset=utf-8")
        return HttpResponse(text, content_type=soap.CONTENT_TYPE)
    return HttpResponseNotAllowed(
        ["POST"], "Dit is een UWLR SOAP-endpoint: gebruik POST, of ?wsdl voor de WSDL.\n",
        content_type="text/plain; charset=utf-8",
    )


# ---------------------------------------------------------------------------------------------------------------
# Request handling


@dataclass
class _Log:
    operatie: str
    started: float = field(default_factory=time.perf_counter)
    koppeling: Koppeling | None = None
    klantcode: str = ""
    klantnaam: str = ""
    leerlingen: int = 0
    leerkrachten: int = 0
    groepen: int = 0
    resultaten: int = 0
    uitkomst: str = ""
    melding: str = ""
    skip: bool = False


@functools.cache
def _trusted_proxies(raw: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in raw if p.strip())


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    proxies = _trusted_proxies(tuple(getattr(settings, "UWLR_TRUSTED_PROXIES", ("127.0.0.1", "::1"))))
    return any(ip in net for net in proxies)


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address, for throttling and the access log.

    Behind a reverse proxy every request comes from the proxy: counting failures per REMOTE_ADDR would make one
    stranger's 20 wrong keys lock out every partner. When the peer is a trusted proxy (UWLR_TRUSTED_PROXIES,
    by default loopback, like gunicorn's forwarded_allow_ips), the address is the right-most X-Forwarded-For entry
    that is not itself a trusted proxy (entries further left are whatever the client chose to send).
    """
    peer = request.META.get("REMOTE_ADDR") or None
    if peer is None or not _is_trusted(peer):
        return peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = hop.strip()
        if not hop:
            continue
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled header: don't guess
        if not _is_trusted(hop):
            return hop
    return peer


def _fault_response(fault: UwlrFault) -> HttpResponse:
    response = HttpResponse(soap.build_fault(fault), status=500, content_type=soap.CONTENT_TYPE)
    # SOAP 1.1 puts every fault on HTTP 500. A client's mistake is not our server error: keep it out of
    # django.request's error log (the access log has it); real server faults are logged where they happen.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _read_body(request: HttpRequest, cap: int) -> bytes:
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.split(";", 1)[0].strip().lower() != "text/xml":
        raise OngeldigBericht(
            f"Content-Type moet text/xml zijn (SOAP 1.1), niet {content_type[:60]!r}."
        )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > cap:
        raise OngeldigBericht(f"Het bericht is te groot: maximaal {cap} bytes.")
    data = request.read(cap + 1)
    if len(data) > cap:
        raise OngeldigBericht(f"Het bericht is te groot: maximaal {cap} bytes.")
    return data


def _soap_action(request: HttpRequest) -> str | None:
    raw = request.META.get("HTTP_SOAPACTION")
    if raw is None:
        return None
    value = raw.strip().strip('"').strip()
    return value or None


def flush_interval() -> float:
    """Seconds between access-log writes (0: write each entry at once).

    On SQLite every commit waits for the disk; one insert per request would cap a server at a few dozen
    requests per second. So each process collects its entries and writes them in one transaction every
    half second (the school's page lags by at most that). Tests write at once.
    """
    value = getattr(settings, "UWLR_ACCESS_LOG_FLUSH_MS", None)
    if value is None:
        value = os.environ.get("KOPPELPUNT_UWLR_ACCESS_LOG_FLUSH_MS")
    if value is None:
        # Under Django's test environment (which sets up mail.outbox) a background writer would write outside
        # the tests' transactions: write at once there.
        value = 0 if hasattr(mail, "outbox") else 500
    return max(0, int(value)) / 1000


class AccessLogBuffer:
    """Per-process queue of `UwlrToegang` rows, written in batches by a daemon thread (and at exit).

    At exit the thread is stopped and joined before the last flush, so it can never be frozen by interpreter
    shutdown in the middle of a database transaction (which would leave the SQLite write lock taken).
    """

    def __init__(self) -> None:
        self._items: list[UwlrToegang] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        atexit.register(self.close)

    def add(self, row: UwlrToegang) -> None:
        interval = flush_interval()
        if not interval:
            row.save()
            return
        with self._lock:
            self._items.append(row)
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()  # a forked worker needs its own thread
                self._stop = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(interval, self._stop), daemon=True,
                                                name="uwlr-access-log")
                self._thread.start()

    def _run(self, interval: float, stop: threading.Event) -> None:
        from django.db import connection

        try:
            while not stop.wait(interval):
                self.flush()
        finally:
            connection.close()  # this thread's own connection

    def flush(self) -> int:
        with self._flushing:  # one writer per process at a time
            with self._lock:
                items, self._items = self._items, []
            if not items:
                return 0
            try:
                UwlrToegang.objects.bulk_create(items, batch_size=500)
            except Exception:
                log.exception("uwlr access log write failed", extra={"entries": len(items)})
                return 0
            return len(items)

    def close(self) -> None:
        """Stop the writer thread and write what is left (at process exit)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout=10)
        self.flush()


access_log = AccessLogBuffer()


def _write_log(request: HttpRequest, entry: _Log) -> None:
    if entry.skip:
        return
    try:
        access_log.add(UwlrToegang(
            koppeling=entry.koppeling, op=timezone.now(), operatie=entry.operatie[:40],
            klantcode=entry.klantcode[:64], klantnaam=entry.klantnaam[:64], leerlingen=entry.leerlingen,
            leerkrachten=entry.leerkrachten, groepen=entry.groepen, resultaten=entry.resultaten,
            uitkomst=entry.uitkomst[:64], melding=entry.melding[:300], client_ip=client_ip(request),
            duur_ms=int((time.perf_counter() - entry.started) * 1000),
        ))
    except Exception:
        # The partner's answer must not depend on the access log; the failure itself is logged.
        log.exception("uwlr access log write failed")


def _handle(request: HttpRequest, entry: _Log, work: Callable[[bytes, _Log], bytes], cap: int) -> HttpResponse:
    try:
        body = work(_read_body(request, cap), entry)
    except UwlrFault as fault:
        entry.uitkomst, entry.melding = fault.code, fault.detail or fault.faultstring
        if isinstance(fault, TijdelijkNietBeschikbaar):
            entry.skip = True  # a locked-out caller: the lockout row records it, don't let it flood the log
        response = _fault_response(fault)
    except OngeldigAntwoord as exc:
        log.error("uwlr answer failed our own checks", extra={"problemen": exc.problemen[:20],
                                                              "koppeling_id": getattr(entry.koppeling, "pk", None)})
        interne = InterneFout("Er is een fout opgetreden bij het samenstellen van de leerlinggegevens.")
        entry.uitkomst, entry.melding = interne.code, interne.detail or ""
        response = _fault_response(interne)
    except Exception:
        log.exception("uwlr request failed", extra={"operatie": entry.operatie,
                                                    "koppeling_id": getattr(entry.koppeling, "pk", None)})
        interne = InterneFout("Er is een onverwachte fout opgetreden; probeer het later opnieuw.")
        entry.uitkomst, entry.melding = interne.code, interne.detail or ""
        response = _fault_response(interne)
    else:
        response = HttpResponse(body, content_type=soap.CONTENT_TYPE)
    # Ids for the request's JSON access line (koppelpunt.logging.RequestLogMiddleware); never the key.
    request.log_ids = {  # type: ignore[attr-defined]
        "koppeling_id": getattr(entry.koppeling, "pk", None), "uitkomst": entry.uitkomst,
        "leerlingen": entry.leerlingen, "resultaten": entry.resultaten,
    }
    _write_log(request, entry)
    return response


def _header(envelope: soap.Envelope, entry: _Log) -> soap.Autorisatie:
    aut = envelope.autorisatie
    if aut is None:
        raise AutorisatieOngeldig("Autorisatieheader is leeg")
    entry.klantcode, entry.klantnaam = aut.klantcode, aut.klantnaam
    return aut


def _leerlinggegevens(request: HttpRequest, data: bytes, entry: _Log) -> bytes:
    envelope = soap.parse_request(data, max_bytes=max_leerlinggegevens_request_bytes())
    aut = _header(envelope, entry)
    operation = lg.operation_for(envelope.body)
    if operation is not None:
        entry.operatie = operation.value
    action = _soap_action(request)
    if action is not None and operation is not None and Operation.from_soap_action(action) is not operation:
        raise OngeldigBericht(
            f"SOAPAction '{action[:100]}' hoort niet bij het bericht '{operation.request_root}'; "
            f"verwacht '{operation.soap_action}'."
        )
    verzoek = lg.parse_request(envelope.body, operation)
    school = autorisatie.SchoolId(verzoek.brincode, verzoek.dependancecode, verzoek.schoolkey)
    toegang = autorisatie.authenticate(aut, school, client_ip(request))
    entry.koppeling = toegang.koppeling
    antwoord = leerlinggegevens.serve(toegang.koppeling, verzoek)
    entry.uitkomst = antwoord.uitkomst
    entry.leerlingen, entry.leerkrachten, entry.groepen = antwoord.leerlingen, antwoord.leerkrachten, antwoord.groepen
    return antwoord.body


def _leerresultaten(request: HttpRequest, data: bytes, entry: _Log) -> bytes:
    envelope = soap.parse_request(data, max_bytes=max_request_bytes())
    aut = _header(envelope, entry)
    action = _soap_action(request)
    if action is not None and action != BRENG_LEERRESULTATEN:
        raise OngeldigBericht(f"SOAPAction '{action[:100]}' is onbekend; verwacht '{BRENG_LEERRESULTATEN}'.")
    verzoek = lr.parse_request(envelope.body)
    s = verzoek.school
    dependance = None if s.dependancecode in (None, "00") else s.dependancecode
    school = autorisatie.SchoolId(s.brincode, dependance, s.schoolkey)
    toegang = autorisatie.authenticate(aut, school, client_ip(request))
    entry.koppeling = toegang.koppeling
    opgeslagen = leerresultaten.store(toegang.koppeling, verzoek)
    entry.uitkomst = "ok"
    entry.leerlingen, entry.resultaten = opgeslagen.leerlingen, opgeslagen.resultaten
    entry.melding = f"{opgeslagen.nieuw} nieuw, {opgeslagen.resultaten - opgeslagen.nieuw} bijgewerkt"
    return lr.build_bevestiging()


@csrf_exempt
def leerlinggegevens_endpoint(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _describe(request, LEERLINGGEGEVENS_WSDL)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    return _handle(request, _Log("Leerlinggegevens"), lambda data, entry: _leerlinggegevens(request, data, entry),
                   max_leerlinggegevens_request_bytes())


@csrf_exempt
def leerresultaten_endpoint(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _describe(request, LEERRESULTATEN_WSDL)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    return _handle(request, _Log(BRENG_LEERRESULTATEN), lambda data, entry: _leerresultaten(request, data, entry),
                   max_request_bytes())
