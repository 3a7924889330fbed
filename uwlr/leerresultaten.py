"""Leerresultaten: the BrengLeerresultaten operation (UWLR-SPEC §6) and the toetsdefinities file format.

An EA builds a `LeerresultatenVerzoek` and sends it with `build_request`; a LAS parses it with `parse_request`,
which checks structure, formats, the identity constraints the XSD declares (kResultaat, kToetscode,
krAfnameToets, uOnderdeelVolgnummer) and the normering rules, and raises the matching UWLR fault with a Dutch
explanation. The same checks run before building, so we never put a message on the wire that the other side
would have to refuse.

Messages are written as escaped strings (see `uwlr.soap`), parsed with the hardened parser, and walked with a
strict sequence reader that follows the element order of UWLR_Leerresultaten_v2p2.xsd.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from lxml import etree

from uwlr.faults import (
    OngeldigBericht,
    ScoreOngeldig,
    ToetsNormeringOngeldig,
    TransportError,
    UwlrFault,
    VocabulaireTermOngeldig,
    XsdVersieOngeldig,
)
from uwlr.namespaces import LEERRESULTATEN, OSO, TOETSDEFINITIES, XSI
from uwlr.soap import Autorisatie, Envelope, envelope, parse_response, request_envelope
from uwlr.soap import parse_request as parse_soap_request
from uwlr.xml import DEFAULT_MAX_BYTES, parse_xml

SOAP_ACTION = "BrengLeerresultaten"
SUPPORTED_XSD_VERSIONS: frozenset[str] = frozenset({"2.1", "2.2", "2.3"})

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1  # xs:int, used by the OSO toetsscore counters


# ---------------------------------------------------------------------------------------------------------------
# Model


@dataclass(frozen=True, slots=True)
class VocabulaireGebondenVeld:
    """A value bound to an (optional) VDEX vocabulary: ctpVocabulaireGebondenVeld."""

    value: str
    vocabulaire: str | None = None
    vocabulairelocatie: str | None = None


@dataclass(frozen=True, slots=True)
class ResultatenSchool:
    """The `lr:school` block. Exactly one of `brincode` (with optional `dependancecode`) or `schoolkey`."""

    schooljaar: str
    aanmaakdatum: datetime
    xsdversie: str = "2.2"
    brincode: str | None = None
    dependancecode: str | None = None
    schoolkey: str | None = None
    auteur: str | None = None
    commentaar: str | None = None


@dataclass(frozen=True, slots=True)
class Betrouwbaarheidsinterval:
    bivlaag: Decimal
    bivhoog: Decimal


@dataclass(frozen=True, slots=True)
class Toetsscore:
    """`oso:toetsscore`: every field optional."""

    aantalopgaven: int | None = None
    aantalgoed: int | None = None
    aantalfout: int | None = None
    aantalgelezen: int | None = None
    tijd: Decimal | None = None  # seconds
    vaardigheidsscore: Decimal | None = None
    codevaardigheidsschaal: str | None = None
    betrouwbaarheidsinterval: Betrouwbaarheidsinterval | None = None


@dataclass(frozen=True, slots=True)
class Referentiescore:
    codereferentiescore: str
    codevergelijkingsgroep: str
    waarde: str
    kwalificatie: str | None = None


@dataclass(frozen=True, slots=True)
class OsoResultaat:
    toetsscore: Toetsscore | None = None
    referentiescores: tuple[Referentiescore, ...] = ()


@dataclass(frozen=True, slots=True)
class AnderResultaat:
    """A supplier-defined result: `lr:anderresultaat` with an `xsi:type` naming an extension of the abstract
    ctpAnderResultaatType.

    `inhoud` is the element's content as XML text in which every element carries its own namespace
    declarations (exclusive canonical XML, which is what `parse_request` produces); use `from_xml` to
    canonicalise a hand-written fragment so that a build → parse round trip gives an equal object.
    `attributen` holds any further attributes as (Clark name, value) pairs.
    """

    type_naam: str
    type_namespace: str | None = None
    inhoud: str = ""
    attributen: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_xml(
        cls,
        type_naam: str,
        type_namespace: str | None,
        fragment: str,
        attributen: tuple[tuple[str, str], ...] = (),
    ) -> AnderResultaat:
        wrapper = parse_xml(f"<w>{fragment}</w>".encode())
        return cls(type_naam, type_namespace, _canonical_content(wrapper), attributen)


Uitslag = int | OsoResultaat | AnderResultaat
"""Exactly one of: a `score` (non-negative integer), an `osoresultaat` or an `anderresultaat`."""


@dataclass(frozen=True, slots=True)
class Resultaat:
    key: str
    afnamedatum: date
    toetscode: str
    score: Uitslag
    versie: VocabulaireGebondenVeld | None = None
    toetsonderdeelcode: str | None = None  # absent: the result for the whole test
    infourl: str | None = None


@dataclass(frozen=True, slots=True)
class Toetsafname:
    """All results of one pupil, identified by the LAS key it received (`leerlingid`) and, if known, the ECK iD."""

    leerlingid: str
    resultaten: tuple[Resultaat, ...]
    eckid: str | None = None
    resultaatverwerkerid: str | None = None


@dataclass(frozen=True, slots=True)
class Normkleur:
    """RGBA: colour codes 0..255, transparantie 0.00 (fully transparent) .. 1.00 (opaque)."""

    rood: int
    groen: int
    blauw: int
    transparantie: Decimal


@dataclass(frozen=True, slots=True)
class Norm:
    """One band of a normering: integer scores `beginnormwaarde`..`eindnormwaarde` (inclusive)."""

    term: str
    beginnormwaarde: int
    eindnormwaarde: int
    omschrijving: str | None = None
    normkleur: Normkleur | None = None
    schoolcijfer_vanaf: Decimal | None = None
    schoolcijfer_totenmet: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Normering:
    """ctpNormering. Applies to `score` results only (OSO results ignore it)."""

    norms: tuple[Norm, ...]
    categorie: VocabulaireGebondenVeld | None = None
    niveau: VocabulaireGebondenVeld | None = None
    wegingsfactor: Decimal | None = None
    vocabulaire: str | None = None
    vocabulairelocatie: str | None = None


@dataclass(frozen=True, slots=True)
class HierarchieIngang:
    veld: VocabulaireGebondenVeld
    niveau: int


@dataclass(frozen=True, slots=True)
class Toetsonderdeel:
    volgnummer: int
    code: VocabulaireGebondenVeld
    naam: str | None = None
    normering: Normering | None = None


@dataclass(frozen=True, slots=True)
class Toets:
    """A test definition. Empty `toetshierarchie`/`toetsonderdelen` mean the element is absent."""

    toetscode: VocabulaireGebondenVeld
    versie: VocabulaireGebondenVeld | None = None
    toetsnaam: str | None = None
    leerjaar: VocabulaireGebondenVeld | None = None
    vakgebied: VocabulaireGebondenVeld | None = None
    toetsnormering: Normering | None = None
    toetshierarchie: tuple[HierarchieIngang, ...] = ()
    toetsonderdelen: tuple[Toetsonderdeel, ...] = ()


@dataclass(frozen=True, slots=True)
class LeerresultatenVerzoek:
    school: ResultatenSchool
    toetsafnames: tuple[Toetsafname, ...]
    toetsen: tuple[Toets, ...] = field(default=())


# ---------------------------------------------------------------------------------------------------------------
# Value formats (shared by the builder and the parser)

_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SCHOOLJAAR = re.compile(r"[12][0-9]{3}-[12][0-9]{3}")
_BRIN = re.compile(r"[0-9]{2}[A-Z]{2}")
_DEPENDANCE = re.compile(r"[0-9]{2}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)


def _text(value: str) -> str:
    # A literal CR would come back as LF after parsing: keep it as a character reference.
    return escape(value, {"\r": "&#13;"})


def _attr(value: str) -> str:
    # Attribute-value normalisation turns literal tabs and newlines into spaces: escape them too.
    return '"' + escape(value, {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}) + '"'


def format_decimal(value: Decimal) -> str:
    """xs:decimal lexical form: no exponent."""
    if not value.is_finite():
        raise ValueError(f"{value} is geen eindig decimaal getal")
    return format(value, "f")


def format_datetime(value: datetime) -> str:
    return value.isoformat()


def _parse_tz(text: str | None) -> timezone | None:
    if text is None:
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if minutes > 59 or hours * 60 + minutes > 14 * 60:
        raise ValueError("ongeldige tijdzone")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_date(text: str) -> date:
    """xs:date (a timezone suffix is accepted and dropped: a calendar date needs none)."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is geen datum (JJJJ-MM-DD)")
    _parse_tz(match.group(4))
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def parse_datetime(text: str) -> datetime:
    """xs:dateTime; naive values stay naive (UWLR-SPEC trap 13), fractions beyond microseconds are cut off."""
    match = _DATETIME.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is geen datum-tijd (JJJJ-MM-DDTuu:mm:ss)")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    tz = _parse_tz(match.group(8))
    extra = timedelta(0)
    if hour == 24 and minute == 0 and second == 0 and micro == 0:  # xs:dateTime allows 24:00:00 = next midnight
        hour, extra = 0, timedelta(days=1)
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz) + extra


