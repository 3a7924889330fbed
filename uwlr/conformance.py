"""A local UWLR Leerlinggegevens conformance checker: `koppelpunt check URL ...`.

Like the Edustandaard testvoorziening, but run from your own machine against any LAS endpoint (ours or another
vendor's). `run_checks` calls every operation (HaalLeerlinggegevens; HaalStructuur; HaalLeerlingen and
HaalLeerkrachten for every group the structure returned plus the key-less group), validates each answer against
the official XSDs (`uwlr.schema`, packaged copies with the school-year enumeration widened), checks the rules the
XSD cannot enforce (`uwlr.validation`), asks with a `laatstontvangengegevens` in the future, and probes the fault
behaviour with deliberately wrong requests. The result is a `Report`: one `Check` per assertion (PASS/FAIL/WARN,
operation, what was expected, what came back, timing).

Every request goes through the `uwlr.transport.Transport` seam as raw bytes, so malformed requests and wrong
answers (HTTP 200 faults, unprefixed faultcodes, schema-invalid data) are seen exactly as they arrive. The
autorisatiesleutel never appears in a report: every text that goes into one is scrubbed of it, in case a server
echoes it back.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from lxml import etree

from uwlr import leerlinggegevens, soap
from uwlr.client import SchoolId
from uwlr.faults import FAULTS, OngeldigBericht, TransportError, UwlrFault
from uwlr.model import (
    DEFAULT_XSD_VERSIE,
    Antwoord,
    GeenGegevens,
    GeenWijzigingen,
    GroepRef,
    Leerkracht,
    Leerling,
    Leerlinggegevens,
    Operation,
    Verzoek,
)
from uwlr.namespaces import LEERLINGGEGEVENS, SOAP_ENV
from uwlr.schema import LEERLINGGEGEVENS_XSD, PACKAGED_SCHEMAS, as_document, load_schema
from uwlr.transport import Transport, TransportResponse
from uwlr.validation import OngeldigAntwoord
from uwlr.xml import parse_xml

DEFAULT_TIMEOUT = 30.0
MAX_SHOWN = 5  # problems quoted per check; the rest is counted

_LG = f"{{{LEERLINGGEGEVENS}}}"
_BODY = f"{{{SOAP_ENV}}}Body"
_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_FAULT = f"{{{SOAP_ENV}}}Fault"


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"


@dataclass(frozen=True)
class Check:
    """One assertion about one exchange: `operation` names the request, `check` the aspect that was judged."""

    status: Status
    operation: str
    check: str
    expected: str
    got: str
    ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "operation": self.operation,
            "check": self.check,
            "expected": self.expected,
            "got": self.got,
            "ms": None if self.ms is None else round(self.ms, 1),
        }

    def line(self) -> str:
        ms = "" if self.ms is None else f"  ({self.ms:.0f} ms)"
        head = f"{self.status.value}  {self.operation:<36} {self.check:<14}"
        return f"{head} verwacht: {self.expected}  kreeg: {self.got}{ms}"


@dataclass(frozen=True)
class Target:
    """What to check: one endpoint, one partner identity, one school and school year."""

    url: str
    autorisatie: soap.Autorisatie
    school: SchoolId
    schooljaar: str
    xsdversie: str = DEFAULT_XSD_VERSIE
    getrapt_url: str | None = None

    def describe(self) -> dict[str, str]:
        """The target as shown in a report: everything except the key."""
        school = self.school
        if school.brincode is not None:
            where = school.brincode + (f" (dependance {school.dependancecode})" if school.dependancecode else "")
        else:
            where = f"schoolkey {school.schoolkey}"
        info = {
            "url": self.url,
            "school": where,
            "schooljaar": self.schooljaar,
            "xsdversie": self.xsdversie,
            "klantcode": self.autorisatie.klantcode,
            "klantnaam": self.autorisatie.klantnaam,
        }
        if self.getrapt_url and self.getrapt_url != self.url:
            info["getrapt_url"] = self.getrapt_url
        return info


@dataclass
class Report:
    target: dict[str, str]
    checks: list[Check] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for check in self.checks if check.status is status)

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings allowed): the exit status of `koppelpunt check` is 0 then."""
        return self.count(Status.FAIL) == 0

    def header(self) -> str:
        fields = "  ".join(f"{name}: {value}" for name, value in self.target.items())
        return f"UWLR-conformancecontrole (Leerlinggegevens)\n  {fields}"

    def summary(self) -> str:
        verdict = "geslaagd" if self.ok else "NIET geslaagd"
        return (
            f"Resultaat: {self.count(Status.PASS)} PASS, {self.count(Status.FAIL)} FAIL, "
            f"{self.count(Status.WARN)} WARN — {verdict}"
        )

    def text(self) -> str:
        return "\n".join([self.header(), *(check.line() for check in self.checks), self.summary()]) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": dict(self.target),
            "checks": [check.as_dict() for check in self.checks],
            "totals": {status.value: self.count(status) for status in Status},
            "ok": self.ok,
        }


