"""The EA side of UWLR: `UwlrClient` pulls pupil data from a LAS and pushes results to it.

    client = UwlrClient(lg_url, lr_url, Autorisatie(sleutel, klantcode, klantnaam))
    antwoord = client.haal_school("21QW00", "2025-2026")          # Leerlinggegevens | GEEN_WIJZIGINGEN | …
    client.breng_leerresultaten(verzoek)                          # None, or raises

Errors: a SOAP fault from the LAS is raised as its typed `UwlrFault` (`AutorisatieOngeldig`,
`TijdelijkNietBeschikbaar`, …) whatever the HTTP status; no answer, a timeout, an HTTP error without a SOAP
fault, or a body that is not SOAP is a `TransportError`; an answer that breaks the standard is
`uwlr.validation.OngeldigAntwoord` (leerlinggegevens) or a `TransportError` (a missing bevestiging).
Message bodies and the autorisatie header are never logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from lxml import etree

from uwlr import leerlinggegevens, leerresultaten, soap
from uwlr.faults import TransportError, UwlrFault
from uwlr.model import (
    DEFAULT_XSD_VERSIE,
    GEEN_GEGEVENS,
    GEEN_WIJZIGINGEN,
    Antwoord,
    GeenWijzigingen,
    GroepRef,
    Leerkracht,
    Leerling,
    Leerlinggegevens,
    Operation,
    School,
    Verzoek,
)
from uwlr.transport import DEFAULT_TIMEOUT, HttpxTransport, Transport
from uwlr.validation import OngeldigAntwoord, referential_problems
from uwlr.xml import DEFAULT_MAX_BYTES

log = logging.getLogger(__name__)

_BRIN = re.compile(r"([0-9]{2}[A-Z]{2})([0-9]{2})?")


@dataclass(frozen=True, slots=True)
class SchoolId:
    """How a request names the school: a BRIN (+ optional dependancecode) or an agreed schoolkey."""

    brincode: str | None = None
    dependancecode: str | None = None
    schoolkey: str | None = None

    @classmethod
    def parse(cls, value: SchoolId | str) -> SchoolId:
        """A `SchoolId` as is, or a 4- or 6-character BRIN code such as `21QW` or `21QW01` (`00`: no dependance)."""
        if isinstance(value, SchoolId):
            return value
        match = _BRIN.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is geen BRIN-code (4 of 6 tekens); gebruik SchoolId(schoolkey=...)")
        dependance = match.group(2)
        return cls(match.group(1), None if dependance in (None, "00") else dependance)


def school_mismatch(school: SchoolId | str, answer: School) -> str | None:
    """Why `answer` (an answer's school block) is not about the school we asked for, or None when it may be.

    A LAS mix-up or a hostile LAS must never have another school's pupils imported as ours. Only what the answer
    states is compared (its identification is optional; some LASes leave the dependancecode out).
    """
    sid = SchoolId.parse(school)
    if sid.brincode is not None and answer.brincode is not None:
        asked = sid.brincode + (sid.dependancecode or "00")
        got = answer.brincode + (answer.dependancecode or sid.dependancecode or "00")
        if got != asked:
            return f"Het antwoord van het LAS gaat over school {got}, gevraagd was {asked}."
    if sid.schoolkey is not None and answer.schoolkey is not None and answer.schoolkey != sid.schoolkey:
        return "Het antwoord van het LAS gaat over een andere schoolkey dan gevraagd."
    return None


class UwlrClient:
    """A UWLR 2.2/2.3 client for one partner identity (`autorisatie`) against one LAS.

    `leerlinggegevens_url` serves HaalLeerlinggegevens; the getrapt binding (HaalStructuur, HaalLeerlingen,
    HaalLeerkrachten) goes to `getrapt_url`, which defaults to the same URL (vendors often publish one URL per
    binding). Every call may raise the errors listed in the module docstring.
    """

    def __init__(
        self,
        leerlinggegevens_url: str | None,
        leerresultaten_url: str | None,
        autorisatie: soap.Autorisatie,
        transport: Transport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        getrapt_url: str | None = None,
        max_response_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.leerlinggegevens_url = leerlinggegevens_url
        self.leerresultaten_url = leerresultaten_url
        self.getrapt_url = getrapt_url or leerlinggegevens_url
        self.autorisatie = autorisatie
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self._owns_transport = transport is None
        self.transport: Transport = transport or HttpxTransport(max_response_bytes=max_response_bytes)

    def __repr__(self) -> str:
        return f"UwlrClient({self.leerlinggegevens_url!r}, {self.leerresultaten_url!r}, {self.autorisatie!r})"

    def close(self) -> None:
        if self._owns_transport and isinstance(self.transport, HttpxTransport):
            self.transport.close()

    def __enter__(self) -> UwlrClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------------- the wire

    def call(self, url: str | None, soap_action: str, envelope: bytes) -> etree._Element:
        """POST one request envelope; return the answer's body element or raise (see the module docstring)."""
        if not url:
            raise TransportError(f"Geen URL ingesteld voor {soap_action}.")
        started = time.monotonic()
        response = self.transport.send(url, soap_action, envelope, self.timeout)
        status = response.status_code
        log.info(
            "UWLR %s → %s: HTTP %s in %.0f ms", soap_action, url, status, (time.monotonic() - started) * 1000
        )
        try:
            body = soap.parse_response(response.content, max_bytes=self.max_response_bytes)
        except UwlrFault as fault:
            log.info("UWLR %s → %s: fault %s", soap_action, url, fault.code)
            raise
        except TransportError as exc:
            if status != 200:
                content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "?")
                raise TransportError(
                    f"HTTP {status} van {url} zonder SOAP-antwoord (Content-Type {content_type}).", status
                ) from None
            raise TransportError(str(exc), status) from None
        if status != 200:
            raise TransportError(f"HTTP {status} van {url}: een SOAP-antwoord zonder fault hoort status 200.", status)
        return body

    # ---------------------------------------------------------------------------------------- leerlinggegevens

    def _verzoek(
        self,
        operation: Operation,
        school: SchoolId | str,
        schooljaar: str,
        xsdversie: str,
        laatstontvangengegevens: dt.datetime | None,
        gegevenssetid: str | None,
        groepen: Sequence[GroepRef] = (),
    ) -> Verzoek:
        sid = SchoolId.parse(school)
        return Verzoek(
            operation,
            schooljaar,
            brincode=sid.brincode,
            dependancecode=sid.dependancecode,
            schoolkey=sid.schoolkey,
            xsdversie=xsdversie,
            gegevenssetid=gegevenssetid,
            laatstontvangengegevens=laatstontvangengegevens,
            groepen=tuple(groepen),
        )

    def haal(self, verzoek: Verzoek) -> Antwoord:
        """Send any Leerlinggegevens request and parse its answer for that operation."""
        url = self.leerlinggegevens_url if verzoek.operation is Operation.HAAL_LEERLINGGEGEVENS else self.getrapt_url
        body = self.call(url, verzoek.operation.soap_action, leerlinggegevens.build_request(verzoek, self.autorisatie))
        return leerlinggegevens.parse_answer(body, verzoek.operation, xsdversie=verzoek.xsdversie)

    def haal_leerlinggegevens(
        self,
        school: SchoolId | str,
        schooljaar: str,
        xsdversie: str = DEFAULT_XSD_VERSIE,
        laatstontvangengegevens: dt.datetime | None = None,
        gegevenssetid: str | None = None,
    ) -> Antwoord:
        """HaalLeerlinggegevens (alles-in-1): the whole school, or GEEN_WIJZIGINGEN / GEEN_GEGEVENS."""
        return self.haal(
            self._verzoek(
                Operation.HAAL_LEERLINGGEGEVENS, school, schooljaar, xsdversie, laatstontvangengegevens, gegevenssetid
            )
        )

    def haal_structuur(
        self,
        school: SchoolId | str,
        schooljaar: str,
        xsdversie: str = DEFAULT_XSD_VERSIE,
        laatstontvangengegevens: dt.datetime | None = None,
        gegevenssetid: str | None = None,
    ) -> Antwoord:
        """HaalStructuur (getrapt step 1): school, vestigingen and all groups."""
        return self.haal(
            self._verzoek(
                Operation.HAAL_STRUCTUUR, school, schooljaar, xsdversie, laatstontvangengegevens, gegevenssetid
            )
        )

    def haal_leerlingen(
        self,
        school: SchoolId | str,
        schooljaar: str,
        groepen: Iterable[GroepRef],
        xsdversie: str = DEFAULT_XSD_VERSIE,
        laatstontvangengegevens: dt.datetime | None = None,
        gegevenssetid: str | None = None,
    ) -> Antwoord:
        """HaalLeerlingen for these groups; `GroepRef(None)` asks for the pupils without a group."""
        return self.haal(
            self._verzoek(
                Operation.HAAL_LEERLINGEN,
                school,
                schooljaar,
                xsdversie,
                laatstontvangengegevens,
                gegevenssetid,
                tuple(groepen),
            )
        )

    def haal_leerkrachten(
        self,
        school: SchoolId | str,
        schooljaar: str,
        groepen: Iterable[GroepRef],
        xsdversie: str = DEFAULT_XSD_VERSIE,
        laatstontvangengegevens: dt.datetime | None = None,
        gegevenssetid: str | None = None,
    ) -> Antwoord:
        """HaalLeerkrachten for these groups; `GroepRef(None)` asks for the teachers without a group."""
        return self.haal(
            self._verzoek(
                Operation.HAAL_LEERKRACHTEN,
                school,
                schooljaar,
                xsdversie,
                laatstontvangengegevens,
                gegevenssetid,
                tuple(groepen),
            )
        )

    def haal_school(
        self,
        school: SchoolId | str,
        schooljaar: str,
        getrapt: bool = False,
        *,
        xsdversie: str = DEFAULT_XSD_VERSIE,
        laatstontvangengegevens: dt.datetime | None = None,
        gegevenssetid: str | None = None,
        groepen_per_verzoek: int = 1,
    ) -> Antwoord:
        """The whole school as one answer, alles-in-1 or getrapt.

        Getrapt: HaalStructuur, then HaalLeerlingen and HaalLeerkrachten for every groep and samengestelde groep
        (`groepen_per_verzoek` at a time) plus the key-less reference for pupils and teachers without a group;
        the answers are merged into one `Leerlinggegevens`, each pupil and teacher once (a teacher of several
        groups, or a pupil in a stamgroep and a samengestelde groep, comes back in several answers: their group
        links are united). `laatstontvangengegevens` goes with the HaalStructuur request only: when the LAS
        answers GEEN_WIJZIGINGEN for the school that is the answer; otherwise everything is fetched in full.
        """
        if not getrapt:
            return self.haal_leerlinggegevens(school, schooljaar, xsdversie, laatstontvangengegevens, gegevenssetid)
        if groepen_per_verzoek < 1:
            raise ValueError("groepen_per_verzoek moet minstens 1 zijn")
        structuur = self.haal_structuur(school, schooljaar, xsdversie, laatstontvangengegevens, gegevenssetid)
        if not isinstance(structuur, Leerlinggegevens):
            return structuur
        refs = [GroepRef(g.key) for g in structuur.groepen]
        refs += [GroepRef(s.key, samengesteld=True) for s in structuur.samengestelde_groepen]
        refs.append(GroepRef(None))
        batches = [refs[i : i + groepen_per_verzoek] for i in range(0, len(refs), groepen_per_verzoek)]
        leerlingen: dict[str, Leerling] = {}
        leerkrachten: dict[str, Leerkracht] = {}
        for batch in batches:
            antwoord = self.haal_leerlingen(school, schooljaar, batch, xsdversie, None, gegevenssetid)
            data = _data_of(antwoord, batch)
            for leerling in data.leerlingen if data else ():
                _merge_leerling(leerlingen, leerling)
        for batch in batches:
            antwoord = self.haal_leerkrachten(school, schooljaar, batch, xsdversie, None, gegevenssetid)
            data = _data_of(antwoord, batch)
            for leerkracht in data.leerkrachten if data else ():
                _merge_leerkracht(leerkrachten, leerkracht)
        merged = Leerlinggegevens(
            school=structuur.school,
            vestigingen=structuur.vestigingen,
            groepen=structuur.groepen,
            samengestelde_groepen=structuur.samengestelde_groepen,
            leerlingen=list(leerlingen.values()),
            leerkrachten=list(leerkrachten.values()),
        )
        # The same checks an alles-in-1 answer gets: a reference to a group the structure did not list (the
        # school changed between our calls, or the LAS is inconsistent) must not slip into the import.
        problems = referential_problems(merged, Operation.HAAL_LEERLINGGEGEVENS)
        if problems:
            raise OngeldigAntwoord(problems)
        return merged

    # ------------------------------------------------------------------------------------------ leerresultaten

    def breng_leerresultaten(
        self, verzoek: leerresultaten.LeerresultatenVerzoek, *, xsdversies: Iterable[str] | None = None
    ) -> None:
        """BrengLeerresultaten. Returns when the LAS confirmed; raises otherwise (results then not delivered).

        The request is checked before it is sent (`leerresultaten.check_verzoek`): a rule the LAS would refuse
        raises the same typed fault here without a network round trip.
        """
        allowed = frozenset(xsdversies) if xsdversies is not None else None
        envelope = leerresultaten.build_request(verzoek, self.autorisatie, xsdversies=allowed)
        body = self.call(self.leerresultaten_url, leerresultaten.SOAP_ACTION, envelope)
        leerresultaten.parse_bevestiging(body)