def _parse_int(text: str) -> int:
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise ValueError(f"{text!r} is geen geheel getal")
    return int(stripped)


def _parse_decimal(text: str) -> Decimal:
    stripped = text.strip()
    if not _DECIMAL.fullmatch(stripped):
        raise ValueError(f"{text!r} is geen decimaal getal")
    try:
        return Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise ValueError(f"{text!r} is geen decimaal getal") from None


# ---------------------------------------------------------------------------------------------------------------
# Checks on the model: the business rules and the constraints the XSD cannot enforce (or does not enforce)


def _check_string(value: object, label: str, maximum: int | None, fault: type[UwlrFault] = OngeldigBericht) -> None:
    if not isinstance(value, str):
        raise fault(f"'{label}' moet tekst zijn.")
    if not value:
        raise fault(f"'{label}' is leeg.")
    if maximum is not None and len(value) > maximum:
        raise fault(f"'{label}' is langer dan {maximum} tekens.")
    if _XML_ILLEGAL.search(value):
        raise fault(f"'{label}' bevat tekens die in XML niet zijn toegestaan.")


def _check_optional_string(
    value: object, label: str, maximum: int | None, fault: type[UwlrFault] = OngeldigBericht
) -> None:
    if value is not None:
        _check_string(value, label, maximum, fault)


def _check_uri(value: str | None, label: str) -> None:
    if value is not None and (not isinstance(value, str) or _XML_ILLEGAL.search(value)):
        raise OngeldigBericht(f"'{label}' is geen geldige URI.")


def _check_veld(veld: VocabulaireGebondenVeld | None, label: str) -> None:
    if veld is None:
        return
    if not isinstance(veld, VocabulaireGebondenVeld):
        raise OngeldigBericht(f"'{label}' moet een VocabulaireGebondenVeld zijn.")
    _check_string(veld.value, label, 256)
    _check_uri(veld.vocabulaire, f"{label}/@vocabulaire")
    _check_uri(veld.vocabulairelocatie, f"{label}/@vocabulairelocatie")


def _check_int(value: object, label: str, fault: type[UwlrFault], low: int | None, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fault(f"'{label}' moet een geheel getal zijn.")
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            raise fault(f"'{label}' moet een geheel getal van {low} of hoger zijn (was {value}).")
        raise fault(f"'{label}' moet tussen {low} en {high} liggen (was {value}).")
    return value


def _check_decimal(
    value: object, label: str, fault: type[UwlrFault], low: Decimal | None = None, high: Decimal | None = None
) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise fault(f"'{label}' moet een decimaal getal zijn.")
    if (low is not None and value < low) or (high is not None and value > high):
        raise fault(f"'{label}' moet tussen {low} en {high} liggen (was {format_decimal(value)}).")


def check_schooljaar(value: str) -> None:
    """`JJJJ-JJJJ` with consecutive years (stricter than the XSD pattern, never limited to a year list)."""
    if not isinstance(value, str) or not _SCHOOLJAAR.fullmatch(value):
        raise OngeldigBericht(
            "Het request is ongeldig omdat de waarde voor 'schooljaar' leeg is of niet voldoet aan het juiste formaat"
        )
    first, second = value.split("-")
    if int(second) != int(first) + 1:
        raise OngeldigBericht(f"Het schooljaar {value} bestaat niet: het tweede jaar moet volgen op het eerste.")


def _check_datetime(value: object, label: str) -> None:
    if not isinstance(value, datetime):
        raise OngeldigBericht(f"'{label}' moet een datum-tijd zijn.")
    offset = value.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds or abs(offset) > timedelta(hours=14)):
        raise OngeldigBericht(f"'{label}' heeft een tijdzone die XML niet kan uitdrukken.")


def check_school(school: ResultatenSchool, xsdversies: Collection[str] | None = SUPPORTED_XSD_VERSIONS) -> None:
    if not isinstance(school, ResultatenSchool):
        raise OngeldigBericht("'school' ontbreekt.")
    check_schooljaar(school.schooljaar)
    if (school.brincode is None) == (school.schoolkey is None):
        raise OngeldigBericht("Geef de school aan met óf een brincode óf een schoolkey (precies één van beide).")
    if school.brincode is not None:
        if not isinstance(school.brincode, str) or not _BRIN.fullmatch(school.brincode):
            raise OngeldigBericht(
                "Het request is ongeldig omdat de waarde voor 'brincode' leeg is of niet voldoet aan het juiste formaat"
            )
        if school.dependancecode is not None and (
            not isinstance(school.dependancecode, str) or not _DEPENDANCE.fullmatch(school.dependancecode)
        ):
            raise OngeldigBericht(
                "Het request is ongeldig omdat de waarde voor 'dependancecode' leeg is of niet voldoet aan het "
                "juiste formaat"
            )
    else:
        if school.dependancecode is not None:
            raise OngeldigBericht("Een dependancecode hoort alleen bij een brincode, niet bij een schoolkey.")
        _check_string(school.schoolkey, "schoolkey", 256)
    _check_datetime(school.aanmaakdatum, "aanmaakdatum")
    _check_optional_string(school.auteur, "auteur", 128)
    _check_optional_string(school.commentaar, "commentaar", 128)
    if not isinstance(school.xsdversie, str) or not school.xsdversie or len(school.xsdversie) > 32:
        raise XsdVersieOngeldig(
            "Het request is ongeldig omdat de waarde voor 'xsdVersie' leeg is of niet voldoet aan het juiste formaat"
        )
    if xsdversies is not None and school.xsdversie not in xsdversies:
        supported = ", ".join(sorted(xsdversies))
        raise XsdVersieOngeldig(f"XSD-versie {school.xsdversie!r} wordt niet ondersteund (wel: {supported}).")


