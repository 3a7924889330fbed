"""The school's Leerlinggegevens endpoint: operations, profiles, deltas, getrapt selection, cache, WSDL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import etree

from las import leerlinggegevens as las_lg
from las.models import (
    Groep,
    Leerkracht,
    LeerkrachtGroep,
    Leerling,
    SamengesteldeGroep,
    Schooljaar,
    UwlrAntwoordCache,
    UwlrToegang,
)
from tests.las.uwlr_helpers import (
    LG_URL,
    SCHEMAS,
    activate,
    aut,
    body_of,
    call,
    fault_of,
    post,
    request,
    school,
    vestiging,
    xsd_errors,
)
from uwlr import leerlinggegevens as lg
from uwlr.model import GeenGegevens, GeenWijzigingen, GroepRef, Leerlinggegevens, Operation
from uwlr.profiles import PROFILES, apply_profile
from uwlr.schema import LVS_SET_XSD, SMALLE_SET_XSD, load_schema, validation_errors

pytestmark = pytest.mark.django_db

ALL_OPS = list(Operation)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    las_lg.cache.clear_local()


@pytest.fixture
def data() -> None:
    school("21QW", (("00", 24), ("01", 16)))
    school("12AB", (("00", 12),), seed=2)


def _groepen(op: Operation, v) -> dict:  # type: ignore[no-untyped-def]
    if op.has_groepen_ref:
        return {"groepen": (GroepRef(Groep.objects.filter(vestiging=v).first().key),)}
    return {}


def _answer(response, op: Operation = Operation.HAAL_LEERLINGGEGEVENS):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content[:600]
    return lg.parse_response(response.content, op)


def _enrolled_keys(v) -> set[str]:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    return {ll.key for ll in Leerling.objects.filter(vestiging=v) if ll.ingeschreven_op(today)}


def test_haal_leerlinggegevens_serves_exactly_the_vestigings_pupils_and_logs_it(data: None) -> None:
    v = vestiging("21QW", "00")
    k, code = activate(v, "snappet")
    response = call(Client(), Operation.HAAL_LEERLINGGEGEVENS, aut(k, code))
    antwoord = _answer(response)
    assert isinstance(antwoord, Leerlinggegevens)
    assert {ll.key for ll in antwoord.leerlingen} == _enrolled_keys(v) and len(antwoord.leerlingen) == 24
    assert antwoord.school.brincode == "21QW" and antwoord.school.dependancecode in (None, "00")
    assert antwoord.school.schoolkey == v.key
    groep_keys = set(Groep.objects.filter(vestiging=v).values_list("key", flat=True))
    assert {g.key for g in antwoord.groepen} == groep_keys
    assert all(ll.groep in groep_keys for ll in antwoord.leerlingen)
    assert antwoord.leerkrachten, "teachers of the vestiging's groups are served"
    assert xsd_errors(response) == []
    log = UwlrToegang.objects.get()
    assert (log.koppeling, log.operatie, log.uitkomst) == (k, "HaalLeerlinggegevens", "ok")
    assert (log.leerlingen, log.leerkrachten) == (24, len(antwoord.leerkrachten))
    assert log.groepen == len(antwoord.groepen) + len(antwoord.samengestelde_groepen)
    assert log.klantcode == "SNAPPET" and log.client_ip == "127.0.0.1"


@pytest.mark.parametrize("slug", ["snappet", "basispoort", "uwlr-4d", "leerling-in-beeld", "top-dossier-eckid"])
@pytest.mark.parametrize("op", ALL_OPS, ids=lambda op: op.value)
def test_every_operation_and_profile_answers_valid_against_the_official_xsd(data: None, slug: str,
                                                                         op: Operation) -> None:
    v = vestiging("21QW", "01")
    k, code = activate(v, slug)
    response = call(Client(), op, aut(k, code), v=v, **_groepen(op, v))
    assert xsd_errors(response) == []
    antwoord = _answer(response, op)
    assert isinstance(antwoord, Leerlinggegevens), antwoord
    if op in (Operation.HAAL_LEERLINGGEGEVENS, Operation.HAAL_LEERLINGEN):
        assert antwoord.leerlingen
    if op is Operation.HAAL_LEERLINGGEGEVENS and slug in ("snappet", "basispoort", "uwlr-4d", "leerling-in-beeld"):
        # The alles-in-1 answer also holds up against the official profile file of its set.
        xsd = SMALLE_SET_XSD if k.aanbod.profiel.startswith("smalle") else LVS_SET_XSD
        assert validation_errors(load_schema(SCHEMAS, xsd), body_of(response)) == []


def test_profiles_carry_only_their_fields(data: None) -> None:
    v = vestiging("21QW", "00")
    client = Client()
    served = {}
    for slug in ("snappet", "basispoort", "uwlr-4d", "leerling-in-beeld", "top-dossier-eckid"):
        k, code = activate(v, slug)
        served[slug] = _answer(call(client, Operation.HAAL_LEERLINGGEGEVENS, aut(k, code)))
    pupils_with_eckid = Leerling.objects.filter(vestiging=v).exclude(eckid="").count()
    assert pupils_with_eckid > 0
    smalle, smalle_eck = served["snappet"].leerlingen, served["basispoort"].leerlingen
    lvs, lvs_eck, eck = served["uwlr-4d"].leerlingen, served["leerling-in-beeld"].leerlingen, served[
        "top-dossier-eckid"].leerlingen
    # Smalle set: names, birth date, groups; never gender, initials, BSN digits or e-mail; ECK iD only in the eckid set
    assert all(ll.geslacht is None and ll.voorletters is None and ll.bsn_ondwnr_4 is None for ll in smalle)
    assert all(ll.emailadres is None and ll.gebruikersnaam is None and ll.voornamen is None for ll in smalle)
    assert all(ll.geboortedatum and ll.achternaam for ll in smalle)
    assert all(ll.eckid is None for ll in smalle) and all(ll.eckid is None for ll in lvs)
    assert sum(1 for ll in smalle_eck if ll.eckid) == pupils_with_eckid
    # LVS set: gender, initials, BSN digits, start groep 3 (where known)
    assert all(ll.geslacht in (1, 2) and ll.voorletters and ll.bsn_ondwnr_4 for ll in lvs)
    assert sum(1 for ll in lvs_eck if ll.eckid) == pupils_with_eckid
    # TOP dossier – ECKiD: the LAS key (leerlingnummer), the ECK iD and one name; no groups, no birth date
    assert sum(1 for ll in eck if ll.eckid) == pupils_with_eckid and all(ll.key for ll in eck)
    assert all(ll.geboortedatum is None and ll.groep is None and ll.jaargroep is None for ll in eck)
    assert all((ll.roepnaam is None) != (ll.achternaam is None) for ll in eck)
    assert served["top-dossier-eckid"].groepen == []
    # teachers: never e-mail in the LVS set, never usernames at all
    assert all(lk.emailadres is None and lk.gebruikersnaam is None for lk in served["uwlr-4d"].leerkrachten)


def test_xsdversie_21_leaves_out_eckid_and_23_uses_eckid_as_primary_identifier(data: None) -> None:
    v = vestiging("21QW", "00")
    k, code = activate(v, "basispoort")  # smalle set with ECK iD
    client = Client()
    v21 = _answer(call(client, Operation.HAAL_LEERLINGGEGEVENS, aut(k, code), xsdversie="2.1"))
    assert all(ll.eckid is None for ll in v21.leerlingen) and all(ll.key for ll in v21.leerlingen)
    response = call(client, Operation.HAAL_LEERLINGGEGEVENS, aut(k, code), xsdversie="2.3")
    v23 = lg.parse_response(response.content, Operation.HAAL_LEERLINGGEGEVENS, xsdversie="2.3")
    with_eckid = [ll for ll in v23.leerlingen if ll.eckid]
    assert with_eckid and all(ll.key is None for ll in with_eckid)
    assert all(ll.key for ll in v23.leerlingen if not ll.eckid)
    assert v23.school.xsdversie == "2.3"


@pytest.mark.parametrize("action", ['"HaalLeerlinggegevens"', "HaalLeerlinggegevens", "", '""', None])
def test_soapaction_quoted_bare_empty_or_absent_is_accepted(data: None, action: str | None) -> None:
    k, code = activate(vestiging("21QW", "00"), "snappet")
    response = post(Client(), request(Operation.HAAL_LEERLINGGEGEVENS, aut(k, code)), action)
    assert isinstance(_answer(response), Leerlinggegevens)


@pytest.mark.parametrize("action", ["HaalStructuur", '"BrengLeerresultaten"',
                                    "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens/structuur_verzoek"])
def test_soapaction_of_another_operation_is_ongeldig_bericht(data: None, action: str) -> None:
    k, code = activate(vestiging("21QW", "00"), "snappet")
    response = post(Client(), request(Operation.HAAL_LEERLINGGEGEVENS, aut(k, code)), action)
    code_, detail = fault_of(response)
    assert code_ == "Client.OngeldigBericht" and "SOAPAction" in detail


def test_http_rules_content_type_size_and_methods(data: None, settings) -> None:  # type: ignore[no-untyped-def]
    k, code = activate(vestiging("21QW", "00"), "snappet")
    body = request(Operation.HAAL_LEERLINGGEGEVENS, aut(k, code))
    client = Client()
    c, detail = fault_of(post(client, body, content_type="application/soap+xml"))
    assert c == "Client.OngeldigBericht" and "text/xml" in detail
    settings.UWLR_MAX_REQUEST_BYTES = len(body) - 1
    c, detail = fault_of(post(client, body))
    assert c == "Client.OngeldigBericht" and "te groot" in detail
    settings.UWLR_MAX_REQUEST_BYTES = len(body)
    assert post(client, body).status_code == 200
    assert client.get(LG_URL).status_code == 405
    assert client.put(LG_URL, body, content_type="text/xml").status_code == 405
    # csrf: a machine client has no token and must not need one
    assert post(Client(enforce_csrf_checks=True), body).status_code == 200


def test_wsdl_is_the_official_one_with_this_servers_address_and_its_schemas_are_served(data: None) -> None:
    client = Client()
    response = client.get(LG_URL + "?wsdl")
    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    ns = {"soap": "http://schemas.xmlsoap.org/wsdl/soap/", "xs": "http://www.w3.org/2001/XMLSchema"}
    addresses = wsdl.xpath("//soap:address/@location", namespaces=ns)
    assert addresses == ["http://testserver/school/uwlr/leerlinggegevens"] * 2
    imports = wsdl.xpath("//xs:import/@schemaLocation", namespaces=ns)
    assert imports == [
        "http://testserver/school/uwlr/leerlinggegevens?xsd=UWLR_Leerlinggegevens_v2p2.xsd",
        "http://testserver/school/uwlr/leerlinggegevens?xsd=UWLR_Autorisatie_v2p2.xsd",
    ]
    official = (SCHEMAS.parent / "wsdl" / "UWLR_Leerlinggegevens_v2p2.wsdl").read_bytes()
    assert official.count(b"<wsdl:operation") == response.content.count(b"<wsdl:operation")
    xsd = client.get(LG_URL + "?xsd=UWLR_Leerlinggegevens_v2p2.xsd")
    assert xsd.status_code == 200 and b'?xsd=EDEXML.elementen.xsd"' in xsd.content
    variabel = client.get(LG_URL + "?xsd=EDEXML.types.variabel.xsd")
    assert b'value="2026-2027"' in variabel.content
    assert client.get(LG_URL + "?xsd=../../settings.py").status_code == 404
    lr_wsdl = client.get("/school/uwlr/leerresultaten?wsdl")
    assert b'location="http://testserver/school/uwlr/leerresultaten"' in lr_wsdl.content


def test_laatstontvangengegevens_gives_geenwijzigingen_until_something_changes(data: None) -> None:
    v = vestiging("21QW", "00")
    k, code = activate(v, "snappet")
    client = Client()
    a = aut(k, code)
    na = timezone.now() + dt.timedelta(seconds=1)
    nothing = call(client, Operation.HAAL_LEERLINGGEGEVENS, a, laatstontvangengegevens=na)
    assert isinstance(_answer(nothing), GeenWijzigingen) and xsd_errors(nothing) == []
    # naive local time, as the viewer's example sends it
    naive = timezone.localtime(na).replace(tzinfo=None)
    assert isinstance(_answer(call(client, Operation.HAAL_LEERLINGGEGEVENS, a, laatstontvangengegevens=naive)),
                      GeenWijzigingen)
    for op in ALL_OPS:  # every operation knows the marker
        response = call(client, op, a, laatstontvangengegevens=na, **_groepen(op, v))
        assert isinstance(_answer(response, op), GeenWijzigingen) and xsd_errors(response) == []
    before = timezone.now() - dt.timedelta(hours=1)
    assert isinstance(_answer(call(client, Operation.HAAL_LEERLINGGEGEVENS, a, laatstontvangengegevens=before)),
                      Leerlinggegevens)
    # A change at the other vestiging does not count; one here does (a deleted pupil too).
    type(v).objects.update(gewijzigd_op=timezone.now() - dt.timedelta(hours=1))
    na = timezone.now() - dt.timedelta(minutes=30)
    other = Leerling.objects.filter(vestiging=vestiging("21QW", "01")).first()
    other.roepnaam = "Anders"
    other.save()
    assert isinstance(_answer(call(client, Operation.HAAL_LEERLINGGEGEVENS, a, laatstontvangengegevens=na)),
                      GeenWijzigingen)
    Leerling.objects.filter(vestiging=v).first().delete()
    changed = _answer(call(client, Operation.HAAL_LEERLINGGEGEVENS, a, laatstontvangengegevens=na))
    assert isinstance(changed, Leerlinggegevens) and len(changed.leerlingen) == 23
    assert UwlrToegang.objects.filter(uitkomst="geenwijzigingen").count() == 7


def test_a_pupil_enrolling_by_date_counts_as_a_change(data: None) -> None:
    v = vestiging("21QW", "00")
    k, code = activate(v, "snappet")
    ll = Leerling.objects.filter(vestiging=v).first()
    ll.instroomdatum = timezone.localdate()  # enrols today; the change itself was recorded "yesterday"
    ll.save()
    yesterday = timezone.now() - dt.timedelta(days=1)
    v.refresh_from_db()
    type(v).objects.filter(pk=v.pk).update(gewijzigd_op=yesterday - dt.timedelta(hours=1))
    antwoord = _answer(call(Client(), Operation.HAAL_LEERLINGGEGEVENS, aut(k, code),
                            laatstontvangengegevens=yesterday))
    assert isinstance(antwoord, Leerlinggegevens) and ll.key in {x.key for x in antwoord.leerlingen}


def test_geengegevens_for_a_school_year_without_data(data: None) -> None:
    v = vestiging("21QW", "00")
    k, code = activate(v, "snappet")
    client = Client()
    for jaar in ("2010-2011", "2099-2100"):
        response = call(client, Operation.HAAL_LEERLINGGEGEVENS, aut(k, code), schooljaar=jaar)
        assert isinstance(_answer(response), GeenGegevens) and xsd_errors(response) == []
    Schooljaar.objects.create(naam="2011-2012", begindatum=dt.date(2011, 8, 1), einddatum=dt.date(2012, 7, 31))
    assert isinstance(_answer(call(client, Operation.HAAL_STRUCTUUR, aut(k, code), schooljaar="2011-2012"),
                              Operation.HAAL_STRUCTUUR), GeenGegevens)
    assert UwlrToegang.objects.filter(uitkomst="geengegevens", leerlingen=0).count() == 3


def test_getrapt_returns_only_the_requested_groups(data: None) -> None:
    v = vestiging("21QW", "00")
    k, code = activate(v, "uwlr-4d")
    client = Client()
    a = aut(k, code)
    structuur = _answer(call(client, Operation.HAAL_STRUCTUUR, a), Operation.HAAL_STRUCTUUR)
    assert structuur.leerlingen == [] and structuur.leerkrachten == []
    assert {g.key for g in structuur.groepen} == set(Groep.objects.filter(vestiging=v).values_list("key", flat=True))
    groep = Groep.objects.filter(vestiging=v).order_by("naam").last()
    response = call(client, Operation.HAAL_LEERLINGEN, a, groepen=(GroepRef(groep.key),))
    leerlingen = _answer(response, Operation.HAAL_LEERLINGEN).leerlingen
    assert {ll.key for ll in leerlingen} == set(groep.leerlingen.values_list("key", flat=True)) != set()
    assert xsd_errors(response) == []
    # a samengestelde groep: its members, whatever their stamgroep
    sg = SamengesteldeGroep.objects.filter(vestiging=v).first()
    leden = list(Leerling.objects.filter(vestiging=v)[:3])
    sg.leerlingen.set(leden)
    sel = _answer(call(client, Operation.HAAL_LEERLINGEN, a, groepen=(GroepRef(sg.key, samengesteld=True),)),
                  Operation.HAAL_LEERLINGEN).leerlingen
    assert {ll.key for ll in sel} == {ll.key for ll in leden}
    # a groep without key: the pupils without a stamgroep
    los = Leerling.objects.filter(vestiging=v).last()
    los.groep = None
    los.save()
    sel = _answer(call(client, Operation.HAAL_LEERLINGEN, a, groepen=(GroepRef(None),)),
                  Operation.HAAL_LEERLINGEN).leerlingen
    assert [ll.key for ll in sel] == [los.key]
    # an unknown key or another vestiging's group: nothing
    other = Groep.objects.filter(vestiging=vestiging("21QW", "01")).first()
    none = call(client, Operation.HAAL_LEERLINGEN, a, groepen=(GroepRef(other.key), GroepRef("bestaat-niet")))
    assert isinstance(_answer(none, Operation.HAAL_LEERLINGEN), GeenGegevens)
    # teachers of one group; then the teachers without any group (head, IB)
    teachers = _answer(call(client, Operation.HAAL_LEERKRACHTEN, a, groepen=(GroepRef(groep.key),)),
                       Operation.HAAL_LEERKRACHTEN).leerkrachten
    expected = set(LeerkrachtGroep.objects.filter(groep=groep).values_list("leerkracht__key", flat=True))
    assert {lk.key for lk in teachers} == expected != set()
    zonder = _answer(call(client, Operation.HAAL_LEERKRACHTEN, a, groepen=(GroepRef(None),)),
                     Operation.HAAL_LEERKRACHTEN).leerkrachten
    # (teachers of this vestiging without a stamgroep: school staff without any group, and subject teachers who
    # only have composed groups here)
    assert {lk.key for lk in zonder} == set(
        Leerkracht.objects.filter(school=v.school, groepen=None)
        .filter(Q(samengestelde_groepen=None) | Q(samengestelde_groepen__vestiging=v)).values_list("key", flat=True))
    assert {lk.key for lk in zonder} and not any(g for lk in zonder for g in lk.groepen if not g.samengesteld)
    log = UwlrToegang.objects.filter(operatie="HaalLeerlingen", uitkomst="ok").first()
    assert log.leerlingen == 1 and log.leerkrachten == 0


def test_answers_are_cached_per_data_version_and_loaded_with_a_fixed_number_of_queries(data: None) -> None:
    v = vestiging("21QW", "00")
    k, code = activate(v, "snappet")
    client = Client()
    body = request(Operation.HAAL_LEERLINGGEGEVENS, aut(k, code))
    with CaptureQueriesContext(connection) as first:
        r1 = post(client, body)
    assert r1.status_code == 200
    assert len(first) <= 24, [q["sql"][:80] for q in first]
    assert UwlrAntwoordCache.objects.count() == 1
    las_lg.cache.clear_local()  # as if another worker answered: the database copy serves
    with CaptureQueriesContext(connection) as second:
        r2 = post(client, body)
    assert r2.content == r1.content
    assert len(second) < len(first) and not any('"las_leerling"' in q["sql"] for q in second)
    # A change bumps the data version: the next answer is rebuilt and shows it, the old copy is dropped.
    ll = Leerling.objects.filter(vestiging=v).first()
    ll.achternaam = "Nieuwenhuis-Veranderd"
    ll.save()
    r3 = post(client, body)
    assert b"Nieuwenhuis-Veranderd" in r3.content and b"Nieuwenhuis-Veranderd" not in r1.content
    assert UwlrAntwoordCache.objects.count() == 1


def test_query_count_does_not_grow_with_the_number_of_pupils() -> None:
    school("33CC", (("00", 8),), seed=3)
    school("44DD", (("00", 160),), seed=4)
    counts = []
    for brin in ("33CC", "44DD"):
        v = vestiging(brin)
        k, code = activate(v, "uwlr-4d")
        with CaptureQueriesContext(connection) as ctx:
            r = call(Client(), Operation.HAAL_LEERLINGGEGEVENS, aut(k, code), brincode=brin)
        assert r.status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_loading_in_a_profiles_shape_equals_applying_the_profile(data: None, name: str) -> None:
    """`las.leerlinggegevens.load` reads only what a profile allows; it must give what uwlr.profiles would."""
    v = vestiging("21QW", "00")
    sg = SamengesteldeGroep.objects.filter(vestiging=v).first()
    sg.leerlingen.set(Leerling.objects.filter(vestiging=v)[:4])
    jaar = Schooljaar.voor_datum()
    peildatum = las_lg.peildatum_for(jaar)
    profile = PROFILES[name]
    full = las_lg.load(v, jaar, peildatum, "2.2").data
    shaped = las_lg.load(v, jaar, peildatum, "2.2", profile).data
    expected = apply_profile(full, profile)
    shaped.school.aanmaakdatum = expected.school.aanmaakdatum  # made "now" on each call
    assert shaped == expected


def test_process_cache_is_bounded_in_bytes() -> None:
    small = las_lg.AnswerCache(local_bytes=100)
    for i in range(5):
        small._remember(f"k{i}", las_lg.Antwoord(b"x" * 40, "ok"))
    assert list(small._local) == ["k3", "k4"] and small._bytes == 80
    small._remember("big", las_lg.Antwoord(b"x" * 101, "ok"))  # larger than the whole cache: not kept
    assert "big" not in small._local
