"""Hostile SOAP against both UWLR endpoints through Django's test client.

Every answer must be a valid SOAP answer or a SOAP Client fault (HTTP 500, text/xml, parseable): never
Server.InterneFout, never a non-SOAP error page, never a hang. Known attacks are listed in `payloads.py`;
hypothesis generates the rest (byte mutations, random trees, random field values, wrong encodings).
"""

from __future__ import annotations

import logging
import time

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from las.models import Toetsresultaat, UwlrToegang
from tests.hardening.conftest import Target, check
from tests.hardening.payloads import ATTACKS, HARMLESS, MUTATIONS, _mutate
from tests.las.uwlr_helpers import LG_URL, LR_URL

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "leerlinggegevens": (LG_URL, '"HaalLeerlinggegevens"', "lg_request"),
    "leerresultaten": (LR_URL, '"BrengLeerresultaten"', "lr_request"),
}
FUZZ = settings(max_examples=60, deadline=10_000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


def _post(client: Client, url: str, body: bytes, action: str | None = None,
          content_type: str = "text/xml; charset=utf-8") -> object:
    extra = {"HTTP_SOAPACTION": action} if action is not None else {}
    return client.post(url, body, content_type=content_type, **extra)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_known_attacks_get_a_client_fault_or_a_valid_answer(target: Target, endpoint: str, attack: str,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    url, action, attr = ENDPOINTS[endpoint]
    body = ATTACKS[attack](getattr(target, attr))
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        response = _post(Client(), url, body, action)
    elapsed = time.perf_counter() - started
    outcome = check(response)
    assert elapsed < 10, f"{attack} took {elapsed:.1f}s"
    assert b"root:x:0" not in response.content and b"/bin/sh" not in response.content  # no /etc/passwd leaked
    if attack not in HARMLESS:
        assert outcome != "ok", f"{attack} was accepted"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert not UwlrToegang.objects.filter(uitkomst="Server.InterneFout").exists()


def test_entity_attacks_are_refused_as_doctype(target: Target) -> None:
    for attack in ("xxe_file", "xxe_http", "billion_laughs", "quadratic_blowup", "utf16_doctype", "external_dtd"):
        response = _post(Client(), LG_URL, ATTACKS[attack](target.lg_request))
        assert check(response) == "Client.OngeldigBericht", attack
        assert b"DOCTYPE" in response.content, attack


def test_wrong_http_framing_is_a_client_fault(target: Target) -> None:
    client = Client()
    for content_type in ("application/soap+xml", "text/plain", "multipart/form-data; boundary=x", ""):
        assert check(_post(client, LG_URL, target.lg_request, content_type=content_type)) == "Client.OngeldigBericht"
    assert check(_post(client, LG_URL, target.lg_request, action='"BrengLeerresultaten"')) == "Client.OngeldigBericht"
    assert check(_post(client, LR_URL, target.lr_request, action='"HaalLeerlinggegevens"')) == "Client.OngeldigBericht"
    assert check(_post(client, LG_URL, b"")) == "Client.OngeldigBericht"
    # A lying Content-Length is the server's business (gunicorn/Django read what is there), never a crash.
    response = client.generic("POST", LG_URL, target.lg_request, content_type="text/xml", CONTENT_LENGTH="nonsense")
    assert check(response) in ("ok", "Client.OngeldigBericht")
    response = client.generic("POST", LG_URL, target.lg_request, content_type="text/xml",
                              CONTENT_LENGTH=str(10**12))
    assert check(response) == "Client.OngeldigBericht"
    # A valid request swapped onto the other endpoint is refused, not mis-served.
    assert check(_post(client, LR_URL, target.lg_request)) == "Client.OngeldigBericht"
    assert check(_post(client, LG_URL, target.lr_request)) == "Client.OngeldigBericht"


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@FUZZ
@given(ops=MUTATIONS)
def test_byte_mutations(target: Target, endpoint: str, ops: list[tuple[int, int, bytes]]) -> None:
    url, action, attr = ENDPOINTS[endpoint]
    check(_post(Client(), url, _mutate(getattr(target, attr), ops), action))


@FUZZ
@given(ops=MUTATIONS, which=st.integers(0, 2))
def test_byte_mutations_getrapt(target: Target, ops: list[tuple[int, int, bytes]], which: int) -> None:
    check(_post(Client(), LG_URL, _mutate(target.getrapt_requests[which], ops)))


# Field values: schema-violating text in every leaf of a valid request.
FIELD_TEXT = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["", " ", "2026-2027", "1999-2001", "9999-10000", "0000-0001", "21QW", "21qw", "00", "-1",
                     "2.2", "2.3", "99", "2026-02-30T25:61:00", "2026-11-18", "9" * 400, "NaN", "1e309",
                     "\u202e", "\ud7ff", "Zoë", "&lt;x/&gt;"]),
)


def _leaves(data: bytes) -> list[bytes]:
    import re

    return re.findall(rb"<([a-z]+:[A-Za-z_]+)>[^<]*</\1>", data)


def _replace_leaf(data: bytes, index: int, text: str) -> bytes:
    import re
    from xml.sax.saxutils import escape

    matches = list(re.finditer(rb"<([a-z]+:[A-Za-z_]+)>([^<]*)</\1>", data))
    m = matches[index % len(matches)]
    value = escape(text).encode("utf-8", "surrogatepass")
    return data[:m.start(2)] + value + data[m.end(2):]


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@FUZZ
@given(index=st.integers(0, 200), text=FIELD_TEXT)
def test_schema_violating_field_values(target: Target, endpoint: str, index: int, text: str) -> None:
    url, action, attr = ENDPOINTS[endpoint]
    check(_post(Client(), url, _replace_leaf(getattr(target, attr), index, text), action))