def _check_oso(oso: OsoResultaat, label: str) -> None:
    score = oso.toetsscore
    if score is not None:
        if not isinstance(score, Toetsscore):
            raise ScoreOngeldig(f"{label}: 'toetsscore' heeft een onjuist type.")
        for name in ("aantalopgaven", "aantalgoed", "aantalfout", "aantalgelezen"):
            value = getattr(score, name)
            if value is not None:
                _check_int(value, f"{label}/{name}", ScoreOngeldig, _INT_MIN, _INT_MAX)
        for name in ("tijd", "vaardigheidsscore"):
            value = getattr(score, name)
            if value is not None:
                _check_decimal(value, f"{label}/{name}", ScoreOngeldig)
        _check_optional_string(score.codevaardigheidsschaal, f"{label}/codevaardigheidsschaal", None, ScoreOngeldig)
        interval = score.betrouwbaarheidsinterval
        if interval is not None:
            _check_decimal(interval.bivlaag, f"{label}/bivlaag", ScoreOngeldig)
            _check_decimal(interval.bivhoog, f"{label}/bivhoog", ScoreOngeldig)
            if interval.bivlaag > interval.bivhoog:
                raise ScoreOngeldig(f"{label}: de ondergrens van het betrouwbaarheidsinterval ligt boven de bovengrens")
    for ref in oso.referentiescores:
        if not isinstance(ref, Referentiescore):
            raise ScoreOngeldig(f"{label}: 'referentiescore' heeft een onjuist type.")
        for name in ("codereferentiescore", "codevergelijkingsgroep", "waarde"):
            _check_string(getattr(ref, name), f"{label}/referentiescore/{name}", None, ScoreOngeldig)
        _check_optional_string(ref.kwalificatie, f"{label}/referentiescore/kwalificatie", None, ScoreOngeldig)


def _check_ander(ander: AnderResultaat, label: str) -> None:
    if not isinstance(ander.type_naam, str) or not re.fullmatch(r"[A-Za-z_][\w.\-]*", ander.type_naam):
        raise OngeldigBericht(f"{label}: 'anderresultaat' heeft geen geldig xsi:type.")
    if ander.type_namespace == LEERRESULTATEN and ander.type_naam == "ctpAnderResultaatType":
        raise OngeldigBericht(
            f"{label}: xsi:type van 'anderresultaat' moet een eigen uitbreiding noemen, niet het abstracte "
            "ctpAnderResultaatType."
        )
    _check_uri(ander.type_namespace, f"{label}/xsi:type")
    if _XML_ILLEGAL.search(ander.inhoud):
        raise OngeldigBericht(f"{label}: 'anderresultaat' bevat tekens die in XML niet zijn toegestaan.")
    try:
        parse_xml(f"<w>{ander.inhoud}</w>".encode())
    except OngeldigBericht:
        raise OngeldigBericht(f"{label}: de inhoud van 'anderresultaat' is geen geldige XML.") from None
    for name, value in ander.attributen:
        if not re.fullmatch(r"(\{[^{}]+\})?[A-Za-z_][\w.\-]*", name) or name == f"{{{XSI}}}type":
            raise OngeldigBericht(f"{label}: ongeldige attribuutnaam {name!r} op 'anderresultaat'.")
        if _XML_ILLEGAL.search(value):
            raise OngeldigBericht(f"{label}: attribuut {name!r} bevat tekens die in XML niet zijn toegestaan.")


def check_normering(normering: Normering, label: str) -> None:
    """ToetsNormeringOngeldig for a broken normering: bands must be ordered, disjoint and within range."""
    if not isinstance(normering, Normering):
        raise ToetsNormeringOngeldig(f"{label} heeft een onjuist type.")
    _check_veld(normering.categorie, f"{label}/toetscategorie")
    _check_veld(normering.niveau, f"{label}/toetsniveau")
    _check_uri(normering.vocabulaire, f"{label}/@vocabulaire")
    _check_uri(normering.vocabulairelocatie, f"{label}/@vocabulairelocatie")
    if normering.wegingsfactor is not None:
        _check_decimal(normering.wegingsfactor, f"{label}/wegingsfactor", ToetsNormeringOngeldig)
    if not normering.norms:
        raise ToetsNormeringOngeldig(f"{label} bevat geen norm.")
    for norm in normering.norms:
        where = f"{label}, norm '{norm.term}'"
        _check_string(norm.term, f"{label}/norm/term", 64, ToetsNormeringOngeldig)
        _check_optional_string(norm.omschrijving, f"{where}/omschrijving", 128, ToetsNormeringOngeldig)
        _check_int(norm.beginnormwaarde, f"{where}/beginnormwaarde", ToetsNormeringOngeldig, 0, None)
        _check_int(norm.eindnormwaarde, f"{where}/eindnormwaarde", ToetsNormeringOngeldig, 0, None)
        if norm.beginnormwaarde > norm.eindnormwaarde:
            raise ToetsNormeringOngeldig(
                f"{where}: beginnormwaarde {norm.beginnormwaarde} ligt boven eindnormwaarde {norm.eindnormwaarde}."
            )
        kleur = norm.normkleur
        if kleur is not None:
            for name in ("rood", "groen", "blauw"):
                _check_int(getattr(kleur, name), f"{where}/{name}_code", ToetsNormeringOngeldig, 0, 255)
            _check_decimal(
                kleur.transparantie, f"{where}/transparantie", ToetsNormeringOngeldig, Decimal(0), Decimal(1)
            )
        for name in ("schoolcijfer_vanaf", "schoolcijfer_totenmet"):
            value = getattr(norm, name)
            if value is not None:
                _check_decimal(value, f"{where}/{name}", ToetsNormeringOngeldig, Decimal(1), Decimal(10))
        if (
            norm.schoolcijfer_vanaf is not None
            and norm.schoolcijfer_totenmet is not None
            and norm.schoolcijfer_vanaf > norm.schoolcijfer_totenmet
        ):
            raise ToetsNormeringOngeldig(f"{where}: schoolcijfer_vanaf ligt boven schoolcijfer_totenmet.")
    bands = sorted(normering.norms, key=lambda n: (n.beginnormwaarde, n.eindnormwaarde))
    for previous, current in zip(bands, bands[1:], strict=False):
        if current.beginnormwaarde <= previous.eindnormwaarde:
            raise ToetsNormeringOngeldig(
                f"{label}: de normen '{previous.term}' ({previous.beginnormwaarde}–{previous.eindnormwaarde}) en "
                f"'{current.term}' ({current.beginnormwaarde}–{current.eindnormwaarde}) overlappen."
            )


def check_toetsen(toetsen: tuple[Toets, ...]) -> None:
    if not toetsen:
        raise OngeldigBericht("'toetsen' bevat geen toets.")
    codes: set[str] = set()
    for toets in toetsen:
        if not isinstance(toets, Toets):
            raise OngeldigBericht("'toets' heeft een onjuist type.")
        _check_veld(toets.toetscode, "toets/toetscode")
        code = toets.toetscode.value
        label = f"toets '{code}'"
        if code in codes:
            raise OngeldigBericht(f"Toetscode '{code}' komt meer dan eens voor in 'toetsen'.")
        codes.add(code)
        _check_veld(toets.versie, f"{label}/versie")
        _check_optional_string(toets.toetsnaam, f"{label}/toetsnaam", 128)
        _check_veld(toets.leerjaar, f"{label}/leerjaar")
        _check_veld(toets.vakgebied, f"{label}/vakgebied")
        if toets.toetsnormering is not None:
            check_normering(toets.toetsnormering, f"toetsnormering van {label}")
        for ingang in toets.toetshierarchie:
            _check_veld(ingang.veld, f"{label}/toetshierarchie/ingang")
            _check_int(ingang.niveau, f"{label}/toetshierarchie/ingang/@niveau", OngeldigBericht, None, None)
        volgnummers: set[int] = set()
        for onderdeel in toets.toetsonderdelen:
            _check_int(onderdeel.volgnummer, f"{label}/toetsonderdeelvolgnummer", OngeldigBericht, 1, None)
            if onderdeel.volgnummer in volgnummers:
                raise OngeldigBericht(
                    f"Toetsonderdeelvolgnummer {onderdeel.volgnummer} komt meer dan eens voor in {label}."
                )
            volgnummers.add(onderdeel.volgnummer)
            _check_veld(onderdeel.code, f"{label}/toetsonderdeelcode")
            _check_optional_string(onderdeel.naam, f"{label}/toetsonderdeelnaam", 128)
            if onderdeel.normering is not None:
                check_normering(
                    onderdeel.normering, f"toetsonderdeelnormering van {label}, onderdeel '{onderdeel.code.value}'"
                )


