"""Typed data classes for UWLR Leerlinggegevens (EDEXML 2.1 as adapted for UWLR 2.2/2.3).

These are the one shared vocabulary of the project: the LAS maps its database rows to them, the message
builders in `uwlr.leerlinggegevens` turn them into bytes, the parsers turn bytes back into them, and an EA
client reads them. Field names follow the wire element names (snake_case where the wire uses a hyphen:
`voorletters-1` → `voorletters`, `bsn_ondwnr-4` → `bsn_ondwnr_4`).

Conventions:
- Optional wire elements are `None` when absent; repeated ones are lists (empty when absent).
- Dates are `datetime.date`; xs:dateTime values are `datetime.datetime` and may be naive (UWLR messages often
  carry naive local times) — they are written back exactly as given.
- Choices in the XSD (the national id, the postcode) are plain optional fields here; `uwlr.validation`
  enforces that at most one of each group is set.
- EDEXML `toevoegingen` blocks are abstract in the schema (they need a supplier-defined `xsi:type`), so no
  standard UWLR message can carry them; the model leaves them out and the parsers skip them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

from uwlr.namespaces import LEERLINGGEGEVENS

#: xsdversie values this library speaks. 2.1 answers carry no eckid; 2.3 makes the ECK iD the primary
#: pupil identifier (the LAS key may then be left out for pupils that have one).
XSD_VERSIES: Final = frozenset({"2.1", "2.2", "2.3"})
DEFAULT_XSD_VERSIE: Final = "2.2"

#: Code lists from EDEXML.types.variabel.xsd / EDEXML.types.vast.xsd (UWLR copy, 2017-05-15).
JAARGROEPEN: Final = frozenset(
    {"B", "D", "0", "1", "2", "3", "4", "5", "6", "7", "8", "11", "12", "13", "14", "15", "16", "S", "V", "C", "N", "H"}
)
ROLLEN: Final = frozenset(
    {"ADJ", "ADM", "CON", "DIR", "ICT", "IB", "KLA", "LRK", "LOS", "LOC", "OWA", "OUD", "RT", "SMW", "STA", "VAK"}
)
GESLACHTEN: Final = frozenset({0, 1, 2, 9})
ETNICITEITEN: Final = frozenset({"9", "0", "1"})
GEWICHTEN_NIEUW: Final = frozenset({"?", "0", "0,3", "1,2"})
GEWICHTEN: Final = frozenset({"?", "0.00", "0.25", "0.40", "0.70", "0.90"})
LANDEN: Final = frozenset(
    [
        "?",
        "NL",
        "AF",
        "AX",
        "AL",
        "DZ",
        "VI",
        "AS",
        "AD",
        "AO",
        "AI",
        "AQ",
        "AG",
        "AR",
        "AM",
        "AW",
        "AU",
        "AZ",
        "BS",
        "BH",
        "BD",
        "BB",
        "BE",
        "BZ",
        "BJ",
        "BM",
        "BT",
        "MM",
        "BF",
        "BI",
        "BO",
        "BA",
        "BW",
        "BR",
        "VG",
        "BN",
        "BG",
        "KH",
        "CA",
        "CF",
        "CL",
        "CN",
        "CX",
        "CC",
        "CO",
        "CG",
        "CD",
        "CK",
        "CR",
        "CU",
        "CY",
        "DK",
        "DJ",
        "DM",
        "DO",
        "DE",
        "EC",
        "EG",
        "SV",
        "GB",
        "GQ",
        "ER",
        "EE",
        "ET",
        "FO",
        "FK",
        "FJ",
        "PH",
        "FI",
        "FR",
        "GF",
        "PF",
        "FX",
        "TF",
        "GA",
        "GM",
        "GZ",
        "GE",
        "GH",
        "GI",
        "GD",
        "GR",
        "GL",
        "GP",
        "GU",
        "GT",
        "GN",
        "GW",
        "GY",
        "HT",
        "HN",
        "HK",
        "HM",
        "HU",
        "IE",
        "IS",
        "IN",
        "ID",
        "IQ",
        "IR",
        "IL",
        "IT",
        "CI",
        "JM",
        "JP",
        "YE",
        "YO",
        "JH",
        "JO",
        "KY",
        "CV",
        "CM",
        "JE",
        "QA",
        "KZ",
        "KE",
        "KG",
        "KI",
        "KW",
        "KM",
        "HR",
        "LA",
        "LS",
        "LV",
        "LB",
        "LR",
        "LY",
        "LI",
        "LT",
        "LU",
        "MO",
        "MK",
        "MG",
        "MW",
        "MV",
        "MY",
        "ML",
        "MT",
        "IM",
        "MA",
        "MH",
        "MQ",
        "MR",
        "MU",
        "YT",
        "MX",
        "FM",
        "MD",
        "MC",
        "MN",
        "MS",
        "MZ",
        "NA",
        "NR",
        "AN",
        "NP",
        "NI",
        "NC",
        "NZ",
        "NE",
        "NG",
        "NU",
        "KP",
        "MP",
        "NO",
        "NF",
        "UA",
        "UZ",
        "OK",
        "OM",
        "AT",
        "TL",
        "PK",
        "PW",
        "PS",
        "PA",
        "PG",
        "PY",
        "PE",
        "PN",
        "PL",
        "PR",
        "PT",
        "RE",
        "RW",
        "RO",
        "RU",
        "SM",
        "ST",
        "SA",
        "SN",
        "CS",
        "RS",
        "ME",
        "SC",
        "SL",
        "SG",
        "SH",
        "SI",
        "SK",
        "SD",
        "SB",
        "SO",
        "ES",
        "SJ",
        "LK",
        "KN",
        "LC",
        "PM",
        "VC",
        "SR",
        "SZ",
        "SY",
        "TJ",
        "TW",
        "TZ",
        "TH",
        "TB",
        "TM",
        "TG",
        "TK",
        "TO",
        "TT",
        "TD",
        "CZ",
        "TN",
        "TR",
        "TC",
        "TV",
        "UG",
        "UY",
        "VU",
        "VA",
        "VE",
        "AE",
        "US",
        "VN",
        "WF",
        "EH",
        "WS",
        "BY",
        "ZM",
        "ZW",
        "ZA",
        "KR",
        "GS",
        "SE",
        "CH",
    ]
)


class Operation(Enum):
    """The four Leerlinggegevens operations of the UWLR 2.2 WSDL."""

    HAAL_LEERLINGGEGEVENS = "HaalLeerlinggegevens"
    HAAL_STRUCTUUR = "HaalStructuur"
    HAAL_LEERLINGEN = "HaalLeerlingen"
    HAAL_LEERKRACHTEN = "HaalLeerkrachten"

    @property
    def request_root(self) -> str:
        """Local name of the request body element, e.g. `leerlinggegevens_verzoek`."""
        return _OPERATION_INFO[self][0]

    @property
    def answer_root(self) -> str:
        """Local name of the answer body element, e.g. `leerlinggegevens_antwoord`."""
        return _OPERATION_INFO[self][1]

    @property
    def data_root(self) -> str:
        """Local name of the data element inside the answer, e.g. `leerlinggegevens-structuur`."""
        return _OPERATION_INFO[self][2]

    @property
    def soap_action(self) -> str:
        """The exact SOAPAction string of the WSDL (bare name for alles-in-1, a URI for the getrapt three)."""
        return _OPERATION_INFO[self][3]

    @property
    def request_tag(self) -> str:
        """Clark name of the request root, as lxml reports `element.tag`."""
        return f"{{{LEERLINGGEGEVENS}}}{self.request_root}"

    @property
    def answer_tag(self) -> str:
        return f"{{{LEERLINGGEGEVENS}}}{self.answer_root}"

    @property
    def getrapt(self) -> bool:
        """True for the three operations of the getrapt binding."""
        return self is not Operation.HAAL_LEERLINGGEGEVENS

    @property
    def has_groepen_ref(self) -> bool:
        """True when the request carries a `groepen` list of group references (HaalLeerlingen/-Leerkrachten)."""
        return self in (Operation.HAAL_LEERLINGEN, Operation.HAAL_LEERKRACHTEN)

    @classmethod
    def from_request_tag(cls, tag: object) -> Operation | None:
        return _BY_REQUEST_TAG.get(tag) if isinstance(tag, str) else None

    @classmethod
    def from_answer_tag(cls, tag: object) -> Operation | None:
        return _BY_ANSWER_TAG.get(tag) if isinstance(tag, str) else None

    @classmethod
    def from_soap_action(cls, action: str) -> Operation | None:
        """Map an HTTP SOAPAction header value (quoted or bare) to its operation."""
        return _BY_ACTION.get(action.strip().strip('"').strip())


_GETRAPT_ACTION = LEERLINGGEGEVENS + "/"
_OPERATION_INFO: Final[dict[Operation, tuple[str, str, str, str]]] = {
    Operation.HAAL_LEERLINGGEGEVENS: (
        "leerlinggegevens_verzoek",
        "leerlinggegevens_antwoord",
        "leerlinggegevens",
        "HaalLeerlinggegevens",
    ),
    Operation.HAAL_STRUCTUUR: (
        "structuur_verzoek",
        "structuur_antwoord",
        "leerlinggegevens-structuur",
        _GETRAPT_ACTION + "structuur_verzoek",
    ),
    Operation.HAAL_LEERLINGEN: (
        "leerlingen_verzoek",
        "leerlingen_antwoord",
        "leerlinggegevens-leerlingen",
        _GETRAPT_ACTION + "leerlingen_verzoek",
    ),
    Operation.HAAL_LEERKRACHTEN: (
        "leerkrachten_verzoek",
        "leerkrachten_antwoord",
        "leerlinggegevens-leerkrachten",
        _GETRAPT_ACTION + "leerkrachten_verzoek",
    ),
}
_BY_REQUEST_TAG: Final = {op.request_tag: op for op in Operation}
_BY_ANSWER_TAG: Final = {op.answer_tag: op for op in Operation}
_BY_ACTION: Final = {op.soap_action: op for op in Operation}


# --------------------------------------------------------------------------------------------------------------
# Requests


@dataclass(frozen=True, slots=True)
class GroepRef:
    """A group reference in a getrapt HaalLeerlingen/HaalLeerkrachten request.

    `key=None` asks for the pupils (teachers) not bound to any (samengestelde) groep.
    """

    key: str | None
    samengesteld: bool = False


@dataclass(frozen=True, slots=True)
class Verzoek:
    """A Leerlinggegevens request (any of the four operations).

    Exactly one school identification: `brincode` (+ optional `dependancecode`) or `schoolkey`. The parser
    normalises an empty or `00` dependancecode to `None` (the standard says they mean the same).
    `groepen` is only used (and then required, at least one) for HaalLeerlingen and HaalLeerkrachten.
    """

    operation: Operation
    schooljaar: str
    brincode: str | None = None
    dependancecode: str | None = None
    schoolkey: str | None = None
    xsdversie: str = DEFAULT_XSD_VERSIE
    gegevenssetid: str | None = None
    laatstontvangengegevens: dt.datetime | None = None
    groepen: tuple[GroepRef, ...] = ()

    @property
    def brin6(self) -> str | None:
        """BRIN + dependancecode as the 6-character code (`00` when no dependance), or None for a schoolkey."""
        if self.brincode is None:
            return None
        return self.brincode + (self.dependancecode or "00")


# --------------------------------------------------------------------------------------------------------------
# Answers


@dataclass(frozen=True, slots=True)
class GeenWijzigingen:
    """Answer marker: nothing changed since `laatstontvangengegevens`."""


@dataclass(frozen=True, slots=True)
class GeenGegevens:
    """Answer marker: no data found for this request."""


GEEN_WIJZIGINGEN: Final = GeenWijzigingen()
GEEN_GEGEVENS: Final = GeenGegevens()


@dataclass(slots=True)
class School:
    """`school` (SchoolType). Identification: brincode [+ dependancecode] [+ schoolkey], or instellingsnummer
    [+ schoolkey], or only a schoolkey, or (allowed by the XSD) none at all."""

    schooljaar: str
    brincode: str | None = None
    dependancecode: str | None = None
    instellingsnummer: str | None = None
    schoolkey: str | None = None
    peildatum: dt.date | None = None
    aanmaakdatum: dt.datetime | None = None
    auteur: str | None = None
    xsdversie: str | None = None
    commentaar: str | None = None


@dataclass(slots=True)
class Vestiging:
    key: str
    naam: str
    omschrijving: str | None = None
    mutatiedatum: dt.datetime | None = None


@dataclass(slots=True)
class Groep:
    """A stamgroep. `jaargroep` is required; `C` marks a combination group (the year is then per pupil)."""

    key: str
    naam: str
    jaargroep: str
    omschrijving: str | None = None
    mutatiedatum: dt.datetime | None = None


@dataclass(slots=True)
class SamengesteldeGroep:
    """A composed group (cluster, subject group); it has no jaargroep."""

    key: str
    naam: str
    omschrijving: str | None = None
    mutatiedatum: dt.datetime | None = None


@dataclass(slots=True)
class Leerling:
    """A pupil (LeerlingType), fields in wire order.

    Name: either `achternaam` (with optional voorvoegsel/voornamen/voorletters/roepnaam) or `roepnaam` alone.
    `key` is the LAS key; it may be `None` only in UWLR 2.3 mode for a pupil that has an `eckid`.
    `groep` is the key of the pupil's stamgroep, `samengestelde_groepen` the keys of its composed groups,
    `vestiging` the key of its vestiging. Of the national ids (sofinummer, bsn, onderwijsnummer, bsn_ondwnr_4,
    rijksregisternummer) and of the postcodes (postcodenl, postnummerbe, postcodeoverig) at most one each.
    """

    key: str | None
    eckid: str | None = None
    achternaam: str | None = None
    voorvoegsel: str | None = None
    voornamen: str | None = None
    voorletters: str | None = None
    roepnaam: str | None = None
    geboortedatum: dt.date | None = None
    geslacht: int | None = None
    start_ondw_jgr3: dt.date | None = None
    jaargroep: str | None = None
    groep: str | None = None
    samengestelde_groepen: list[str] = field(default_factory=list)
    vestiging: str | None = None
    gebruikersnaam: str | None = None
    emailadres: str | None = None
    fotourl: str | None = None
    etniciteit: str | None = None
    land: str | None = None
    land_vader: str | None = None
    land_moeder: str | None = None
    sofinummer: str | None = field(default=None, repr=False)  # national id: kept out of logs
    bsn: str | None = field(default=None, repr=False)  # national id: kept out of logs
    onderwijsnummer: str | None = field(default=None, repr=False)  # national id: kept out of logs
    bsn_ondwnr_4: str | None = None
    rijksregisternummer: str | None = field(default=None, repr=False)  # national id: kept out of logs
    gewicht_nieuw: str | None = None
    gewicht: str | None = None
    postcodenl: str | None = None
    postnummerbe: str | None = None
    postcodeoverig: str | None = None
    instroomdatum: dt.date | None = None
    uitstroomdatum: dt.date | None = None
    mutatiedatum: dt.datetime | None = None

    @property
    def identifier(self) -> str:
        """How to recognise this pupil (UWLR 2.3 werkingsregel): the ECK iD when there is one, else the LAS key."""
        ident = self.eckid or self.key
        if not ident:
            raise ValueError("leerling zonder eckid en zonder key")
        return ident


@dataclass(slots=True)
class LeerkrachtGroep:
    """A teacher's link to a group (`samengesteld=True` for a samengestelde groep) with per-group roles."""

    key: str
    samengesteld: bool = False
    rollen: list[str] = field(default_factory=list)
    rolomschrijvingen: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Leerkracht:
    """A teacher (LeerkrachtType). Teacher-level `rollen` are codes from `ROLLEN`; `rolomschrijvingen` free text.

    The wire allows `rol` and `rolomschrijving` interleaved; they are written codes first, then descriptions.
    """

    key: str
    eckid: str | None = None
    achternaam: str | None = None
    voorvoegsel: str | None = None
    voornamen: str | None = None
    voorletters: str | None = None
    roepnaam: str | None = None
    gebruikersnaam: str | None = None
    emailadres: str | None = None
    rollen: list[str] = field(default_factory=list)
    rolomschrijvingen: list[str] = field(default_factory=list)
    groepen: list[LeerkrachtGroep] = field(default_factory=list)
    mutatiedatum: dt.datetime | None = None


@dataclass(slots=True)
class Leerlinggegevens:
    """The data of an answer. One class serves all four operations; each answer carries only its own parts:

    - HaalLeerlinggegevens: school, vestigingen, groepen + samengestelde_groepen, leerlingen, leerkrachten
    - HaalStructuur: school, vestigingen, groepen + samengestelde_groepen
    - HaalLeerlingen: school, leerlingen
    - HaalLeerkrachten: school, leerkrachten

    On the wire `groep` and `samengestelde_groep` share one `groepen` block; we write stamgroepen first.
    """

    school: School
    vestigingen: list[Vestiging] = field(default_factory=list)
    groepen: list[Groep] = field(default_factory=list)
    samengestelde_groepen: list[SamengesteldeGroep] = field(default_factory=list)
    leerlingen: list[Leerling] = field(default_factory=list)
    leerkrachten: list[Leerkracht] = field(default_factory=list)


Antwoord = Leerlinggegevens | GeenWijzigingen | GeenGegevens
"""What a Leerlinggegevens answer holds: the data or one of the two empty markers."""