@dataclass(frozen=True)
class _Exchange:
    """One HTTP round trip as it came back (or why it did not)."""

    response: TransportResponse | None
    ms: float
    error: str | None = None

    @property
    def content_type(self) -> str:
        if self.response is None:
            return "?"
        headers = {str(k).lower(): str(v) for k, v in self.response.headers.items()}
        return headers.get("content-type", "(geen)")

    def http_ok(self, status: int) -> bool:
        return self.response is not None and self.response.status_code == status and _is_text_xml(self.content_type)

    def http(self) -> str:
        status = self.response.status_code if self.response is not None else "?"
        return f"HTTP {status}, Content-Type {self.content_type}"


def _is_text_xml(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "text/xml"


def _shown(problems: Sequence[str]) -> str:
    more = f" (en nog {len(problems) - MAX_SHOWN})" if len(problems) > MAX_SHOWN else ""
    return "; ".join(problems[:MAX_SHOWN]) + more


def _ref_label(ref: GroepRef) -> str:
    if ref.key is None:
        return "zonder groep"
    return f"{'samengestelde_groep' if ref.samengesteld else 'groep'} {ref.key!r}"


def _other_brin(school: SchoolId) -> str:
    return "98ZZ" if school.brincode == "99ZZ" else "99ZZ"


class Checker:
    """Runs the checks against one `Target` through `transport`; `on_check` sees each check as it is made."""

    def __init__(
        self,
        target: Target,
        transport: Transport,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        schemas_dir: Path = PACKAGED_SCHEMAS,
        on_check: Callable[[Check], None] | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.target = target
        self.transport = transport
        self.timeout = timeout
        self.schema = load_schema(schemas_dir, LEERLINGGEGEVENS_XSD)
        self.report = Report(target.describe())
        self.on_check = on_check
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self._secret = target.autorisatie.autorisatiesleutel

    # ----------------------------------------------------------------------------------------------- recording

    def _scrub(self, text: str) -> str:
        # A server may echo the request (key included) in a fault detail; it must not reach the report.
        return text.replace(self._secret, "***") if self._secret else text

    def add(self, status: Status, operation: str, check: str, expected: str, got: str, ms: float | None) -> Check:
        item = Check(status, operation, check, self._scrub(expected), self._scrub(got), ms)
        self.report.checks.append(item)
        if self.on_check is not None:
            self.on_check(item)
        return item

    # ------------------------------------------------------------------------------------------------ the wire

    def _send(self, operation: Operation, body: bytes) -> _Exchange:
        url = self.target.url if operation is Operation.HAAL_LEERLINGGEGEVENS else self.target.getrapt_url
        started = time.monotonic()
        try:
            response = self.transport.send(url or self.target.url, operation.soap_action, body, self.timeout)
        except TransportError as exc:
            return _Exchange(None, (time.monotonic() - started) * 1000, str(exc))
        return _Exchange(response, (time.monotonic() - started) * 1000)

    def _verzoek(self, operation: Operation, **changes: Any) -> Verzoek:
        school = self.target.school
        values: dict[str, Any] = {
            "schooljaar": self.target.schooljaar,
            "brincode": school.brincode,
            "dependancecode": school.dependancecode,
            "schoolkey": school.schoolkey,
            "xsdversie": self.target.xsdversie,
        }
        values.update(changes)
        return Verzoek(operation, **values)

    # ------------------------------------------------------------------------------------------------ the run

    def run(self) -> Report:
        alles = self.check_data(
            Operation.HAAL_LEERLINGGEGEVENS, "HaalLeerlinggegevens", self._verzoek(Operation.HAAL_LEERLINGGEGEVENS)
        )
        if alles is _UNREACHABLE:
            return self.report  # nothing else can work; one clear FAIL says why
        self.check_getrapt(alles if isinstance(alles, Leerlinggegevens) else None)
        self.check_laatstontvangen()
        self.check_faults()
        return self.report

    # ----------------------------------------------------------------------------------------- data answers

    def check_data(
        self, operation: Operation, label: str, verzoek: Verzoek
    ) -> Antwoord | _RawStructure | _Unreachable | None:
        """One data request: HTTP, schema and rules checks. Returns the parsed answer (None when unusable)."""
        exchange = self._send(operation, leerlinggegevens.build_request(verzoek, self.target.autorisatie))
        ms = exchange.ms
        expected_http = "HTTP 200, Content-Type text/xml"
        if exchange.response is None:
            self.add(Status.FAIL, label, "antwoord", f"{operation.answer_root}", exchange.error or "?", ms)
            return _UNREACHABLE if operation is Operation.HAAL_LEERLINGGEGEVENS else None
        self.add(
            Status.PASS if exchange.http_ok(200) else Status.FAIL, label, "HTTP", expected_http, exchange.http(), ms
        )
        try:
            body = soap.parse_response(exchange.response.content)
        except UwlrFault as fault:
            self.add(Status.FAIL, label, "antwoord", operation.answer_root, f"SOAP-fault {_fault_text(fault)}", ms)
            return None
        except TransportError as exc:
            self.add(Status.FAIL, label, "antwoord", f"SOAP-envelop met {operation.answer_root}", str(exc), ms)
            return None
        errors = self.schema_errors(body)
        self.add(
            Status.FAIL if errors else Status.PASS,
            label,
            "schema",
            f"geldig volgens {LEERLINGGEGEVENS_XSD}",
            _shown(errors) if errors else "geldig",
            ms,
        )
        # The XSD declares unique keys but no validator enforces them (unprefixed selectors); check them on the
        # raw answer, so that they are reported even when the parser stops at an earlier problem.
        duplicates = _identity_problems(body)
        self.add(
            Status.FAIL if duplicates else Status.PASS,
            label,
            "unieke keys",
            "elke key en eckid één keer",
            _shown(duplicates) if duplicates else "geen dubbele",
            ms,
        )
        try:
            antwoord = leerlinggegevens.parse_answer(body, operation, xsdversie=verzoek.xsdversie)
        except OngeldigAntwoord as exc:
            problems = [p for p in exc.problemen if not p.startswith("dubbele ")] or [
                "een client weigert het antwoord om de dubbele keys"
            ]
            self.add(Status.FAIL, label, "regels", "geldige gegevens (uwlr.validation)", _shown(problems), ms)
            return _RawStructure(_raw_group_refs(body)) if operation is Operation.HAAL_STRUCTUUR else None
        except Exception as exc:  # a hostile answer must become a FAIL line, never a crash
            self.add(
                Status.FAIL,
                label,
                "regels",
                "geldige gegevens (uwlr.validation)",
                f"onleesbaar: {type(exc).__name__}: {exc}",
                ms,
            )
            return None
        if isinstance(antwoord, GeenWijzigingen) and verzoek.laatstontvangengegevens is None:
            self.add(
                Status.FAIL, label, "regels", "gegevens (geen laatstontvangengegevens gestuurd)", "geenwijzigingen", ms
            )
        elif isinstance(antwoord, GeenGegevens) and not operation.has_groepen_ref:
            self.add(
                Status.WARN, label, "regels", "gegevens van de school", "geengegevens: niets om te controleren", ms
            )
        else:
            self.add(Status.PASS, label, "regels", "geldige gegevens (uwlr.validation)", _describe(antwoord), ms)
        return antwoord

    def schema_errors(self, body: etree._Element) -> list[str]:
        if self.schema.validate(as_document(body)):
            return []
        errors: Iterable[Any] = self.schema.error_log  # type: ignore[assignment]
        return [str(e.message).replace(_LG, "lg:") for e in errors]

    # ------------------------------------------------------------------------------------------------ getrapt

    def check_getrapt(self, alles: Leerlinggegevens | None) -> None:
        structuur = self.check_data(Operation.HAAL_STRUCTUUR, "HaalStructuur", self._verzoek(Operation.HAAL_STRUCTUUR))
        if isinstance(structuur, Leerlinggegevens):
            refs = [GroepRef(g.key) for g in structuur.groepen]
            refs += [GroepRef(s.key, samengesteld=True) for s in structuur.samengestelde_groepen]
        elif isinstance(structuur, _RawStructure):
            refs = list(structuur.refs)
        else:
            refs = []
        refs.append(GroepRef(None))
        leerlingen: list[Leerling] = []
        leerkrachten: list[Leerkracht] = []
        for operation, name in (
            (Operation.HAAL_LEERLINGEN, "HaalLeerlingen"),
            (Operation.HAAL_LEERKRACHTEN, "HaalLeerkrachten"),
        ):
            for ref in refs:
                label = f"{name} {_ref_label(ref)}"
                antwoord = self.check_data(operation, label, self._verzoek(operation, groepen=(ref,)))
                if not isinstance(antwoord, Leerlinggegevens):
                    continue
                if operation is Operation.HAAL_LEERLINGEN:
                    leerlingen += antwoord.leerlingen
                    self._check_scope(label, ref, [(p.key, _pupil_refs(p)) for p in antwoord.leerlingen], "leerling")
                else:
                    leerkrachten += antwoord.leerkrachten
                    self._check_scope(
                        label, ref, [(t.key, _teacher_refs(t)) for t in antwoord.leerkrachten], "leerkracht"
                    )
        if isinstance(structuur, Leerlinggegevens):
            self._check_getrapt_references(structuur, leerlingen, leerkrachten)
            if alles is not None:
                self._compare(alles, structuur, leerlingen, leerkrachten)

    def _check_scope(
        self, label: str, ref: GroepRef, records: list[tuple[str | None, set[GroepRef]]], kind: str
    ) -> None:
        """A record in the answer for group G must belong to G; one for a key-less reference to no group of that kind.

        The XSD says a key-less reference asks for the records "not bound to any (sub)group". LASes read that as
        "no group of the reference's kind" or as "no group at all"; both answers satisfy the weaker reading.
        """
        if ref.key is None:
            stray = [key for key, groups in records if any(g.samengesteld == ref.samengesteld for g in groups)]
            expected = f"alleen {kind}en zonder {'samengestelde groep' if ref.samengesteld else 'stamgroep'}"
        else:
            stray = [key for key, groups in records if ref not in groups]
            expected = f"alleen {kind}en van {_ref_label(ref)}"
        if stray:
            self.add(
                Status.WARN,
                label,
                "groepsfilter",
                expected,
                f"{len(stray)} andere: {_shown([repr(k) for k in stray])}",
                None,
            )

    def _check_getrapt_references(
        self, structuur: Leerlinggegevens, leerlingen: list[Leerling], leerkrachten: list[Leerkracht]
    ) -> None:
        """Getrapt answers refer to the structure fetched first: every reference must resolve there."""
        known = {GroepRef(g.key) for g in structuur.groepen}
        known |= {GroepRef(s.key, samengesteld=True) for s in structuur.samengestelde_groepen}
        vestigingen = {v.key for v in structuur.vestigingen}
        problems: list[str] = []
        for p in leerlingen:
            for ref in sorted(_pupil_refs(p) - known, key=_ref_label):
                problems.append(f"leerling {p.key!r} verwijst naar onbekende {_ref_label(ref)}")
            if p.vestiging is not None and p.vestiging not in vestigingen:
                problems.append(f"leerling {p.key!r} verwijst naar onbekende vestiging {p.vestiging!r}")
        for t in leerkrachten:
            for ref in sorted(_teacher_refs(t) - known, key=_ref_label):
                problems.append(f"leerkracht {t.key!r} verwijst naar onbekende {_ref_label(ref)}")
        problems = list(dict.fromkeys(problems))
        self.add(
            Status.FAIL if problems else Status.PASS,
            "getrapt samen",
            "verwijzingen",
            "elke groep- en vestigingverwijzing staat in HaalStructuur",
            _shown(problems) if problems else "alle verwijzingen kloppen",
            None,
        )

    def _compare(
        self,
        alles: Leerlinggegevens,
        structuur: Leerlinggegevens,
        leerlingen: list[Leerling],
        leerkrachten: list[Leerkracht],
    ) -> None:
        """Both bindings describe the same school: the same groups, pupils and teachers."""
        for what, a, b in (
            (
                "groepen",
                _keys(alles.groepen) | _keys(alles.samengestelde_groepen),
                _keys(structuur.groepen) | _keys(structuur.samengestelde_groepen),
            ),
            ("leerlingen", _keys(alles.leerlingen), _keys(leerlingen)),
            ("leerkrachten", _keys(alles.leerkrachten), _keys(leerkrachten)),
        ):
            if a == b:
                self.add(Status.PASS, "getrapt vs alles-in-1", what, "dezelfde keys", f"{len(a)} gelijk", None)
                continue
            only_a = sorted(a - b)
            only_b = sorted(b - a)
            got = []
            if only_a:
                got.append(f"alleen alles-in-1: {_shown([repr(k) for k in only_a])}")
            if only_b:
                got.append(f"alleen getrapt: {_shown([repr(k) for k in only_b])}")
            self.add(Status.WARN, "getrapt vs alles-in-1", what, "dezelfde keys", "; ".join(got), None)

    # ------------------------------------------------------------------------------------- laatstontvangen

    def check_laatstontvangen(self) -> None:
        """A `laatstontvangengegevens` in the future: `geenwijzigingen`, or (allowed) the data all the same."""
        future = self.now() + dt.timedelta(days=1)
        for operation, name in (
            (Operation.HAAL_LEERLINGGEGEVENS, "HaalLeerlinggegevens"),
            (Operation.HAAL_STRUCTUUR, "HaalStructuur"),
        ):
            label = f"{name} laatstontvangen+1d"
            antwoord = self.check_data(operation, label, self._verzoek(operation, laatstontvangengegevens=future))
            expected = "geenwijzigingen of de gegevens"
            if isinstance(antwoord, GeenWijzigingen):
                self.add(Status.PASS, label, "wijzigingen", expected, "geenwijzigingen", None)
            elif isinstance(antwoord, Leerlinggegevens):
                self.add(
                    Status.PASS,
                    label,
                    "wijzigingen",
                    expected,
                    "de gegevens (de LAS kijkt niet naar laatstontvangengegevens)",
                    None,
                )
            elif isinstance(antwoord, GeenGegevens):
                self.add(Status.WARN, label, "wijzigingen", expected, "geengegevens", None)

    # -------------------------------------------------------------------------------------------------- faults

    def check_faults(self) -> None:
        aut = self.target.autorisatie
        op = Operation.HAAL_LEERLINGGEGEVENS
        good = self._verzoek(op)
        wrong_key = soap.Autorisatie("koppelpunt-check-" + secrets.token_hex(8), aut.klantcode, aut.klantnaam)
        wrong_name = soap.Autorisatie(
            aut.autorisatiesleutel, aut.klantcode, ("onbekend-" + secrets.token_hex(4) + "-" + aut.klantnaam)[:64]
        )
        other = self._verzoek(op, brincode=_other_brin(self.target.school), dependancecode=None, schoolkey=None)
        request = leerlinggegevens.build_request(good, aut)
        probes: list[tuple[str, bytes, str, frozenset[str]]] = [
            (
                "verkeerde sleutel",
                leerlinggegevens.build_request(good, wrong_key),
                "Client.AutorisatieOngeldig",
                frozenset(),
            ),
            (
                "verkeerde klantnaam",
                leerlinggegevens.build_request(good, wrong_name),
                "Client.OngeldigeKlantIdentificatie",
                frozenset({"Client.AutorisatieOngeldig"}),
            ),
            (
                f"andere school ({other.brincode})",
                leerlinggegevens.build_request(other, aut),
                "Client.AutorisatieOngeldig",
                frozenset(),
            ),
            (
                "onbekende xsdversie",
                _swap(request, "xsdversie", self.target.xsdversie, "9.9"),
                "Client.XsdVersieOngeldig",
                frozenset(),
            ),
            ("kapotte XML", request[: -len(b"</soap:Body></soap:Envelope>")], "Client.OngeldigBericht", frozenset()),
            (
                "schooljaar verkeerd patroon",
                _swap(request, "schooljaar", self.target.schooljaar, self.target.schooljaar.replace("-", "/")),
                "Client.OngeldigBericht",
                frozenset(),
            ),
            (
                "zonder autorisatieheader",
                soap.envelope(leerlinggegevens.build_request_body(good)),
                "Client.AutorisatieOngeldig",
                frozenset(),
            ),
        ]
        for name, body, expected, tolerated in probes:
            self.check_fault(f"fout: {name}", body, expected, tolerated)

    def check_fault(self, label: str, body: bytes, expected: str, tolerated: frozenset[str] = frozenset()) -> None:
        """Send a wrong request; the answer must be a SOAP 1.1 fault with `expected`, HTTP 500, text/xml."""
        exchange = self._send(Operation.HAAL_LEERLINGGEGEVENS, body)
        ms = exchange.ms
        if exchange.response is None:
            self.add(Status.FAIL, label, "faultcode", expected, exchange.error or "?", ms)
            return
        fault, problem = _find_fault(exchange.response.content)
        if fault is None:
            self.add(Status.FAIL, label, "faultcode", expected, f"{problem} ({exchange.http()})", ms)
            return
        code_el = fault.find("faultcode")
        raw = (code_el.text or "").strip() if code_el is not None else ""
        prefix, _, local = raw.rpartition(":")
        if local == expected:
            status = Status.PASS
        elif local in tolerated:
            status = Status.WARN
        else:
            status = Status.FAIL
        self.add(
            status,
            label,
            "faultcode",
            expected + "".join(f" (of {t})" for t in sorted(tolerated)),
            local or "(geen faultcode)",
            ms,
        )
        self.add(
            Status.PASS if exchange.http_ok(500) else Status.FAIL,
            label,
            "HTTP",
            "HTTP 500, Content-Type text/xml",
            exchange.http(),
            ms,
        )
        bound = code_el.nsmap.get(prefix) if code_el is not None and prefix else None
        if bound == SOAP_ENV:
            form = raw
        elif not prefix:
            form = f"{raw or '(leeg)'} (geen prefix)"
        else:
            form = f"{raw} (prefix {prefix!r} → {bound or 'niet gebonden'})"
        self.add(
            Status.PASS if bound == SOAP_ENV else Status.FAIL,
            label,
            "faultcode-vorm",
            "QName met het envelop-prefix, bv. soap:" + expected,
            form,
            ms,
        )
        standard = FAULTS[local].faultstring if local in FAULTS else None
        faultstring = (fault.findtext("faultstring") or "").strip()
        if standard is not None and faultstring != standard:
            self.add(Status.WARN, label, "faultstring", repr(standard), repr(faultstring), ms)


class _Unreachable:
    """Marker: the first request got no HTTP answer at all."""


_UNREACHABLE = _Unreachable()


class _RawStructure:
    """The group keys of a HaalStructuur answer that failed the rules, so the getrapt calls can still be made."""

    def __init__(self, refs: Iterable[GroepRef]) -> None:
        self.refs = tuple(dict.fromkeys(refs))


def _raw_group_refs(body: etree._Element) -> list[GroepRef]:
    refs = []
    for groepen in body.iter(_LG + "groepen"):
        for child in groepen:
            key = child.get("key")
            if key is None:
                continue
            if child.tag == _LG + "groep":
                refs.append(GroepRef(key))
            elif child.tag == _LG + "samengestelde_groep":
                refs.append(GroepRef(key, samengesteld=True))
    return refs


def _identity_problems(body: etree._Element) -> list[str]:
    """Duplicate record keys and eckids in an answer, in the words of `uwlr.validation.referential_problems`."""
    seen: dict[tuple[str, str, str], int] = {}
    for data in body:
        for block in data:
            for record in block:
                local = str(record.tag).rsplit("}", 1)[-1]
                label = "groep" if local == "samengestelde_groep" else local
                for attribute in ("key", "eckid"):
                    value = record.get(attribute)
                    if value:
                        seen[(attribute, label, value)] = seen.get((attribute, label, value), 0) + 1
    return [f"dubbele {attribute} {value!r} bij {label}" for (attribute, label, value), n in seen.items() if n > 1]


def _find_fault(content: bytes) -> tuple[etree._Element | None, str]:
    """The SOAP 1.1 Fault element of a response, or None and what came instead."""
    try:
        root = parse_xml(content)
    except OngeldigBericht as exc:
        return None, f"geen XML: {exc.detail}"
    if root.tag != _ENVELOPE:
        return None, "geen SOAP 1.1-envelop"
    body = root.find(_BODY)
    child = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
    if child is None:
        return None, "lege SOAP Body"
    if child.tag == _FAULT:
        return child, ""
    operation = Operation.from_answer_tag(child.tag)
    if operation is not None:
        data = child.find(_LG + operation.data_root)
        if data is not None:
            return None, f"gegevens ({operation.answer_root} met leerlinggegevens!)"
        return None, f"{operation.answer_root} zonder fault"
    return None, f"onverwacht element {etree.QName(child).localname!r}"


def _fault_text(fault: UwlrFault) -> str:
    code = getattr(fault, "raw_code", fault.code)
    return f"{code}: {fault.detail or fault.faultstring}"


def _swap(request: bytes, element: str, old: str, new: str) -> bytes:
    """Replace one request field's value in serialised bytes (the builder refuses to write an invalid one)."""
    before = f"<lg:{element}>{old}</lg:{element}>".encode()
    if before not in request:  # pragma: no cover - guards against a change in the builder's output
        raise RuntimeError(f"cannot find {element} in the request")
    return request.replace(before, f"<lg:{element}>{new}</lg:{element}>".encode(), 1)


def _describe(antwoord: Antwoord) -> str:
    if isinstance(antwoord, GeenWijzigingen):
        return "geenwijzigingen"
    if isinstance(antwoord, GeenGegevens):
        return "geengegevens"
    parts = [
        f"{len(antwoord.vestigingen)} vestigingen" if antwoord.vestigingen else "",
        f"{len(antwoord.groepen)} groepen" if antwoord.groepen else "",
        f"{len(antwoord.samengestelde_groepen)} samengestelde groepen" if antwoord.samengestelde_groepen else "",
        f"{len(antwoord.leerlingen)} leerlingen" if antwoord.leerlingen else "",
        f"{len(antwoord.leerkrachten)} leerkrachten" if antwoord.leerkrachten else "",
    ]
    return "gegevens: " + (", ".join(p for p in parts if p) or "alleen school")


def _pupil_refs(p: Leerling) -> set[GroepRef]:
    refs = {GroepRef(key, samengesteld=True) for key in p.samengestelde_groepen}
    if p.groep is not None:
        refs.add(GroepRef(p.groep))
    return refs


def _teacher_refs(t: Leerkracht) -> set[GroepRef]:
    return {GroepRef(link.key, samengesteld=link.samengesteld) for link in t.groepen}


def _keys(records: Iterable[Any]) -> set[str]:
    return {str(r.key) for r in records if r.key is not None}


def run_checks(
    target: Target,
    transport: Transport,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    on_check: Callable[[Check], None] | None = None,
    schemas_dir: Path = PACKAGED_SCHEMAS,
) -> Report:
    """Check `target` through `transport`; `on_check` is called with every check as it is made."""
    return Checker(target, transport, timeout=timeout, on_check=on_check, schemas_dir=schemas_dir).run()


__all__ = ["Check", "Checker", "Report", "Status", "Target", "run_checks"]