def _velden(verzoek: LeerresultatenVerzoek) -> Iterator[tuple[str, VocabulaireGebondenVeld]]:
    for afname in verzoek.toetsafnames:
        for resultaat in afname.resultaten:
            if resultaat.versie is not None:
                yield f"resultaat '{resultaat.key}'/versie", resultaat.versie
    yield from _toets_velden(verzoek.toetsen)


def _toets_velden(toetsen: Iterable[Toets]) -> Iterator[tuple[str, VocabulaireGebondenVeld]]:
    def normering(n: Normering | None, label: str) -> Iterator[tuple[str, VocabulaireGebondenVeld]]:
        if n is not None:
            if n.categorie is not None:
                yield f"{label}/toetscategorie", n.categorie
            if n.niveau is not None:
                yield f"{label}/toetsniveau", n.niveau

    for toets in toetsen:
        label = f"toets '{toets.toetscode.value}'"
        yield f"{label}/toetscode", toets.toetscode
        for name in ("versie", "leerjaar", "vakgebied"):
            veld = getattr(toets, name)
            if veld is not None:
                yield f"{label}/{name}", veld
        yield from normering(toets.toetsnormering, f"{label}/toetsnormering")
        for ingang in toets.toetshierarchie:
            yield f"{label}/toetshierarchie", ingang.veld
        for onderdeel in toets.toetsonderdelen:
            yield f"{label}/toetsonderdeelcode", onderdeel.code
            yield from normering(onderdeel.normering, f"{label}/toetsonderdeelnormering")


Vocabulaires = Mapping[str, Collection[str]]
"""Known vocabularies: vocabulary URI → the terms it contains."""


def check_vocabulaires(
    velden: Iterable[tuple[str, VocabulaireGebondenVeld]], vocabulaires: Vocabulaires, *, onbekende_weigeren: bool
) -> None:
    """VocabulaireTermOngeldig when a value names a known vocabulary but is not one of its terms.

    A value naming a vocabulary we do not know is accepted unless `onbekende_weigeren` is set.
    """
    for label, veld in velden:
        if veld.vocabulaire is None:
            continue
        terms = vocabulaires.get(veld.vocabulaire)
        if terms is None:
            if onbekende_weigeren:
                raise VocabulaireTermOngeldig(f"{label}: vocabulaire {veld.vocabulaire!r} is niet bekend.")
            continue
        if veld.value not in terms:
            raise VocabulaireTermOngeldig(
                f"{label}: {veld.value!r} is geen term van vocabulaire {veld.vocabulaire!r}."
            )


def check_verzoek(
    verzoek: LeerresultatenVerzoek,
    *,
    xsdversies: Collection[str] | None = SUPPORTED_XSD_VERSIONS,
    vocabulaires: Vocabulaires | None = None,
    onbekende_vocabulaires_weigeren: bool = False,
) -> None:
    """Every rule a LAS applies to a BrengLeerresultaten request, raising the UWLR fault that fits."""
    check_school(verzoek.school, xsdversies)
    if not verzoek.toetsafnames:
        raise OngeldigBericht("'toetsafnames' bevat geen toetsafname.")
    check_toetsen(verzoek.toetsen)
    toetsen = {toets.toetscode.value: toets for toets in verzoek.toetsen}
    keys: set[str] = set()
    for afname in verzoek.toetsafnames:
        if not isinstance(afname, Toetsafname):
            raise OngeldigBericht("'toetsafname' heeft een onjuist type.")
        _check_string(afname.leerlingid, "leerlingid", 256)
        _check_optional_string(afname.eckid, "eckid", 256)
        _check_optional_string(afname.resultaatverwerkerid, "resultaatverwerkerid", 256)
        if not afname.resultaten:
            raise OngeldigBericht(f"De toetsafname van leerling '{afname.leerlingid}' bevat geen resultaat.")
        for resultaat in afname.resultaten:
            _check_resultaat(resultaat, keys, toetsen)
    if vocabulaires is not None:
        check_vocabulaires(_velden(verzoek), vocabulaires, onbekende_weigeren=onbekende_vocabulaires_weigeren)


def _check_resultaat(resultaat: Resultaat, keys: set[str], toetsen: Mapping[str, Toets]) -> None:
    if not isinstance(resultaat, Resultaat):
        raise OngeldigBericht("'resultaat' heeft een onjuist type.")
    _check_string(resultaat.key, "resultaat/@key", 256)
    label = f"resultaat '{resultaat.key}'"
    if resultaat.key in keys:
        raise OngeldigBericht(f"De key van {label} komt meer dan eens voor; resultaatkeys moeten uniek zijn.")
    keys.add(resultaat.key)
    if not isinstance(resultaat.afnamedatum, date) or isinstance(resultaat.afnamedatum, datetime):
        raise OngeldigBericht(f"{label}: 'afnamedatum' moet een datum zijn.")
    _check_string(resultaat.toetscode, f"{label}/toetscode", 256)
    _check_veld(resultaat.versie, f"{label}/versie")
    _check_optional_string(resultaat.toetsonderdeelcode, f"{label}/toetsonderdeelcode", 256)
    _check_optional_string(resultaat.infourl, f"{label}/infourl", 256)
    score = resultaat.score
    if isinstance(score, OsoResultaat):
        _check_oso(score, f"{label}/osoresultaat")
    elif isinstance(score, AnderResultaat):
        _check_ander(score, label)
    else:
        _check_int(score, f"{label}/score", ScoreOngeldig, 0, None)
    toets = toetsen.get(resultaat.toetscode)
    if toets is None:
        raise OngeldigBericht(f"{label}: toetscode '{resultaat.toetscode}' is niet gedefinieerd in 'toetsen'.")
    if resultaat.toetsonderdeelcode is not None and toets.toetsonderdelen:
        codes = {onderdeel.code.value for onderdeel in toets.toetsonderdelen}
        if resultaat.toetsonderdeelcode not in codes:
            raise OngeldigBericht(
                f"{label}: toetsonderdeelcode '{resultaat.toetsonderdeelcode}' is geen onderdeel van toets "
                f"'{resultaat.toetscode}'."
            )


# ---------------------------------------------------------------------------------------------------------------
# Building


def _el(parts: list[str], name: str, value: str | None) -> None:
    if value is not None:
        parts.append(f"<lr:{name}>{_text(value)}</lr:{name}>")


def _oso_el(parts: list[str], name: str, value: str | None) -> None:
    if value is not None:
        parts.append(f"<oso:{name}>{_text(value)}</oso:{name}>")


def _veld(parts: list[str], name: str, veld: VocabulaireGebondenVeld | None, extra: str = "") -> None:
    if veld is None:
        return
    attrs = extra
    if veld.vocabulaire is not None:
        attrs += f" vocabulaire={_attr(veld.vocabulaire)}"
    if veld.vocabulairelocatie is not None:
        attrs += f" vocabulairelocatie={_attr(veld.vocabulairelocatie)}"
    parts.append(f"<lr:{name}{attrs}>{_text(veld.value)}</lr:{name}>")


def _opt(value: int | Decimal | None) -> str | None:
    if value is None:
        return None
    return format_decimal(value) if isinstance(value, Decimal) else str(value)


def _write_school(parts: list[str], school: ResultatenSchool) -> None:
    parts.append("<lr:school>")
    _el(parts, "schooljaar", school.schooljaar)
    _el(parts, "brincode", school.brincode)
    _el(parts, "dependancecode", school.dependancecode)
    _el(parts, "schoolkey", school.schoolkey)
    _el(parts, "aanmaakdatum", format_datetime(school.aanmaakdatum))
    _el(parts, "auteur", school.auteur)
    _el(parts, "xsdversie", school.xsdversie)
    _el(parts, "commentaar", school.commentaar)
    parts.append("</lr:school>")


