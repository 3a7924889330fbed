"""BrengLeerresultaten and toetsdefinities: official XSD validity, round trips, example files, faults."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from uwlr import leerresultaten as lr
from uwlr import soap
from uwlr.faults import (
    AutorisatieOngeldig,
    OngeldigBericht,
    ScoreOngeldig,
    ToetsNormeringOngeldig,
    TransportError,
    UwlrFault,
    VocabulaireTermOngeldig,
    XsdVersieOngeldig,
)
from uwlr.namespaces import LEERRESULTATEN, XSI

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SCHEMAS = SHARED / "uwlr-schemas" / "Schemas"
EXAMPLES = SHARED / "uwlr-examples"
EXT_NS = "urn:koppelpunt:test:eigenresultaat"
AUT = soap.Autorisatie("geheime-sleutel", "EA-0042", "UitgeverX")

# A supplier's extension of the abstract ctpAnderResultaatType, the only way an `anderresultaat` can be valid.
_EXTENSION_XSD = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:lr="{LEERRESULTATEN}"
    targetNamespace="{EXT_NS}" xmlns="{EXT_NS}" elementFormDefault="qualified">
  <xs:import namespace="{LEERRESULTATEN}" schemaLocation="{(SCHEMAS / "UWLR_Leerresultaten_v2p2.xsd").as_uri()}"/>
  <xs:complexType name="MijnResultaat">
    <xs:complexContent>
      <xs:extension base="lr:ctpAnderResultaatType">
        <xs:sequence><xs:element name="waarde" type="xs:string" minOccurs="0"/></xs:sequence>
        <xs:attribute name="eenheid" type="xs:string"/>
      </xs:extension>
    </xs:complexContent>
  </xs:complexType>
</xs:schema>
"""


@cache
def official_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "UWLR_Leerresultaten_v2p2.xsd")))


@cache
def extended_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(_EXTENSION_XSD.encode(), base_url=str(SCHEMAS) + "/"))


@cache
def toetsdefinities_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "UWLR_Toetsdefinities_v2p2.xsd")))


@cache
def autorisatie_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "UWLR_Autorisatie_v2p2.xsd")))


@cache
def envelope_schema() -> etree.XMLSchema:
    """SOAP 1.1 envelope + autorisatie + leerresultaten: validates whole messages (the envelope is strict)."""
    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{(SCHEMAS / name).as_uri()}"/>'
        for ns, name in (
            (soap.SOAP_ENV, "SOAP_Envelope.xsd"),
            (soap.AUTORISATIE, "UWLR_Autorisatie_v2p2.xsd"),
            (LEERRESULTATEN, "UWLR_Leerresultaten_v2p2.xsd"),
        )
    )
    schema = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    return etree.XMLSchema(etree.fromstring(schema))


def body_of(envelope_bytes: bytes) -> etree._Element:
    """The body element as its own document, so that it can be validated on its own."""
    return etree.fromstring(etree.tostring(soap.parse_request(envelope_bytes).body))


def assert_valid(schema: etree.XMLSchema, element: etree._Element) -> None:
    assert schema.validate(element), "\n".join(str(e) for e in schema.error_log)


