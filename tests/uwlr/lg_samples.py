"""Sample Leerlinggegevens and hypothesis strategies for the uwlr Leerlinggegevens tests."""

from __future__ import annotations

import copy
import datetime as dt
import secrets
import string
from pathlib import Path

from hypothesis import strategies as st
from lxml import etree

from uwlr.model import (
    JAARGROEPEN,
    ROLLEN,
    Groep,
    Leerkracht,
    LeerkrachtGroep,
    Leerling,
    Leerlinggegevens,
    SamengesteldeGroep,
    School,
    Vestiging,
)
from uwlr.schema import load_schema

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SCHEMAS = SHARED / "uwlr-schemas" / "Schemas"
EXAMPLES = SHARED / "uwlr-examples"
WSDL = SHARED / "uwlr-schemas" / "wsdl" / "UWLR_Leerlinggegevens_v2p2.wsdl"


def eckid(n: int | None = None) -> str:
    tail = f"{n:0128x}" if n is not None else secrets.token_hex(64)
    return "https://ketenid.nl/201703/" + tail


def full_school(pupils: int = 4, schooljaar: str = "2025-2026") -> Leerlinggegevens:
    """A school that exercises every element the schema allows (in its valid combinations)."""
    school = School(
        schooljaar=schooljaar,
        peildatum=dt.date(2025, 10, 1),
        brincode="21QW",
        dependancecode="01",
        schoolkey="SCHOOL-1",
        aanmaakdatum=dt.datetime(2025, 10, 2, 8, 30, 15),
        auteur="Koppelpunt & co <test>",
        xsdversie="2.2",
        commentaar="Testschool 'De Regenboog' — \"citaat\"",
    )
    vestigingen = [
        Vestiging("V1", "Hoofdlocatie", "Aan de Dorpsstraat", dt.datetime(2025, 9, 1, 12, 0, tzinfo=dt.UTC)),
        Vestiging("V2", "Dependance"),
    ]
    groepen = [
        Groep("G5A", "Groep 5a", "5", "Juf Anna", dt.datetime(2025, 8, 30, 10, 0, 0, 123000)),
        Groep("G34", "Groep 3/4", "C"),
        Groep("G-baby", "Babygroep", "B"),
    ]
    samengesteld = [
        SamengesteldeGroep("SG-REK", "Rekengroep", "Plusklas rekenen", dt.datetime(2025, 9, 2, 9, 0)),
        SamengesteldeGroep("SG-TAAL", "Taalgroep"),
    ]
    leerlingen: list[Leerling] = []
    for i in range(pupils):
        kind = i % 4
        ll = Leerling(
            key=f"L{i:05d}",
            eckid=eckid(i + 1) if kind != 3 else None,
            achternaam=f"Jansen-{i}" if kind != 2 else None,
            voorvoegsel="de" if kind == 0 else None,
            voornamen="Pieter Jan" if kind == 0 else None,
            voorletters="P.J." if kind == 0 else None,
            roepnaam="Piet" if kind != 1 else None,
            geboortedatum=dt.date(2015, 3, 2 + i % 20),
            geslacht=(0, 1, 2, 9)[kind],
            start_ondw_jgr3=dt.date(2021, 8, 20) if kind == 0 else None,
            jaargroep=("5", "3", "4", "C")[kind],
            groep=("G5A", "G34", None, "G34")[kind],
            samengestelde_groepen=["SG-REK", "SG-TAAL"] if kind == 0 else (["SG-TAAL"] if kind == 1 else []),
            vestiging="V1" if kind < 2 else None,
            gebruikersnaam=f"piet{i}" if kind == 0 else None,
            emailadres=f"piet{i}@school.example" if kind == 0 else None,
            fotourl="https://school.example/foto?id=1&x=2" if kind == 0 else None,
            etniciteit="9" if kind == 0 else None,
            land="NL" if kind == 0 else None,
            land_vader="BE" if kind == 0 else None,
            land_moeder="?" if kind == 0 else None,
            bsn_ondwnr_4="1234" if kind in (0, 2) else None,
            bsn="123456782" if kind == 1 else None,
            rijksregisternummer="12345678901" if kind == 3 else None,
            gewicht_nieuw="0,3" if kind == 0 else None,
            gewicht="0.25" if kind == 0 else None,
            postcodenl="1234AB" if kind == 0 else None,
            postnummerbe="1000" if kind == 1 else None,
            postcodeoverig="SW1A 1AA" if kind == 2 else None,
            instroomdatum=dt.date(2019, 8, 19) if kind == 0 else None,
            uitstroomdatum=dt.date(2027, 7, 9) if kind == 0 else None,
            mutatiedatum=dt.datetime(2025, 9, 1, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))) if kind else None,
        )
        leerlingen.append(ll)
    leerkrachten = [
        Leerkracht(
            key="T1",
            eckid=eckid(999),
            achternaam="Bakker",
            voorvoegsel="van",
            voornamen="Anna Maria",
            voorletters="A.M.",
            roepnaam="Anna",
            gebruikersnaam="abakker",
            emailadres="a.bakker@school.example",
            rollen=["LRK", "IB"],
            rolomschrijvingen=["Bouwcoördinator"],
            groepen=[
                LeerkrachtGroep("G5A", rollen=["LRK"]),
                LeerkrachtGroep("SG-REK", samengesteld=True, rolomschrijvingen=["Plusklasjuf"]),
                LeerkrachtGroep("G34"),
            ],
            mutatiedatum=dt.datetime(2025, 9, 1, 7, 0),
        ),
        Leerkracht(key="T2", roepnaam="Bram"),
    ]
    return Leerlinggegevens(school, vestigingen, groepen, samengesteld, leerlingen, leerkrachten)