def _write_oso(parts: list[str], oso: OsoResultaat) -> None:
    parts.append("<lr:osoresultaat>")
    score = oso.toetsscore
    if score is not None:
        parts.append("<oso:toetsscore>")
        for name in ("aantalopgaven", "aantalgoed", "aantalfout", "aantalgelezen", "tijd", "vaardigheidsscore"):
            _oso_el(parts, name, _opt(getattr(score, name)))
        _oso_el(parts, "codevaardigheidsschaal", score.codevaardigheidsschaal)
        if score.betrouwbaarheidsinterval is not None:
            parts.append("<oso:betrouwbaarheidsinterval>")
            _oso_el(parts, "bivlaag", format_decimal(score.betrouwbaarheidsinterval.bivlaag))
            _oso_el(parts, "bivhoog", format_decimal(score.betrouwbaarheidsinterval.bivhoog))
            parts.append("</oso:betrouwbaarheidsinterval>")
        parts.append("</oso:toetsscore>")
    for ref in oso.referentiescores:
        parts.append("<oso:referentiescore>")
        _oso_el(parts, "codereferentiescore", ref.codereferentiescore)
        _oso_el(parts, "codevergelijkingsgroep", ref.codevergelijkingsgroep)
        _oso_el(parts, "waarde", ref.waarde)
        _oso_el(parts, "kwalificatie", ref.kwalificatie)
        parts.append("</oso:referentiescore>")
    parts.append("</lr:osoresultaat>")


def _write_ander(parts: list[str], ander: AnderResultaat) -> None:
    if ander.type_namespace is None:
        attrs = f' xsi:type="{ander.type_naam}"'
    else:
        attrs = f' xmlns:ext={_attr(ander.type_namespace)} xsi:type="ext:{ander.type_naam}"'
    for index, (name, value) in enumerate(ander.attributen):
        if name.startswith("{"):
            namespace, local = name[1:].split("}", 1)
            attrs += f" xmlns:a{index}={_attr(namespace)} a{index}:{local}={_attr(value)}"
        else:
            attrs += f" {name}={_attr(value)}"
    parts.append(f"<lr:anderresultaat{attrs}>{ander.inhoud}</lr:anderresultaat>")


def _write_resultaat(parts: list[str], resultaat: Resultaat) -> None:
    parts.append(f"<lr:resultaat key={_attr(resultaat.key)}>")
    _el(parts, "afnamedatum", resultaat.afnamedatum.isoformat())
    _el(parts, "toetscode", resultaat.toetscode)
    _veld(parts, "versie", resultaat.versie)
    _el(parts, "toetsonderdeelcode", resultaat.toetsonderdeelcode)
    score = resultaat.score
    if isinstance(score, OsoResultaat):
        _write_oso(parts, score)
    elif isinstance(score, AnderResultaat):
        _write_ander(parts, score)
    else:
        _el(parts, "score", str(score))
    _el(parts, "infourl", resultaat.infourl)
    parts.append("</lr:resultaat>")


def _write_normering(parts: list[str], name: str, normering: Normering | None) -> None:
    if normering is None:
        return
    attrs = ""
    if normering.vocabulaire is not None:
        attrs += f" vocabulaire={_attr(normering.vocabulaire)}"
    if normering.vocabulairelocatie is not None:
        attrs += f" vocabulairelocatie={_attr(normering.vocabulairelocatie)}"
    parts.append(f"<lr:{name}{attrs}>")
    _veld(parts, "toetscategorie", normering.categorie)
    _veld(parts, "toetsniveau", normering.niveau)
    _el(parts, "wegingsfactor", _opt(normering.wegingsfactor))
    for norm in normering.norms:
        parts.append("<lr:norm>")
        _el(parts, "term", norm.term)
        _el(parts, "omschrijving", norm.omschrijving)
        _el(parts, "beginnormwaarde", str(norm.beginnormwaarde))
        _el(parts, "eindnormwaarde", str(norm.eindnormwaarde))
        if norm.normkleur is not None:
            kleur = norm.normkleur
            parts.append("<lr:normkleur>")
            _el(parts, "rood_code", str(kleur.rood))
            _el(parts, "groen_code", str(kleur.groen))
            _el(parts, "blauw_code", str(kleur.blauw))
            _el(parts, "transparantie", format_decimal(kleur.transparantie))
            parts.append("</lr:normkleur>")
        _el(parts, "schoolcijfer_vanaf", _opt(norm.schoolcijfer_vanaf))
        _el(parts, "schoolcijfer_totenmet", _opt(norm.schoolcijfer_totenmet))
        parts.append("</lr:norm>")
    parts.append(f"</lr:{name}>")


def _write_toetsen(parts: list[str], toetsen: Iterable[Toets]) -> None:
    parts.append("<lr:toetsen>")
    for toets in toetsen:
        parts.append("<lr:toets>")
        _veld(parts, "toetscode", toets.toetscode)
        _veld(parts, "versie", toets.versie)
        _el(parts, "toetsnaam", toets.toetsnaam)
        _veld(parts, "leerjaar", toets.leerjaar)
        _veld(parts, "vakgebied", toets.vakgebied)
        _write_normering(parts, "toetsnormering", toets.toetsnormering)
        if toets.toetshierarchie:
            parts.append("<lr:toetshierarchie>")
            for ingang in toets.toetshierarchie:
                _veld(parts, "ingang", ingang.veld, f' niveau="{ingang.niveau}"')
            parts.append("</lr:toetshierarchie>")
        if toets.toetsonderdelen:
            parts.append("<lr:toetsonderdelen>")
            for onderdeel in toets.toetsonderdelen:
                parts.append("<lr:toetsonderdeel>")
                _el(parts, "toetsonderdeelvolgnummer", str(onderdeel.volgnummer))
                _veld(parts, "toetsonderdeelcode", onderdeel.code)
                _el(parts, "toetsonderdeelnaam", onderdeel.naam)
                _write_normering(parts, "toetsonderdeelnormering", onderdeel.normering)
                parts.append("</lr:toetsonderdeel>")
            parts.append("</lr:toetsonderdelen>")
        parts.append("</lr:toets>")
    parts.append("</lr:toetsen>")


def build_verzoek_element(verzoek: LeerresultatenVerzoek, *, xsdversies: Collection[str] | None = None) -> bytes:
    """The serialised `lr:leerresultaten_verzoek` element (checked first; see `check_verzoek`)."""
    check_verzoek(verzoek, xsdversies=xsdversies)
    parts = [f'<lr:leerresultaten_verzoek xmlns:lr="{LEERRESULTATEN}" xmlns:oso="{OSO}" xmlns:xsi="{XSI}">']
    _write_school(parts, verzoek.school)
    parts.append("<lr:toetsafnames>")
    for afname in verzoek.toetsafnames:
        parts.append("<lr:toetsafname>")
        _el(parts, "leerlingid", afname.leerlingid)
        _el(parts, "eckid", afname.eckid)
        _el(parts, "resultaatverwerkerid", afname.resultaatverwerkerid)
        parts.append("<lr:resultaten>")
        for resultaat in afname.resultaten:
            _write_resultaat(parts, resultaat)
        parts.append("</lr:resultaten>")
        parts.append("</lr:toetsafname>")
    parts.append("</lr:toetsafnames>")
    _write_toetsen(parts, verzoek.toetsen)
    parts.append("</lr:leerresultaten_verzoek>")
    return "".join(parts).encode()