def rich_verzoek() -> lr.LeerresultatenVerzoek:
    """Every optional part at least once: all three result kinds, normering with colours and grades, hierarchy."""
    vak = lr.VocabulaireGebondenVeld(
        "Rekenen en wiskunde", "http://purl.edustandaard.nl/concept/328cc12a-87b2-41c4-aef8-853595f9f9dd"
    )
    normering = lr.Normering(
        norms=(
            lr.Norm("Onvoldoende", 0, 24, "Onder de maat", lr.Normkleur(255, 0, 0, Decimal("1.00")),
                    Decimal("1.0"), Decimal("5.4")),
            lr.Norm("Voldoende", 25, 50, None, lr.Normkleur(0, 128, 0, Decimal("0.5")), Decimal("5.5"), Decimal("10")),
        ),
        categorie=lr.VocabulaireGebondenVeld("Methodetoets", "urn:voc:categorie", "https://example.org/cat.xml"),
        niveau=lr.VocabulaireGebondenVeld("M5"),
        wegingsfactor=Decimal("2.5"),
        vocabulaire="urn:voc:normering",
    )
    toets = lr.Toets(
        toetscode=lr.VocabulaireGebondenVeld("REK-M5", "urn:voc:toetsen"),
        versie=lr.VocabulaireGebondenVeld("2024"),
        toetsnaam="Rekenen midden groep 5 <&> \"quoted\"",
        leerjaar=lr.VocabulaireGebondenVeld("5"),
        vakgebied=vak,
        toetsnormering=normering,
        toetshierarchie=(lr.HierarchieIngang(lr.VocabulaireGebondenVeld("Rekenen"), 1),
                         lr.HierarchieIngang(lr.VocabulaireGebondenVeld("Bewerkingen"), 2)),
        toetsonderdelen=(
            lr.Toetsonderdeel(1, lr.VocabulaireGebondenVeld("BEW"), "Bewerkingen", normering),
            lr.Toetsonderdeel(2, lr.VocabulaireGebondenVeld("MET"), None, None),
        ),
    )
    oso = lr.OsoResultaat(
        lr.Toetsscore(20, 17, 3, 20, Decimal("612.5"), Decimal("183.5"), "REK-2023",
                      lr.Betrouwbaarheidsinterval(Decimal("176.1"), Decimal("190.9"))),
        (lr.Referentiescore("F1", "LG", "B"), lr.Referentiescore("1F", "NL", "behaald", "voldoende")),
    )
    ander = lr.AnderResultaat.from_xml(
        "MijnResultaat", EXT_NS,
        f'<lr:andere_score xmlns:lr="{LEERRESULTATEN}">B+</lr:andere_score><x:waarde xmlns:x="{EXT_NS}">7</x:waarde>',
        (("eenheid", "punten"),),
    )
    resultaten = (
        lr.Resultaat("R-1", date(2024, 11, 11), "REK-M5", 42, infourl="https://example.org/r/1"),
        lr.Resultaat("R-2", date(2024, 11, 11), "REK-M5", oso, lr.VocabulaireGebondenVeld("2024"), "BEW"),
        lr.Resultaat("R-3", date(2024, 11, 12), "REK-M5", ander, toetsonderdeelcode="MET"),
    )
    return lr.LeerresultatenVerzoek(
        school=lr.ResultatenSchool(
            "2024-2025", datetime(2024, 11, 12, 10, 0, 0), "2.2", brincode="99XX", dependancecode="01",
            auteur="Toetsprogramma X", commentaar="Na\u00efve\r\ntekst",
        ),
        toetsafnames=(
            lr.Toetsafname("L1001", resultaten, "https://ketenid.nl/201703/" + "a" * 128, "verwerker-7"),
            lr.Toetsafname("L1002", (lr.Resultaat("R-4", date(2024, 11, 12), "REK-M5", 0),)),
        ),
        toetsen=(toets, lr.Toets(lr.VocabulaireGebondenVeld("SPEL"))),
    )


def without_ander(verzoek: lr.LeerresultatenVerzoek | None = None) -> lr.LeerresultatenVerzoek:
    """`rich_verzoek` minus the supplier-typed result: what the official XSD (and zeep) can judge on its own."""
    verzoek = verzoek or rich_verzoek()
    afnames = tuple(
        lr.Toetsafname(a.leerlingid, tuple(r for r in a.resultaten if not isinstance(r.score, lr.AnderResultaat)),
                       a.eckid, a.resultaatverwerkerid)
        for a in verzoek.toetsafnames
    )
    return lr.LeerresultatenVerzoek(verzoek.school, afnames, verzoek.toetsen)


def example_body(name: str = "10_BrengLeerresultaten_req.xml", **replace: str) -> etree._Element:
    text = (EXAMPLES / name).read_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return soap.parse_request(text.encode()).body


# --------------------------------------------------------------------------------------------------------------
# Examples and schema validity


