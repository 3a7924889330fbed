"""BrengLeerresultaten at the school: stored per pupil, idempotent, all-or-nothing, visible in the LAS."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from las.models import Leerling, SchoolBeheerder, Toets, Toetsresultaat, UwlrToegang
from tests.las.uwlr_helpers import LR_URL, SCHEMAS, activate, aut, fault_of, post, school, vestiging
from uwlr import leerresultaten as lr
from uwlr.schema import LEERRESULTATEN_XSD, load_schema, validation_errors

pytestmark = pytest.mark.django_db
ACTION = '"BrengLeerresultaten"'


@pytest.fixture
def data() -> None:
    school("21QW", (("00", 10), ("01", 6)))


def _toets() -> lr.Toets:
    norms = (lr.Norm("Onvoldoende", 0, 24), lr.Norm("Voldoende", 25, 39), lr.Norm("Goed", 40, 50))
    onderdeel_norm = lr.Normering((lr.Norm("Zwak", 0, 9), lr.Norm("Sterk", 10, 20)))
    return lr.Toets(
        toetscode=lr.VocabulaireGebondenVeld("REK-M5"), toetsnaam="Rekenen midden groep 5",
        vakgebied=lr.VocabulaireGebondenVeld("Rekenen en wiskunde"),
        toetsnormering=lr.Normering(norms, wegingsfactor=Decimal("2")),
        toetsonderdelen=(lr.Toetsonderdeel(1, lr.VocabulaireGebondenVeld("BEW"), "Bewerkingen", onderdeel_norm),),
    )


def _verzoek(afnames: list[tuple[str, str | None, list[tuple[str, int | lr.OsoResultaat, str | None]]]],
             brincode: str = "21QW", dependancecode: str | None = None) -> lr.LeerresultatenVerzoek:
    return lr.LeerresultatenVerzoek(
        school=lr.ResultatenSchool(schooljaar="2026-2027", aanmaakdatum=dt.datetime(2026, 11, 20, 10, 0),
                                   brincode=brincode, dependancecode=dependancecode),
        toetsafnames=tuple(
            lr.Toetsafname(leerlingid, tuple(
                lr.Resultaat(key, dt.date(2026, 11, 18), "REK-M5", score, toetsonderdeelcode=onderdeel)
                for key, score, onderdeel in resultaten
            ), eckid=eckid)
            for leerlingid, eckid, resultaten in afnames
        ),
        toetsen=(_toets(),),
    )


def _send(client: Client, k, code, verzoek: lr.LeerresultatenVerzoek, **extra):  # type: ignore[no-untyped-def]
    return post(client, lr.build_request(verzoek, aut(k, code, **extra)), ACTION, url=LR_URL)


def _pupils(v, n: int = 3) -> list[Leerling]:  # type: ignore[no-untyped-def]
    return list(Leerling.objects.filter(vestiging=v).order_by("pk")[:n])


def test_results_are_stored_per_pupil_with_norm_and_confirmed(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    a, b, c = _pupils(v)
    b.eckid = "https://ketenid.nl/201703/" + "ab" * 64
    b.save()
    oso = lr.OsoResultaat(lr.Toetsscore(aantalopgaven=20, aantalgoed=17, vaardigheidsscore=Decimal("183.5")))
    verzoek = _verzoek([
        (a.key, None, [("R1", 42, None), ("R2", oso, "BEW")]),
        ("onbekend-maar-eckid-klopt", b.eckid, [("R3", 12, None), ("R4", 15, "BEW")]),
        (c.key, None, [("R5", 25, None)]),
    ])
    response = _send(Client(), k, code, verzoek)
    assert response.status_code == 200, response.content
    assert validation_errors(load_schema(SCHEMAS, LEERRESULTATEN_XSD), lr.parse_response(response.content)) == []
    lr.parse_bevestiging(response.content)
    rows = {r.key: r for r in Toetsresultaat.objects.select_related("leerling", "toets")}
    assert set(rows) == {"R1", "R2", "R3", "R4", "R5"}
    assert (rows["R1"].leerling, rows["R1"].score, rows["R1"].normterm) == (a, 42, "Goed")
    assert rows["R2"].soort == "oso" and "183.5" in rows["R2"].weergave and rows["R2"].normterm == ""
    assert (rows["R3"].leerling, rows["R3"].normterm) == (b, "Onvoldoende")
    assert (rows["R4"].toetsonderdeelcode, rows["R4"].normterm) == ("BEW", "Sterk")  # the part's own normering
    assert rows["R5"].normterm == "Voldoende"
    toets = Toets.objects.get()
    assert toets.toetsnaam == "Rekenen midden groep 5"
    assert toets.definitie["toetsnormering"]["norms"][2]["term"] == "Goed"
    log = UwlrToegang.objects.get()
    assert (log.operatie, log.uitkomst, log.leerlingen, log.resultaten) == ("BrengLeerresultaten", "ok", 3, 5)


def test_resending_never_duplicates_and_a_correction_replaces(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    (a,) = _pupils(v, 1)
    client = Client()
    verzoek = _verzoek([(a.key, None, [("R1", 30, None), ("R2", 12, "BEW")])])
    for _ in range(3):
        assert _send(client, k, code, verzoek).status_code == 200
    assert Toetsresultaat.objects.count() == 2 and Toets.objects.count() == 1
    corrected = _verzoek([(a.key, None, [("R1", 45, None)])])
    assert _send(client, k, code, corrected).status_code == 200
    r1 = Toetsresultaat.objects.get(key="R1")
    assert (r1.score, r1.normterm) == (45, "Goed") and Toetsresultaat.objects.count() == 2
    assert list(UwlrToegang.objects.order_by("pk").values_list("melding", flat=True)) == [
        "2 nieuw, 0 bijgewerkt", "0 nieuw, 2 bijgewerkt", "0 nieuw, 2 bijgewerkt", "0 nieuw, 1 bijgewerkt"]
    # Another partner's key "R1" is its own result.
    k2, code2 = activate(v, "basispoort")
    assert _send(client, k2, code2, verzoek).status_code == 200
    assert Toetsresultaat.objects.count() == 4


def test_one_unknown_pupil_stores_nothing(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    a, b = _pupils(v, 2)
    other_vestiging_pupil = Leerling.objects.filter(vestiging=vestiging("21QW", "01")).first()
    for stranger in ("bestaat-niet", other_vestiging_pupil.key):
        verzoek = _verzoek([(a.key, None, [("R1", 30, None)]), (stranger, None, [("R2", 12, None)]),
                            (b.key, None, [("R3", 40, None)])])
        code_, detail = fault_of(_send(Client(), k, code, verzoek))
        assert code_ == "Client.LeerlingOngeldig" and stranger in detail
    assert Toetsresultaat.objects.count() == 0 and Toets.objects.count() == 0
    assert UwlrToegang.objects.filter(uitkomst="Client.LeerlingOngeldig").count() == 2


def test_bad_scores_are_score_ongeldig_and_store_nothing(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    a, b = _pupils(v, 2)
    client = Client()
    # above every norm band (0..50)
    verzoek = _verzoek([(a.key, None, [("R1", 30, None)]), (b.key, None, [("R2", 51, None)])])
    code_, detail = fault_of(_send(client, k, code, verzoek))
    assert code_ == "Client.ScoreOngeldig" and "R2" in detail and "51" in detail
    # a negative score on the wire
    body = lr.build_request(_verzoek([(a.key, None, [("R1", 30, None)])]), aut(k, code))
    body = body.replace(b"<lr:score>30</lr:score>", b"<lr:score>-3</lr:score>")
    assert fault_of(post(client, body, ACTION, url=LR_URL))[0] == "Client.ScoreOngeldig"
    assert Toetsresultaat.objects.count() == 0


def test_results_need_the_koppelings_own_school_and_a_usable_koppeling(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    (a,) = _pupils(v, 1)
    client = Client()
    verkeerd = _verzoek([(a.key, None, [("R1", 30, None)])], dependancecode="01")
    assert fault_of(_send(client, k, code, verkeerd))[0] == "Client.AutorisatieOngeldig"
    goed = _verzoek([(a.key, None, [("R1", 30, None)])])
    assert fault_of(_send(client, k, code + "x", goed))[0] == "Client.AutorisatieOngeldig"
    assert fault_of(_send(client, k, code, goed, klantcode="BASISPOORT", klantnaam="Basispoort"))[0] == (
        "Client.OngeldigeKlantIdentificatie")
    assert fault_of(post(client, lr.build_request(goed, aut(k, code)), '"HaalLeerlinggegevens"', url=LR_URL))[0] == (
        "Client.OngeldigBericht")
    assert Toetsresultaat.objects.count() == 0


def test_results_pages_per_pupil_and_per_group(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    a, b = _pupils(v, 2)
    _send(Client(), k, code, _verzoek([(a.key, None, [("R1", 42, None)]), (b.key, None, [("R2", 12, "BEW")])]))
    user = get_user_model().objects.create_user("beheer_21qw", password="x")
    SchoolBeheerder.objects.create(user=user, vestiging=v)
    page = Client()
    page.force_login(user)
    overview = page.get(f"/school/{v.code6}/resultaten/").content.decode()
    assert "Rekenen midden groep 5" in overview and a.volledige_naam in overview
    assert f"/school/{v.code6}/resultaten/groep/{a.groep_id}/" in overview
    per_pupil = page.get(f"/school/{v.code6}/resultaten/leerling/{a.pk}/").content.decode()
    assert 'data-key="R1"' in per_pupil and "Goed" in per_pupil and "18-11-2026" in per_pupil
    assert 'data-key="R2"' not in per_pupil
    per_group = page.get(f"/school/{v.code6}/resultaten/groep/{a.groep_id}/").content.decode()
    assert 'data-key="R1"' in per_group
    assert ('data-key="R2"' in per_group) == (a.groep_id == b.groep_id)
    # the koppeling page links to the results, the nav too
    detail = page.get(f"/school/{v.code6}/koppelingen/{k.pk}/").content.decode()
    assert f'href="/school/{v.code6}/resultaten/"' in detail
    # another school's administrator sees none of it
    school("12AB", (("00", 3),), seed=2)
    other = get_user_model().objects.create_user("beheer_12ab", password="x")
    SchoolBeheerder.objects.create(user=other, vestiging=vestiging("12AB"))
    page.force_login(other)
    assert page.get(f"/school/{v.code6}/resultaten/leerling/{a.pk}/").status_code == 404
    assert page.get(f"/school/12AB00/resultaten/leerling/{a.pk}/").status_code == 404
    assert "Rekenen" not in page.get("/school/12AB00/resultaten/").content.decode()


def test_a_paused_koppeling_cannot_bring_results(data: None) -> None:
    from las import services

    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    services.pause(k, None)
    (a,) = _pupils(v, 1)
    assert fault_of(_send(Client(), k, code, _verzoek([(a.key, None, [("R1", 30, None)])])))[0] == (
        "Client.AutorisatieOngeldig")
    assert not Toetsresultaat.objects.exists()