def build_request(
    verzoek: LeerresultatenVerzoek, autorisatie: Autorisatie, *, xsdversies: Collection[str] | None = None
) -> bytes:
    """Client side: the full SOAP envelope for BrengLeerresultaten (SOAPAction `SOAP_ACTION`).

    Raises the UWLR fault the receiving LAS would give (ScoreOngeldig, ToetsNormeringOngeldig, OngeldigBericht…)
    when the request breaks a rule, so nothing invalid leaves this process. `xsdversies` limits the accepted
    `school.xsdversie` values (default: any 1–32 characters).
    """
    return request_envelope(build_verzoek_element(verzoek, xsdversies=xsdversies), autorisatie)


def build_bevestiging() -> bytes:
    """Server side: the full SOAP envelope with the empty `lr:leerresultaten_bevestiging`."""
    return envelope(f'<lr:leerresultaten_bevestiging xmlns:lr="{LEERRESULTATEN}"/>'.encode())


def build_toetsdefinities(toetsen: Iterable[Toets]) -> bytes:
    """A toetsdefinities file (`td:Toetsdefinities` holding `lr:toetsen`), as a standalone XML document."""
    toetsen = tuple(toetsen)
    check_toetsen(toetsen)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<td:Toetsdefinities xmlns:td="{TOETSDEFINITIES}" xmlns:lr="{LEERRESULTATEN}">',
    ]
    _write_toetsen(parts, toetsen)
    parts.append("</td:Toetsdefinities>")
    return "".join(parts).encode()


# ---------------------------------------------------------------------------------------------------------------
# Parsing

_LR = f"{{{LEERRESULTATEN}}}"
_OSO = f"{{{OSO}}}"
_XSI_TYPE = f"{{{XSI}}}type"
_VOCAB_ATTRS = frozenset({"vocabulaire", "vocabulairelocatie"})


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


class _Seq:
    """Reads the element children of one parent in XSD sequence order; anything unexpected is OngeldigBericht."""

    def __init__(self, parent: etree._Element, label: str, attrs: frozenset[str] = frozenset()) -> None:
        self.label = label
        # Elements only: the hardened parser already dropped comments and processing instructions.
        self.children: list[etree._Element] = list(parent.iterchildren(etree.Element))
        text = parent.text
        if text is not None and text.strip():
            raise OngeldigBericht(f"'{label}' bevat tekst waar alleen elementen zijn toegestaan.")
        for child in self.children:
            tail = child.tail
            if tail is not None and tail.strip():
                raise OngeldigBericht(f"'{label}' bevat tekst waar alleen elementen zijn toegestaan.")
        if parent.attrib:
            _check_attributes(parent, label, attrs)
        self.index = 0

    def _peek(self, tag: str) -> etree._Element | None:
        if self.index < len(self.children) and self.children[self.index].tag == tag:
            element = self.children[self.index]
            self.index += 1
            return element
        return None

    def optional(self, name: str, ns: str = _LR) -> etree._Element | None:
        return self._peek(ns + name)

    def required(self, name: str, ns: str = _LR) -> etree._Element:
        element = self._peek(ns + name)
        if element is None:
            hint = self._describe_next()
            raise OngeldigBericht(f"In '{self.label}' ontbreekt het verplichte element '{name}'{hint}.")
        return element

    def many(self, name: str, ns: str = _LR, minimum: int = 1) -> list[etree._Element]:
        found: list[etree._Element] = []
        while (element := self._peek(ns + name)) is not None:
            found.append(element)
        if len(found) < minimum:
            hint = self._describe_next()
            raise OngeldigBericht(f"In '{self.label}' ontbreekt het verplichte element '{name}'{hint}.")
        return found

    def _describe_next(self) -> str:
        if self.index < len(self.children):
            return f" (gevonden: '{_local(self.children[self.index])}')"
        return ""

    def end(self) -> None:
        if self.index < len(self.children):
            child = self.children[self.index]
            raise OngeldigBericht(f"Onverwacht element '{_local(child)}' in '{self.label}'.")


def _check_attributes(element: etree._Element, label: str, allowed: frozenset[str]) -> None:
    for name in element.attrib:
        if name not in allowed and not str(name).startswith(f"{{{XSI}}}"):
            raise OngeldigBericht(f"Onbekend attribuut '{etree.QName(name).localname}' op '{label}'.")


def _simple(element: etree._Element, label: str, attrs: frozenset[str] = frozenset()) -> str:
    if len(element):
        raise OngeldigBericht(f"'{label}' mag geen elementen bevatten.")
    _check_attributes(element, label, attrs)
    return element.text or ""


def _string(element: etree._Element | None, label: str, maximum: int | None) -> str | None:
    if element is None:
        return None
    value = _simple(element, label)
    _check_string(value, label, maximum)
    return value


def _req_string(element: etree._Element, label: str, maximum: int | None) -> str:
    value = _string(element, label, maximum)
    assert value is not None
    return value


def _number(
    element: etree._Element | None, label: str, fault: type[UwlrFault], kind: str = "int"
) -> int | Decimal | None:
    if element is None:
        return None
    text = _simple(element, label)
    try:
        return _parse_int(text) if kind == "int" else _parse_decimal(text)
    except ValueError:
        what = "een geheel getal" if kind == "int" else "een decimaal getal"
        raise fault(f"'{label}' moet {what} zijn (was {text.strip()!r}).") from None


def _int(element: etree._Element | None, label: str, fault: type[UwlrFault] = OngeldigBericht) -> int | None:
    value = _number(element, label, fault, "int")
    assert value is None or isinstance(value, int)
    return value


def _req_int(element: etree._Element, label: str, fault: type[UwlrFault] = OngeldigBericht) -> int:
    value = _int(element, label, fault)
    assert value is not None
    return value


def _dec(element: etree._Element | None, label: str, fault: type[UwlrFault] = OngeldigBericht) -> Decimal | None:
    value = _number(element, label, fault, "decimal")
    assert value is None or isinstance(value, Decimal)
    return value


def _read_veld(
    element: etree._Element | None, label: str, extra: frozenset[str] = frozenset()
) -> VocabulaireGebondenVeld | None:
    if element is None:
        return None
    value = _simple(element, label, _VOCAB_ATTRS | extra)
    _check_string(value, label, 256)
    return VocabulaireGebondenVeld(value, element.get("vocabulaire"), element.get("vocabulairelocatie"))


def _req_veld(element: etree._Element, label: str) -> VocabulaireGebondenVeld:
    veld = _read_veld(element, label)
    assert veld is not None
    return veld


def _read_school(element: etree._Element) -> ResultatenSchool:
    seq = _Seq(element, "school")
    schooljaar = _simple(seq.required("schooljaar"), "schooljaar")
    brin = seq.optional("brincode")
    brincode = dependancecode = schoolkey = None
    if brin is not None:
        brincode = _simple(brin, "brincode")
        dep = seq.optional("dependancecode")
        if dep is not None:
            # An empty dependancecode takes the XSD default "00", which means the same as absent.
            dependancecode = _simple(dep, "dependancecode").strip() or "00"
    else:
        key = seq.optional("schoolkey")
        if key is None:
            raise OngeldigBericht("In 'school' ontbreekt de schoolidentificatie ('brincode' of 'schoolkey').")
        schoolkey = _simple(key, "schoolkey")
    aanmaak = _simple(seq.required("aanmaakdatum"), "aanmaakdatum")
    try:
        aanmaakdatum = parse_datetime(aanmaak)
    except ValueError:
        raise OngeldigBericht(
            "Het request is ongeldig omdat de waarde voor 'aanmaakdatum' leeg is of niet voldoet aan het juiste formaat"
        ) from None
    auteur = _string(seq.optional("auteur"), "auteur", 128)
    xsd = seq.optional("xsdversie")
    if xsd is None:
        raise XsdVersieOngeldig("In 'school' ontbreekt het verplichte element 'xsdversie'.")
    xsdversie = _simple(xsd, "xsdversie")
    commentaar = _string(seq.optional("commentaar"), "commentaar", 128)
    seq.end()
    return ResultatenSchool(
        schooljaar=schooljaar,
        aanmaakdatum=aanmaakdatum,
        xsdversie=xsdversie,
        brincode=brincode,
        dependancecode=dependancecode,
        schoolkey=schoolkey,
        auteur=auteur,
        commentaar=commentaar,
    )


