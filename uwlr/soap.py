"""SOAP 1.1 envelopes, the `autorisatie` header, and faults on the wire.

Messages are built as bytes (UWLR answers can hold tens of thousands of pupils; writing escaped strings is
an order of magnitude faster than building element trees) and parsed with the hardened parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from uwlr.faults import AutorisatieOngeldig, OngeldigBericht, TransportError, UwlrFault, fault_from_code
from uwlr.namespaces import AUTORISATIE, SOAP_ENV
from uwlr.xml import DEFAULT_MAX_BYTES, parse_xml

CONTENT_TYPE = "text/xml; charset=utf-8"
_ENV = f"{{{SOAP_ENV}}}Envelope"
_HEADER = f"{{{SOAP_ENV}}}Header"
_BODY = f"{{{SOAP_ENV}}}Body"
_FAULT = f"{{{SOAP_ENV}}}Fault"
_AUT = f"{{{AUTORISATIE}}}autorisatie"
_AUT_FIELDS = ("autorisatiesleutel", "klantcode", "klantnaam")


@dataclass(frozen=True)
class Autorisatie:
    """The `aut:autorisatie` SOAP header: a shared secret plus the calling partner's identity."""

    autorisatiesleutel: str = field(repr=False)
    klantcode: str
    klantnaam: str

    def __repr__(self) -> str:  # the key must never end up in a log line or a traceback
        return f"Autorisatie(autorisatiesleutel='***', klantcode={self.klantcode!r}, klantnaam={self.klantnaam!r})"

    def to_xml(self) -> bytes:
        parts = "".join(f"<aut:{name}>{escape(getattr(self, name))}</aut:{name}>" for name in _AUT_FIELDS)
        return f'<aut:autorisatie xmlns:aut="{AUTORISATIE}">{parts}</aut:autorisatie>'.encode()


@dataclass(frozen=True)
class Envelope:
    """A parsed request envelope: the header (if any) and the single body element."""

    body: etree._Element
    autorisatie: Autorisatie | None


def envelope(body: bytes, header: bytes = b"") -> bytes:
    """Wrap serialised body (and header) content in a SOAP 1.1 envelope."""
    head = b"<soap:Header>" + header + b"</soap:Header>" if header else b""
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<soap:Envelope xmlns:soap="'
        + SOAP_ENV.encode()
        + b'">'
        + head
        + b"<soap:Body>"
        + body
        + b"</soap:Body></soap:Envelope>"
    )


def request_envelope(body: bytes, autorisatie: Autorisatie) -> bytes:
    return envelope(body, autorisatie.to_xml())


def build_fault(fault: UwlrFault) -> bytes:
    """A SOAP 1.1 fault as the UWLR test project expects it: `soap:Client.X` and the fixed faultstring.

    The specific explanation goes into `<detail><melding>`, which SOAP 1.1 allows and clients may ignore.
    """
    code = getattr(fault, "raw_code", fault.code)
    faultstring = getattr(fault, "raw_faultstring", fault.faultstring)
    detail = f"<detail><melding>{escape(fault.detail)}</melding></detail>" if fault.detail else ""
    body = (
        f"<soap:Fault><faultcode>soap:{code}</faultcode>"
        f"<faultstring>{escape(faultstring)}</faultstring>{detail}</soap:Fault>"
    )
    return envelope(body.encode())


def _split(data: bytes, max_bytes: int) -> tuple[etree._Element | None, etree._Element]:
    root = parse_xml(data, max_bytes=max_bytes)
    if root.tag != _ENV:
        if isinstance(root.tag, str) and root.tag.endswith("}Envelope"):
            raise OngeldigBericht(
                "Alleen SOAP 1.1 wordt ondersteund (namespace http://schemas.xmlsoap.org/soap/envelope/)."
            )
        raise OngeldigBericht("Het bericht is geen SOAP-envelop.")
    header = None
    body = None
    for child in root:
        if child.tag == _HEADER and header is None and body is None:
            header = child
        elif child.tag == _BODY and body is None:
            body = child
        else:
            raise OngeldigBericht(f"Onverwacht element {etree.QName(child).localname!r} in de SOAP-envelop.")
    if body is None:
        raise OngeldigBericht("De SOAP-envelop heeft geen Body.")
    elements = [child for child in body if isinstance(child.tag, str)]
    if len(elements) != 1:
        raise OngeldigBericht("De SOAP Body moet precies één element bevatten.")
    if (body.text or "").strip() or any((child.tail or "").strip() for child in body):
        raise OngeldigBericht("De SOAP Body bevat tekst buiten het berichtelement.")
    return header, elements[0]


def parse_autorisatie(header: etree._Element | None) -> Autorisatie:
    """Read and check the `aut:autorisatie` header (each field exactly once, 1–64 characters)."""
    if header is None:
        raise AutorisatieOngeldig("Autorisatieheader is leeg")
    blocks = [child for child in header if child.tag == _AUT]
    if len(blocks) != 1:
        raise AutorisatieOngeldig(
            "Autorisatieheader is leeg" if not blocks else "De autorisatieheader komt meer dan eens voor"
        )
    block = blocks[0]
    values: dict[str, str] = {}
    children = [child for child in block if isinstance(child.tag, str)]
    for name in _AUT_FIELDS:
        found = [child for child in children if child.tag == f"{{{AUTORISATIE}}}{name}"]
        text = (found[0].text or "") if len(found) == 1 else ""
        if len(found) != 1 or len(found[0]) or not text or len(text) > 64:
            raise AutorisatieOngeldig(f"Ongeldig of ontbrekend element '{name}' in autorisatieheader")
        values[name] = text
    if len(children) != len(_AUT_FIELDS):
        raise AutorisatieOngeldig("Onbekend element in autorisatieheader")
    return Autorisatie(**values)


def parse_request(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Envelope:
    """Server side: parse a request envelope. The autorisatie header is parsed if present (checked by the caller)."""
    header, body = _split(data, max_bytes)
    autorisatie = None
    if header is not None and any(child.tag == _AUT for child in header):
        autorisatie = parse_autorisatie(header)
    return Envelope(body=body, autorisatie=autorisatie)


def parse_response(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Client side: the answer's body element, or raise the fault it carries as its typed exception."""
    try:
        _, body = _split(data, max_bytes)
    except OngeldigBericht as exc:
        raise TransportError(f"Het antwoord is geen geldig SOAP-bericht: {exc.detail}") from None
    if body.tag == _FAULT:
        raise parse_fault(body)
    return body


def parse_fault(fault: etree._Element) -> UwlrFault:
    code = fault.findtext("faultcode") or ""
    faultstring = fault.findtext("faultstring") or ""
    melding = fault.find("detail")
    detail = None
    if melding is not None:
        detail = " ".join(str(t).strip() for t in melding.itertext() if str(t).strip()) or None
    return fault_from_code(code, faultstring, detail)
