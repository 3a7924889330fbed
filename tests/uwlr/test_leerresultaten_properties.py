"""Property tests: any valid LeerresultatenVerzoek builds to XSD-valid bytes and parses back to an equal object."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.uwlr.test_leerresultaten import AUT, EXT_NS, assert_valid, body_of, extended_schema, toetsdefinities_schema
from uwlr import leerresultaten as lr
from uwlr import soap
from uwlr.faults import ToetsNormeringOngeldig
from uwlr.namespaces import LEERRESULTATEN

# XML 1.0 characters only (no C0 controls except tab/LF/CR, no surrogates, no U+FFFE/U+FFFF).
_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")).filter(
    lambda c: c not in "\ufffe\uffff"
) | st.sampled_from("\t\n\r ")


def text(maximum: int | None = 256, minimum: int = 1) -> st.SearchStrategy[str]:
    return st.text(_chars, min_size=minimum, max_size=min(maximum or 40, 40))


def maybe(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | strategy


uris = st.sampled_from(["urn:voc:a", "http://purl.edustandaard.nl/concept/328cc12a", "https://example.org/v?x=1&y"])
decimals = st.decimals(min_value=-10**6, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)
velden = st.builds(lr.VocabulaireGebondenVeld, text(), maybe(uris), maybe(uris))
timezones = st.none() | st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
aanmaakdata = st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=timezones)


@st.composite
def normeringen(draw: st.DrawFn) -> lr.Normering:
    bounds = sorted(draw(st.lists(st.integers(0, 10**6), min_size=1, max_size=10, unique=True)))
    if len(bounds) % 2:
        bounds.append(bounds[-1])  # a single-score band
    norms = []
    for begin, eind in zip(bounds[::2], bounds[1::2], strict=True):
        kleur = draw(maybe(st.builds(lr.Normkleur, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
                                     st.decimals(0, 1, places=2))))
        cijfers = sorted(draw(st.lists(st.decimals(1, 10, places=2), min_size=2, max_size=2)))
        vanaf, totenmet = draw(st.sampled_from([(None, None), (cijfers[0], None), (None, cijfers[1]), tuple(cijfers)]))
        norms.append(lr.Norm(draw(text(64)), begin, eind, draw(maybe(text(128))), kleur, vanaf, totenmet))
    order = draw(st.permutations(norms))  # bands need not be sorted on the wire
    return lr.Normering(tuple(order), draw(maybe(velden)), draw(maybe(velden)), draw(maybe(decimals)),
                        draw(maybe(uris)), draw(maybe(uris)))


@st.composite
def toetsen_strategy(draw: st.DrawFn) -> tuple[lr.Toets, ...]:
    codes = draw(st.lists(text(), min_size=1, max_size=4, unique=True))
    toetsen = []
    for code in codes:
        onderdeel_codes = draw(st.lists(text(), max_size=3, unique=True))
        volgnummers = draw(st.lists(st.integers(1, 10**6), min_size=len(onderdeel_codes),
                                    max_size=len(onderdeel_codes), unique=True))
        onderdelen = tuple(
            lr.Toetsonderdeel(nr, lr.VocabulaireGebondenVeld(oc, draw(maybe(uris))), draw(maybe(text(128))),
                              draw(maybe(normeringen())))
            for nr, oc in zip(volgnummers, onderdeel_codes, strict=True)
        )
        hierarchie = tuple(draw(st.lists(st.builds(lr.HierarchieIngang, velden, st.integers(-5, 99)), max_size=3)))
        toetsen.append(lr.Toets(
            lr.VocabulaireGebondenVeld(code, draw(maybe(uris))), draw(maybe(velden)), draw(maybe(text(128))),
            draw(maybe(velden)), draw(maybe(velden)), draw(maybe(normeringen())), hierarchie, onderdelen,
        ))
    return tuple(toetsen)


int32 = st.integers(-(2**31), 2**31 - 1)


@st.composite
def oso_resultaten(draw: st.DrawFn) -> lr.OsoResultaat:
    interval = None
    if draw(st.booleans()):
        low, high = sorted(draw(st.lists(decimals, min_size=2, max_size=2)))
        interval = lr.Betrouwbaarheidsinterval(low, high)
    toetsscore = draw(maybe(st.builds(
        lr.Toetsscore, maybe(int32), maybe(int32), maybe(int32), maybe(int32), maybe(decimals), maybe(decimals),
        maybe(text(None)), st.just(interval),
    )))
    refs = draw(st.lists(st.builds(lr.Referentiescore, text(None), text(None), text(None), maybe(text(None))),
                         max_size=3))
    return lr.OsoResultaat(toetsscore, tuple(refs))  # type: ignore[arg-type]


@st.composite
def ander_resultaten(draw: st.DrawFn) -> lr.AnderResultaat:
    parts = []
    if draw(st.booleans()):
        parts.append(f'<lr:andere_score xmlns:lr="{LEERRESULTATEN}">{escape(draw(text(None, 0)))}</lr:andere_score>')
    if draw(st.booleans()):
        parts.append(f'<w:waarde xmlns:w="{EXT_NS}">{escape(draw(text(None, 0)))}</w:waarde>')
    attrs = (("eenheid", draw(text(None, 0))),) if draw(st.booleans()) else ()
    return lr.AnderResultaat.from_xml("MijnResultaat", EXT_NS, "".join(parts), attrs)


@st.composite
def verzoeken(draw: st.DrawFn) -> lr.LeerresultatenVerzoek:
    if draw(st.booleans()):
        dep = draw(st.sampled_from([None, "00", "01", "42"]))
        brin = draw(st.from_regex(r"[0-9]{2}[A-Z]{2}", fullmatch=True))
        ident = {"brincode": brin, "dependancecode": dep}
    else:
        ident = {"schoolkey": draw(text())}
    year = draw(st.integers(1990, 2098))
    school = lr.ResultatenSchool(
        f"{year}-{year + 1}", draw(aanmaakdata), draw(st.sampled_from(sorted(lr.SUPPORTED_XSD_VERSIONS))),
        auteur=draw(maybe(text(128))), commentaar=draw(maybe(text(128))), **ident,  # type: ignore[arg-type]
    )
    toetsen = draw(toetsen_strategy())
    uitslagen = st.integers(0, 10**12) | oso_resultaten() | ander_resultaten()
    n = draw(st.integers(1, 8))
    keys = draw(st.lists(text(), min_size=n, max_size=n, unique=True))
    resultaten = []
    for key in keys:
        toets = draw(st.sampled_from(toetsen))
        if toets.toetsonderdelen:
            onderdeel = draw(maybe(st.sampled_from([o.code.value for o in toets.toetsonderdelen])))
        else:
            onderdeel = draw(maybe(text()))
        resultaten.append(lr.Resultaat(
            key, draw(st.dates(date(1990, 1, 1), date(2100, 1, 1))), toets.toetscode.value, draw(uitslagen),
            draw(maybe(velden)), onderdeel, draw(maybe(text())),  # type: ignore[arg-type]
        ))
    afnames = []
    while resultaten:
        take = draw(st.integers(1, len(resultaten)))
        afnames.append(lr.Toetsafname(draw(text()), tuple(resultaten[:take]), draw(maybe(text())),
                                      draw(maybe(text()))))  # type: ignore[arg-type]
        resultaten = resultaten[take:]
    return lr.LeerresultatenVerzoek(school, tuple(afnames), toetsen)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(verzoeken())
def test_built_requests_are_schema_valid_and_round_trip(verzoek: lr.LeerresultatenVerzoek) -> None:
    data = lr.build_request(verzoek, AUT)
    assert_valid(extended_schema(), body_of(data))
    envelope = soap.parse_request(data)
    assert envelope.autorisatie == AUT
    assert lr.parse_request(envelope.body) == verzoek


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(toetsen_strategy())
def test_toetsdefinities_are_schema_valid_and_round_trip(toetsen: tuple[lr.Toets, ...]) -> None:
    data = lr.build_toetsdefinities(toetsen)
    assert_valid(toetsdefinities_schema(), etree.fromstring(data))
    assert lr.parse_toetsdefinities(data) == toetsen


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=5))
def test_normering_check_accepts_exactly_the_disjoint_ordered_bands(bands: list[tuple[int, int]]) -> None:
    normering = lr.Normering(tuple(lr.Norm(f"n{i}", b, e) for i, (b, e) in enumerate(bands)))
    ordered = all(b <= e for b, e in bands)
    covered = [s for b, e in bands for s in range(b, e + 1)]
    disjoint = len(covered) == len(set(covered))
    try:
        lr.check_normering(normering, "normering")
    except ToetsNormeringOngeldig:
        assert not (ordered and disjoint)
    else:
        assert ordered and disjoint
