"""Hostile and broken requests through the server-side request parser: always OngeldigBericht, fast, no crash."""

from __future__ import annotations

import time

import pytest

from uwlr.faults import OngeldigBericht, UwlrFault
from uwlr.leerlinggegevens import parse_request_envelope, parse_response
from uwlr.namespaces import AUTORISATIE, LEERLINGGEGEVENS, SOAP_ENV

HEADER = (
    f'<soap:Header><aut:autorisatie xmlns:aut="{AUTORISATIE}"><aut:autorisatiesleutel>k</aut:autorisatiesleutel>'
    "<aut:klantcode>c</aut:klantcode><aut:klantnaam>n</aut:klantnaam></aut:autorisatie></soap:Header>"
)
BODY = (
    f'<lg:leerlinggegevens_verzoek xmlns:lg="{LEERLINGGEGEVENS}"><lg:schooljaar>2025-2026</lg:schooljaar>'
    "<lg:brincode>21QW</lg:brincode><lg:xsdversie>2.2</lg:xsdversie></lg:leerlinggegevens_verzoek>"
)


def envelope(body: str = BODY, prolog: str = "") -> bytes:
    return (
        f'{prolog}<soap:Envelope xmlns:soap="{SOAP_ENV}">{HEADER}<soap:Body>{body}</soap:Body></soap:Envelope>'.encode()
    )


def test_the_good_message_is_accepted() -> None:
    envelope_, verzoek = parse_request_envelope(envelope())
    assert verzoek.brincode == "21QW" and envelope_.autorisatie is not None


XXE = envelope(
    BODY.replace("21QW", "&xxe;"),
    '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
)
LAUGHS = envelope(
    BODY.replace("21QW", "&lol9;"),
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>",
)
PARAMETER_ENTITY = envelope(
    BODY, '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/evil.dtd"> %ext;]>'
)
DOCTYPE_ONLY = envelope(BODY, '<!DOCTYPE soap:Envelope SYSTEM "http://127.0.0.1:9/x.dtd">')
UTF16_DOCTYPE = (
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    + envelope(BODY.replace("21QW", "&x;")).decode()
).encode("utf-16")
DEEP = envelope(BODY.replace("21QW", "<a>" * 5000 + "</a>" * 5000))
CASES = {
    "xxe file:///etc/passwd": XXE,
    "billion laughs": LAUGHS,
    "parameter entity": PARAMETER_ENTITY,
    "doctype": DOCTYPE_ONLY,
    "utf-16 with doctype": UTF16_DOCTYPE,
    "truncated": envelope()[:-40],
    "not xml": b"HaalLeerlinggegevens please",
    "empty": b"",
    "wrong namespace": envelope(BODY.replace(LEERLINGGEGEVENS, "urn:evil")),
    "soap 1.2": envelope().replace(SOAP_ENV.encode(), b"http://www.w3.org/2003/05/soap-envelope"),
    "wrong type schooljaar": envelope(BODY.replace("2025-2026", "twintig")),
    "wrong type laatstontvangen": envelope(
        BODY.replace("</lg:xsdversie>", "</lg:xsdversie><lg:laatstontvangengegevens>1</lg:laatstontvangengegevens>")
    ),
    "deep nesting": DEEP,
    "two bodies": envelope(BODY + BODY),
    "cdata in brincode": envelope(BODY.replace("21QW", "<![CDATA[21qw]]>")),
    "invalid utf-8": envelope().replace(b"21QW", b"21\xff\xfe"),
    "nul byte": envelope().replace(b"21QW", b"21\x00Q"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_requests_become_ongeldig_bericht(name: str) -> None:
    started = time.perf_counter()
    with pytest.raises(OngeldigBericht) as info:
        parse_request_envelope(CASES[name])
    assert time.perf_counter() - started < 2.0
    assert info.value.detail  # a Dutch explanation for the partner's developer
    assert "root:" not in str(info.value)  # nothing of /etc/passwd leaks into the message


def test_oversized_body_is_refused_before_parsing() -> None:
    big = envelope(BODY.replace("2.2</lg:xsdversie>", "2.2</lg:xsdversie>" + "<!--" + "x" * 2_000_000 + "-->"))
    with pytest.raises(OngeldigBericht, match="groter"):
        parse_request_envelope(big, max_bytes=1_000_000)


def test_comment_inside_value_does_not_change_it_silently() -> None:
    # Comments are stripped by the hardened parser; a value split by one must still be read whole or refused.
    try:
        _, verzoek = parse_request_envelope(envelope(BODY.replace("21QW", "21<!-- x -->QW<?pi x?>")))
    except OngeldigBericht:
        return
    assert verzoek.brincode == "21QW"


@pytest.mark.parametrize("name", ["xxe file:///etc/passwd", "billion laughs", "truncated", "deep nesting"])
def test_hostile_answers_never_crash_the_client(name: str) -> None:
    with pytest.raises(UwlrFault.__mro__[1]):  # UwlrError: TransportError or a fault, never anything else
        parse_response(CASES[name])