def _read_oso(element: etree._Element, label: str) -> OsoResultaat:
    seq = _Seq(element, label)
    toetsscore = None
    score_el = seq.optional("toetsscore", _OSO)
    if score_el is not None:
        s = _Seq(score_el, "toetsscore")
        where = f"{label}/toetsscore"
        counts = [_int(s.optional(n, _OSO), f"{where}/{n}", ScoreOngeldig) for n in _OSO_COUNTS]
        tijd = _dec(s.optional("tijd", _OSO), f"{where}/tijd", ScoreOngeldig)
        vaardigheid = _dec(s.optional("vaardigheidsscore", _OSO), f"{where}/vaardigheidsscore", ScoreOngeldig)
        schaal_el = s.optional("codevaardigheidsschaal", _OSO)
        schaal = None if schaal_el is None else _simple(schaal_el, f"{where}/codevaardigheidsschaal")
        interval = None
        interval_el = s.optional("betrouwbaarheidsinterval", _OSO)
        if interval_el is not None:
            b = _Seq(interval_el, "betrouwbaarheidsinterval")
            laag = _dec(b.required("bivlaag", _OSO), f"{where}/bivlaag", ScoreOngeldig)
            hoog = _dec(b.required("bivhoog", _OSO), f"{where}/bivhoog", ScoreOngeldig)
            b.end()
            assert laag is not None and hoog is not None
            interval = Betrouwbaarheidsinterval(laag, hoog)
        s.end()
        toetsscore = Toetsscore(counts[0], counts[1], counts[2], counts[3], tijd, vaardigheid, schaal, interval)
    refs = []
    for ref_el in seq.many("referentiescore", _OSO, minimum=0):
        r = _Seq(ref_el, "referentiescore")
        values = [_simple(r.required(n, _OSO), f"{label}/referentiescore/{n}") for n in _OSO_REF_FIELDS]
        kwal_el = r.optional("kwalificatie", _OSO)
        kwalificatie = None if kwal_el is None else _simple(kwal_el, f"{label}/referentiescore/kwalificatie")
        r.end()
        refs.append(Referentiescore(values[0], values[1], values[2], kwalificatie))
    seq.end()
    return OsoResultaat(toetsscore, tuple(refs))


_OSO_COUNTS = ("aantalopgaven", "aantalgoed", "aantalfout", "aantalgelezen")
_OSO_REF_FIELDS = ("codereferentiescore", "codevergelijkingsgroep", "waarde")


def _canonical_content(element: etree._Element) -> str:
    parts = [_text(element.text or "")]
    for child in element:
        parts.append(etree.tostring(child, method="c14n", exclusive=True, with_tail=False).decode())
        parts.append(_text(child.tail or ""))
    return "".join(parts)


def _read_ander(element: etree._Element, label: str) -> AnderResultaat:
    raw_type = element.get(_XSI_TYPE)
    if raw_type is None:
        raise OngeldigBericht(
            f"{label}: 'anderresultaat' heeft een abstract type en moet met xsi:type een eigen resultaattype noemen."
        )
    raw_type = raw_type.strip()
    prefix, _, name = raw_type.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    if prefix and namespace is None:
        raise OngeldigBericht(f"{label}: het voorvoegsel van xsi:type {raw_type!r} is niet gedeclareerd.")
    attributen = tuple(
        (str(key), str(value)) for key, value in element.attrib.items() if not str(key).startswith(f"{{{XSI}}}")
    )
    return AnderResultaat(name, namespace, _canonical_content(element), attributen)


def _read_resultaat(element: etree._Element) -> Resultaat:
    key = element.get("key")
    if key is None:
        raise OngeldigBericht("Een 'resultaat' heeft geen key-attribuut.")
    label = f"resultaat '{key}'"
    seq = _Seq(element, label, frozenset({"key"}))
    afname_text = _simple(seq.required("afnamedatum"), f"{label}/afnamedatum")
    try:
        afnamedatum = parse_date(afname_text)
    except ValueError:
        raise OngeldigBericht(f"{label}: 'afnamedatum' {afname_text!r} is geen geldige datum (JJJJ-MM-DD).") from None
    toetscode = _simple(seq.required("toetscode"), f"{label}/toetscode")
    versie = _read_veld(seq.optional("versie"), f"{label}/versie")
    onderdeel_el = seq.optional("toetsonderdeelcode")
    onderdeel = None if onderdeel_el is None else _simple(onderdeel_el, f"{label}/toetsonderdeelcode")
    score: Uitslag
    if (score_el := seq.optional("score")) is not None:
        text = _simple(score_el, f"{label}/score").strip()
        if text.startswith("-") and text[1:] and not text[1:].strip("0"):
            text = "0"  # xs:nonNegativeInteger admits "-0"
        if not re.fullmatch(r"\+?[0-9]+", text):
            raise ScoreOngeldig(f"{label}: score {text!r} is geen geheel getal van 0 of hoger.")
        score = int(text)
    elif (oso_el := seq.optional("osoresultaat")) is not None:
        score = _read_oso(oso_el, f"{label}/osoresultaat")
    elif (ander_el := seq.optional("anderresultaat")) is not None:
        score = _read_ander(ander_el, label)
    else:
        raise OngeldigBericht(f"{label}: er ontbreekt een 'score', 'osoresultaat' of 'anderresultaat'.")
    infourl_el = seq.optional("infourl")
    infourl = None if infourl_el is None else _simple(infourl_el, f"{label}/infourl")
    seq.end()
    return Resultaat(key, afnamedatum, toetscode, score, versie, onderdeel, infourl)


def _read_normering(element: etree._Element | None, label: str) -> Normering | None:
    if element is None:
        return None
    seq = _Seq(element, label, _VOCAB_ATTRS)
    categorie = _read_veld(seq.optional("toetscategorie"), f"{label}/toetscategorie")
    niveau = _read_veld(seq.optional("toetsniveau"), f"{label}/toetsniveau")
    weging = _dec(seq.optional("wegingsfactor"), f"{label}/wegingsfactor", ToetsNormeringOngeldig)
    norms = []
    for norm_el in seq.many("norm"):
        n = _Seq(norm_el, f"{label}/norm")
        term = _simple(n.required("term"), f"{label}/norm/term")
        omschrijving_el = n.optional("omschrijving")
        omschrijving = None if omschrijving_el is None else _simple(omschrijving_el, f"{label}/norm/omschrijving")
        where = f"{label}, norm '{term}'"
        begin = _req_int(n.required("beginnormwaarde"), f"{where}/beginnormwaarde", ToetsNormeringOngeldig)
        eind = _req_int(n.required("eindnormwaarde"), f"{where}/eindnormwaarde", ToetsNormeringOngeldig)
        kleur = None
        kleur_el = n.optional("normkleur")
        if kleur_el is not None:
            k = _Seq(kleur_el, f"{where}/normkleur")
            codes = [
                _req_int(k.required(c), f"{where}/{c}", ToetsNormeringOngeldig)
                for c in ("rood_code", "groen_code", "blauw_code")
            ]
            transparantie = _dec(k.required("transparantie"), f"{where}/transparantie", ToetsNormeringOngeldig)
            k.end()
            assert transparantie is not None
            kleur = Normkleur(codes[0], codes[1], codes[2], transparantie)
        vanaf = _dec(n.optional("schoolcijfer_vanaf"), f"{where}/schoolcijfer_vanaf", ToetsNormeringOngeldig)
        totenmet = _dec(n.optional("schoolcijfer_totenmet"), f"{where}/schoolcijfer_totenmet", ToetsNormeringOngeldig)
        n.end()
        norms.append(Norm(term, begin, eind, omschrijving, kleur, vanaf, totenmet))
    seq.end()
    return Normering(
        tuple(norms), categorie, niveau, weging, element.get("vocabulaire"), element.get("vocabulairelocatie")
    )