def leerlinggegevens_schema() -> etree.XMLSchema:
    return load_schema(SCHEMAS)


# ------------------------------------------------------------------------------------------------ strategies

_TEXT_ALPHABET = st.characters(
    codec="utf-8",
    exclude_categories=("Cs", "Cc"),
    exclude_characters="\ufffe\uffff",
) | st.sampled_from("&<>\"'\t\n\r ")


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(_TEXT_ALPHABET, min_size=1, max_size=max_size)


keys = st.text(string.ascii_letters + string.digits + '-_.&<>" ', min_size=1, max_size=20)
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))
datetimes = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31)) | st.datetimes(
    min_value=dt.datetime(1990, 1, 1),
    max_value=dt.datetime(2040, 12, 31),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=-5))]),
)
digits = {n: st.text("0123456789", min_size=n, max_size=n) for n in (4, 9, 11)}


@st.composite
def schools(draw: st.DrawFn) -> Leerlinggegevens:
    year = draw(st.integers(1995, 2060))
    school = School(
        schooljaar=f"{year}-{year + 1}",
        peildatum=draw(st.none() | dates),
        brincode=draw(st.none() | st.from_regex(r"[0-9]{2}[A-Z]{2}", fullmatch=True)),
        aanmaakdatum=draw(st.none() | datetimes),
        auteur=draw(st.none() | text(128)),
        xsdversie="2.2",
        commentaar=draw(st.none() | text(200)),
    )
    if school.brincode is not None:
        school.dependancecode = draw(st.none() | st.from_regex(r"(0[1-9]|[1-9][0-9])", fullmatch=True))
    school.schoolkey = draw(st.none() | keys)
    groep_keys = draw(st.lists(keys, max_size=6, unique=True))
    split = draw(st.integers(0, len(groep_keys)))
    groepen = [Groep(k, draw(text(64)), draw(st.sampled_from(sorted(JAARGROEPEN)))) for k in groep_keys[:split]]
    samengesteld = [SamengesteldeGroep(k, draw(text(64)), draw(st.none() | text(256))) for k in groep_keys[split:]]
    vestigingen = [Vestiging(k, draw(text(64))) for k in draw(st.lists(keys, max_size=3, unique=True))]
    pupil_keys = draw(st.lists(keys, min_size=1, max_size=12, unique=True))
    eck_numbers = draw(st.lists(st.integers(1, 10**9), min_size=len(pupil_keys), max_size=len(pupil_keys), unique=True))
    leerlingen = []
    for key, number in zip(pupil_keys, eck_numbers, strict=True):
        with_surname = draw(st.booleans())
        id_field = draw(
            st.sampled_from([None, "bsn", "bsn_ondwnr_4", "onderwijsnummer", "sofinummer", "rijksregisternummer"])
        )
        ll = Leerling(
            key=key,
            eckid=eckid(number) if draw(st.booleans()) else None,
            achternaam=draw(text(200)) if with_surname else None,
            voorvoegsel=draw(st.none() | text(10)) if with_surname else None,
            voornamen=draw(st.none() | text(200)) if with_surname else None,
            voorletters=draw(st.none() | text(6)) if with_surname else None,
            roepnaam=draw(st.none() | text(64)) if with_surname else draw(text(64)),
            geboortedatum=draw(st.none() | dates),
            geslacht=draw(st.none() | st.sampled_from([0, 1, 2, 9])),
            jaargroep=draw(st.none() | st.sampled_from(sorted(JAARGROEPEN))),
            groep=draw(st.none() | st.sampled_from([g.key for g in groepen])) if groepen else None,
            samengestelde_groepen=draw(st.lists(st.sampled_from([s.key for s in samengesteld]), unique=True))
            if samengesteld
            else [],
            vestiging=draw(st.none() | st.sampled_from([v.key for v in vestigingen])) if vestigingen else None,
            emailadres=draw(st.none() | text(256)),
            mutatiedatum=draw(st.none() | datetimes),
        )
        if id_field is not None:
            n = {"bsn_ondwnr_4": 4, "rijksregisternummer": 11}.get(id_field, 9)
            setattr(ll, id_field, draw(digits[n]))
        leerlingen.append(ll)
    leerkrachten = []
    for key in draw(st.lists(keys, max_size=4, unique=True)):
        links = (
            [
                LeerkrachtGroep(
                    g.key,
                    isinstance(g, SamengesteldeGroep),
                    draw(st.lists(st.sampled_from(sorted(ROLLEN)), max_size=2)),
                    draw(st.lists(text(64), max_size=1)),
                )
                for g in draw(st.lists(st.sampled_from([*groepen, *samengesteld]), unique_by=lambda g: g.key))
            ]
            if (groepen or samengesteld)
            else []
        )
        leerkrachten.append(
            Leerkracht(
                key=key,
                achternaam=draw(text(200)),
                roepnaam=draw(st.none() | text(64)),
                rollen=draw(st.lists(st.sampled_from(sorted(ROLLEN)), max_size=3)),
                rolomschrijvingen=draw(st.lists(text(64), max_size=2)),
                groepen=links,
            )
        )
    return Leerlinggegevens(school, vestigingen, groepen, samengesteld, leerlingen, leerkrachten)


def restructure(draw: st.DrawFn, el: etree._Element, action: str) -> bool:
    """The structural mutations the mutation tests share: drop `el`, duplicate it, or move it among its siblings.
    False for any other action (the caller's own)."""
    parent = el.getparent()
    assert parent is not None
    if action == "drop":
        parent.remove(el)
    elif action == "duplicate":
        el.addnext(copy.deepcopy(el))
    elif action == "move":
        parent.remove(el)
        parent.insert(draw(st.integers(0, len(parent))), el)
    else:
        return False
    return True