def test_example_request_parses_into_the_model() -> None:
    verzoek = lr.parse_request(example_body())
    assert verzoek.school.brincode == "99XX" and verzoek.school.schoolkey is None
    assert verzoek.school.aanmaakdatum == datetime(2024, 11, 12, 10, 0)
    (afname,) = verzoek.toetsafnames
    assert afname.leerlingid == "L1001" and afname.eckid and afname.eckid.startswith("https://ketenid.nl/201703/")
    score, oso = afname.resultaten
    assert score.score == 42 and score.toetsonderdeelcode is None
    assert isinstance(oso.score, lr.OsoResultaat) and oso.score.toetsscore is not None
    assert oso.score.toetsscore.vaardigheidsscore == Decimal("183.5") and oso.toetsonderdeelcode == "BEW"
    (toets,) = verzoek.toetsen
    assert toets.vakgebied is not None and toets.vakgebied.vocabulaire is not None
    assert toets.toetsnormering is not None
    assert [(n.term, n.beginnormwaarde, n.eindnormwaarde) for n in toets.toetsnormering.norms] == [
        ("Onvoldoende", 0, 24), ("Voldoende", 25, 50)]
    assert toets.toetsonderdelen[0].code.value == "BEW"


def test_example_bevestiging_and_fault() -> None:
    lr.parse_bevestiging((EXAMPLES / "11_BrengLeerresultaten_resp.xml").read_bytes())
    with pytest.raises(AutorisatieOngeldig):
        lr.parse_bevestiging((EXAMPLES / "12_fault.xml").read_bytes())


def test_example_toetsdefinities_parse_and_rebuild_valid() -> None:
    toetsen = lr.parse_toetsdefinities((EXAMPLES / "13_toetsdefinities.xml").read_bytes())
    assert toetsen == (lr.Toets(lr.VocabulaireGebondenVeld("REK-M5"), toetsnaam="Rekenen midden groep 5"),)
    rebuilt = lr.build_toetsdefinities(toetsen)
    assert_valid(toetsdefinities_schema(), etree.fromstring(rebuilt))
    assert lr.parse_toetsdefinities(rebuilt) == toetsen


def test_rich_toetsdefinities_valid_and_round_trip() -> None:
    toetsen = rich_verzoek().toetsen
    data = lr.build_toetsdefinities(toetsen)
    assert_valid(toetsdefinities_schema(), etree.fromstring(data))
    assert lr.parse_toetsdefinities(data) == toetsen


def test_example_request_round_trips_through_our_builder() -> None:
    verzoek = lr.parse_request(example_body())
    data = lr.build_request(verzoek, AUT)
    assert_valid(official_schema(), body_of(data))
    assert lr.parse_request(soap.parse_request(data).body) == verzoek


def test_rich_request_is_valid_against_the_official_xsd_and_round_trips() -> None:
    verzoek = rich_verzoek()
    data = lr.build_request(verzoek, AUT)
    # anderresultaat needs a supplier type; everything else must pass the official schema unchanged.
    assert_valid(extended_schema(), body_of(data))
    envelope = soap.parse_request(data)
    assert envelope.autorisatie == AUT
    assert lr.parse_request(envelope.body) == verzoek
    assert_valid(official_schema(), body_of(lr.build_request(without_ander(verzoek), AUT)))


def test_envelope_header_is_valid_autorisatie() -> None:
    root = etree.fromstring(lr.build_request(rich_verzoek(), AUT))
    header = root.find(f"{{{soap.SOAP_ENV}}}Header")
    assert header is not None
    assert_valid(autorisatie_schema(), etree.fromstring(etree.tostring(header[0])))


def test_whole_envelopes_are_valid_soap_1_1() -> None:
    request = lr.build_request(without_ander(), AUT)
    for message in (request, lr.build_bevestiging(), soap.build_fault(ScoreOngeldig("score -1 <ongeldig>"))):
        assert_valid(envelope_schema(), etree.fromstring(message))
    envelope, verzoek = lr.parse_request_envelope(request)
    assert envelope.autorisatie == AUT and verzoek == without_ander()


def test_schoolkey_variant_valid() -> None:
    base = rich_verzoek()
    school = lr.ResultatenSchool("2025-2026", datetime(2025, 9, 1, 8, 30, tzinfo=timezone(timedelta(hours=2))),
                                 "2.3", schoolkey="school-\u00e9\u00e9n")
    verzoek = lr.LeerresultatenVerzoek(school, base.toetsafnames[1:], base.toetsen)
    data = lr.build_request(verzoek, AUT)
    assert b"<lr:aanmaakdatum>2025-09-01T08:30:00+02:00</lr:aanmaakdatum>" in data
    assert_valid(official_schema(), body_of(data))
    assert lr.parse_request(soap.parse_request(data).body) == verzoek