def _read_toets(element: etree._Element) -> Toets:
    seq = _Seq(element, "toets")
    toetscode = _req_veld(seq.required("toetscode"), "toets/toetscode")
    label = f"toets '{toetscode.value}'"
    versie = _read_veld(seq.optional("versie"), f"{label}/versie")
    toetsnaam = _string(seq.optional("toetsnaam"), f"{label}/toetsnaam", 128)
    leerjaar = _read_veld(seq.optional("leerjaar"), f"{label}/leerjaar")
    vakgebied = _read_veld(seq.optional("vakgebied"), f"{label}/vakgebied")
    normering = _read_normering(seq.optional("toetsnormering"), f"toetsnormering van {label}")
    hierarchie: list[HierarchieIngang] = []
    hierarchie_el = seq.optional("toetshierarchie")
    if hierarchie_el is not None:
        h = _Seq(hierarchie_el, f"{label}/toetshierarchie")
        for ingang in h.many("ingang"):
            veld = _read_veld(ingang, f"{label}/toetshierarchie/ingang", frozenset({"niveau"}))
            raw_niveau = ingang.get("niveau")
            if raw_niveau is None:
                raise OngeldigBericht(f"{label}: een 'ingang' van de toetshierarchie mist het attribuut 'niveau'.")
            try:
                niveau = _parse_int(raw_niveau)
            except ValueError:
                raise OngeldigBericht(f"{label}: 'niveau' {raw_niveau!r} is geen geheel getal.") from None
            assert veld is not None
            hierarchie.append(HierarchieIngang(veld, niveau))
        h.end()
    onderdelen: list[Toetsonderdeel] = []
    onderdelen_el = seq.optional("toetsonderdelen")
    if onderdelen_el is not None:
        o = _Seq(onderdelen_el, f"{label}/toetsonderdelen")
        for onderdeel_el in o.many("toetsonderdeel"):
            d = _Seq(onderdeel_el, f"{label}/toetsonderdeel")
            volgnummer = _req_int(d.required("toetsonderdeelvolgnummer"), f"{label}/toetsonderdeelvolgnummer")
            code = _req_veld(d.required("toetsonderdeelcode"), f"{label}/toetsonderdeelcode")
            naam = _string(d.optional("toetsonderdeelnaam"), f"{label}/toetsonderdeelnaam", 128)
            onderdeel_normering = _read_normering(
                d.optional("toetsonderdeelnormering"),
                f"toetsonderdeelnormering van {label}, onderdeel '{code.value}'",
            )
            d.end()
            onderdelen.append(Toetsonderdeel(volgnummer, code, naam, onderdeel_normering))
        o.end()
    seq.end()
    return Toets(toetscode, versie, toetsnaam, leerjaar, vakgebied, normering, tuple(hierarchie), tuple(onderdelen))


def _read_toetsen(element: etree._Element) -> tuple[Toets, ...]:
    seq = _Seq(element, "toetsen")
    toetsen = tuple(_read_toets(toets) for toets in seq.many("toets"))
    seq.end()
    return toetsen


def parse_request(
    body: etree._Element,
    *,
    xsdversies: Collection[str] = SUPPORTED_XSD_VERSIONS,
    vocabulaires: Vocabulaires | None = None,
    onbekende_vocabulaires_weigeren: bool = False,
) -> LeerresultatenVerzoek:
    """Server side: the `lr:leerresultaten_verzoek` body element (see `uwlr.soap.parse_request`) as a checked
    `LeerresultatenVerzoek`.

    Raises XsdVersieOngeldig for an unsupported `xsdversie` (checked right after the school block), ScoreOngeldig,
    ToetsNormeringOngeldig, VocabulaireTermOngeldig (only with `vocabulaires`) and OngeldigBericht for everything
    else, each with a Dutch explanation in `detail`.
    """
    if body.tag != _LR + "leerresultaten_verzoek":
        raise OngeldigBericht(f"Verwacht 'leerresultaten_verzoek', gevonden '{_local(body)}'.")
    seq = _Seq(body, "leerresultaten_verzoek")
    school = _read_school(seq.required("school"))
    check_school(school, xsdversies)
    afnames: list[Toetsafname] = []
    afnames_seq = _Seq(seq.required("toetsafnames"), "toetsafnames")
    for afname_el in afnames_seq.many("toetsafname"):
        a = _Seq(afname_el, "toetsafname")
        leerlingid = _req_string(a.required("leerlingid"), "leerlingid", 256)
        eckid = _string(a.optional("eckid"), "eckid", 256)
        verwerker = _string(a.optional("resultaatverwerkerid"), "resultaatverwerkerid", 256)
        r = _Seq(a.required("resultaten"), f"resultaten van leerling '{leerlingid}'")
        resultaten = tuple(_read_resultaat(el) for el in r.many("resultaat"))
        r.end()
        a.end()
        afnames.append(Toetsafname(leerlingid, resultaten, eckid, verwerker))
    afnames_seq.end()
    toetsen = _read_toetsen(seq.required("toetsen"))
    seq.end()
    verzoek = LeerresultatenVerzoek(school, tuple(afnames), toetsen)
    check_verzoek(
        verzoek,
        xsdversies=xsdversies,
        vocabulaires=vocabulaires,
        onbekende_vocabulaires_weigeren=onbekende_vocabulaires_weigeren,
    )
    return verzoek


def parse_request_envelope(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    xsdversies: Collection[str] = SUPPORTED_XSD_VERSIONS,
    vocabulaires: Vocabulaires | None = None,
    onbekende_vocabulaires_weigeren: bool = False,
) -> tuple[Envelope, LeerresultatenVerzoek]:
    """Server side, whole HTTP body: the hardened envelope parse, then `parse_request` of its body.

    The autorisatie header is parsed when present; checking it (before acting on the results) is the caller's job.
    """
    envelope = parse_soap_request(data, max_bytes=max_bytes)
    verzoek = parse_request(
        envelope.body,
        xsdversies=xsdversies,
        vocabulaires=vocabulaires,
        onbekende_vocabulaires_weigeren=onbekende_vocabulaires_weigeren,
    )
    return envelope, verzoek


def parse_bevestiging(body: etree._Element | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Client side: accept the answer to BrengLeerresultaten.

    Takes the whole response (bytes: a SOAP fault is raised as its typed UwlrFault) or the body element from
    `uwlr.soap.parse_response`. Anything but the empty `lr:leerresultaten_bevestiging` is a TransportError: the
    other side did not confirm, so the results must be treated as not delivered.
    """
    element = parse_response(body, max_bytes=max_bytes) if isinstance(body, bytes) else body
    if element.tag != _LR + "leerresultaten_bevestiging":
        raise TransportError(f"Onverwacht antwoord '{_local(element)}' op BrengLeerresultaten.")
    if len(element) or (element.text or "").strip():
        raise TransportError("Het element 'leerresultaten_bevestiging' hoort leeg te zijn.")


def parse_toetsdefinities(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Toets, ...]:
    """A toetsdefinities file (`td:Toetsdefinities`), checked like the `toetsen` of a request."""
    root = parse_xml(data, max_bytes=max_bytes)
    if root.tag != f"{{{TOETSDEFINITIES}}}Toetsdefinities":
        raise OngeldigBericht(f"Verwacht 'Toetsdefinities', gevonden '{_local(root)}'.")
    seq = _Seq(root, "Toetsdefinities")
    toetsen = _read_toetsen(seq.required("toetsen"))
    seq.end()
    check_toetsen(toetsen)
    return toetsen