# Random trees in the body: unknown elements, random namespaces, attributes, depth.
NAMES = st.sampled_from(["leerlinggegevens_verzoek", "leerresultaten_verzoek", "school", "schooljaar", "brincode",
                         "toetsafnames", "toetsafname", "resultaten", "resultaat", "score", "leerlingid", "x",
                         "groepen", "groep", "samengestelde_groep", "structuur_verzoek", "leerlingen_verzoek"])
NAMESPACES = st.sampled_from([
    "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens",
    "http://www.edustandaard.nl/leerresultaten/2/leerresultaten",
    "http://www.edustandaard.nl/leerresultaten/2/autorisatie", "", "urn:x", "http://schemas.xmlsoap.org/soap/envelope/",
])


def _tree(max_depth: int) -> st.SearchStrategy[bytes]:
    def render(args: tuple[str, str, str, list[bytes], dict[str, str]]) -> bytes:
        from xml.sax.saxutils import escape, quoteattr

        name, ns, text, children, attrs = args
        xmlns = f' xmlns="{ns}"' if ns else ' xmlns=""'
        attr = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
        inner = escape(text).encode("utf-8", "surrogatepass") + b"".join(children)
        return f"<{name}{xmlns}{attr}>".encode() + inner + f"</{name}>".encode()

    leaf_attrs = st.dictionaries(st.sampled_from(["key", "eckid", "a", "b"]), st.text(max_size=20), max_size=2)
    base = st.tuples(NAMES, NAMESPACES, st.text(max_size=20), st.just([]), leaf_attrs).map(render)
    return st.recursive(
        base,
        lambda inner: st.tuples(NAMES, NAMESPACES, st.text(max_size=5), st.lists(inner, max_size=4),
                                leaf_attrs).map(render),
        max_leaves=30,
    )


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@FUZZ
@given(body=_tree(6))
def test_random_trees_in_the_body(target: Target, endpoint: str, body: bytes) -> None:
    from uwlr import soap

    url, action, _attr = ENDPOINTS[endpoint]
    data = soap.envelope(body, target.autorisatie.to_xml())
    check(_post(Client(), url, data, action))


ENCODINGS = st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "ascii",
                             "cp500", "shift_jis"])


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@FUZZ
@given(actual=ENCODINGS, declared=st.one_of(st.none(), ENCODINGS, st.text(max_size=12)), text=st.text(max_size=30))
def test_wrong_encodings(target: Target, endpoint: str, actual: str, declared: str | None, text: str) -> None:
    url, action, attr = ENDPOINTS[endpoint]
    valid = _replace_leaf(getattr(target, attr), 0, text).decode("utf-8", "surrogatepass")
    if declared is None:
        valid = valid.split("?>", 1)[1]
    else:
        valid = valid.replace('encoding="utf-8"', f"encoding={declared!r}".replace("'", '"'), 1)
    data = valid.encode(actual, "replace") if not any(0xD800 <= ord(c) <= 0xDFFF for c in valid) else (
        valid.encode("utf-8", "surrogatepass"))
    check(_post(Client(), url, data, action))


def test_no_results_stored_from_hostile_requests(target: Target) -> None:
    """Half a results batch is never stored: a broken request stores nothing at all."""
    client = Client()
    for attack in sorted(set(ATTACKS) - HARMLESS):
        _post(client, LR_URL, ATTACKS[attack](target.lr_request), '"BrengLeerresultaten"')
    bad = target.lr_request.replace(b"<lr:score>21</lr:score>", b"<lr:score>veel</lr:score>")
    assert bad != target.lr_request
    check(_post(client, LR_URL, bad))
    assert not Toetsresultaat.objects.filter(key="R0").exists()


def test_leerlinggegevens_requests_have_a_small_size_cap(target: Target) -> None:
    """A Leerlinggegevens request is a few KB; before the key is checked it may not cost a results-sized parse."""
    padded = target.lg_request.replace(b"</soap:Envelope>", b" " * (1024 * 1024) + b"</soap:Envelope>")
    response = _post(Client(), LG_URL, padded)
    assert check(response) == "Client.OngeldigBericht" and b"te groot" in response.content
    # Whitespace is not markup: the same padding on a results request is accepted.
    padded_lr = target.lr_request.replace(b"</soap:Envelope>", b" " * (1024 * 1024) + b"</soap:Envelope>")
    assert check(_post(Client(), LR_URL, padded_lr)) == "ok"
    # Markup is: 800 KB of empty elements is under the size cap but over its markup budget, refused unparsed.
    wide = target.lg_request.replace(b"</soap:Body>", b"<b/>" * 200_000 + b"</soap:Body>")
    assert check(_post(Client(), LG_URL, wide)) == "Client.OngeldigBericht"


def test_wsdl_and_xsd_downloads_serve_only_the_shipped_files(target: Target) -> None:
    client = Client()
    for url in (LG_URL, LR_URL):
        assert b"definitions" in client.get(url + "?wsdl").content
        for name in ("../../../../etc/passwd", "/etc/passwd", "..%2F..%2Fsettings.py", "EDEXML.types.xsd\x00.py",
                     "../uwlr_service.py", "Schemas/EDEXML.types.xsd", "x" * 5000):
            response = client.get(url, {"xsd": name})
            assert response.status_code == 404, name
            assert b"root:x" not in response.content and b"import" not in response.content
        # Methods other than GET/POST are refused without touching the body.
        assert client.put(url, target.lg_request, content_type="text/xml").status_code == 405
        assert client.delete(url).status_code == 405
