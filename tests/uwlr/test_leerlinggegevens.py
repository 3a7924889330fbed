"""UWLR Leerlinggegevens: builders and parsers against the official XSDs, round trips, and the rules they miss."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.uwlr.lg_samples import (
    EXAMPLES,
    SCHEMAS,
    datetimes,
    eckid,
    full_school,
    keys,
    leerlinggegevens_schema,
    schools,
)
from uwlr import soap
from uwlr.faults import AutorisatieOngeldig, OngeldigBericht, XsdVersieOngeldig
from uwlr.leerlinggegevens import (
    build_answer,
    build_answer_envelope,
    build_request,
    build_request_body,
    operation_for,
    parse_answer,
    parse_request,
    parse_request_envelope,
    parse_response,
)
from uwlr.model import (
    GEEN_GEGEVENS,
    GEEN_WIJZIGINGEN,
    GeenGegevens,
    GroepRef,
    Leerkracht,
    Leerling,
    Leerlinggegevens,
    Operation,
    School,
    Verzoek,
)
from uwlr.namespaces import LEERLINGGEGEVENS
from uwlr.profiles import PROFILES, apply_profile, missing_required
from uwlr.schema import LVS_SET_XSD, SMALLE_SET_XSD, capitalised_profile_root, load_schema, validation_errors
from uwlr.validation import OngeldigAntwoord

AUT = soap.Autorisatie("geheim-123", "EA-1", "Uitgever X")
OPS = list(Operation)


def assert_valid(body: bytes, schema: etree.XMLSchema | None = None) -> None:
    errors = validation_errors(schema or leerlinggegevens_schema(), body)
    assert errors == [], errors


def answer_body(data: bytes) -> etree._Element:
    return soap.parse_response(soap.envelope(data))


def request_of(op: Operation, **kw: object) -> Verzoek:
    base: dict[str, object] = {"operation": op, "schooljaar": "2025-2026", "brincode": "21QW"}
    if op.has_groepen_ref:
        base["groepen"] = (GroepRef("G5A"), GroepRef("SG-REK", samengesteld=True), GroepRef(None))
    base.update(kw)
    return Verzoek(**base)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------- operations


def test_operation_table_matches_the_wsdl() -> None:
    wsdl = etree.parse(str(SCHEMAS.parent / "wsdl" / "UWLR_Leerlinggegevens_v2p2.wsdl"))
    ns = {"wsdl": "http://schemas.xmlsoap.org/wsdl/", "soap": "http://schemas.xmlsoap.org/wsdl/soap/"}
    actions = {
        op.get("name"): op.find("soap:operation", ns).get("soapAction")  # type: ignore[union-attr]
        for op in wsdl.iterfind("wsdl:binding/wsdl:operation", ns)
    }
    assert actions == {op.value: op.soap_action for op in Operation}
    for op in Operation:
        assert Operation.from_soap_action(f'"{op.soap_action}"') is op
        assert Operation.from_request_tag(op.request_tag) is op
        assert Operation.from_answer_tag(op.answer_tag) is op


# --------------------------------------------------------------------------------------------------- examples


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("0[1-9]_*.xml")), ids=lambda p: p.name)
def test_official_examples_parse_and_round_trip(path: object) -> None:
    data = path.read_bytes()  # type: ignore[attr-defined]
    if path.name.endswith("_req.xml"):  # type: ignore[attr-defined]
        envelope, verzoek = parse_request_envelope(data)
        assert envelope.autorisatie is not None and envelope.autorisatie.klantcode == "EA-0042"
        rebuilt = build_request(verzoek, envelope.autorisatie)
        assert parse_request_envelope(rebuilt)[1] == verzoek
        assert_valid(build_request_body(verzoek))
    else:
        antwoord = parse_response(data)
        op = Operation.from_answer_tag(soap.parse_response(data).tag)
        assert op is not None
        body = build_answer(op, antwoord)
        assert_valid(body)
        assert parse_answer(answer_body(body), op) == antwoord


def test_example_values_are_read_exactly() -> None:
    antwoord = parse_response((EXAMPLES / "02_HaalLeerlinggegevens_resp.xml").read_bytes())
    assert isinstance(antwoord, Leerlinggegevens)
    pupil = antwoord.leerlingen[0]
    assert (pupil.key, pupil.achternaam, pupil.voorvoegsel, pupil.roepnaam) == ("L1001", "Jansen", "de", "Piet")
    assert pupil.eckid is not None and pupil.eckid.startswith("https://ketenid.nl/201703/1a5c")
    assert pupil.geboortedatum == dt.date(2015, 3, 2)
    assert (pupil.groep, pupil.samengestelde_groepen) == ("G5A", ["SG-REK"])
    assert antwoord.school.aanmaakdatum == dt.datetime(2024, 11, 12, 8, 0)
    assert antwoord.leerkrachten[0].groepen[0].rollen == ["LRK"]
    verzoek = parse_request_envelope((EXAMPLES / "01_HaalLeerlinggegevens_req.xml").read_bytes())[1]
    assert verzoek.dependancecode is None  # "00" means no dependance
    assert verzoek.laatstontvangengegevens == dt.datetime(2024, 11, 11, 0, 5, 46)
    assert parse_response((EXAMPLES / "03_geenwijzigingen_resp.xml").read_bytes()) is GEEN_WIJZIGINGEN
    teachers = parse_request_envelope((EXAMPLES / "08_HaalLeerkrachten_req.xml").read_bytes())[1]
    assert teachers.groepen == (GroepRef(None),)


# ----------------------------------------------------------------------------------------- requests vs the XSD


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.value)
@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"dependancecode": "03"},
        {"brincode": None, "schoolkey": "SCHOOL-ÄÖ & <x>"},
        {"xsdversie": "2.3", "gegevenssetid": "Smalle-set-VO"},
        {"laatstontvangengegevens": dt.datetime(2025, 1, 2, 3, 4, 5)},
        {"laatstontvangengegevens": dt.datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=dt.UTC)},
    ],
)
def test_every_request_validates_and_round_trips(op: Operation, variant: dict[str, object]) -> None:
    verzoek = request_of(op, **variant)
    body = build_request_body(verzoek)
    assert_valid(body)
    message = build_request(verzoek, AUT)
    envelope, parsed = parse_request_envelope(message, op)
    assert parsed == verzoek
    assert envelope.autorisatie == AUT
    assert operation_for(envelope.body) is op


def test_build_request_refuses_what_a_server_would_refuse() -> None:
    with pytest.raises(OngeldigBericht, match="schooljaar"):
        build_request_body(request_of(Operation.HAAL_STRUCTUUR, schooljaar="2025-2027"))
    with pytest.raises(OngeldigBericht, match="brincode"):
        build_request_body(request_of(Operation.HAAL_STRUCTUUR, brincode="21qw"))
    with pytest.raises(OngeldigBericht, match="niet allebei"):
        build_request_body(request_of(Operation.HAAL_STRUCTUUR, schoolkey="X"))
    with pytest.raises(XsdVersieOngeldig):
        build_request_body(request_of(Operation.HAAL_STRUCTUUR, xsdversie="3.0"))
    with pytest.raises(OngeldigBericht, match="groep"):
        build_request_body(request_of(Operation.HAAL_LEERLINGEN, groepen=()))


# ------------------------------------------------------------------------------------------ answers vs the XSD


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.value)
@pytest.mark.parametrize("profile", [None, *PROFILES], ids=str)
@pytest.mark.parametrize("xsdversie", ["2.1", "2.2", "2.3"])
def test_every_answer_validates_and_round_trips(op: Operation, profile: str | None, xsdversie: str) -> None:
    data = full_school()
    if profile is not None:
        if PROFILES[profile].key_only_as_fallback and xsdversie != "2.3":
            # a 2.3 profile leaves keys out, which only a 2.3 client accepts
            with pytest.raises(OngeldigAntwoord, match="key"):
                build_answer(
                    Operation.HAAL_LEERLINGGEGEVENS, apply_profile(data, PROFILES[profile]), xsdversie=xsdversie
                )
            return
        data = apply_profile(data, PROFILES[profile])
    body = build_answer(op, data, xsdversie=xsdversie)
    root = etree.fromstring(body)
    keyless = root.xpath("//lg:leerling[not(@key)]", namespaces={"lg": LEERLINGGEGEVENS})
    if xsdversie == "2.3" and profile is not None and PROFILES[profile].key_only_as_fallback:
        # 2.3: the ECK iD is the identifier and the LAS key is left out; no 2.3 XSD exists, so validate against
        # the 2.2 schema read the 2.3 way (pupil key optional) — and see that plain 2.2 would refuse it
        expected = (
            [ll for ll in data.leerlingen if ll.eckid]
            if op in (Operation.HAAL_LEERLINGGEGEVENS, Operation.HAAL_LEERLINGEN)
            else []
        )
        assert len(keyless) == len(expected)
        assert_valid(body, load_schema(SCHEMAS, uwlr23=True))
        if expected:
            assert validation_errors(leerlinggegevens_schema(), body)
    else:
        assert keyless == []
        assert_valid(body)
    if xsdversie == "2.1":
        assert b"eckid=" not in body
    parsed = parse_answer(answer_body(body), op, xsdversie=xsdversie)
    assert isinstance(parsed, Leerlinggegevens)
    assert parsed == expected_view(data, op, xsdversie)


def expected_view(data: Leerlinggegevens, op: Operation, xsdversie: str) -> Leerlinggegevens:
    """What a client should read back: the parts of the operation, no eckid for 2.1."""
    view = Leerlinggegevens(dataclasses.replace(data.school))
    if op in (Operation.HAAL_LEERLINGGEGEVENS, Operation.HAAL_STRUCTUUR):
        view.vestigingen, view.groepen, view.samengestelde_groepen = (
            data.vestigingen,
            data.groepen,
            data.samengestelde_groepen,
        )
    if op in (Operation.HAAL_LEERLINGGEGEVENS, Operation.HAAL_LEERLINGEN):
        view.leerlingen = [dataclasses.replace(ll) for ll in data.leerlingen]
    if op in (Operation.HAAL_LEERLINGGEGEVENS, Operation.HAAL_LEERKRACHTEN):
        view.leerkrachten = [dataclasses.replace(lk) for lk in data.leerkrachten]
    if xsdversie == "2.1":
        for person in (*view.leerlingen, *view.leerkrachten):
            person.eckid = None
    return view


def lvs_complete(data: Leerlinggegevens) -> Leerlinggegevens:
    """The LVS set makes roepnaam and bsn_ondwnr-4 mandatory; give every sample pupil both."""
    for ll in data.leerlingen:
        ll.roepnaam = ll.roepnaam or "Roep"
        ll.sofinummer = ll.bsn = ll.onderwijsnummer = ll.rijksregisternummer = None
        ll.bsn_ondwnr_4 = ll.bsn_ondwnr_4 or "5678"
    return data


@pytest.mark.parametrize("profile", ["smalle-set", "smalle-set-eckid", "lvs-set", "lvs-set-eckid"])
def test_profiled_all_in_one_answers_validate_against_the_profile_xsds(profile: str) -> None:
    data = apply_profile(lvs_complete(full_school()), PROFILES[profile])
    assert missing_required(data, PROFILES[profile]) == []
    body = build_answer(Operation.HAAL_LEERLINGGEGEVENS, data)
    xsd = SMALLE_SET_XSD if profile.startswith("smalle") else LVS_SET_XSD
    assert_valid(body, load_schema(SCHEMAS, xsd))
    # and the unfiltered data does not: the profile XSDs really are stricter
    assert validation_errors(load_schema(SCHEMAS, xsd), build_answer(Operation.HAAL_LEERLINGGEGEVENS, full_school()))


@pytest.mark.parametrize("profile", ["smalle-set-2.3", "eckid"])
def test_narrower_profiles_fit_the_smalle_set_xsd(profile: str) -> None:
    # Smalle set 2.3 (no geboortedatum, key only as fallback) and the ECKiD profile only take away from the
    # smalle set, so they fit its profile XSD — read the 2.3 way, where a pupil with an ECK iD needs no key.
    data = apply_profile(full_school(), PROFILES[profile])
    body = build_answer(Operation.HAAL_LEERLINGGEGEVENS, data, xsdversie="2.3")
    assert_valid(body, load_schema(SCHEMAS, SMALLE_SET_XSD, uwlr23=True))


@pytest.mark.parametrize("profile", ["smalle-set", "lvs-set-eckid"])
@pytest.mark.parametrize("op", [Operation.HAAL_STRUCTUUR, Operation.HAAL_LEERLINGEN, Operation.HAAL_LEERKRACHTEN])
def test_profiled_getrapt_answers_match_the_profile_xsd_apart_from_its_capitalised_root(
    profile: str, op: Operation
) -> None:
    # The profile files misname the getrapt roots (Structuur_antwoord, …): never on the wire, so rename a copy.
    data = apply_profile(lvs_complete(full_school()), PROFILES[profile])
    xsd = load_schema(SCHEMAS, SMALLE_SET_XSD if profile.startswith("smalle") else LVS_SET_XSD)
    body = build_answer(op, data)
    assert validation_errors(xsd, body)  # the real root name is unknown to the profile file
    assert_valid(capitalised_profile_root(body), xsd)


def test_markers_validate_for_every_operation() -> None:
    for op in Operation:
        for marker in (GEEN_WIJZIGINGEN, GEEN_GEGEVENS):
            body = build_answer(op, marker)
            assert_valid(body)
            assert parse_answer(answer_body(body), op) == marker
    # a schema-valid answer needs at least one pupil, so an empty school is geengegevens
    empty = Leerlinggegevens(School("2025-2026", brincode="21QW"))
    assert isinstance(parse_answer(answer_body(build_answer(Operation.HAAL_LEERLINGEN, empty))), GeenGegevens)
    assert isinstance(parse_answer(answer_body(build_answer(Operation.HAAL_LEERKRACHTEN, empty))), Leerlinggegevens)
    assert isinstance(parse_answer(answer_body(build_answer(Operation.HAAL_STRUCTUUR, empty))), Leerlinggegevens)
    assert not isinstance(GEEN_WIJZIGINGEN, GeenGegevens)


def test_envelope_answer_and_escaping() -> None:
    data = full_school()
    data.leerlingen[0].achternaam = 'A & B <c> "d" \r\n\te'
    message = build_answer_envelope(Operation.HAAL_LEERLINGGEGEVENS, data)
    parsed = parse_response(message, Operation.HAAL_LEERLINGGEGEVENS)
    assert isinstance(parsed, Leerlinggegevens)
    assert parsed.leerlingen[0].achternaam == 'A & B <c> "d" \r\n\te'
    data.leerlingen[0].key = 'K"\t\n<&>'
    parsed = parse_response(build_answer_envelope(Operation.HAAL_LEERLINGGEGEVENS, data))
    assert isinstance(parsed, Leerlinggegevens)
    assert parsed.leerlingen[0].key == 'K"\t\n<&>'


def test_builder_refuses_characters_xml_cannot_carry() -> None:
    data = full_school()
    data.leerlingen[1].roepnaam = "Piet\x07"
    with pytest.raises(OngeldigAntwoord, match="U\\+0007"):
        build_answer(Operation.HAAL_LEERLINGGEGEVENS, data)


# ----------------------------------------------------------------------------------------- 2.1 / 2.3 handling


def test_uwlr_23_pupil_without_key_is_allowed_only_in_23() -> None:
    data = full_school()
    data.leerlingen[0].key = None
    with pytest.raises(OngeldigAntwoord, match="key"):
        build_answer(Operation.HAAL_LEERLINGGEGEVENS, data, xsdversie="2.2")
    body = build_answer(Operation.HAAL_LEERLINGGEGEVENS, data, xsdversie="2.3")
    parsed = parse_answer(answer_body(body), xsdversie="2.3")
    assert isinstance(parsed, Leerlinggegevens) and parsed.leerlingen[0].key is None
    assert parsed.leerlingen[0].eckid == data.leerlingen[0].eckid
    with pytest.raises(OngeldigAntwoord, match="key"):
        parse_answer(answer_body(body), xsdversie="2.2")
    data.leerlingen[3].key = None  # this one has no eckid
    assert data.leerlingen[3].eckid is None
    with pytest.raises(OngeldigAntwoord, match="key"):
        build_answer(Operation.HAAL_LEERLINGGEGEVENS, data, xsdversie="2.3")


def test_unsupported_xsdversie_in_build_answer() -> None:
    with pytest.raises(XsdVersieOngeldig):
        build_answer(Operation.HAAL_LEERLINGGEGEVENS, full_school(), xsdversie="2.4")


# ------------------------------------------------------------------------------------ referential rules (§4g)


def _tamper(mutate: object) -> Leerlinggegevens:
    data = full_school()
    mutate(data)  # type: ignore[operator]
    return data


BROKEN = {
    "dubbele leerlingkey": lambda d: setattr(d.leerlingen[1], "key", d.leerlingen[0].key),
    "dubbele eckid": lambda d: setattr(d.leerlingen[1], "eckid", d.leerlingen[0].eckid),
    "groepkey ook samengesteld": lambda d: setattr(d.samengestelde_groepen[0], "key", "G5A"),
    "onbekende groep": lambda d: setattr(d.leerlingen[0], "groep", "NOPE"),
    "onbekende samengestelde groep": lambda d: d.leerlingen[0].samengestelde_groepen.append("NOPE"),
    "onbekende vestiging": lambda d: setattr(d.leerlingen[0], "vestiging", "V9"),
    "leerkracht naar onbekende groep": lambda d: setattr(d.leerkrachten[0].groepen[0], "key", "NOPE"),
    "dubbele leerkrachtkey": lambda d: setattr(d.leerkrachten[1], "key", "T1"),
    "dubbele vestigingkey": lambda d: setattr(d.vestigingen[1], "key", "V1"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_identity_rules_the_xsd_misses_are_enforced(name: str) -> None:
    data = _tamper(BROKEN[name])
    with pytest.raises(OngeldigAntwoord):
        build_answer(Operation.HAAL_LEERLINGGEGEVENS, data)
    body = build_answer(Operation.HAAL_LEERLINGGEGEVENS, data, validate=False)
    assert_valid(body)  # the official XSD lets it through (its selectors never match) …
    with pytest.raises(OngeldigAntwoord) as info:  # … our parser does not
        parse_answer(answer_body(body))
    assert info.value.problemen


def test_getrapt_answers_do_not_resolve_references() -> None:
    # In getrapt answers references point to the structure fetched earlier.
    data = full_school()
    data.leerlingen[0].groep = "ELDERS"
    body = build_answer(Operation.HAAL_LEERLINGEN, data)
    parsed = parse_answer(answer_body(body), Operation.HAAL_LEERLINGEN)
    assert isinstance(parsed, Leerlinggegevens) and parsed.leerlingen[0].groep == "ELDERS"


def _answer_with_pupil(inner: str, attrs: str = 'key="L1"') -> bytes:
    return (
        f'<lg:leerlinggegevens_antwoord xmlns:lg="{LEERLINGGEGEVENS}"><lg:leerlinggegevens>'
        "<lg:school><lg:schooljaar>2025-2026</lg:schooljaar></lg:school>"
        f"<lg:leerlingen><lg:leerling {attrs}>{inner}</lg:leerling></lg:leerlingen>"
        "</lg:leerlinggegevens></lg:leerlinggegevens_antwoord>"
    ).encode()


@pytest.mark.parametrize(
    ("inner", "attrs", "fragment"),
    [
        ("<lg:roepnaam>P</lg:roepnaam><lg:geboortedatum>2015-02-30</lg:geboortedatum>", 'key="L1"', "geboortedatum"),
        ("<lg:roepnaam>P</lg:roepnaam><lg:geslacht>3</lg:geslacht>", 'key="L1"', "geslacht"),
        ("<lg:roepnaam>P</lg:roepnaam><lg:geslacht>١</lg:geslacht>", 'key="L1"', "geslacht"),
        ("<lg:roepnaam>P</lg:roepnaam><lg:geslacht>1.0</lg:geslacht>", 'key="L1"', "geslacht"),
        ("<lg:roepnaam>P</lg:roepnaam><lg:jaargroep>9</lg:jaargroep>", 'key="L1"', "jaargroep"),
        ("<lg:geboortedatum>2015-02-03</lg:geboortedatum><lg:roepnaam>P</lg:roepnaam>", 'key="L1"', "plaats"),
        ("<lg:roepnaam>P</lg:roepnaam><lg:bsn>12345678</lg:bsn>", 'key="L1"', "bsn"),
        (
            "<lg:roepnaam>P</lg:roepnaam><lg:bsn>123456789</lg:bsn><lg:sofinummer>123456789</lg:sofinummer>",
            'key="L1"',
            "sofinummer",
        ),
        ("<lg:roepnaam>P</lg:roepnaam><lg:onbekend/>", 'key="L1"', "onbekend"),
        ("<lg:roepnaam>P</lg:roepnaam>", "", "key"),
        ("<lg:roepnaam>P</lg:roepnaam>", 'key="L1" extra="x"', "extra"),
        ("<lg:voorvoegsel>de</lg:voorvoegsel><lg:roepnaam>P</lg:roepnaam>", 'key="L1"', "achternaam"),
        ("<lg:achternaam></lg:achternaam>", 'key="L1"', "achternaam"),
        ("<lg:roepnaam>P</lg:roepnaam><lg:groep/>", 'key="L1"', "groep"),
        ("<lg:roepnaam>P</lg:roepnaam><lg:mutatiedatum>gisteren</lg:mutatiedatum>", 'key="L1"', "mutatiedatum"),
        ("<lg:roepnaam>P</lg:roepnaam>", f'key="{"x" * 257}"', "256"),
    ],
)
def test_answer_parser_names_the_bad_field(inner: str, attrs: str, fragment: str) -> None:
    body = etree.fromstring(_answer_with_pupil(inner, attrs))
    with pytest.raises(OngeldigAntwoord, match=fragment):
        parse_answer(body)


def test_answer_parser_rejects_structure_errors() -> None:
    ns = f'xmlns:lg="{LEERLINGGEGEVENS}"'
    for xml, fragment in [
        (f"<lg:leerlinggegevens_antwoord {ns}/>", "precies één"),
        (
            f"<lg:leerlinggegevens_antwoord {ns}><lg:geengegevens>x</lg:geengegevens></lg:leerlinggegevens_antwoord>",
            "leeg",
        ),
        (f"<lg:onzin {ns}/>", "onzin"),
        (
            f"<lg:structuur_antwoord {ns}><lg:leerlinggegevens-structuur><lg:groepen/></lg:leerlinggegevens-structuur>"
            "</lg:structuur_antwoord>",
            "groep",
        ),
        (
            f"<lg:structuur_antwoord {ns}><lg:leerlinggegevens-structuur><lg:school><lg:schooljaar>2025-2027"
            "</lg:schooljaar></lg:school></lg:leerlinggegevens-structuur></lg:structuur_antwoord>",
            "schooljaar",
        ),
        (
            f"<lg:leerlingen_antwoord {ns}><lg:leerlinggegevens-leerlingen><lg:school><lg:schooljaar>2025-2026"
            "</lg:schooljaar></lg:school></lg:leerlinggegevens-leerlingen></lg:leerlingen_antwoord>",
            "leerlingen",
        ),
    ]:
        with pytest.raises(OngeldigAntwoord, match=fragment):
            parse_answer(etree.fromstring(xml.encode()))
    no_pupils = build_answer(Operation.HAAL_LEERLINGGEGEVENS, full_school()).replace(
        build_answer(Operation.HAAL_LEERLINGEN, full_school())
        .split(b"</lg:school>")[1]
        .split(b"</lg:leerlinggegevens-")[0],
        b"",
    )
    assert b"<lg:leerkrachten>" in no_pupils and b"<lg:leerlingen>" not in no_pupils
    with pytest.raises(OngeldigAntwoord, match="'leerlingen' ontbreekt"):
        parse_answer(answer_body(no_pupils))
    with pytest.raises(OngeldigAntwoord, match="hoort niet"):
        parse_answer(answer_body(build_answer(Operation.HAAL_STRUCTUUR, full_school())), Operation.HAAL_LEERLINGEN)


# ------------------------------------------------------------------------------------------- request parser


def _request(inner: str, root: str = "leerlinggegevens_verzoek", ns: str = LEERLINGGEGEVENS) -> etree._Element:
    return etree.fromstring(f'<lg:{root} xmlns:lg="{ns}">{inner}</lg:{root}>'.encode())


BASIS = "<lg:schooljaar>2025-2026</lg:schooljaar><lg:brincode>21QW</lg:brincode><lg:xsdversie>2.2</lg:xsdversie>"


@pytest.mark.parametrize(
    ("inner", "fault", "fragment"),
    [
        (BASIS.replace("2025-2026", "2025-2027"), OngeldigBericht, "'schooljaar'"),
        (BASIS.replace("2025-2026", "25-26"), OngeldigBericht, "'schooljaar'"),
        (BASIS.replace("21QW", "21qw"), OngeldigBericht, "'brincode'"),
        (BASIS.replace("21QW", "21QW1"), OngeldigBericht, "'brincode'"),
        (
            BASIS.replace("</lg:brincode>", "</lg:brincode><lg:dependancecode>1</lg:dependancecode>"),
            OngeldigBericht,
            "'dependancecode'",
        ),
        (BASIS.replace("2.2", "2.4"), XsdVersieOngeldig, "'xsdversie'"),
        (BASIS.replace("<lg:xsdversie>2.2</lg:xsdversie>", "<lg:xsdversie/>"), XsdVersieOngeldig, "'xsdversie'"),
        (BASIS.replace("<lg:xsdversie>2.2</lg:xsdversie>", ""), XsdVersieOngeldig, "'xsdversie' ontbreekt"),
        (BASIS.replace("<lg:brincode>21QW</lg:brincode>", ""), OngeldigBericht, "'brincode' of 'schoolkey'"),
        (BASIS.replace("</lg:brincode>", "</lg:brincode><lg:schoolkey>S</lg:schoolkey>"), OngeldigBericht, "schoolkey"),
        (
            BASIS + "<lg:laatstontvangengegevens>gisteren</lg:laatstontvangengegevens>",
            OngeldigBericht,
            "'laatstontvangengegevens'",
        ),
        (BASIS + "<lg:gegevenssetid>" + "x" * 65 + "</lg:gegevenssetid>", OngeldigBericht, "'gegevenssetid'"),
        (BASIS + "<lg:extra>1</lg:extra>", OngeldigBericht, "'extra'"),
        (BASIS + "<lg:xsdversie>2.2</lg:xsdversie>", OngeldigBericht, "'xsdversie'"),
        (
            "<lg:brincode>21QW</lg:brincode>" + BASIS.replace("<lg:brincode>21QW</lg:brincode>", ""),
            OngeldigBericht,
            "'schooljaar'",
        ),
        (BASIS.replace("<lg:schooljaar>", '<lg:schooljaar lang="nl">'), OngeldigBericht, "'lang'"),
        (BASIS.replace("21QW", "<b>21QW</b>"), OngeldigBericht, "brincode"),
        (BASIS + "tekst", OngeldigBericht, "Tekst"),
        (BASIS + "<lg:groepen><lg:groep/></lg:groepen>", OngeldigBericht, "'groepen'"),
    ],
)
def test_request_parser_refuses_with_a_dutch_message_naming_the_field(
    inner: str, fault: type[Exception], fragment: str
) -> None:
    with pytest.raises(fault, match=fragment) as info:
        parse_request(_request(inner))
    assert type(info.value) is fault


def test_request_parser_getrapt_groepen() -> None:
    for inner, fragment in [
        (BASIS, "'groepen' ontbreekt"),
        (BASIS + "<lg:groepen/>", "minstens één"),
        (BASIS + '<lg:groepen><lg:groep key=""/></lg:groepen>', "@key"),
        (BASIS + '<lg:groepen><lg:leerling key="x"/></lg:groepen>', "leerling"),
        (BASIS + '<lg:groepen><lg:groep key="x">tekst</lg:groep></lg:groepen>', "leeg"),
    ]:
        with pytest.raises(OngeldigBericht, match=fragment):
            parse_request(_request(inner, "leerlingen_verzoek"))
    parsed = parse_request(
        _request(
            BASIS + '<lg:groepen><lg:samengestelde_groep key="S"/><lg:groep/></lg:groepen>', "leerkrachten_verzoek"
        )
    )
    assert parsed.groepen == (GroepRef("S", True), GroepRef(None, False))


def test_request_parser_dependancecode_empty_or_00_means_absent() -> None:
    for value in ("<lg:dependancecode/>", "<lg:dependancecode>00</lg:dependancecode>"):
        parsed = parse_request(_request(BASIS.replace("</lg:brincode>", "</lg:brincode>" + value)))
        assert parsed.dependancecode is None and parsed.brin6 == "21QW00"
    parsed = parse_request(
        _request(BASIS.replace("</lg:brincode>", "</lg:brincode><lg:dependancecode>07</lg:dependancecode>"))
    )
    assert parsed.dependancecode == "07" and parsed.brin6 == "21QW07"


def test_request_parser_dates_naive_and_zoned() -> None:
    for text, expected in [
        ("2024-11-11T00:05:46", dt.datetime(2024, 11, 11, 0, 5, 46)),
        (" 2024-11-11T00:05:46Z ", dt.datetime(2024, 11, 11, 0, 5, 46, tzinfo=dt.UTC)),
        (
            "2024-11-11T00:05:46.1234567+01:00",
            dt.datetime(2024, 11, 11, 0, 5, 46, 123456, dt.timezone(dt.timedelta(hours=1))),
        ),
    ]:
        parsed = parse_request(_request(BASIS + f"<lg:laatstontvangengegevens>{text}</lg:laatstontvangengegevens>"))
        assert parsed.laatstontvangengegevens == expected
        assert parsed.laatstontvangengegevens.tzinfo == expected.tzinfo  # type: ignore[union-attr]
    for bad in ("2024-11-11", "2024-11-11 00:05:46", "2024-13-11T00:00:00", "2024-11-11T24:00:00", "20241111T000546"):
        with pytest.raises(OngeldigBericht, match="laatstontvangengegevens"):
            parse_request(_request(BASIS + f"<lg:laatstontvangengegevens>{bad}</lg:laatstontvangengegevens>"))


def test_request_parser_wrong_namespace_and_root() -> None:
    with pytest.raises(OngeldigBericht, match="namespace"):
        parse_request(_request(BASIS, ns="http://www.edustandaard.nl/leerresultaten/1/leerlinggegevens"))
    with pytest.raises(OngeldigBericht, match="Onbekend verzoek"):
        parse_request(_request(BASIS, root="leerlinggegevensverzoek"))
    with pytest.raises(OngeldigBericht, match="hoort niet bij"):
        parse_request(_request(BASIS), Operation.HAAL_STRUCTUUR)


# ---------------------------------------------------------------------------------------- property tests


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(schools())
def test_property_any_generated_school_round_trips_and_validates(data: Leerlinggegevens) -> None:
    body = build_answer(Operation.HAAL_LEERLINGGEGEVENS, data)
    assert_valid(body)
    assert parse_answer(answer_body(body), Operation.HAAL_LEERLINGGEGEVENS) == data
    for op in (Operation.HAAL_STRUCTUUR, Operation.HAAL_LEERLINGEN, Operation.HAAL_LEERKRACHTEN):
        assert parse_answer(answer_body(build_answer(op, data)), op) == expected_view(data, op, "2.2")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(schools())
def test_property_profiles_only_drop_data_and_stay_valid(data: Leerlinggegevens) -> None:
    for profile in PROFILES.values():
        filtered = apply_profile(data, profile)
        if profile.xsdversie == "2.2":
            assert_valid(build_answer(Operation.HAAL_LEERLINGGEGEVENS, filtered))
        for before, after in zip(data.leerlingen, filtered.leerlingen, strict=True):
            for field in dataclasses.fields(Leerling):
                value = getattr(after, field.name)
                assert value in (None, [], getattr(before, field.name))
                if field.name not in profile.leerling | {"key", "eckid"}:
                    assert value in (None, [])


def test_apply_profile_does_not_change_its_input() -> None:
    data = full_school()
    snapshot = copy.deepcopy(data)
    for profile in PROFILES.values():
        filtered = apply_profile(data, profile)
        for link in (g for lk in filtered.leerkrachten for g in lk.groepen):
            link.rollen.append("x")
        for person in (*filtered.leerlingen, *filtered.leerkrachten):  # no list is shared with the input
            for field in dataclasses.fields(person):
                value = getattr(person, field.name)
                if isinstance(value, list):
                    value.append("x")
    assert data == snapshot


def test_profile_contents() -> None:
    data = full_school()
    smalle = apply_profile(data, PROFILES["smalle-set"])
    assert all(ll.eckid is None and ll.vestiging is None and ll.geslacht is None for ll in smalle.leerlingen)
    assert smalle.vestigingen == [] and all(lk.rollen == [] for lk in smalle.leerkrachten)
    assert smalle.leerkrachten[0].groepen[0].rollen == ["LRK"]  # per-group roles stay
    assert apply_profile(data, PROFILES["smalle-set-eckid"]).leerlingen[0].eckid == data.leerlingen[0].eckid
    s23 = apply_profile(data, PROFILES["smalle-set-2.3"])
    assert all(ll.geboortedatum is None for ll in s23.leerlingen)
    assert [ll.key for ll in s23.leerlingen] == [None, None, None, data.leerlingen[3].key]
    lvs = apply_profile(data, PROFILES["lvs-set"])
    assert lvs.leerlingen[0].voorletters == "P.J." and lvs.leerlingen[0].bsn_ondwnr_4 == "1234"
    assert lvs.leerlingen[1].bsn is None and lvs.leerlingen[0].voornamen is None
    lvs23 = apply_profile(data, PROFILES["lvs-set-2.3"])
    assert lvs23.leerlingen[0].voorletters is None and lvs23.leerlingen[0].bsn_ondwnr_4 is None
    eck = apply_profile(data, PROFILES["eckid"])
    assert eck.groepen == [] and eck.samengestelde_groepen == []
    first = eck.leerlingen[0]
    assert (first.key, first.eckid, first.roepnaam, first.achternaam, first.geboortedatum) == (
        data.leerlingen[0].key,
        data.leerlingen[0].eckid,
        "Piet",
        None,
        None,
    )
    assert eck.leerlingen[1].achternaam == data.leerlingen[1].achternaam  # no roepnaam: surname is the name
    lvs_missing = missing_required(apply_profile(data, PROFILES["lvs-set"]), PROFILES["lvs-set"])
    assert lvs_missing == [
        "leerling 'L00001': 'bsn_ondwnr_4' is verplicht in Profiel LVS set",
        "leerling 'L00001': 'roepnaam' is verplicht in Profiel LVS set",
        "leerling 'L00003': 'bsn_ondwnr_4' is verplicht in Profiel LVS set",
    ]


def test_leerkracht_model_defaults_are_independent() -> None:
    a, b = Leerkracht("A"), Leerkracht("B")
    a.rollen.append("LRK")
    assert b.rollen == []
    assert Leerling("x").samengestelde_groepen == []
    assert eckid(1).startswith("https://ketenid.nl/201703/0")


def test_supplier_toevoegingen_are_skipped_not_fatal() -> None:
    # toevoegingen blocks are abstract in the XSD (a supplier's xsi:type); nothing standard in them to keep
    inner = (
        '<lg:roepnaam>P</lg:roepnaam><lg:toevoegingen xmlns:x="urn:x"><lg:blok xsi:type="x:Ext" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><lg:code>C</lg:code></lg:blok></lg:toevoegingen>'
        "<lg:mutatiedatum>2025-01-01T00:00:00</lg:mutatiedatum>"
    )
    parsed = parse_answer(etree.fromstring(_answer_with_pupil(inner)))
    assert isinstance(parsed, Leerlinggegevens)
    assert parsed.leerlingen[0].mutatiedatum == dt.datetime(2025, 1, 1)


@st.composite
def verzoeken(draw: st.DrawFn) -> Verzoek:
    op = draw(st.sampled_from(list(Operation)))
    year = draw(st.integers(1990, 2090))
    brin = draw(st.booleans())
    return Verzoek(
        operation=op,
        schooljaar=f"{year}-{year + 1}",
        brincode=draw(st.from_regex(r"[0-9]{2}[A-Z]{2}", fullmatch=True)) if brin else None,
        dependancecode=draw(st.none() | st.from_regex(r"(0[1-9]|[1-9][0-9])", fullmatch=True)) if brin else None,
        schoolkey=None
        if brin
        else draw(st.text(min_size=1, max_size=256).filter(lambda t: "\r" not in t and t.isprintable())),
        xsdversie=draw(st.sampled_from(["2.1", "2.2", "2.3"])),
        gegevenssetid=draw(st.none() | st.text("abcXYZ-_ 0123", min_size=1, max_size=64)),
        laatstontvangengegevens=draw(st.none() | datetimes),
        groepen=tuple(draw(st.lists(st.builds(GroepRef, st.none() | keys, st.booleans()), min_size=1, max_size=5)))
        if op.has_groepen_ref
        else (),
    )


@settings(max_examples=80, deadline=None)
@given(verzoeken())
def test_property_any_request_round_trips_and_validates(verzoek: Verzoek) -> None:
    assert_valid(build_request_body(verzoek))
    assert parse_request_envelope(build_request(verzoek, AUT), verzoek.operation)[1] == verzoek


def test_the_official_fault_example_raises_its_fault() -> None:
    with pytest.raises(AutorisatieOngeldig) as info:
        parse_response((EXAMPLES / "12_fault.xml").read_bytes(), Operation.HAAL_LEERLINGGEGEVENS)
    assert info.value.code == "Client.AutorisatieOngeldig"


def test_national_ids_stay_out_of_reprs_and_logs() -> None:
    with pytest.raises(OngeldigAntwoord) as info:
        parse_answer(etree.fromstring(_answer_with_pupil("<lg:roepnaam>P</lg:roepnaam><lg:bsn>12345678X</lg:bsn>")))
    assert "'bsn'" in str(info.value) and "12345678X" not in str(info.value)
    pupil = Leerling("L1", roepnaam="P", bsn="123456782")
    assert "123456782" not in repr(pupil) and "123456782" not in repr(
        Leerlinggegevens(School("2025-2026"), leerlingen=[pupil])
    )
    assert pupil == Leerling("L1", roepnaam="P", bsn="123456782") != Leerling("L1", roepnaam="P", bsn="999999999")


def test_geslacht_accepts_every_xs_integer_spelling() -> None:
    for text in ("2", " 2 ", "02", "+2"):
        parsed = parse_answer(
            etree.fromstring(_answer_with_pupil(f"<lg:roepnaam>P</lg:roepnaam><lg:geslacht>{text}</lg:geslacht>"))
        )
        assert isinstance(parsed, Leerlinggegevens) and parsed.leerlingen[0].geslacht == 2


def test_empty_commentaar_is_a_valid_plain_string() -> None:
    data = full_school()
    data.school.commentaar = ""
    body = build_answer(Operation.HAAL_STRUCTUUR, data)
    assert_valid(body)
    parsed = parse_answer(answer_body(body))
    assert isinstance(parsed, Leerlinggegevens) and parsed.school.commentaar == ""


def test_pupil_identifier_prefers_the_eckid() -> None:
    assert Leerling("L1", eckid="E1").identifier == "E1"
    assert Leerling("L1").identifier == "L1"
    assert Leerling(None, eckid="E1").identifier == "E1"
    with pytest.raises(ValueError, match="eckid"):
        _ = Leerling(None).identifier