def test_bevestiging_is_valid_and_empty() -> None:
    data = lr.build_bevestiging()
    body = soap.parse_response(data)
    assert body.tag == f"{{{LEERRESULTATEN}}}leerresultaten_bevestiging" and len(body) == 0
    assert_valid(official_schema(), etree.fromstring(etree.tostring(body)))
    lr.parse_bevestiging(body)


def test_parse_bevestiging_refuses_other_answers() -> None:
    other = soap.envelope(f'<lr:toetsen xmlns:lr="{LEERRESULTATEN}"/>'.encode())
    with pytest.raises(TransportError, match="Onverwacht antwoord"):
        lr.parse_bevestiging(other)
    with pytest.raises(TransportError):
        lr.parse_bevestiging(b"<html>Bad gateway</html>")


def test_ander_resultaat_keeps_type_attributes_and_content() -> None:
    verzoek = lr.parse_request(soap.parse_request(lr.build_request(rich_verzoek(), AUT)).body)
    ander = verzoek.toetsafnames[0].resultaten[2].score
    assert isinstance(ander, lr.AnderResultaat)
    assert (ander.type_namespace, ander.type_naam) == (EXT_NS, "MijnResultaat")
    assert ander.attributen == (("eenheid", "punten"),)
    assert "<x:waarde" in ander.inhoud and ">7</x:waarde>" in ander.inhoud


def test_ander_resultaat_with_foreign_prefixes_round_trips() -> None:
    # A partner may declare the type prefix on the envelope and use a default namespace inside.
    body = example_body(**{
        "<lr:score>42</lr:score>": (
            f'<lr:anderresultaat xmlns:q="{EXT_NS}" xmlns:xsi="{XSI}" xsi:type="q:MijnResultaat" eenheid="cijfer">'
            f'<waarde xmlns="{EXT_NS}">7,5</waarde></lr:anderresultaat>'
        )
    })
    assert_valid(extended_schema(), etree.fromstring(etree.tostring(body)))
    verzoek = lr.parse_request(body)
    again = lr.parse_request(soap.parse_request(lr.build_request(verzoek, AUT)).body)
    assert again == verzoek
    ander = again.toetsafnames[0].resultaten[0].score
    assert isinstance(ander, lr.AnderResultaat) and ander.type_namespace == EXT_NS


# --------------------------------------------------------------------------------------------------------------
# Faults: each rule with a targeted bad message. `xsd` says whether the official schema must also refuse it
# (None: the schema cannot see it — a business rule or a constraint the schema does not state).

_NORM2 = "<lr:beginnormwaarde>25</lr:beginnormwaarde>"
_VOLGNUMMER = "<lr:toetsonderdeelvolgnummer>1</lr:toetsonderdeelvolgnummer>"
_ONDERDEEL = (
    "<lr:toetsonderdeel><lr:toetsonderdeelvolgnummer>1</lr:toetsonderdeelvolgnummer>"
    "<lr:toetsonderdeelcode>MET</lr:toetsonderdeelcode></lr:toetsonderdeel>"
)
_KLEUR = (
    "<lr:normkleur><lr:rood_code>{r}</lr:rood_code><lr:groen_code>0</lr:groen_code><lr:blauw_code>0</lr:blauw_code>"
    "<lr:transparantie>{t}</lr:transparantie></lr:normkleur><lr:schoolcijfer_vanaf>"
)

