"""Messages of the UWLR Leerlinggegevens service: HaalLeerlinggegevens, HaalStructuur, HaalLeerlingen, HaalLeerkrachten.

Client (EA) side::

    data = build_request(Verzoek(Operation.HAAL_LEERLINGGEGEVENS, "2025-2026", brincode="21QW"), autorisatie)
    # POST with SOAPAction = operation.soap_action, then:
    antwoord = parse_response(http_body, Operation.HAAL_LEERLINGGEGEVENS)   # or raises the UwlrFault it carries

Server (LAS) side::

    envelope, verzoek = parse_request_envelope(http_body)   # hardened parse; OngeldigBericht / XsdVersieOngeldig
    # check envelope.autorisatie, then:
    http_response = build_answer_envelope(verzoek.operation, data_or_marker, xsdversie=verzoek.xsdversie)

Messages are written as escaped strings (an order of magnitude faster than lxml element building), elements
in exact XSD order, attributes unprefixed, one `lg` prefix declared on the body element. Answers are parsed
from the element tree the hardened parser produced, with precomputed Clark names and no XPath.

What the parsers check: structure, order and cardinality of every element, every value against its type
(lengths, patterns, code lists, dates), the attributes of records and references, and the identity rules the
XSD cannot enforce (`uwlr.validation`). Whatever they accept, the official schema (school years widened) accepts
(tests/uwlr/test_leerlinggegevens_mutations.py), with two tolerances in the answer parser that lose nothing
of the standard: stray text between elements and attributes on leaf elements are ignored. EDEXML
`toevoegingen` (supplier extensions) are skipped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from lxml import etree

from uwlr import soap
from uwlr.faults import OngeldigBericht, XsdVersieOngeldig
from uwlr.model import (
    DEFAULT_XSD_VERSIE,
    ETNICITEITEN,
    GEEN_GEGEVENS,
    GEEN_WIJZIGINGEN,
    GESLACHTEN,
    GEWICHTEN,
    GEWICHTEN_NIEUW,
    JAARGROEPEN,
    LANDEN,
    ROLLEN,
    XSD_VERSIES,
    Antwoord,
    GeenGegevens,
    GeenWijzigingen,
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
from uwlr.namespaces import LEERLINGGEGEVENS, XSI
from uwlr.validation import (
    DIGITS_RE,
    ILLEGAL_XML_CHARS,
    INSTELLINGSNUMMER_RE,
    POSTCODENL_RE,
    OngeldigAntwoord,
    check_antwoord,
    format_date,
    format_datetime,
    parse_date,
    parse_datetime,
    referential_problems,
    valid_brincode,
    valid_dependancecode,
    valid_schooljaar,
)
from uwlr.xml import DEFAULT_MAX_BYTES

try:
    from uwlr import _speedups
except ImportError:  # not built (no C compiler at install): pure Python, same results
    _speedups = None  # type: ignore[assignment]

__all__ = [
    "Operation",
    "Verzoek",
    "GroepRef",
    "OngeldigAntwoord",
    "build_request",
    "build_request_body",
    "build_answer",
    "build_answer_envelope",
    "parse_request",
    "parse_request_envelope",
    "parse_answer",
    "parse_response",
    "operation_for",
]

_NS: Final = LEERLINGGEGEVENS
_XMLNS: Final = f' xmlns:lg="{_NS}"'


def _q(local: str) -> str:
    return f"{{{_NS}}}{local}"


# ==============================================================================================================
# Writing


def _esc(text: str) -> str:
    # `in` checks are far cheaper than unconditional replaces on the usual plain-text value.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:  # would be normalised to \n by any parser
        text = text.replace("\r", "&#13;")
    return text


def _attr(text: str) -> str:
    text = _esc(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#9;")
    return text


def _el(name: str, value: str) -> str:
    return f"<lg:{name}>{_esc(value)}</lg:{name}>"


def _opt(out: list[str], name: str, value: str | None) -> None:
    if value is not None:
        out.append(f"<lg:{name}>{_esc(value)}</lg:{name}>")


# C0 control bytes XML 1.0 forbids. In UTF-8 they only ever stand for themselves (multi-byte sequences use bytes
# >= 0x80), so deleting them and comparing lengths finds one in C speed; a regex over a 20 MB string is ~10× slower.
_CONTROL_BYTES: Final = bytes(b for b in range(32) if b not in (9, 10, 13))


def _finish(parts: list[str]) -> bytes:
    text = "".join(parts)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        data = b""
    if (
        not data
        or len(data.translate(None, _CONTROL_BYTES)) != len(data)
        or b"\xef\xbf\xbe" in data  # U+FFFE
        or b"\xef\xbf\xbf" in data  # U+FFFF
    ):
        bad = ILLEGAL_XML_CHARS.search(text)
        if bad is not None:
            raise OngeldigAntwoord(f"teken U+{ord(bad.group()):04X} is in XML niet toegestaan (positie {bad.start()})")
    return data


# -------------------------------------------------------------------------------------------------- requests


def _check_verzoek(verzoek: Verzoek) -> None:
    """A client must not send what a server would refuse: fail early with the same Dutch explanation."""
    _request_field_checks(
        verzoek.schooljaar,
        verzoek.brincode,
        verzoek.dependancecode,
        verzoek.schoolkey,
        verzoek.xsdversie,
        verzoek.gegevenssetid,
    )
    if verzoek.brincode is not None and verzoek.schoolkey is not None:
        raise OngeldigBericht("Geef 'brincode' of 'schoolkey', niet allebei.")
    if verzoek.brincode is None and verzoek.schoolkey is None:
        raise OngeldigBericht("Het verzoek moet een 'brincode' of een 'schoolkey' bevatten.")
    if verzoek.operation.has_groepen_ref:
        if not verzoek.groepen:
            raise OngeldigBericht("Het verzoek moet minstens één groep of samengestelde_groep in 'groepen' bevatten.")
        for ref in verzoek.groepen:
            if ref.key is not None and not (0 < len(ref.key) <= 256):
                raise OngeldigBericht(_format_message("groepen/groep/@key"))
    elif verzoek.groepen:
        raise OngeldigBericht(f"{verzoek.operation.value} heeft geen 'groepen' in het verzoek.")


def build_request_body(verzoek: Verzoek) -> bytes:
    """The request body element (`lg:<x>_verzoek`) as bytes."""
    _check_verzoek(verzoek)
    root = verzoek.operation.request_root
    out = [f"<lg:{root}{_XMLNS}>", _el("schooljaar", verzoek.schooljaar)]
    if verzoek.brincode is not None:
        out.append(_el("brincode", verzoek.brincode))
        _opt(out, "dependancecode", verzoek.dependancecode)
    else:
        _opt(out, "schoolkey", verzoek.schoolkey)
    out.append(_el("xsdversie", verzoek.xsdversie))
    _opt(out, "gegevenssetid", verzoek.gegevenssetid)
    if verzoek.laatstontvangengegevens is not None:
        out.append(_el("laatstontvangengegevens", format_datetime(verzoek.laatstontvangengegevens)))
    if verzoek.operation.has_groepen_ref:
        out.append("<lg:groepen>")
        for ref in verzoek.groepen:
            name = "samengestelde_groep" if ref.samengesteld else "groep"
            out.append(f'<lg:{name} key="{_attr(ref.key)}"/>' if ref.key is not None else f"<lg:{name}/>")
        out.append("</lg:groepen>")
    out.append(f"</lg:{root}>")
    return _finish(out)


def build_request(verzoek: Verzoek, autorisatie: soap.Autorisatie) -> bytes:
    """A complete request envelope with the `autorisatie` header. POST it with `verzoek.operation.soap_action`."""
    return soap.request_envelope(build_request_body(verzoek), autorisatie)


# --------------------------------------------------------------------------------------------------- answers


def _write_school(out: list[str], school: School) -> None:
    w = out.append
    w("<lg:school>")
    w(_el("schooljaar", school.schooljaar))
    if school.peildatum is not None:
        w(_el("peildatum", format_date(school.peildatum)))
    if school.brincode is not None:
        w(_el("brincode", school.brincode))
        _opt(out, "dependancecode", school.dependancecode)
    elif school.instellingsnummer is not None:
        w(_el("instellingsnummer", school.instellingsnummer))
    _opt(out, "schoolkey", school.schoolkey)
    if school.aanmaakdatum is not None:
        w(_el("aanmaakdatum", format_datetime(school.aanmaakdatum)))
    _opt(out, "auteur", school.auteur)
    _opt(out, "xsdversie", school.xsdversie)
    _opt(out, "commentaar", school.commentaar)
    w("</lg:school>")


def _write_structuur(out: list[str], data: Leerlinggegevens) -> None:
    w = out.append
    if data.vestigingen:
        w("<lg:vestigingen>")
        for v in data.vestigingen:
            w(f'<lg:vestiging key="{_attr(v.key)}">')
            w(_el("naam", v.naam))
            _opt(out, "omschrijving", v.omschrijving)
            if v.mutatiedatum is not None:
                w(_el("mutatiedatum", format_datetime(v.mutatiedatum)))
            w("</lg:vestiging>")
        w("</lg:vestigingen>")
    if data.groepen or data.samengestelde_groepen:
        w("<lg:groepen>")
        for g in data.groepen:
            w(f'<lg:groep key="{_attr(g.key)}">')
            w(_el("naam", g.naam))
            w(_el("jaargroep", g.jaargroep))
            _opt(out, "omschrijving", g.omschrijving)
            if g.mutatiedatum is not None:
                w(_el("mutatiedatum", format_datetime(g.mutatiedatum)))
            w("</lg:groep>")
        for s in data.samengestelde_groepen:
            w(f'<lg:samengestelde_groep key="{_attr(s.key)}">')
            w(_el("naam", s.naam))
            _opt(out, "omschrijving", s.omschrijving)
            if s.mutatiedatum is not None:
                w(_el("mutatiedatum", format_datetime(s.mutatiedatum)))
            w("</lg:samengestelde_groep>")
        w("</lg:groepen>")


def _write_names(w: Callable[[str], None], p: Leerling | Leerkracht) -> None:
    if p.achternaam is not None:
        w(f"<lg:achternaam>{_esc(p.achternaam)}</lg:achternaam>")
        if p.voorvoegsel is not None:
            w(f"<lg:voorvoegsel>{_esc(p.voorvoegsel)}</lg:voorvoegsel>")
        if p.voornamen is not None:
            w(f"<lg:voornamen>{_esc(p.voornamen)}</lg:voornamen>")
        if p.voorletters is not None:
            w(f"<lg:voorletters-1>{_esc(p.voorletters)}</lg:voorletters-1>")
    if p.roepnaam is not None:
        w(f"<lg:roepnaam>{_esc(p.roepnaam)}</lg:roepnaam>")


def _write_leerlingen(out: list[str], leerlingen: Sequence[Leerling], with_eckid: bool) -> None:
    w = out.append
    w("<lg:leerlingen>")
    for p in leerlingen:
        head = "<lg:leerling"
        if p.key is not None:
            head += f' key="{_attr(p.key)}"'
        if with_eckid and p.eckid is not None:
            head += f' eckid="{_attr(p.eckid)}"'
        w(head + ">")
        _write_names(w, p)
        if p.geboortedatum is not None:
            w(f"<lg:geboortedatum>{format_date(p.geboortedatum)}</lg:geboortedatum>")
        if p.geslacht is not None:
            w(f"<lg:geslacht>{p.geslacht:d}</lg:geslacht>")
        if p.start_ondw_jgr3 is not None:
            w(f"<lg:start_ondw_jgr3>{format_date(p.start_ondw_jgr3)}</lg:start_ondw_jgr3>")
        if p.jaargroep is not None:
            w(f"<lg:jaargroep>{_esc(p.jaargroep)}</lg:jaargroep>")
        if p.groep is not None:
            w(f'<lg:groep key="{_attr(p.groep)}"/>')
        if p.samengestelde_groepen:
            w("<lg:samengestelde_groepen>")
            for ref in p.samengestelde_groepen:
                w(f'<lg:samengestelde_groep key="{_attr(ref)}"/>')
            w("</lg:samengestelde_groepen>")
        if p.vestiging is not None:
            w(f'<lg:vestiging key="{_attr(p.vestiging)}"/>')
        if p.gebruikersnaam is not None:
            w(_el("gebruikersnaam", p.gebruikersnaam))
        if p.emailadres is not None:
            w(_el("emailadres", p.emailadres))
        if p.fotourl is not None:
            w(_el("fotourl", p.fotourl))
        if p.etniciteit is not None:
            w(_el("etniciteit", p.etniciteit))
        if p.land is not None:
            w(_el("land", p.land))
        if p.land_vader is not None:
            w(_el("land_vader", p.land_vader))
        if p.land_moeder is not None:
            w(_el("land_moeder", p.land_moeder))
        if p.sofinummer is not None:
            w(_el("sofinummer", p.sofinummer))
        if p.bsn is not None:
            w(_el("bsn", p.bsn))
        if p.onderwijsnummer is not None:
            w(_el("onderwijsnummer", p.onderwijsnummer))
        if p.bsn_ondwnr_4 is not None:
            w(_el("bsn_ondwnr-4", p.bsn_ondwnr_4))
        if p.rijksregisternummer is not None:
            w(_el("rijksregisternummer", p.rijksregisternummer))
        if p.gewicht_nieuw is not None:
            w(_el("gewicht_nieuw", p.gewicht_nieuw))
        if p.gewicht is not None:
            w(_el("gewicht", p.gewicht))
        if p.postcodenl is not None:
            w(_el("postcodenl", p.postcodenl))
        if p.postnummerbe is not None:
            w(_el("postnummerbe", p.postnummerbe))
        if p.postcodeoverig is not None:
            w(_el("postcodeoverig", p.postcodeoverig))
        if p.instroomdatum is not None:
            w(f"<lg:instroomdatum>{format_date(p.instroomdatum)}</lg:instroomdatum>")
        if p.uitstroomdatum is not None:
            w(f"<lg:uitstroomdatum>{format_date(p.uitstroomdatum)}</lg:uitstroomdatum>")
        if p.mutatiedatum is not None:
            w(f"<lg:mutatiedatum>{format_datetime(p.mutatiedatum)}</lg:mutatiedatum>")
        w("</lg:leerling>")
    w("</lg:leerlingen>")


def _write_rollen(w: Callable[[str], None], rollen: Sequence[str], omschrijvingen: Sequence[str]) -> None:
    for rol in rollen:
        w(f"<lg:rol>{_esc(rol)}</lg:rol>")
    for text in omschrijvingen:
        w(f"<lg:rolomschrijving>{_esc(text)}</lg:rolomschrijving>")


def _write_leerkrachten(out: list[str], leerkrachten: Sequence[Leerkracht], with_eckid: bool) -> None:
    w = out.append
    w("<lg:leerkrachten>")
    for p in leerkrachten:
        head = f'<lg:leerkracht key="{_attr(p.key)}"'
        if with_eckid and p.eckid is not None:
            head += f' eckid="{_attr(p.eckid)}"'
        w(head + ">")
        _write_names(w, p)
        _opt(out, "gebruikersnaam", p.gebruikersnaam)
        _opt(out, "emailadres", p.emailadres)
        _write_rollen(w, p.rollen, p.rolomschrijvingen)
        if p.groepen:
            w("<lg:groepen>")
            for ref in p.groepen:
                name = "samengestelde_groep" if ref.samengesteld else "groep"
                if ref.rollen or ref.rolomschrijvingen:
                    w(f'<lg:{name} key="{_attr(ref.key)}">')
                    _write_rollen(w, ref.rollen, ref.rolomschrijvingen)
                    w(f"</lg:{name}>")
                else:
                    w(f'<lg:{name} key="{_attr(ref.key)}"/>')
            w("</lg:groepen>")
        if p.mutatiedatum is not None:
            w(f"<lg:mutatiedatum>{format_datetime(p.mutatiedatum)}</lg:mutatiedatum>")
        w("</lg:leerkracht>")
    w("</lg:leerkrachten>")


def build_answer(
    operation: Operation,
    antwoord: Antwoord,
    *,
    xsdversie: str = DEFAULT_XSD_VERSIE,
    validate: bool = True,
) -> bytes:
    """The answer body element for `operation` as bytes (wrap it with `soap.envelope`).

    `antwoord` is the data or a marker (`GEEN_WIJZIGINGEN`, `GEEN_GEGEVENS`). Each operation writes only its own
    parts of the data (HaalStructuur: school, vestigingen, groepen; HaalLeerlingen: school, leerlingen; …), so
    one full `Leerlinggegevens` can serve all four. Since the schema requires at least one `leerling`, an
    all-in-one or HaalLeerlingen answer without pupils becomes `geengegevens`.
    `xsdversie` is the version the client asked for: `2.1` leaves out every `eckid`; `2.3` allows pupils
    without a LAS key when they have an ECK iD. With `validate` (the default) the data is checked first
    (`uwlr.validation.check_antwoord`) and `OngeldigAntwoord` raised rather than an invalid message sent.
    """
    if xsdversie not in XSD_VERSIES:
        raise XsdVersieOngeldig(f"xsdversie {xsdversie!r} wordt niet ondersteund")
    root = operation.answer_root
    if isinstance(antwoord, Leerlinggegevens) and not antwoord.leerlingen and operation in _NEEDS_LEERLINGEN:
        antwoord = GEEN_GEGEVENS
    if isinstance(antwoord, GeenWijzigingen):
        return f"<lg:{root}{_XMLNS}><lg:geenwijzigingen/></lg:{root}>".encode()
    if isinstance(antwoord, GeenGegevens):
        return f"<lg:{root}{_XMLNS}><lg:geengegevens/></lg:{root}>".encode()
    if not isinstance(antwoord, Leerlinggegevens):
        raise TypeError(f"build_answer expects Leerlinggegevens or a marker, not {type(antwoord).__name__}")
    data = _parts_of(antwoord, operation)
    try:
        if validate:
            check_antwoord(data, operation, xsdversie)
        with_eckid = xsdversie != "2.1"
        data_root = operation.data_root
        out: list[str] = [f"<lg:{root}{_XMLNS}><lg:{data_root}>"]
        _write_school(out, data.school)
        if operation in (Operation.HAAL_LEERLINGGEGEVENS, Operation.HAAL_STRUCTUUR):
            _write_structuur(out, data)
        if operation in _NEEDS_LEERLINGEN:
            _write_leerlingen(out, data.leerlingen, with_eckid)
        if operation in (Operation.HAAL_LEERLINGGEGEVENS, Operation.HAAL_LEERKRACHTEN) and data.leerkrachten:
            _write_leerkrachten(out, data.leerkrachten, with_eckid)
        out.append(f"</lg:{data_root}></lg:{root}>")
    except (TypeError, AttributeError, ValueError) as exc:
        # a value of a type the model does not allow (a LAS mapping bug): one clear error, not a stray crash
        raise OngeldigAntwoord(f"gegevens van een onverwacht type: {type(exc).__name__}: {exc}") from exc
    return _finish(out)


def build_answer_envelope(
    operation: Operation, antwoord: Antwoord, *, xsdversie: str = DEFAULT_XSD_VERSIE, validate: bool = True
) -> bytes:
    """`build_answer` wrapped in a SOAP 1.1 envelope: the complete HTTP response body."""
    return soap.envelope(build_answer(operation, antwoord, xsdversie=xsdversie, validate=validate))


_NEEDS_LEERLINGEN: Final = (Operation.HAAL_LEERLINGGEGEVENS, Operation.HAAL_LEERLINGEN)


def _parts_of(data: Leerlinggegevens, operation: Operation) -> Leerlinggegevens:
    """The view of `data` that `operation` sends (shallow: records are shared, not copied)."""
    if operation is Operation.HAAL_LEERLINGGEGEVENS:
        return data
    if operation is Operation.HAAL_STRUCTUUR:
        return Leerlinggegevens(data.school, data.vestigingen, data.groepen, data.samengestelde_groepen)
    if operation is Operation.HAAL_LEERLINGEN:
        return Leerlinggegevens(data.school, leerlingen=data.leerlingen)
    return Leerlinggegevens(data.school, leerkrachten=data.leerkrachten)


# ==============================================================================================================
# Parsing requests (server side): strict, every problem is an OngeldigBericht naming the field.


def _format_message(name: str) -> str:
    return f"Het verzoek is ongeldig omdat de waarde voor '{name}' leeg is of niet voldoet aan het juiste formaat."


def _request_field_checks(
    schooljaar: str | None,
    brincode: str | None,
    dependancecode: str | None,
    schoolkey: str | None,
    xsdversie: str | None,
    gegevenssetid: str | None,
) -> None:
    if not valid_schooljaar(schooljaar):
        raise OngeldigBericht(_format_message("schooljaar") + " Verwacht JJJJ-JJJJ met opeenvolgende jaren.")
    if brincode is not None and not valid_brincode(brincode):
        raise OngeldigBericht(_format_message("brincode") + " Verwacht twee cijfers en twee hoofdletters.")
    if dependancecode is not None and not valid_dependancecode(dependancecode):
        raise OngeldigBericht(_format_message("dependancecode") + " Verwacht twee cijfers.")
    if schoolkey is not None and not (0 < len(schoolkey) <= 256):
        raise OngeldigBericht(_format_message("schoolkey") + " Verwacht 1 tot 256 tekens.")
    if xsdversie not in XSD_VERSIES:
        raise XsdVersieOngeldig(
            _format_message("xsdversie") + f" Ondersteund: {', '.join(sorted(XSD_VERSIES))}; ontvangen: {xsdversie!r}."
        )
    if gegevenssetid is not None and not (0 < len(gegevenssetid) <= 64):
        raise OngeldigBericht(_format_message("gegevenssetid") + " Verwacht 1 tot 64 tekens.")


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return "?"
    return tag.rsplit("}", 1)[-1]


def _element_children(el: etree._Element, where: str) -> list[etree._Element]:
    if (el.text or "").strip():
        raise OngeldigBericht(f"Element '{where}' mag geen tekst bevatten.")
    children = []
    for child in el:
        if (child.tail or "").strip():
            raise OngeldigBericht(f"Tekst na element '{_local(child.tag)}' in '{where}' is niet toegestaan.")
        children.append(child)
    return children


def _check_no_attributes(el: etree._Element, allowed: tuple[str, ...] = ()) -> None:
    for key in el.attrib:
        name = str(key)
        if name in allowed or name.startswith(_XSI_PREFIX):
            continue
        raise OngeldigBericht(f"Onverwacht attribuut '{_local(name)}' op element '{_local(el.tag)}'.")


def _leaf_text(el: etree._Element) -> str:
    _check_no_attributes(el)
    if len(el):
        raise OngeldigBericht(f"Element '{_local(el.tag)}' mag geen elementen bevatten.")
    return el.text or ""


_REQUEST_FIELDS: Final = (
    "schooljaar",
    "brincode",
    "dependancecode",
    "schoolkey",
    "xsdversie",
    "gegevenssetid",
    "laatstontvangengegevens",
    "groepen",
)
_REQUEST_ORDER: Final = {_q(name): i for i, name in enumerate(_REQUEST_FIELDS)}


def operation_for(body: etree._Element) -> Operation | None:
    """The operation whose request root is `body` (for dispatching), or None for anything else."""
    return Operation.from_request_tag(body.tag)


def parse_request(body: etree._Element, operation: Operation | None = None) -> Verzoek:
    """Server side: the request body element → `Verzoek`.

    Structure, order, patterns and lengths are checked as the official XSD does, plus the business rules it
    misses (schooljaar years must follow each other). Raises `OngeldigBericht`, or `XsdVersieOngeldig` for an
    unsupported `xsdversie`. Pass `operation` to insist on one (e.g. from the SOAPAction header).
    """
    found = Operation.from_request_tag(body.tag)
    if found is None:
        qn = etree.QName(body) if isinstance(body.tag, str) else None
        if qn is not None and qn.localname in _REQUEST_ROOTS and qn.namespace != _NS:
            raise OngeldigBericht(f"Element '{qn.localname}' heeft de verkeerde namespace; verwacht {_NS}.")
        raise OngeldigBericht(f"Onbekend verzoek '{_local(body.tag)}' voor de Leerlinggegevens-service.")
    if operation is not None and found is not operation:
        raise OngeldigBericht(f"Het bericht '{found.request_root}' hoort niet bij operatie {operation.value}.")
    _check_no_attributes(body)
    values: dict[str, Any] = {}
    last = -1
    groepen: list[GroepRef] = []
    for child in _element_children(body, found.request_root):
        index = _REQUEST_ORDER.get(child.tag)
        if index is None:
            raise OngeldigBericht(f"Onbekend element '{_local(child.tag)}' in '{found.request_root}'.")
        name = _REQUEST_FIELDS[index]
        if index <= last:
            raise OngeldigBericht(f"Element '{name}' staat op de verkeerde plaats of komt meer dan eens voor.")
        last = index
        if name == "groepen":
            if not found.has_groepen_ref:
                raise OngeldigBericht(f"Element 'groepen' hoort niet in '{found.request_root}'.")
            groepen = _parse_groepen_ref(child)
        else:
            values[name] = _leaf_text(child)
    if "schooljaar" not in values:
        raise OngeldigBericht("Het verplichte element 'schooljaar' ontbreekt.")
    if "xsdversie" not in values:  # the viewer calls it optional, the XSD requires it: say which version to send
        raise XsdVersieOngeldig(
            f"Het verplichte element 'xsdversie' ontbreekt. Ondersteund: {', '.join(sorted(XSD_VERSIES))}."
        )
    brincode = values.get("brincode")
    schoolkey = values.get("schoolkey")
    dependancecode = values.get("dependancecode")
    if brincode is not None and schoolkey is not None:
        raise OngeldigBericht("Het verzoek bevat zowel 'brincode' als 'schoolkey'; geef er één.")
    if brincode is None and schoolkey is None:
        raise OngeldigBericht("Het verplichte element 'brincode' of 'schoolkey' ontbreekt.")
    if dependancecode is not None and brincode is None:
        raise OngeldigBericht("Element 'dependancecode' mag alleen na 'brincode' staan.")
    if dependancecode in ("", "00"):  # the XSD default: empty and 00 mean "no dependance"
        dependancecode = None
    _request_field_checks(
        values["schooljaar"], brincode, dependancecode, schoolkey, values["xsdversie"], values.get("gegevenssetid")
    )
    laatst: dt.datetime | None = None
    if "laatstontvangengegevens" in values:
        laatst = parse_datetime(values["laatstontvangengegevens"])
        if laatst is None:
            raise OngeldigBericht(
                _format_message("laatstontvangengegevens")
                + " Verwacht een xs:dateTime, bijvoorbeeld 2024-11-11T00:05:46."
            )
    if found.has_groepen_ref and not groepen:
        raise OngeldigBericht("Het verplichte element 'groepen' ontbreekt.")
    return Verzoek(
        operation=found,
        schooljaar=values["schooljaar"],
        brincode=brincode,
        dependancecode=dependancecode,
        schoolkey=schoolkey,
        xsdversie=values["xsdversie"],
        gegevenssetid=values.get("gegevenssetid"),
        laatstontvangengegevens=laatst,
        groepen=tuple(groepen),
    )


_REQUEST_ROOTS: Final = {op.request_root for op in Operation}
_GROEP: Final = _q("groep")
_SAMENGESTELDE_GROEP: Final = _q("samengestelde_groep")


def _parse_groepen_ref(el: etree._Element) -> list[GroepRef]:
    _check_no_attributes(el)
    refs: list[GroepRef] = []
    for child in _element_children(el, "groepen"):
        if child.tag not in (_GROEP, _SAMENGESTELDE_GROEP):
            raise OngeldigBericht(f"Onbekend element '{_local(child.tag)}' in 'groepen'.")
        _check_no_attributes(child, ("key",))
        if len(child) or child.text:  # empty content type: not even whitespace
            raise OngeldigBericht(f"Element '{_local(child.tag)}' in 'groepen' moet leeg zijn.")
        key = child.get("key")
        if key is not None and not (0 < len(key) <= 256):
            raise OngeldigBericht(_format_message("groepen/groep/@key") + " Verwacht 1 tot 256 tekens.")
        refs.append(GroepRef(key=key, samengesteld=child.tag == _SAMENGESTELDE_GROEP))
    if not refs:
        raise OngeldigBericht("Element 'groepen' moet minstens één groep of samengestelde_groep bevatten.")
    return refs


def parse_request_envelope(
    data: bytes, operation: Operation | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[soap.Envelope, Verzoek]:
    """Server side, whole message: hardened parse of the envelope, then `parse_request` of its body.

    The autorisatie header is parsed (when present) but checking it is the caller's job.
    """
    envelope = soap.parse_request(data, max_bytes=max_bytes)
    return envelope, parse_request(envelope.body, operation)


# ==============================================================================================================
# Parsing answers (client side). Fast: one pass over the children of each record with precomputed Clark names;
# values are checked against their types on the way, so an answer that breaks the standard raises
# OngeldigAntwoord (with the field and the record key) instead of leaking into the application.

# Field kinds
_STR, _ENUM, _DATE, _DATETIME, _INT_ENUM, _PATTERN, _REF, _REFS, _ROL, _ROLOMSCHR, _LKGROEPEN, _SKIP, _TEXT = range(13)

# spec per wire element: (order, slot index in the dataclass, kind, argument)
_Spec = tuple[int, int, int, Any]


def _slots(cls: type) -> dict[str, int]:
    return {f.name: i for i, f in enumerate(dataclasses.fields(cls))}


def _specs(cls: type, fields: Sequence[tuple[str, str | None, int, Any]]) -> dict[str, _Spec]:
    """Build the tag → spec table from fields in wire order; members of one XSD choice (an argument made with
    `_choice`) share one position, so two of them in one record are rejected as out of order."""
    slots = _slots(cls)
    table: dict[str, _Spec] = {}
    order = 0
    previous_group: str | None = None
    for wire, attr, kind, arg in fields:
        group: str | None = None
        if isinstance(arg, tuple) and arg and arg[0] == "choice":
            group, arg = arg[1], arg[2]
        if group is None or group != previous_group:
            order += 1
        previous_group = group
        table[_q(wire)] = (order, slots[attr] if attr is not None else -1, kind, arg)
    return table


def _choice(group: str, arg: Any) -> tuple[str, str, Any]:
    return ("choice", group, arg)


_NAME_FIELDS: Final = [
    ("achternaam", "achternaam", _STR, 200),
    ("voorvoegsel", "voorvoegsel", _STR, 10),
    ("voornamen", "voornamen", _STR, 200),
    ("voorletters-1", "voorletters", _STR, 6),
    ("roepnaam", "roepnaam", _STR, 64),
]

_SCHOOL_SPECS: Final = _specs(
    School,
    [
        ("schooljaar", "schooljaar", _PATTERN, valid_schooljaar),
        ("peildatum", "peildatum", _DATE, None),
        ("brincode", "brincode", _PATTERN, _choice("id", valid_brincode)),
        (
            "instellingsnummer",
            "instellingsnummer",
            _PATTERN,
            _choice("id", lambda v: INSTELLINGSNUMMER_RE.fullmatch(v) is not None),
        ),
        ("dependancecode", "dependancecode", _PATTERN, valid_dependancecode),
        ("schoolkey", "schoolkey", _STR, 256),
        ("aanmaakdatum", "aanmaakdatum", _DATETIME, None),
        ("auteur", "auteur", _STR, 128),
        ("xsdversie", "xsdversie", _STR, 32),
        ("commentaar", "commentaar", _TEXT, None),  # plain xs:string: may be empty
        ("toevoegingen", None, _SKIP, None),
    ],
)
_VESTIGING_SPECS: Final = _specs(
    Vestiging,
    [
        ("naam", "naam", _STR, 64),
        ("omschrijving", "omschrijving", _STR, 256),
        ("mutatiedatum", "mutatiedatum", _DATETIME, None),
    ],
)
_GROEP_SPECS: Final = _specs(
    Groep,
    [
        ("naam", "naam", _STR, 64),
        ("jaargroep", "jaargroep", _ENUM, JAARGROEPEN),
        ("omschrijving", "omschrijving", _STR, 256),
        ("toevoegingen", None, _SKIP, None),
        ("mutatiedatum", "mutatiedatum", _DATETIME, None),
    ],
)
_SAMENGESTELDE_SPECS: Final = _specs(
    SamengesteldeGroep,
    [
        ("naam", "naam", _STR, 64),
        ("omschrijving", "omschrijving", _STR, 256),
        ("toevoegingen", None, _SKIP, None),
        ("mutatiedatum", "mutatiedatum", _DATETIME, None),
    ],
)


def _digits(n: int) -> Callable[[str], bool]:
    pattern = DIGITS_RE[n]
    return lambda v: pattern.fullmatch(v) is not None


_LEERLING_SPECS: Final = _specs(
    Leerling,
    [
        *_NAME_FIELDS,
        ("geboortedatum", "geboortedatum", _DATE, None),
        ("geslacht", "geslacht", _INT_ENUM, {str(code): code for code in GESLACHTEN}),
        ("start_ondw_jgr3", "start_ondw_jgr3", _DATE, None),
        ("jaargroep", "jaargroep", _ENUM, JAARGROEPEN),
        ("groep", "groep", _REF, None),
        ("samengestelde_groepen", "samengestelde_groepen", _REFS, None),
        ("vestiging", "vestiging", _REF, None),
        ("gebruikersnaam", "gebruikersnaam", _STR, 64),
        ("emailadres", "emailadres", _STR, 256),
        ("fotourl", "fotourl", _STR, 256),
        ("etniciteit", "etniciteit", _ENUM, ETNICITEITEN),
        ("land", "land", _ENUM, LANDEN),
        ("land_vader", "land_vader", _ENUM, LANDEN),
        ("land_moeder", "land_moeder", _ENUM, LANDEN),
        ("sofinummer", "sofinummer", _PATTERN, _choice("id", _digits(9))),
        ("bsn", "bsn", _PATTERN, _choice("id", _digits(9))),
        ("onderwijsnummer", "onderwijsnummer", _PATTERN, _choice("id", _digits(9))),
        ("bsn_ondwnr-4", "bsn_ondwnr_4", _PATTERN, _choice("id", _digits(4))),
        ("rijksregisternummer", "rijksregisternummer", _PATTERN, _choice("id", _digits(11))),
        ("gewicht_nieuw", "gewicht_nieuw", _ENUM, GEWICHTEN_NIEUW),
        ("gewicht", "gewicht", _ENUM, GEWICHTEN),
        ("postcodenl", "postcodenl", _PATTERN, _choice("pc", lambda v: POSTCODENL_RE.fullmatch(v) is not None)),
        ("postnummerbe", "postnummerbe", _PATTERN, _choice("pc", _digits(4))),
        ("postcodeoverig", "postcodeoverig", _STR, _choice("pc", 32)),
        ("instroomdatum", "instroomdatum", _DATE, None),
        ("uitstroomdatum", "uitstroomdatum", _DATE, None),
        ("toevoegingen", None, _SKIP, None),
        ("mutatiedatum", "mutatiedatum", _DATETIME, None),
    ],
)
_LEERKRACHT_SPECS: Final = _specs(
    Leerkracht,
    [
        *_NAME_FIELDS,
        ("gebruikersnaam", "gebruikersnaam", _STR, 64),
        ("emailadres", "emailadres", _STR, 256),
        ("rol", "rollen", _ROL, _choice("rol", ROLLEN)),
        ("rolomschrijving", "rolomschrijvingen", _ROLOMSCHR, _choice("rol", 64)),
        ("groepen", "groepen", _LKGROEPEN, None),
        ("toevoegingen", None, _SKIP, None),
        ("mutatiedatum", "mutatiedatum", _DATETIME, None),
    ],
)
_KEY: Final = "key"
_XS_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
_NATIONAL_ID_TAGS: Final = frozenset(
    _q(name) for name in ("sofinummer", "bsn", "onderwijsnummer", "bsn_ondwnr-4", "rijksregisternummer")
)
_fromisoformat: Final = dt.date.fromisoformat
# Leerling and Leerkracht share the positions of their name fields (checked at import below)
_ACHTERNAAM, _VOORVOEGSEL, _VOORNAMEN, _VOORLETTERS, _ROEPNAAM = 2, 3, 4, 5, 6
for _cls in (Leerling, Leerkracht):
    assert [f.name for f in dataclasses.fields(_cls)][2:7] == [
        "achternaam",
        "voorvoegsel",
        "voornamen",
        "voorletters",
        "roepnaam",
    ]
_KEY_ECKID: Final = [_KEY, "eckid"]
_KEY_ONLY: Final = [_KEY]
_XSI_PREFIX: Final = "{" + XSI + "}"
_ECKID: Final = "eckid"


def _defaults(cls: type) -> list[Any]:
    values: list[Any] = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            values.append(f.default)
        else:
            values.append(None)
    return values


def _list_slots(cls: type) -> list[int]:
    return [i for i, f in enumerate(dataclasses.fields(cls)) if f.default_factory is not dataclasses.MISSING]


class _RecordParser:
    """Parses one record type (School, Leerling, …) from its element with a tag → spec table."""

    __slots__ = (
        "cls",
        "specs",
        "defaults",
        "list_slots",
        "label",
        "has_key",
        "has_eckid",
        "attributes",
        "required",
        "key_required",
        "has_names",
        "plan",
    )

    def __init__(self, cls: type, specs: dict[str, _Spec], label: str) -> None:
        self.cls = cls
        self.specs = specs
        self.defaults = _defaults(cls)
        self.list_slots = _list_slots(cls)
        self.label = label
        names = _slots(cls)
        self.has_key = "key" in names
        self.has_eckid = "eckid" in names
        self.attributes = {_KEY, _ECKID} if self.has_eckid else ({_KEY} if self.has_key else set())
        self.required = [
            (i, f.name)
            for i, f in enumerate(dataclasses.fields(cls))
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name != "key"
        ]
        # A pupil may lack the LAS key in UWLR 2.3 (ECK iD primary); parse_answer decides per version.
        self.key_required = self.has_key and cls is not Leerling
        self.has_names = cls in (Leerling, Leerkracht)
        # The compiled fast path for these records (`_compiled_plan`), tried first by _parse_list when set.
        self.plan: Any = None

    def parse(self, el: etree._Element) -> Any:
        return self.parse_all([el])[0]

    def parse_all(self, elements: Iterable[etree._Element], item_tag: str | None = None) -> list[Any]:
        """Parse each element (checking its tag is `item_tag` when given): one loop for tens of thousands of
        records, with everything it needs in local variables."""
        out: list[Any] = []
        append = out.append
        cls = self.cls
        defaults = self.defaults
        list_slots = self.list_slots
        has_eckid = self.has_eckid
        key_required = self.key_required
        required = self.required
        has_names = self.has_names
        specs = self.specs
        for el in elements:
            if item_tag is not None and el.tag != item_tag:
                raise OngeldigAntwoord(f"onverwacht element '{_local(el.tag)}' in plaats van '{_local(item_tag)}'")
            values = defaults.copy()
            for i in list_slots:
                values[i] = []
            names = el.keys()
            if names:
                if names == _KEY_ECKID and has_eckid:  # the usual pupil/teacher
                    key_value, eckid = values[0], values[1] = el.values()
                    if not (0 < len(key_value) <= 256 and 0 < len(eckid) <= 256):
                        raise self.error(values, "'key' en 'eckid' moeten 1 tot 256 tekens lang zijn")
                else:
                    self._attributes(el, list(names), values)
            if key_required and values[0] is None:
                raise self.error(values, "attribuut 'key' ontbreekt")
            last = 0
            for child in el:
                tag = child.tag
                spec = specs.get(tag)
                if spec is None:
                    raise self.error(values, f"onbekend element '{_local(tag)}'")
                order, slot, kind, arg = spec
                if order <= last and not (order == last and kind in (_ROL, _ROLOMSCHR)):
                    raise self.error(values, f"element '{_local(tag)}' staat op de verkeerde plaats of dubbel")
                last = order
                if kind == _STR:
                    text = child.text
                    if text is None or len(text) > arg or len(child):
                        raise self.error(values, f"'{_local(tag)}' moet 1 tot {arg} tekens tekst zijn")
                    values[slot] = text
                elif kind == _DATE:
                    text = child.text
                    try:  # the plain YYYY-MM-DD form inline; anything else (zone, whitespace) via parse_date
                        if text is None or len(text) != 10 or text[4] != "-" or text[7] != "-":
                            raise ValueError
                        values[slot] = _fromisoformat(text)
                    except ValueError:
                        value = parse_date(text)
                        if value is None:
                            raise self.error(values, f"'{_local(tag)}' is geen geldige datum: {text!r}") from None
                        values[slot] = value
                elif kind == _ENUM:
                    text = child.text
                    if text not in arg or len(child):
                        raise self.error(values, f"'{_local(tag)}' heeft een ongeldige waarde {text!r}")
                    values[slot] = text
                elif kind == _INT_ENUM:
                    number = arg.get(child.text)
                    if number is None:  # xs:integer also allows " 01", "+1": normalise the rare forms
                        lexical = (child.text or "").strip()
                        number = int(lexical) if _XS_INTEGER.fullmatch(lexical) else -1
                        if number not in arg.values():
                            raise self.error(values, f"'{_local(tag)}' heeft een ongeldige waarde {child.text!r}")
                    values[slot] = number
                elif kind == _REF:
                    ref_key = child.get(_KEY)
                    if not ref_key or len(ref_key) > 256 or child.keys() != _KEY_ONLY or len(child):
                        raise self.error(values, f"'{_local(tag)}' moet leeg zijn met alleen een geldige key")
                    values[slot] = ref_key
                elif kind == _REFS:
                    refs = []
                    for ref in child:
                        ref_key = ref.get(_KEY)
                        if (
                            ref.tag != _SAMENGESTELDE_GROEP
                            or not ref_key
                            or len(ref_key) > 256
                            or ref.keys() != _KEY_ONLY
                            or len(ref)
                        ):
                            raise self.error(values, "ongeldige verwijzing in 'samengestelde_groepen'")
                        refs.append(ref_key)
                    if not refs:
                        raise self.error(values, "'samengestelde_groepen' is leeg")
                    values[slot] = refs
                elif kind == _DATETIME:
                    value = parse_datetime(child.text)
                    if value is None:
                        raise self.error(values, f"'{_local(tag)}' is geen geldige datum-tijd: {child.text!r}")
                    values[slot] = value
                elif kind == _PATTERN:
                    text = child.text
                    if text is None or not arg(text):
                        shown = "" if tag in _NATIONAL_ID_TAGS else f" {text!r}"  # never echo (near-)BSNs
                        raise self.error(values, f"'{_local(tag)}' heeft een ongeldige waarde{shown}")
                    values[slot] = text
                elif kind == _ROL:
                    if child.text not in arg:
                        raise self.error(values, f"'rol' heeft een ongeldige waarde {child.text!r}")
                    values[slot].append(child.text)
                elif kind == _ROLOMSCHR:
                    text = child.text
                    if text is None or len(text) > arg:
                        raise self.error(values, "'rolomschrijving' moet 1 tot 64 tekens tekst zijn")
                    values[slot].append(text)
                elif kind == _LKGROEPEN:
                    values[slot] = self._lkgroepen(child, values)
                elif kind == _TEXT:
                    if len(child):
                        raise self.error(values, f"'{_local(tag)}' mag geen elementen bevatten")
                    values[slot] = child.text or ""
                # _SKIP: toevoegingen are supplier extensions (abstract in the XSD); nothing standard to keep
            for i, name in required:
                if values[i] is None:
                    raise self.error(values, f"het verplichte element '{name}' ontbreekt")
            # name choice: (achternaam, voorvoegsel?, voornamen?, voorletters-1?, roepnaam?) | roepnaam
            if (
                has_names
                and values[_ACHTERNAAM] is None
                and (
                    values[_ROEPNAAM] is None
                    or values[_VOORVOEGSEL] is not None
                    or values[_VOORNAMEN] is not None
                    or values[_VOORLETTERS] is not None
                )
            ):
                raise self.error(values, "'achternaam' (of alleen een 'roepnaam') is verplicht")
            append(cls(*values))
        return out

    def _attributes(self, el: etree._Element, names: list[Any], values: list[Any]) -> None:
        for attr_name in names:
            name = str(attr_name)
            if name == _KEY and self.has_key:
                values[0] = el.get(_KEY)
            elif name == _ECKID and self.has_eckid:
                values[1] = el.get(_ECKID)
            elif not name.startswith(_XSI_PREFIX):
                raise self.error(values, f"onbekend attribuut '{_local(name)}'")
        for value in values[: int(self.has_key) + int(self.has_eckid)]:
            if value is not None and not (0 < len(value) <= 256):
                raise self.error(values, "'key' en 'eckid' moeten 1 tot 256 tekens lang zijn")

    def error(self, values: list[Any], message: str) -> OngeldigAntwoord:
        who = ""
        if self.has_key:
            who = f" {values[0]!r}" if values[0] is not None else (f" {values[1]!r}" if self.has_eckid else "")
        return OngeldigAntwoord(f"{self.label}{who}: {message}")

    def _lkgroepen(self, el: etree._Element, values: list[Any]) -> list[LeerkrachtGroep]:
        refs: list[LeerkrachtGroep] = []
        for child in el:
            tag = child.tag
            key = child.get(_KEY)
            if tag not in (_GROEP, _SAMENGESTELDE_GROEP) or not key or len(key) > 256 or child.keys() != _KEY_ONLY:
                raise self.error(values, "ongeldige verwijzing in 'groepen'")
            ref = LeerkrachtGroep(key, tag == _SAMENGESTELDE_GROEP)
            for sub in child:
                if sub.tag == _ROL_TAG and sub.text in ROLLEN:
                    ref.rollen.append(sub.text)
                elif sub.tag == _ROLOMSCHR_TAG and sub.text and len(sub.text) <= 64:
                    ref.rolomschrijvingen.append(sub.text)
                else:
                    raise self.error(values, f"ongeldig element '{_local(sub.tag)}' in groep {key!r}")
            refs.append(ref)
        if not refs:
            raise self.error(values, "'groepen' is leeg")
        return refs


_ROL_TAG: Final = _q("rol")
_ROLOMSCHR_TAG: Final = _q("rolomschrijving")
_SCHOOL_PARSER: Final = _RecordParser(School, _SCHOOL_SPECS, "school")
_VESTIGING_PARSER: Final = _RecordParser(Vestiging, _VESTIGING_SPECS, "vestiging")
_GROEP_PARSER: Final = _RecordParser(Groep, _GROEP_SPECS, "groep")
_SAMENGESTELDE_PARSER: Final = _RecordParser(SamengesteldeGroep, _SAMENGESTELDE_SPECS, "samengestelde_groep")
_LEERLING_PARSER: Final = _RecordParser(Leerling, _LEERLING_SPECS, "leerling")
_LEERKRACHT_PARSER: Final = _RecordParser(Leerkracht, _LEERKRACHT_SPECS, "leerkracht")

_T_SCHOOL: Final = _q("school")
_T_VESTIGINGEN: Final = _q("vestigingen")
_T_VESTIGING: Final = _q("vestiging")
_T_GROEPEN: Final = _q("groepen")
_T_LEERLINGEN: Final = _q("leerlingen")
_T_LEERLING: Final = _q("leerling")
_T_LEERKRACHTEN: Final = _q("leerkrachten")
_T_LEERKRACHT: Final = _q("leerkracht")
_T_GEENWIJZIGINGEN: Final = _q("geenwijzigingen")
_T_GEENGEGEVENS: Final = _q("geengegevens")
_DATA_PARTS: Final = {
    Operation.HAAL_LEERLINGGEGEVENS: (_T_SCHOOL, _T_VESTIGINGEN, _T_GROEPEN, _T_LEERLINGEN, _T_LEERKRACHTEN),
    Operation.HAAL_STRUCTUUR: (_T_SCHOOL, _T_VESTIGINGEN, _T_GROEPEN),
    Operation.HAAL_LEERLINGEN: (_T_SCHOOL, _T_LEERLINGEN),
    Operation.HAAL_LEERKRACHTEN: (_T_SCHOOL, _T_LEERKRACHTEN),
}


def _check_school(school: School) -> None:
    if school.dependancecode is not None and school.brincode is None:
        raise OngeldigAntwoord("school: 'dependancecode' zonder 'brincode'")
    if school.dependancecode == "00":  # the XSD's default: means "no dependance", like in requests
        school.dependancecode = None


def parse_answer(body: etree._Element, operation: Operation | None = None, *, xsdversie: str | None = None) -> Antwoord:
    """Client side: an answer body element → `Leerlinggegevens`, `GEEN_WIJZIGINGEN` or `GEEN_GEGEVENS`.

    Checks the structure, every value's type, and the referential rules (`uwlr.validation`); raises
    `OngeldigAntwoord` for anything that breaks the standard. `xsdversie` is the version that was requested
    (default: the answer's own `school/xsdversie`, else 2.2); only in 2.3 may pupils lack a LAS key.
    """
    # Tens of thousands of small objects: the cyclic GC would run many times for nothing (none of them can be
    # part of a cycle yet), costing ~20% of the parse. Paused only for the duration of this call.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _parse_answer(body, operation, xsdversie)
    finally:
        if paused:
            gc.enable()


def _parse_answer(body: etree._Element, operation: Operation | None, xsdversie: str | None) -> Antwoord:
    found = Operation.from_answer_tag(body.tag)
    if found is None:
        raise OngeldigAntwoord(f"onverwacht antwoordelement '{_local(body.tag)}'")
    if operation is not None and found is not operation:
        raise OngeldigAntwoord(f"antwoord '{found.answer_root}' hoort niet bij operatie {operation.value}")
    children = list(body)
    if len(children) != 1:
        raise OngeldigAntwoord(f"'{found.answer_root}' moet precies één element bevatten")
    data_el = children[0]
    if data_el.tag == _T_GEENWIJZIGINGEN or data_el.tag == _T_GEENGEGEVENS:
        if len(data_el) or (data_el.text or "").strip():
            raise OngeldigAntwoord(f"'{_local(data_el.tag)}' moet leeg zijn")
        return GEEN_WIJZIGINGEN if data_el.tag == _T_GEENWIJZIGINGEN else GEEN_GEGEVENS
    if data_el.tag != _q(found.data_root):
        raise OngeldigAntwoord(f"onverwacht element '{_local(data_el.tag)}' in '{found.answer_root}'")
    allowed = _DATA_PARTS[found]
    school: School | None = None
    data = Leerlinggegevens(School(""))
    last = -1
    for part in data_el:
        tag = part.tag
        if tag not in allowed:
            raise OngeldigAntwoord(f"onverwacht element '{_local(tag)}' in '{found.data_root}'")
        index = allowed.index(tag)
        if index <= last:
            raise OngeldigAntwoord(f"element '{_local(tag)}' staat op de verkeerde plaats of dubbel")
        last = index
        if tag == _T_SCHOOL:
            school = _SCHOOL_PARSER.parse(part)
        elif tag == _T_VESTIGINGEN:
            data.vestigingen = _parse_list(part, _T_VESTIGING, _VESTIGING_PARSER)
        elif tag == _T_GROEPEN:
            _parse_groepen(part, data)
        elif tag == _T_LEERLINGEN:
            data.leerlingen = _parse_list(part, _T_LEERLING, _LEERLING_PARSER)
        else:
            data.leerkrachten = _parse_list(part, _T_LEERKRACHT, _LEERKRACHT_PARSER)
    if school is None:
        raise OngeldigAntwoord("het verplichte element 'school' ontbreekt")
    _check_school(school)
    data.school = school
    if found in _NEEDS_LEERLINGEN and not data.leerlingen:  # _parse_list refuses an empty <leerlingen>
        raise OngeldigAntwoord("het verplichte element 'leerlingen' ontbreekt")
    version = xsdversie or school.xsdversie or DEFAULT_XSD_VERSIE
    problems: list[str] = []
    for ll in data.leerlingen:
        if ll.key is None and (version != "2.3" or not ll.eckid):
            problems.append(f"leerling {ll.eckid!r}: attribuut 'key' ontbreekt")
    problems += referential_problems(data, found)
    if problems:
        raise OngeldigAntwoord(problems)
    return data


def _compiled_plan(parser: _RecordParser, item_tag: str) -> Any:
    """The compiled fast path for one record type (`uwlr._speedups`), or None to parse in pure Python only.

    Off when the extension was not built (no C compiler), when it was compiled against another lxml than the one
    running, or when UWLR_PURE_PYTHON=1 is set (to compare, or to rule it out when hunting a problem).
    """
    if _speedups is None or os.environ.get("UWLR_PURE_PYTHON") == "1":
        return None
    if etree.__version__ != _speedups.LXML_VERSION:
        return None
    kinds = {
        "STR": _STR, "ENUM": _ENUM, "DATE": _DATE, "DATETIME": _DATETIME, "INT_ENUM": _INT_ENUM,
        "PATTERN": _PATTERN, "REF": _REF, "REFS": _REFS, "SKIP": _SKIP, "TEXT": _TEXT,
    }
    if kinds != _speedups.KINDS:  # pragma: no cover - the module and this file are built from one tree
        return None
    return _speedups.Plan(
        _NS,
        _local(item_tag),
        _local(_SAMENGESTELDE_GROEP),
        [(_local(tag), *spec) for tag, spec in parser.specs.items()],
        parser.defaults,
        parser.list_slots,
        [i for i, _ in parser.required],
        parser.cls,
        _fromisoformat,
        parse_datetime,
        [_ACHTERNAAM, _VOORVOEGSEL, _VOORNAMEN, _VOORLETTERS, _ROEPNAAM],
    )


# Pupils are the bulk of every answer (tens of thousands in a large one): they go through the compiled walk
# first, and through the pure-Python parser whenever that walk declines (which is also where errors are worded).
_LEERLING_PARSER.plan = _compiled_plan(_LEERLING_PARSER, _T_LEERLING)


def speedups_enabled() -> bool:
    """Whether pupils are read by the compiled fast path in this process."""
    return _LEERLING_PARSER.plan is not None


def _parse_list(el: etree._Element, item_tag: str, parser: _RecordParser) -> list[Any]:
    items = parser.plan.parse_all(el) if parser.plan is not None else None
    if items is None:
        items = parser.parse_all(el, item_tag)
    if not items:
        raise OngeldigAntwoord(f"'{_local(el.tag)}' moet minstens één '{_local(item_tag)}' bevatten")
    return items


def _parse_groepen(el: etree._Element, data: Leerlinggegevens) -> None:
    for child in el:
        if child.tag == _GROEP:
            data.groepen.append(_GROEP_PARSER.parse(child))
        elif child.tag == _SAMENGESTELDE_GROEP:
            data.samengestelde_groepen.append(_SAMENGESTELDE_PARSER.parse(child))
        else:
            raise OngeldigAntwoord(f"onverwacht element '{_local(child.tag)}' in 'groepen'")
    if not (data.groepen or data.samengestelde_groepen):
        raise OngeldigAntwoord("'groepen' moet minstens één groep of samengestelde_groep bevatten")


def parse_response(
    data: bytes,
    operation: Operation | None = None,
    *,
    xsdversie: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Antwoord:
    """Client side, whole HTTP response body: the answer, or raise the `UwlrFault` the envelope carries.

    Raises `TransportError` when the bytes are not a SOAP message, `OngeldigAntwoord` when the answer breaks
    the standard.
    """
    return parse_answer(soap.parse_response(data, max_bytes=max_bytes), operation, xsdversie=xsdversie)
