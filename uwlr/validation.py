"""Checks to the UWLR/EDEXML patterns, and the referential rules the official XSD cannot enforce.

Two kinds of checks live here:

- field formats (brincode, dependancecode, schooljaar, dates and datetimes — naive ones included — lengths and
  code lists), used by the request parser (→ `OngeldigBericht`) and the answer parser/builder;
- the identity rules of UWLR-SPEC §4g: the XSD declares them, but with unprefixed selectors in a qualified
  schema, so no validator ever fires them. Unique keys per entity type, unique group keys across groep and
  samengestelde_groep, unique non-empty eckids, and (in the all-in-one answer) every groep/samengestelde_groep/
  vestiging reference must resolve.

A client gets `OngeldigAntwoord` for an answer that breaks these; a server can call `check_antwoord` before
sending (the builder does so by default).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import attrgetter
from typing import Final

from uwlr.faults import UwlrError
from uwlr.model import (
    ETNICITEITEN,
    GESLACHTEN,
    GEWICHTEN,
    GEWICHTEN_NIEUW,
    JAARGROEPEN,
    LANDEN,
    ROLLEN,
    XSD_VERSIES,
    Leerkracht,
    Leerling,
    Leerlinggegevens,
    Operation,
    School,
)


class OngeldigAntwoord(UwlrError):
    """Leerlinggegevens that break the standard: received from a LAS (client side) or about to be sent.

    `problemen` lists every problem found (Dutch, naming the field and the record key).
    """

    def __init__(self, problemen: list[str] | str) -> None:
        self.problemen = [problemen] if isinstance(problemen, str) else list(problemen)
        shown = "; ".join(self.problemen[:10])
        more = f" (en nog {len(self.problemen) - 10} andere)" if len(self.problemen) > 10 else ""
        super().__init__(f"Ongeldige leerlinggegevens: {shown}{more}")


# --------------------------------------------------------------------------------------------------------------
# Patterns. The XSD uses \p{Nd}/\p{Lu} (any Unicode digit/capital); we accept ASCII only, a stricter business
# rule every real LAS meets (UWLR-SPEC §11 trap 6).

BRINCODE_RE: Final = re.compile(r"[0-9]{2}[A-Z]{2}")
DEPENDANCECODE_RE: Final = re.compile(r"[0-9]{2}")
INSTELLINGSNUMMER_RE: Final = re.compile(r"[0-9]{2,6}")
SCHOOLJAAR_RE: Final = re.compile(r"([12][0-9]{3})-([12][0-9]{3})")
DIGITS_RE: Final = {n: re.compile(f"[0-9]{{{n}}}") for n in (4, 9, 11)}
POSTCODENL_RE: Final = re.compile(r"[0-9]{4}[A-Z]{2}")
_DATE_RE: Final = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_DATETIME_RE: Final = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
# Characters XML 1.0 forbids; a builder that let them through would produce a message nobody can parse.
ILLEGAL_XML_CHARS: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

#: Maximum lengths (all strings have minLength 1) of EDEXML/UWLR string types.
MAX_KEY: Final = 256


def valid_schooljaar(value: str | None) -> bool:
    """`YYYY-(YYYY+1)`; the XSD pattern alone would accept `2024-2026`."""
    if not isinstance(value, str):
        return False
    match = SCHOOLJAAR_RE.fullmatch(value)
    return match is not None and int(match.group(2)) == int(match.group(1)) + 1


def valid_brincode(value: str | None) -> bool:
    return isinstance(value, str) and BRINCODE_RE.fullmatch(value) is not None


def valid_dependancecode(value: str | None) -> bool:
    return isinstance(value, str) and DEPENDANCECODE_RE.fullmatch(value) is not None


def valid_string(value: str | None, max_length: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_length


def parse_date(text: str | None) -> dt.date | None:
    """An xs:date (an optional timezone is accepted and dropped: a calendar date has none in Python)."""
    if text is None:
        return None
    text = text.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    match = _DATE_RE.fullmatch(text)
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def parse_datetime(text: str | None) -> dt.datetime | None:
    """An xs:dateTime; naive values stay naive, `Z` becomes UTC, fractions beyond microseconds are cut."""
    if text is None:
        return None
    match = _DATETIME_RE.fullmatch(text.strip())
    if match is None:
        return None
    base, fraction, zone = match.groups()
    try:
        value = dt.datetime.fromisoformat(base)
    except ValueError:
        return None
    if fraction:
        value = value.replace(microsecond=int((fraction[1:] + "000000")[:6]))
    if zone:
        if zone == "Z":
            tz = dt.UTC
        else:
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 14 or minutes > 59:
                return None
            offset = dt.timedelta(hours=hours, minutes=minutes)
            tz = dt.timezone(-offset if zone[0] == "-" else offset)
        value = value.replace(tzinfo=tz)
    return value


def format_date(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def format_datetime(value: dt.datetime) -> str:
    """xs:dateTime text. Offsets with seconds (historic zones) are not expressible, so those go to UTC."""
    offset = value.utcoffset()
    if offset is not None and offset.seconds % 60:
        value = value.astimezone(dt.UTC)
    return value.isoformat()


# --------------------------------------------------------------------------------------------------------------
# Field checks of the model (used before sending, and by tests).

_NAME_LIMITS: Final = (
    ("achternaam", 200),
    ("voorvoegsel", 10),
    ("voornamen", 200),
    ("voorletters", 6),
    ("roepnaam", 64),
)
_NAME_WIRE: Final = {"voorletters": "voorletters-1"}
_NATIONAL_IDS: Final = (
    ("sofinummer", 9),
    ("bsn", 9),
    ("onderwijsnummer", 9),
    ("bsn_ondwnr_4", 4),
    ("rijksregisternummer", 11),
)
_POSTCODES: Final = ("postcodenl", "postnummerbe", "postcodeoverig")


def _check_str(problems: list[str], where: str, name: str, value: str | None, max_length: int) -> None:
    if value is not None and not (isinstance(value, str) and 0 < len(value) <= max_length):
        problems.append(f"{where}: '{name}' moet 1 tot {max_length} tekens lang zijn")


def _check_required(problems: list[str], where: str, name: str, value: str | None, max_length: int) -> None:
    if value is None:
        problems.append(f"{where}: '{name}' is verplicht")
    else:
        _check_str(problems, where, name, value, max_length)


def _check_datetime(problems: list[str], where: str, name: str, value: object) -> None:
    if value is not None and not isinstance(value, dt.datetime):
        problems.append(f"{where}: '{name}' moet een datum-tijd zijn, geen {type(value).__name__}")


def _check_names(problems: list[str], where: str, person: Leerling | Leerkracht) -> None:
    for name, limit in _NAME_LIMITS:
        _check_str(problems, where, _NAME_WIRE.get(name, name), getattr(person, name), limit)
    if person.achternaam is None:
        if person.roepnaam is None:
            problems.append(f"{where}: 'achternaam' of 'roepnaam' is verplicht")
        elif person.voorvoegsel is not None or person.voornamen is not None or person.voorletters is not None:
            problems.append(f"{where}: 'voorvoegsel', 'voornamen' en 'voorletters-1' vereisen een 'achternaam'")


def school_problems(school: School) -> list[str]:
    problems: list[str] = []
    where = "school"
    if not valid_schooljaar(school.schooljaar):
        problems.append(f"{where}: 'schooljaar' moet de vorm JJJJ-JJJJ hebben met opeenvolgende jaren")
    if school.brincode is not None and not valid_brincode(school.brincode):
        problems.append(f"{where}: 'brincode' moet twee cijfers en twee hoofdletters zijn")
    if school.dependancecode is not None:
        if school.brincode is None:
            problems.append(f"{where}: 'dependancecode' mag alleen samen met 'brincode'")
        if not valid_dependancecode(school.dependancecode):
            problems.append(f"{where}: 'dependancecode' moet uit twee cijfers bestaan")
    if school.instellingsnummer is not None:
        if school.brincode is not None:
            problems.append(f"{where}: 'brincode' en 'instellingsnummer' sluiten elkaar uit")
        if (
            not isinstance(school.instellingsnummer, str)
            or INSTELLINGSNUMMER_RE.fullmatch(school.instellingsnummer) is None
        ):
            problems.append(f"{where}: 'instellingsnummer' moet uit 2 tot 6 cijfers bestaan")
    _check_str(problems, where, "schoolkey", school.schoolkey, MAX_KEY)
    _check_str(problems, where, "auteur", school.auteur, 128)
    _check_str(problems, where, "xsdversie", school.xsdversie, 32)
    peildatum: object = school.peildatum
    if peildatum is not None and (not isinstance(peildatum, dt.date) or isinstance(peildatum, dt.datetime)):
        problems.append(f"{where}: 'peildatum' moet een datum zijn")
    aanmaakdatum: object = school.aanmaakdatum
    if aanmaakdatum is not None and not isinstance(aanmaakdatum, dt.datetime):
        problems.append(f"{where}: 'aanmaakdatum' moet een datum-tijd zijn")
    return problems


def _leerling_problems(problems: list[str], ll: Leerling, xsdversie: str) -> None:
    where = f"leerling {ll.key or ll.eckid!r}"
    if ll.key is None:
        if xsdversie != "2.3" or not ll.eckid:
            problems.append(f"{where}: 'key' is verplicht (alleen in UWLR 2.3 mag hij ontbreken bij een ECK iD)")
    else:
        _check_str(problems, where, "key", ll.key, MAX_KEY)
    _check_str(problems, where, "eckid", ll.eckid, MAX_KEY)
    _check_names(problems, where, ll)
    if ll.geslacht is not None and ll.geslacht not in GESLACHTEN:
        problems.append(f"{where}: 'geslacht' moet 0, 1, 2 of 9 zijn")
    if ll.jaargroep is not None and ll.jaargroep not in JAARGROEPEN:
        problems.append(f"{where}: 'jaargroep' {ll.jaargroep!r} is geen geldige jaargroep")
    for name in ("groep", "vestiging"):
        _check_str(problems, where, name, getattr(ll, name), MAX_KEY)
    for ref in ll.samengestelde_groepen:
        _check_str(problems, where, "samengestelde_groep", ref, MAX_KEY)
    _check_str(problems, where, "gebruikersnaam", ll.gebruikersnaam, 64)
    _check_str(problems, where, "emailadres", ll.emailadres, 256)
    _check_str(problems, where, "fotourl", ll.fotourl, 256)
    if ll.etniciteit is not None and ll.etniciteit not in ETNICITEITEN:
        problems.append(f"{where}: 'etniciteit' moet 9, 0 of 1 zijn")
    for name in ("land", "land_vader", "land_moeder"):
        value = getattr(ll, name)
        if value is not None and value not in LANDEN:
            problems.append(f"{where}: '{name}' {value!r} is geen geldige landcode")
    ids = [(name, digits) for name, digits in _NATIONAL_IDS if getattr(ll, name) is not None]
    if len(ids) > 1:
        problems.append(f"{where}: slechts één van sofinummer, bsn, onderwijsnummer, bsn_ondwnr-4, rijksregisternummer")
    for name, digits in ids:
        if not isinstance(getattr(ll, name), str) or DIGITS_RE[digits].fullmatch(getattr(ll, name)) is None:
            problems.append(f"{where}: '{name.replace('_4', '-4')}' moet uit {digits} cijfers bestaan")
    if ll.gewicht_nieuw is not None and ll.gewicht_nieuw not in GEWICHTEN_NIEUW:
        problems.append(f"{where}: 'gewicht_nieuw' moet ?, 0, 0,3 of 1,2 zijn")
    if ll.gewicht is not None and ll.gewicht not in GEWICHTEN:
        problems.append(f"{where}: 'gewicht' moet ?, 0.00, 0.25, 0.40, 0.70 of 0.90 zijn")
    for name in _DATES:
        value = getattr(ll, name)
        if value is not None and not isinstance(value, dt.date):
            problems.append(f"{where}: '{name}' moet een datum zijn, geen {type(value).__name__}")
    mutatiedatum: object = ll.mutatiedatum  # typed as datetime, but a LAS may hand us anything
    if mutatiedatum is not None and not isinstance(mutatiedatum, dt.datetime):
        problems.append(f"{where}: 'mutatiedatum' moet een datum-tijd zijn, geen {type(mutatiedatum).__name__}")
    postcodes = [name for name in _POSTCODES if getattr(ll, name) is not None]
    if len(postcodes) > 1:
        problems.append(f"{where}: slechts één van postcodenl, postnummerbe, postcodeoverig")
    if ll.postcodenl is not None and POSTCODENL_RE.fullmatch(ll.postcodenl) is None:
        problems.append(f"{where}: 'postcodenl' moet vier cijfers en twee hoofdletters zijn, zonder spatie")
    if ll.postnummerbe is not None and DIGITS_RE[4].fullmatch(ll.postnummerbe) is None:
        problems.append(f"{where}: 'postnummerbe' moet uit 4 cijfers bestaan")
    _check_str(problems, where, "postcodeoverig", ll.postcodeoverig, 32)


_STR_LIMITS: Final = (
    ("voornamen", 200),
    ("voorletters", 6),
    ("vestiging", MAX_KEY),
    ("gebruikersnaam", 64),
    ("emailadres", 256),
    ("fotourl", 256),
    ("postcodeoverig", 32),
)
_SETS: Final = (
    ("jaargroep", JAARGROEPEN),
    ("geslacht", GESLACHTEN),
    ("etniciteit", ETNICITEITEN),
    ("land", LANDEN),
    ("land_vader", LANDEN),
    ("land_moeder", LANDEN),
    ("gewicht_nieuw", GEWICHTEN_NIEUW),
    ("gewicht", GEWICHTEN),
)
_DATES: Final = ("geboortedatum", "start_ondw_jgr3", "instroomdatum", "uitstroomdatum")


def _leerling_ok(ll: Leerling, v23: bool) -> bool:
    """True when `_leerling_problems` would find nothing; cheap enough for 50,000 pupils."""
    try:
        key = ll.key
        if key is None:
            if not (v23 and ll.eckid):
                return False
        elif not (0 < len(key) <= MAX_KEY and isinstance(key, str)):
            return False
        if ll.eckid is not None and not (0 < len(ll.eckid) <= MAX_KEY and isinstance(ll.eckid, str)):
            return False
        if ll.achternaam is None:
            if (
                ll.roepnaam is None
                or ll.voorvoegsel is not None
                or ll.voornamen is not None
                or ll.voorletters is not None
            ):
                return False
        elif not (0 < len(ll.achternaam) <= 200 and isinstance(ll.achternaam, str)):
            return False
        if ll.voorvoegsel is not None and not (0 < len(ll.voorvoegsel) <= 10 and isinstance(ll.voorvoegsel, str)):
            return False
        if ll.roepnaam is not None and not (0 < len(ll.roepnaam) <= 64 and isinstance(ll.roepnaam, str)):
            return False
        if ll.groep is not None and not (0 < len(ll.groep) <= MAX_KEY and isinstance(ll.groep, str)):
            return False
        for ref in ll.samengestelde_groepen:
            if not (0 < len(ref) <= MAX_KEY and isinstance(ref, str)):
                return False
        for name, limit in _STR_LIMITS:
            value = getattr(ll, name)
            if value is not None and not (0 < len(value) <= limit and isinstance(value, str)):
                return False
        for name, allowed in _SETS:
            value = getattr(ll, name)
            if value is not None and value not in allowed:
                return False
        for name in _DATES:
            value = getattr(ll, name)
            if value is not None and not isinstance(value, dt.date):
                return False
        mutatiedatum: object = ll.mutatiedatum
        if mutatiedatum is not None and not isinstance(mutatiedatum, dt.datetime):
            return False
        ids = 0
        for name, digits in _NATIONAL_IDS:
            value = getattr(ll, name)
            if value is not None:
                ids += 1
                if DIGITS_RE[digits].fullmatch(value) is None:
                    return False
        if ids > 1 or sum(getattr(ll, name) is not None for name in _POSTCODES) > 1:
            return False
        if ll.postcodenl is not None and POSTCODENL_RE.fullmatch(ll.postcodenl) is None:
            return False
        return ll.postnummerbe is None or DIGITS_RE[4].fullmatch(ll.postnummerbe) is not None
    except TypeError:  # a value of the wrong type; the detailed check says which
        return False


def _leerkracht_problems(problems: list[str], lk: Leerkracht) -> None:
    where = f"leerkracht {lk.key!r}"
    _check_required(problems, where, "key", lk.key, MAX_KEY)
    _check_str(problems, where, "eckid", lk.eckid, MAX_KEY)
    _check_names(problems, where, lk)
    _check_str(problems, where, "gebruikersnaam", lk.gebruikersnaam, 64)
    _check_str(problems, where, "emailadres", lk.emailadres, 256)
    _rol_problems(problems, where, lk.rollen, lk.rolomschrijvingen)
    for groep in lk.groepen:
        _check_required(problems, where, "groep/@key", groep.key, MAX_KEY)
        _rol_problems(problems, where, groep.rollen, groep.rolomschrijvingen)
    _check_datetime(problems, where, "mutatiedatum", lk.mutatiedatum)


def _rol_problems(problems: list[str], where: str, rollen: Iterable[str], omschrijvingen: Iterable[str]) -> None:
    for rol in rollen:
        if rol not in ROLLEN:
            problems.append(f"{where}: 'rol' {rol!r} is geen geldige rolcode")
    for text in omschrijvingen:
        _check_str(problems, where, "rolomschrijving", text, 64)


def field_problems(data: Leerlinggegevens, xsdversie: str = "2.2") -> list[str]:
    """Every field-level violation of the EDEXML types in `data` (empty list: all fine)."""
    problems = school_problems(data.school)
    for label, records in (
        ("vestiging", data.vestigingen),
        ("groep", data.groepen),
        ("samengestelde_groep", data.samengestelde_groepen),
    ):
        for record in records:
            where = f"{label} {record.key!r}"
            _check_required(problems, where, "key", record.key, MAX_KEY)
            _check_required(problems, where, "naam", record.naam, 64)
            _check_str(problems, where, "omschrijving", record.omschrijving, 256)
            _check_datetime(problems, where, "mutatiedatum", record.mutatiedatum)
    for g in data.groepen:
        if g.jaargroep not in JAARGROEPEN:
            problems.append(f"groep {g.key!r}: 'jaargroep' {g.jaargroep!r} is geen geldige jaargroep")
    v23 = xsdversie == "2.3"
    for ll in data.leerlingen:
        # tens of thousands of pupils: a cheap all-clear first, the detailed report only for the bad ones
        if not _leerling_ok(ll, v23):
            _leerling_problems(problems, ll, xsdversie)
    for lk in data.leerkrachten:
        _leerkracht_problems(problems, lk)
    return problems


_KEY: Final = attrgetter("key")


def _duplicates(values: Sequence[str | None]) -> list[str]:
    present = [v for v in values if v is not None]
    if len(set(present)) == len(present):  # the usual case, decided in C
        return []
    seen: set[str] = set()
    dups: list[str] = []
    for value in values:
        if value is None:
            continue
        if value in seen:
            dups.append(value)
        seen.add(value)
    return dups


def referential_problems(data: Leerlinggegevens, operation: Operation = Operation.HAAL_LEERLINGGEGEVENS) -> list[str]:
    """The XSD identity constraints (UWLR-SPEC §4g) that no schema validator enforces.

    References are only resolved in the all-in-one answer: in getrapt answers they point to the structure the
    client fetched earlier.
    """
    problems: list[str] = []
    keyed: tuple[tuple[str, Sequence[str | None]], ...] = (
        ("vestiging", [v.key for v in data.vestigingen]),
        ("groep", [g.key for g in data.groepen] + [s.key for s in data.samengestelde_groepen]),
        ("leerling", list(map(_KEY, data.leerlingen))),
        ("leerkracht", [lk.key for lk in data.leerkrachten]),
    )
    for label, values in keyed:
        for dup in _duplicates(values):
            problems.append(f"dubbele key {dup!r} bij {label}")
    for label, eckids in (
        ("leerling", [ll.eckid or None for ll in data.leerlingen]),
        ("leerkracht", [lk.eckid or None for lk in data.leerkrachten]),
    ):
        for dup in _duplicates(eckids):
            problems.append(f"dubbele eckid {dup!r} bij {label}")
    if operation is not Operation.HAAL_LEERLINGGEGEVENS:
        return problems
    groepen = {g.key for g in data.groepen}
    samengesteld = {s.key for s in data.samengestelde_groepen}
    vestigingen = {v.key for v in data.vestigingen}
    leerlingen = data.leerlingen
    # tens of thousands of pupils: the all-clear is decided in C (map, sets); the loop below only names the culprits
    if not (
        set(map(_GROEP, leerlingen)) - {None} <= groepen
        and set(chain.from_iterable(map(_SAMENGESTELDE_GROEPEN, leerlingen))) <= samengesteld
        and set(map(_VESTIGING, leerlingen)) - {None} <= vestigingen
    ):
        _leerling_reference_problems(problems, leerlingen, groepen, samengesteld, vestigingen)
    for lk in data.leerkrachten:
        for link in lk.groepen:
            known = samengesteld if link.samengesteld else groepen
            if link.key not in known:
                kind = "samengestelde_groep" if link.samengesteld else "groep"
                problems.append(f"leerkracht {lk.key!r} verwijst naar onbekende {kind} {link.key!r}")
    return problems


_GROEP: Final = attrgetter("groep")
_SAMENGESTELDE_GROEPEN: Final = attrgetter("samengestelde_groepen")
_VESTIGING: Final = attrgetter("vestiging")


def _leerling_reference_problems(
    problems: list[str],
    leerlingen: Sequence[Leerling],
    groepen: set[str],
    samengesteld: set[str],
    vestigingen: set[str],
) -> None:
    for ll in leerlingen:
        who = ll.key if ll.key is not None else ll.eckid
        if ll.groep is not None and ll.groep not in groepen:
            problems.append(f"leerling {who!r} verwijst naar onbekende groep {ll.groep!r}")
        for ref in ll.samengestelde_groepen:
            if ref not in samengesteld:
                problems.append(f"leerling {who!r} verwijst naar onbekende samengestelde_groep {ref!r}")
        if ll.vestiging is not None and ll.vestiging not in vestigingen:
            problems.append(f"leerling {who!r} verwijst naar onbekende vestiging {ll.vestiging!r}")


def check_antwoord(
    data: Leerlinggegevens,
    operation: Operation = Operation.HAAL_LEERLINGGEGEVENS,
    xsdversie: str = "2.2",
) -> None:
    """Raise `OngeldigAntwoord` listing every field and referential problem of `data` for this operation."""
    if xsdversie not in XSD_VERSIES:
        raise OngeldigAntwoord(f"xsdversie {xsdversie!r} wordt niet ondersteund")
    problems = field_problems(data, xsdversie) + referential_problems(data, operation)
    if problems:
        raise OngeldigAntwoord(problems)
