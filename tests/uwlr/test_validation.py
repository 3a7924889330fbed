"""uwlr.validation: field formats and the model-level checks a LAS can run before sending."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.uwlr.lg_samples import SCHEMAS, full_school, leerlinggegevens_schema
from uwlr.leerlinggegevens import build_answer
from uwlr.model import Leerkracht, LeerkrachtGroep, Leerling, Operation, School
from uwlr.schema import load_schema, validation_errors
from uwlr.validation import (
    OngeldigAntwoord,
    check_antwoord,
    field_problems,
    format_datetime,
    parse_date,
    parse_datetime,
    referential_problems,
    school_problems,
    valid_brincode,
    valid_dependancecode,
    valid_schooljaar,
)


def test_patterns() -> None:
    assert valid_schooljaar("2025-2026") and valid_schooljaar("1999-2000")
    assert not any(valid_schooljaar(v) for v in ("2025-2027", "2025/2026", "25-26", "3025-3026", " 2025-2026", None))
    assert valid_brincode("21QW") and not any(valid_brincode(v) for v in ("21qw", "21QW0", "2QWX", "٢١QW", None))
    assert not valid_schooljaar(2025) and not valid_brincode(21) and not valid_dependancecode(0)  # type: ignore[arg-type]
    assert valid_dependancecode("00") and not any(valid_dependancecode(v) for v in ("0", "001", "a1", None))


def test_dates_and_datetimes() -> None:
    assert parse_date("2015-03-02") == dt.date(2015, 3, 2)
    assert parse_date("2015-03-02+01:00") == dt.date(2015, 3, 2)
    assert parse_date(" 2015-03-02 ") == dt.date(2015, 3, 2)
    for bad in ("2015-02-30", "2015-W10-1", "20150302", "02-03-2015", "", None):
        assert parse_date(bad) is None
    naive = parse_datetime("2024-11-11T00:05:46")
    assert naive == dt.datetime(2024, 11, 11, 0, 5, 46) and naive.tzinfo is None
    assert parse_datetime("2024-11-11T00:05:46Z") == dt.datetime(2024, 11, 11, 0, 5, 46, tzinfo=dt.UTC)
    assert parse_datetime("2024-11-11T00:05:46-05:30") == dt.datetime(
        2024, 11, 11, 0, 5, 46, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))
    )
    for bad in ("2024-11-11T00:05", "2024-11-11T00:05:46+15:00", "2024-11-11T25:00:00", "x"):
        assert parse_datetime(bad) is None
    for value in (dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)):
        assert parse_datetime(format_datetime(value)) == value
    lmt = dt.timezone(dt.timedelta(minutes=19, seconds=32))
    assert parse_datetime(format_datetime(dt.datetime(1900, 1, 1, tzinfo=lmt))) == dt.datetime(1900, 1, 1, tzinfo=lmt)


def test_field_problems_name_the_field_and_record() -> None:
    data = full_school()
    assert field_problems(data) == []
    data.leerlingen[0] = dataclasses.replace(
        data.leerlingen[0],
        voorletters="ABCDEFG",
        geslacht=3,
        jaargroep="9",
        land="XX",
        bsn="12345678",
        postcodenl="1234 AB",
        gewicht="0.5",
    )
    data.leerlingen[1].achternaam = None
    data.leerlingen[1].roepnaam = None
    data.leerkrachten[0].rollen.append("BAAS")
    data.groepen[0].jaargroep = "10"
    data.school.brincode = "21qw"
    problems = field_problems(data)
    for fragment in (
        "leerling 'L00000': 'voorletters-1' moet 1 tot 6",
        "'geslacht'",
        "'jaargroep' '9'",
        "'land' 'XX'",
        "slechts één van sofinummer",
        "'bsn' moet uit 9 cijfers",
        "'postcodenl'",
        "'gewicht'",
        "leerling 'L00001': 'achternaam' of 'roepnaam' is verplicht",
        "leerkracht 'T1': 'rol' 'BAAS'",
        "groep 'G5A': 'jaargroep' '10'",
        "school: 'brincode'",
    ):
        assert any(fragment in p for p in problems), (fragment, problems)


def test_structure_records_need_key_and_naam() -> None:
    data = full_school()
    data.groepen[0].key = None  # type: ignore[assignment]
    data.vestigingen[0].naam = None  # type: ignore[assignment]
    data.samengestelde_groepen[0].mutatiedatum = "gisteren"  # type: ignore[assignment]
    data.leerkrachten[0].groepen[0].key = None  # type: ignore[assignment]
    problems = field_problems(data)
    assert "groep None: 'key' is verplicht" in problems
    assert "vestiging 'V1': 'naam' is verplicht" in problems
    assert "samengestelde_groep 'SG-REK': 'mutatiedatum' moet een datum-tijd zijn, geen str" in problems
    assert "leerkracht 'T1': 'groep/@key' is verplicht" in problems


def test_school_problems() -> None:
    assert school_problems(School("2025-2026", brincode="21QW", dependancecode="01")) == []
    assert school_problems(School("2025-2026", schoolkey="S")) == []
    assert school_problems(School("2025-2026")) == []  # the XSD allows a school without identification
    assert "dependancecode" in " ".join(school_problems(School("2025-2026", dependancecode="01")))
    assert "sluiten elkaar uit" in " ".join(
        school_problems(School("2025-2026", brincode="21QW", instellingsnummer="12"))
    )
    assert "schooljaar" in " ".join(school_problems(School("2025-2027")))
    assert "peildatum" in " ".join(school_problems(School("2025-2026", peildatum="2025-10-01")))  # type: ignore[arg-type]
    assert "aanmaakdatum" in " ".join(school_problems(School("2025-2026", aanmaakdatum=dt.date(2025, 1, 1))))  # type: ignore[arg-type]


def test_referential_problems_and_check_antwoord() -> None:
    data = full_school()
    assert referential_problems(data) == []
    data.leerlingen.append(Leerling("L00000", roepnaam="Dubbel", eckid=""))
    data.leerkrachten.append(Leerkracht("T9", achternaam="X", groepen=[LeerkrachtGroep("G5A", samengesteld=True)]))
    problems = referential_problems(data)
    assert "dubbele key 'L00000' bij leerling" in problems
    assert "leerkracht 'T9' verwijst naar onbekende samengestelde_groep 'G5A'" in problems
    assert not any("eckid ''" in p for p in problems)  # empty eckids are not identifiers
    with pytest.raises(OngeldigAntwoord) as info:
        check_antwoord(data)
    # an empty eckid is not "no eckid": the schema demands 1..256 characters, so it is refused before sending
    assert info.value.problemen == [
        "leerling 'L00000': 'eckid' moet 1 tot 256 tekens lang zijn",
        "dubbele key 'L00000' bij leerling",
        "leerkracht 'T9' verwijst naar onbekende samengestelde_groep 'G5A'",
    ]
    # getrapt answers refer to the structure fetched before: references are not resolved there
    assert referential_problems(data, Operation.HAAL_LEERKRACHTEN) == ["dubbele key 'L00000' bij leerling"]


def test_pupils_referring_to_unknown_groups_and_vestigingen_are_named() -> None:
    data = full_school(6)
    assert data.groepen and data.samengestelde_groepen and data.vestigingen
    data.leerlingen[1].groep = "GEEN"
    data.leerlingen[2].samengestelde_groepen = [data.samengestelde_groepen[0].key, "WEG"]
    data.leerlingen[3].vestiging = "ELDERS"
    data.leerlingen[4].groep = data.samengestelde_groepen[0].key  # a stamgroep reference must be a groep
    assert referential_problems(data) == [
        f"leerling {data.leerlingen[1].key!r} verwijst naar onbekende groep 'GEEN'",
        f"leerling {data.leerlingen[2].key!r} verwijst naar onbekende samengestelde_groep 'WEG'",
        f"leerling {data.leerlingen[3].key!r} verwijst naar onbekende vestiging 'ELDERS'",
        f"leerling {data.leerlingen[4].key!r} verwijst naar onbekende groep {data.samengestelde_groepen[0].key!r}",
    ]
    data.leerlingen[2].key = None  # in 2.3 a pupil may be known by its ECK iD alone: it is named by that
    assert f"leerling {data.leerlingen[2].eckid!r} verwijst naar onbekende samengestelde_groep 'WEG'" in (
        referential_problems(data)
    )


def test_key_may_be_missing_only_in_23_with_eckid() -> None:
    data = full_school()
    data.leerlingen[0].key = None
    assert any("'key' is verplicht" in p for p in field_problems(data, "2.2"))
    assert field_problems(data, "2.3") == []
    with pytest.raises(OngeldigAntwoord, match="xsdversie"):
        check_antwoord(data, xsdversie="9.9")


def test_uwlr_modules_import_without_django() -> None:
    code = (
        "import sys, uwlr.model, uwlr.leerlinggegevens, uwlr.validation, uwlr.profiles, uwlr.schema;"
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


SINGLE_CORRUPTIONS = {
    "key too long": {"key": "x" * 257},
    "key empty": {"key": ""},
    "key not a string": {"key": 12},
    "eckid empty": {"eckid": ""},
    "achternaam too long": {"achternaam": "x" * 201},
    "voorvoegsel too long": {"voorvoegsel": "x" * 11},
    "voornamen empty": {"voornamen": ""},
    "voorletters too long": {"voorletters": "x" * 7},
    "roepnaam too long": {"roepnaam": "x" * 65},
    "geboortedatum as text": {"geboortedatum": "2015-03-02"},
    "geslacht": {"geslacht": 5},
    "jaargroep": {"jaargroep": "10"},
    "groep empty": {"groep": ""},
    "samengestelde ref empty": {"samengestelde_groepen": [""]},
    "vestiging too long": {"vestiging": "v" * 257},
    "gebruikersnaam too long": {"gebruikersnaam": "g" * 65},
    "emailadres empty": {"emailadres": ""},
    "fotourl too long": {"fotourl": "f" * 257},
    "etniciteit": {"etniciteit": "2"},
    "land": {"land": "nl"},
    "land_vader": {"land_vader": "ZZ"},
    "land_moeder": {"land_moeder": ""},
    "two national ids": {"bsn": "123456789", "onderwijsnummer": "123456789"},
    "sofinummer": {"sofinummer": "12345678a"},
    "bsn_ondwnr_4": {"bsn_ondwnr_4": "12345"},
    "rijksregisternummer": {"rijksregisternummer": "1234567890"},
    "gewicht_nieuw": {"gewicht_nieuw": "0.3"},
    "gewicht": {"gewicht": "0,25"},
    "two postcodes": {"postcodenl": "1234AB", "postnummerbe": "1000"},
    "postcodenl": {"postcodenl": "1234ab"},
    "postnummerbe": {"postnummerbe": "10000"},
    "postcodeoverig too long": {"postcodeoverig": "p" * 33},
    "instroomdatum as datetime string": {"instroomdatum": "x"},
    "mutatiedatum as date": {"mutatiedatum": dt.date(2025, 1, 1)},
    "voorvoegsel without achternaam": {"achternaam": None, "roepnaam": "P", "voorvoegsel": "de"},
    "no name at all": {"achternaam": None, "roepnaam": None},
}


@pytest.mark.parametrize("name", list(SINGLE_CORRUPTIONS))
def test_every_single_bad_pupil_field_is_found(name: str) -> None:
    # guards the cheap all-clear path: it must never pass a pupil the detailed check would refuse
    base = Leerling("L1", eckid="E1", achternaam="Jansen", roepnaam="Piet", bsn=None)
    data = full_school(1)
    data.leerlingen = [dataclasses.replace(base, **SINGLE_CORRUPTIONS[name])]
    assert field_problems(data) != []
    data.leerlingen = [base]
    assert field_problems(data) == []


_ANYTHING = st.one_of(
    st.none(),
    st.integers(-5, 20),
    st.text(max_size=300),
    st.sampled_from(["5", "C", "NL", "0,3", "0.25", "1234AB", "1234", "123456789", "LRK", "\x00", "2025-01-01"]),
    st.dates(),
    st.datetimes(),
    st.lists(st.text(max_size=3), max_size=2),
)
_TARGETS = (
    [("leerlingen", f.name) for f in dataclasses.fields(Leerling)]
    + [("leerkrachten", f.name) for f in dataclasses.fields(Leerkracht)]
    + [("school", f.name) for f in dataclasses.fields(School)]
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_TARGETS), _ANYTHING, st.sampled_from(list(Operation)), st.sampled_from(["2.1", "2.2", "2.3"]))
def test_property_any_wrong_value_is_refused_cleanly_or_sent_valid(
    target: tuple[str, str], value: object, op: Operation, xsdversie: str
) -> None:
    data = full_school(2)
    where, name = target
    record = data.school if where == "school" else getattr(data, where)[0]
    setattr(record, name, value)
    try:
        body = build_answer(op, data, xsdversie=xsdversie)
    except OngeldigAntwoord:
        return
    # 2.3 may leave the key out for pupils with an ECK iD: its reading of the schema is the one to hold it to
    schema = load_schema(SCHEMAS, uwlr23=True) if xsdversie == "2.3" else leerlinggegevens_schema()
    assert validation_errors(schema, body) == [], (target, value)