def _data_of(antwoord: Antwoord, batch: Sequence[GroepRef]) -> Leerlinggegevens | None:
    if isinstance(antwoord, GeenWijzigingen):
        # We did not send laatstontvangengegevens, so "no changes" is not an answer to this request.
        keys = ", ".join(repr(ref.key) for ref in batch)
        raise OngeldigAntwoord(f"'geenwijzigingen' op een verzoek zonder laatstontvangengegevens (groepen {keys})")
    return antwoord if isinstance(antwoord, Leerlinggegevens) else None


def _identity(record: Leerling | Leerkracht) -> str:
    # In UWLR 2.3 a pupil with an ECK iD may come without a LAS key.
    return record.key if record.key is not None else f"eckid:{record.eckid}"


def _merge_leerling(seen: dict[str, Leerling], leerling: Leerling) -> None:
    identity = _identity(leerling)
    earlier = seen.get(identity)
    if earlier is None:
        seen[identity] = leerling
        return
    samengesteld = list(earlier.samengestelde_groepen)
    samengesteld += [key for key in leerling.samengestelde_groepen if key not in samengesteld]
    seen[identity] = replace(earlier, groep=earlier.groep or leerling.groep, samengestelde_groepen=samengesteld)


def _merge_leerkracht(seen: dict[str, Leerkracht], leerkracht: Leerkracht) -> None:
    identity = _identity(leerkracht)
    earlier = seen.get(identity)
    if earlier is None:
        seen[identity] = leerkracht
        return
    links = list(earlier.groepen)
    known = {(link.key, link.samengesteld) for link in links}
    links += [link for link in leerkracht.groepen if (link.key, link.samengesteld) not in known]
    seen[identity] = replace(earlier, groepen=links)


__all__ = ["GEEN_GEGEVENS", "GEEN_WIJZIGINGEN", "SchoolId", "UwlrClient"]