FAULT_CASES: list[tuple[str, dict[str, str], type[UwlrFault], str, bool | None]] = [
    ("negatieve score", {"<lr:score>42<": "<lr:score>-1<"}, ScoreOngeldig, "-1", True),
    ("decimale score", {"<lr:score>42<": "<lr:score>4.5<"}, ScoreOngeldig, "4.5", True),
    ("tekst als score", {"<lr:score>42<": "<lr:score>veel<"}, ScoreOngeldig, "veel", True),
    ("lege score", {"<lr:score>42<": "<lr:score><"}, ScoreOngeldig, "geen geheel getal", True),
    ("oso-telling geen getal", {"<oso:aantalgoed>17": "<oso:aantalgoed>zeventien"}, ScoreOngeldig, "aantalgoed",
     True),
    ("begin boven eind", {"<lr:beginnormwaarde>0<": "<lr:beginnormwaarde>30<"}, ToetsNormeringOngeldig,
     "ligt boven eindnormwaarde", None),
    ("overlappende normen", {_NORM2: "<lr:beginnormwaarde>24</lr:beginnormwaarde>"}, ToetsNormeringOngeldig,
     "overlappen", None),
    ("negatieve normwaarde", {"<lr:beginnormwaarde>0<": "<lr:beginnormwaarde>-3<"}, ToetsNormeringOngeldig,
     "beginnormwaarde", True),
    ("kleur boven 255", {"<lr:schoolcijfer_vanaf>": _KLEUR.format(r=256, t="1")}, ToetsNormeringOngeldig,
     "rood_code", True),
    ("transparantie boven 1", {"<lr:schoolcijfer_vanaf>": _KLEUR.format(r=255, t="1.5")}, ToetsNormeringOngeldig,
     "transparantie", True),
    ("schoolcijfer boven 10", {"<lr:schoolcijfer_totenmet>5.4": "<lr:schoolcijfer_totenmet>10.5"},
     ToetsNormeringOngeldig, "schoolcijfer_totenmet", True),
    ("schoolcijfer onder 1", {"<lr:schoolcijfer_vanaf>1.0": "<lr:schoolcijfer_vanaf>0.9"}, ToetsNormeringOngeldig,
     "schoolcijfer_vanaf", True),
    ("dubbele resultaatkey", {'key="R-2024-000018"': 'key="R-2024-000017"'}, OngeldigBericht, "meer dan eens", True),
    ("dubbele toetscode",
     {"</lr:toetsen>": "<lr:toets><lr:toetscode>REK-M5</lr:toetscode></lr:toets></lr:toetsen>"},
     OngeldigBericht, "Toetscode 'REK-M5' komt meer dan eens voor", True),
    ("onbekende toetscode (spatie telt)", {"<lr:toetscode>REK-M5</lr:toetscode>\n              <lr:score>":
                                           "<lr:toetscode> REK-M5</lr:toetscode>\n              <lr:score>"},
     OngeldigBericht, "niet gedefinieerd", True),
    ("dubbel volgnummer", {"</lr:toetsonderdeel>": "</lr:toetsonderdeel>" + _ONDERDEEL}, OngeldigBericht,
     "Toetsonderdeelvolgnummer 1", True),
    ("onderdeel niet in toets", {"<lr:toetsonderdeelcode>BEW</lr:toetsonderdeelcode>\n              <lr:oso":
                                 "<lr:toetsonderdeelcode>XYZ</lr:toetsonderdeelcode>\n              <lr:oso"},
     OngeldigBericht, "geen onderdeel", None),
    ("onbekende xsdversie", {"<lr:xsdversie>2.2<": "<lr:xsdversie>3.0<"}, XsdVersieOngeldig, "3.0", None),
    ("lege xsdversie", {"<lr:xsdversie>2.2<": "<lr:xsdversie><"}, XsdVersieOngeldig, "xsdVersie", True),
    ("ontbrekende xsdversie", {"<lr:xsdversie>2.2</lr:xsdversie>": ""}, XsdVersieOngeldig, "xsdversie", True),
    ("schooljaar niet opeenvolgend", {"2024-2025": "2024-2026"}, OngeldigBericht, "schooljaar", None),
    ("schooljaar formaat", {"2024-2025": "24-25"}, OngeldigBericht, "schooljaar", True),
    ("brincode formaat", {"<lr:brincode>99XX": "<lr:brincode>99xx"}, OngeldigBericht, "brincode", True),
    ("brincode en schoolkey", {"</lr:brincode>": "</lr:brincode><lr:schoolkey>k</lr:schoolkey>"}, OngeldigBericht,
     "aanmaakdatum", True),
    ("aanmaakdatum zonder tijd", {"2024-11-12T10:00:00": "2024-11-12"}, OngeldigBericht, "aanmaakdatum", True),
    ("afnamedatum ongeldig", {"<lr:afnamedatum>2024-11-11": "<lr:afnamedatum>2024-02-30"}, OngeldigBericht,
     "afnamedatum", True),
    ("onbekend element", {"<lr:score>42</lr:score>": "<lr:score>42</lr:score><lr:cijfer>8</lr:cijfer>"},
     OngeldigBericht, "cijfer", True),
    ("verkeerde volgorde", {"<lr:afnamedatum>2024-11-11</lr:afnamedatum>\n              <lr:toetscode>REK-M5"
                            "</lr:toetscode>": "<lr:toetscode>REK-M5</lr:toetscode><lr:afnamedatum>2024-11-11"
                            "</lr:afnamedatum>"},
     OngeldigBericht, "afnamedatum", True),
    ("geen score", {"<lr:score>42</lr:score>": ""}, OngeldigBericht, "ontbreekt", True),
    ("twee scores", {"<lr:score>42</lr:score>": "<lr:score>42</lr:score><lr:score>43</lr:score>"},
     OngeldigBericht, "score", True),
    ("resultaat zonder key", {' key="R-2024-000017"': ""}, OngeldigBericht, "key", True),
    ("onbekend attribuut", {'key="R-2024-000017"': 'key="R-2024-000017" soort="x"'}, OngeldigBericht, "soort",
     True),
    ("tekst tussen elementen", {"<lr:toetsafnames>": "<lr:toetsafnames>rommel"}, OngeldigBericht, "tekst", True),
    ("leerlingid te lang", {"<lr:leerlingid>L1001": "<lr:leerlingid>" + "L" * 257}, OngeldigBericht, "leerlingid",
     True),
    ("anderresultaat met het abstracte type",
     {"<lr:score>42</lr:score>": f'<lr:anderresultaat xmlns:xsi="{XSI}" xsi:type="lr:ctpAnderResultaatType"/>'},
     OngeldigBericht, "abstracte", True),
    ("anderresultaat zonder xsi:type",
     {"<lr:score>42</lr:score>": "<lr:anderresultaat><lr:andere_score>B</lr:andere_score></lr:anderresultaat>"},
     OngeldigBericht, "xsi:type", True),
]


@pytest.mark.parametrize(("replace", "fault", "detail", "xsd"), [c[1:] for c in FAULT_CASES],
                         ids=[c[0] for c in FAULT_CASES])
def test_bad_request_raises_the_right_fault(
    replace: dict[str, str], fault: type[UwlrFault], detail: str, xsd: bool | None
) -> None:
    body = example_body(**replace)
    with pytest.raises(fault) as info:
        lr.parse_request(body)
    assert type(info.value) is fault
    assert info.value.detail is not None and detail in info.value.detail
    if xsd:  # our verdict agrees with the official schema wherever the schema can judge
        assert not official_schema().validate(etree.fromstring(etree.tostring(body)))
    else:
        assert official_schema().validate(etree.fromstring(etree.tostring(body)))


def test_the_unmodified_example_passes_both() -> None:
    body = example_body()
    assert_valid(official_schema(), etree.fromstring(etree.tostring(body)))
    lr.parse_request(body)


def test_wrong_root_and_hostile_xml() -> None:
    with pytest.raises(OngeldigBericht, match="leerresultaten_verzoek"):
        lr.parse_request(etree.fromstring(f'<lr:toetsen xmlns:lr="{LEERRESULTATEN}"/>'))
    with pytest.raises(OngeldigBericht, match="DOCTYPE"):
        lr.parse_toetsdefinities(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    with pytest.raises(OngeldigBericht, match="Toetsdefinities"):
        lr.parse_toetsdefinities(b"<Toetsdefinities/>")


def test_xsdversie_set_is_configurable() -> None:
    body = example_body(**{"<lr:xsdversie>2.2<": "<lr:xsdversie>2.1<"})
    assert lr.parse_request(body).school.xsdversie == "2.1"
    with pytest.raises(XsdVersieOngeldig, match="2.2, 2.3"):
        lr.parse_request(body, xsdversies=frozenset({"2.2", "2.3"}))


def test_empty_dependancecode_means_00() -> None:
    body = example_body(**{"</lr:brincode>": "</lr:brincode><lr:dependancecode/>"})
    assert lr.parse_request(body).school.dependancecode == "00"


def test_vocabulary_hook() -> None:
    vakgebied = "http://purl.edustandaard.nl/concept/328cc12a-87b2-41c4-aef8-853595f9f9dd"
    body = example_body()
    lr.parse_request(body, vocabulaires={vakgebied: {"Rekenen en wiskunde", "Spelling"}})
    with pytest.raises(VocabulaireTermOngeldig, match="Rekenen en wiskunde") as info:
        lr.parse_request(body, vocabulaires={vakgebied: {"Spelling"}})
    assert "vakgebied" in (info.value.detail or "")
    # A vocabulary we do not know passes unless the server asks to refuse those.
    lr.parse_request(body, vocabulaires={})
    with pytest.raises(VocabulaireTermOngeldig, match="niet bekend"):
        lr.parse_request(body, vocabulaires={}, onbekende_vocabulaires_weigeren=True)


def test_builder_refuses_what_the_server_would_refuse() -> None:
    good = rich_verzoek()
    afname = good.toetsafnames[1]
    bad_score = lr.Resultaat("R-9", date(2024, 1, 1), "REK-M5", -1)
    with pytest.raises(ScoreOngeldig):
        lr.build_request(lr.LeerresultatenVerzoek(good.school, (lr.Toetsafname("L", (bad_score,)),), good.toetsen), AUT)
    with pytest.raises(ScoreOngeldig):
        bool_score = lr.Resultaat("R-9", date(2024, 1, 1), "REK-M5", True)
        lr.build_request(lr.LeerresultatenVerzoek(good.school, (lr.Toetsafname("L", (bool_score,)),), good.toetsen),
                         AUT)
    with pytest.raises(OngeldigBericht, match="niet gedefinieerd"):
        lr.build_request(lr.LeerresultatenVerzoek(good.school, (afname,), good.toetsen[1:]), AUT)
    with pytest.raises(OngeldigBericht, match="XML"):
        control = lr.Toetsafname("L\x00", afname.resultaten)
        lr.build_request(lr.LeerresultatenVerzoek(good.school, (control,), good.toetsen), AUT)
    with pytest.raises(OngeldigBericht, match="brincode óf een schoolkey"):
        school = lr.ResultatenSchool("2024-2025", datetime(2024, 1, 1), brincode="99XX", schoolkey="k")
        lr.build_request(lr.LeerresultatenVerzoek(school, (afname,), good.toetsen), AUT)
    with pytest.raises(ToetsNormeringOngeldig, match="overlappen"):
        norm = lr.Normering((lr.Norm("a", 0, 10), lr.Norm("b", 5, 20)))
        lr.build_toetsdefinities([lr.Toets(lr.VocabulaireGebondenVeld("T"), toetsnormering=norm)])
    with pytest.raises(OngeldigBericht, match="geen geldige XML"):
        ander = lr.AnderResultaat("MijnResultaat", EXT_NS, "<open>")
        res = lr.Resultaat("R-9", date(2024, 1, 1), "REK-M5", ander)
        lr.build_request(lr.LeerresultatenVerzoek(good.school, (lr.Toetsafname("L", (res,)),), good.toetsen), AUT)


def test_builder_escapes_and_preserves_whitespace() -> None:
    verzoek = rich_verzoek()
    data = lr.build_request(verzoek, AUT)
    assert b"&lt;&amp;&gt;" in data and b"&#13;" in data
    parsed = lr.parse_request(soap.parse_request(data).body)
    assert parsed.school.commentaar == "Na\u00efve\r\ntekst"


def test_parse_request_does_not_touch_the_tree() -> None:
    body = example_body()
    before = etree.tostring(body)
    lr.parse_request(copy.deepcopy(body))
    lr.parse_request(body)
    assert etree.tostring(body) == before


def test_dates_and_decimals_lexical_forms() -> None:
    assert lr.parse_datetime("2024-11-12T10:00:00Z").utcoffset() == timedelta(0)
    assert lr.parse_datetime(" 2024-11-12T10:00:00.1234567+01:00 ") == datetime(
        2024, 11, 12, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert lr.parse_datetime("2024-11-12T24:00:00") == datetime(2024, 11, 13)
    assert lr.parse_date("2024-11-12+01:00") == date(2024, 11, 12)
    for bad in ("2024-11-12T10:00", "12-11-2024T10:00:00", "2024-11-12T10:00:00+15:00", "2024-13-01T00:00:00"):
        with pytest.raises(ValueError):
            lr.parse_datetime(bad)
    assert lr.format_decimal(Decimal("1E+2")) == "100"
    with pytest.raises(ValueError):
        lr.format_decimal(Decimal("NaN"))
