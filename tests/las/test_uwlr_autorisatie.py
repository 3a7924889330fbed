"""Authentication of the school's UWLR endpoints: every fault, isolation between schools, lockout, issued keys."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from las import autorisatie, services
from las import leerlinggegevens as las_lg
from las.models import (
    Koppeling,
    KoppelingStatus,
    Leerling,
    SchoolBeheerder,
    UwlrBlokkade,
    UwlrToegang,
    Vestiging,
)
from tests.las.uwlr_helpers import LG_URL, activate, aut, call, fault_of, post, request, school, vestiging
from uwlr import leerlinggegevens as lg
from uwlr import soap
from uwlr.model import GeenGegevens, Leerlinggegevens, Operation
from uwlr.model import Leerling as Leerling_
from uwlr.namespaces import AUTORISATIE
from uwlr.profiles import allowed_fields

pytestmark = pytest.mark.django_db
HAAL = Operation.HAAL_LEERLINGGEGEVENS


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    las_lg.cache.clear_local()


@pytest.fixture
def data() -> None:
    school("21QW", (("00", 10), ("01", 6)))
    school("12AB", (("00", 8),), seed=2)


def _fault(response) -> str:  # type: ignore[no-untyped-def]
    return fault_of(response)[0]


def test_missing_or_incomplete_header_is_autorisatie_ongeldig(data: None) -> None:
    k, code = activate(vestiging("21QW"), "snappet")
    verzoek = lg.build_request_body(lg.Verzoek(HAAL, "2026-2027", brincode="21QW"))
    client = Client()
    code_, detail = fault_of(post(client, soap.envelope(verzoek)))
    assert code_ == "Client.AutorisatieOngeldig" and "leeg" in detail
    incomplete = (f'<aut:autorisatie xmlns:aut="{AUTORISATIE}"><aut:autorisatiesleutel>{code}</aut:autorisatiesleutel>'
                  f"<aut:klantcode>SNAPPET</aut:klantcode></aut:autorisatie>").encode()
    code_, detail = fault_of(post(client, soap.envelope(verzoek, incomplete)))
    assert code_ == "Client.AutorisatieOngeldig" and "klantnaam" in detail
    # The header is checked before the body: a broken body with no header still says AutorisatieOngeldig.
    assert _fault(post(client, soap.envelope(b"<x/>"))) == "Client.AutorisatieOngeldig"


def test_malformed_messages_are_ongeldig_bericht(data: None) -> None:
    k, code = activate(vestiging("21QW"), "snappet")
    a = aut(k, code)
    client = Client()
    good = request(HAAL, a)
    assert _fault(post(client, b"<niet-af")) == "Client.OngeldigBericht"
    assert _fault(post(client, good.replace(b"2026-2027", b"2026-2028"))) == "Client.OngeldigBericht"
    assert _fault(post(client, good.replace(b"<lg:brincode>21QW", b"<lg:brincode>21qw"))) == "Client.OngeldigBericht"
    assert _fault(post(client, good.replace(b"leerlinggegevens_verzoek", b"onbekend_verzoek"))) == (
        "Client.OngeldigBericht")
    # XXE through the endpoint: refused, never resolved
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + good.split(b"?>", 1)[1]
    assert _fault(post(client, xxe)) == "Client.OngeldigBericht"
    assert not UwlrToegang.objects.filter(uitkomst="ok").exists()


def test_unknown_xsdversie_is_xsd_versie_ongeldig(data: None) -> None:
    k, code = activate(vestiging("21QW"), "snappet")
    body = request(HAAL, aut(k, code)).replace(b"<lg:xsdversie>2.2<", b"<lg:xsdversie>9.9<")
    code_, detail = fault_of(post(Client(), body))
    assert code_ == "Client.XsdVersieOngeldig" and "9.9" in detail


def test_klant_identification(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    activate(v, "basispoort")
    client = Client()
    # unknown partner
    code_, detail = fault_of(call(client, HAAL, aut(k, code, klantcode="ONBEKEND")))
    assert code_ == "Client.OngeldigeKlantIdentificatie" and "klant" in detail
    assert _fault(call(client, HAAL, aut(k, code, klantnaam="Snappet BV"))) == "Client.OngeldigeKlantIdentificatie"
    # a known partner, but not the one this key belongs to
    assert _fault(call(client, HAAL, aut(k, code, klantcode="BASISPOORT", klantnaam="Basispoort"))) == (
        "Client.OngeldigeKlantIdentificatie")


def test_wrong_key_other_school_or_vestiging_is_autorisatie_ongeldig(data: None) -> None:
    v = vestiging("21QW", "00")
    k, code = activate(v, "snappet")
    client = Client()
    assert _fault(call(client, HAAL, aut(k, code + "x"))) == "Client.AutorisatieOngeldig"
    assert _fault(call(client, HAAL, aut(k, code), brincode="12AB")) == "Client.AutorisatieOngeldig"
    assert _fault(call(client, HAAL, aut(k, code), dependancecode="01")) == "Client.AutorisatieOngeldig"
    assert _fault(call(client, HAAL, aut(k, code), brincode=None, schoolkey="12AB00")) == "Client.AutorisatieOngeldig"
    # explicit dependancecode 00 and the schoolkey are the same vestiging
    assert call(client, HAAL, aut(k, code), dependancecode="00").status_code == 200
    assert call(client, HAAL, aut(k, code), brincode=None, schoolkey=v.key).status_code == 200


@pytest.mark.parametrize("state", ["paused", "ended", "waiting", "not_started"])
def test_unusable_koppeling_serves_nothing(data: None, state: str) -> None:
    v = vestiging("21QW")
    slug = "swv-top-dossier" if state == "waiting" else "snappet"  # TOP dossier must confirm first
    start = timezone.localdate() + dt.timedelta(days=3) if state == "not_started" else None
    k, code = activate(v, slug, start=start, status=KoppelingStatus.WACHT if state == "waiting" else None)
    if state == "paused":
        services.pause(k, None)
    elif state == "ended":
        services.end(k, None)
    response = call(Client(), HAAL, aut(k, code))
    code_, detail = fault_of(response)
    assert code_ == "Client.AutorisatieOngeldig"
    assert b"<lg:leerling " not in response.content
    expected = {"paused": "", "ended": "beëindigd", "waiting": "bevestiging", "not_started": "actief vanaf"}[state]
    assert expected in detail
    logged = UwlrToegang.objects.get()
    assert logged.leerlingen == 0 and logged.uitkomst == "Client.AutorisatieOngeldig"


def test_paused_then_resumed_with_a_new_code(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    services.pause(k, None)
    client = Client()
    assert _fault(call(client, HAAL, aut(k, code))) == "Client.AutorisatieOngeldig"
    nieuw = code + "-nieuw"
    services.rotate(k, nieuw, None)
    assert _fault(call(client, HAAL, aut(k, code))) == "Client.AutorisatieOngeldig"
    assert isinstance(lg.parse_response(call(client, HAAL, aut(k, nieuw)).content, HAAL), Leerlinggegevens)


def test_unexpected_error_is_interne_fout_and_the_key_is_never_logged(data: None, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    k, code = activate(vestiging("21QW"), "snappet")

    def boom(koppeling, verzoek, **kw):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"kapot bij {verzoek!r}")

    monkeypatch.setattr(las_lg, "serve", boom)
    with caplog.at_level(logging.DEBUG):
        response = call(Client(), HAAL, aut(k, code))
    code_, detail = fault_of(response)
    assert code_ == "Server.InterneFout" and "RuntimeError" not in detail and "kapot" not in detail
    records = [r for r in caplog.records if r.name == "las.uwlr"]
    assert records and records[0].exc_info is not None
    assert code not in caplog.text and code not in response.content.decode()
    assert UwlrToegang.objects.get().uitkomst == "Server.InterneFout"


def test_isolation_randomized_keys_never_reach_another_vestiging() -> None:
    rng = random.Random(4242)
    brins = ["31AA", "32BB", "33CC", "34DD"]
    for i, brin in enumerate(brins):
        deps = (("00", rng.randrange(3, 9)),) + ((("01", rng.randrange(3, 9)),) if i % 2 == 0 else ())
        school(brin, deps, seed=i + 10)
    vestigingen = list(Vestiging.objects.select_related("school"))
    slugs = ["snappet", "basispoort", "uwlr-4d", "top-dossier-eckid"]
    koppelingen: list[tuple[Koppeling, str]] = []
    for v in vestigingen:
        for slug in rng.sample(slugs, 2):
            koppelingen.append(activate(v, slug, code=f"{v.code6}-{slug}-{rng.getrandbits(64):016x}"))
    own_pupils = {v.pk: set(Leerling.objects.filter(vestiging=v).values_list("key", flat=True)) for v in vestigingen}
    client = Client()
    served = 0
    for _ in range(60):
        k, code = rng.choice(koppelingen)
        target = rng.choice(vestigingen)
        partner = rng.choice(koppelingen)[0].aanbod if rng.random() < 0.25 else k.aanbod
        a = soap.Autorisatie(code, partner.klantcode, partner.klantnaam)
        by_key = rng.random() < 0.3
        fields = ({"brincode": None, "schoolkey": target.key} if by_key else
                  {"brincode": target.school.brincode,
                   "dependancecode": None if target.dependancecode == "00" else target.dependancecode})
        response = call(client, HAAL, a, **fields)
        if target.pk == k.vestiging_id and partner == k.aanbod:
            antwoord = lg.parse_response(response.content, HAAL)
            assert isinstance(antwoord, Leerlinggegevens | GeenGegevens)
            if isinstance(antwoord, Leerlinggegevens):
                assert {ll.key for ll in antwoord.leerlingen} <= own_pupils[target.pk]
                # and only the fields of this koppeling's profile
                allowed = allowed_fields(las_lg.profile_for(k, "2.2"), Leerling_)
                for ll in antwoord.leerlingen:
                    sent = {f.name for f in dataclasses.fields(ll) if getattr(ll, f.name) not in (None, [])}
                    assert sent <= allowed, (k.aanbod.profiel, sent - allowed)
                served += 1
        else:
            assert response.status_code == 500
            assert _fault(response) in ("Client.AutorisatieOngeldig", "Client.OngeldigeKlantIdentificatie")
            assert b"<lg:leerling " not in response.content
    assert served > 5


def test_failed_keys_lock_out_the_client_ip_and_the_lockout_is_visible(data: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.UWLR_THROTTLE_FAILURES_IP = 3
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    client = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(3):
        assert _fault(call(client, HAAL, aut(k, f"{code}-fout-{i}"))) == "Client.AutorisatieOngeldig"
    blokkade = UwlrBlokkade.objects.get(sleutel="ip:203.0.113.7")
    assert blokkade.actief and blokkade.mislukt == 3
    # Locked out: even the right key gets TijdelijkNietBeschikbaar, without any key look-up.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        code_, detail = fault_of(call(client, HAAL, aut(k, code)))
    assert code_ == "Server.TijdelijkNietBeschikbaar" and "Probeer het na" in detail
    assert not any('"las_koppeling"' in q["sql"] for q in ctx)
    # Another client is not affected; the lockout lifts when its time is over (or the service desk lifts it).
    assert call(Client(REMOTE_ADDR="198.51.100.1"), HAAL, aut(k, code)).status_code == 200
    UwlrBlokkade.objects.filter(pk=blokkade.pk).update(geblokkeerd_tot=timezone.now() - dt.timedelta(seconds=1))
    assert call(client, HAAL, aut(k, code)).status_code == 200
    assert autorisatie.unlock("ip:203.0.113.7") == 1
    # The klantcode has its own, higher limit; its lockout shows on the koppeling's page.
    settings.UWLR_THROTTLE_FAILURES_KLANT = 4
    for i in range(4):
        call(Client(REMOTE_ADDR=f"192.0.2.{i + 1}"), HAAL, aut(k, f"{code}-fout-{i}"))
    assert _fault(call(Client(REMOTE_ADDR="192.0.2.99"), HAAL, aut(k, code))) == "Server.TijdelijkNietBeschikbaar"
    user = get_user_model().objects.create_user("beheer_21qw", password="x")
    SchoolBeheerder.objects.create(user=user, vestiging=v)
    page = Client()
    page.force_login(user)
    html = page.get(f"/school/{v.code6}/koppelingen/{k.pk}/").content.decode()
    assert 'id="blokkade"' in html and 'id="laatste-uitwisseling"' in html


def test_issued_key_authenticates_like_a_code_and_is_shown_once(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "basispoort")
    user = get_user_model().objects.create_user("beheer_21qw", password="x")
    SchoolBeheerder.objects.create(user=user, vestiging=v)
    page = Client()
    page.force_login(user)
    url = f"/school/{v.code6}/koppelingen/{k.pk}/sleutel/"
    assert page.get(url).status_code == 200
    response = page.post(url)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    key = html.split('id="code" class="secret" value="', 1)[1].split('"', 1)[0]
    assert key.startswith(v.code6 + "-") and len(key) == 47
    k.refresh_from_db()
    assert k.kind == "autorisatiesleutel" and key not in str(Koppeling.objects.filter(pk=k.pk).values().get())
    client = Client()
    assert isinstance(lg.parse_response(call(client, HAAL, aut(k, key)).content, HAAL), Leerlinggegevens)
    assert _fault(call(client, HAAL, aut(k, code))) == "Client.AutorisatieOngeldig"  # the old code is replaced
    # the access log is on the koppeling's page
    detail = page.get(f"/school/{v.code6}/koppelingen/{k.pk}/").content.decode()
    assert 'id="uitwisselingen"' in detail and "HaalLeerlinggegevens" in detail
    assert 'data-uitkomst="ok"' in detail
    # (a failed attempt with an unknown key belongs to no koppeling: it is not on this page)
    assert 'data-uitkomst="Client.AutorisatieOngeldig"' not in detail
    # someone managing another school cannot issue a key here
    other = get_user_model().objects.create_user("beheer_12ab", password="x")
    SchoolBeheerder.objects.create(user=other, vestiging=vestiging("12AB"))
    intruder = Client()
    intruder.force_login(other)
    assert intruder.post(url).status_code == 404
    k.refresh_from_db()
    assert isinstance(lg.parse_response(call(client, HAAL, aut(k, key)).content, HAAL), Leerlinggegevens)


def test_generated_keys_are_unique_and_high_entropy(data: None) -> None:
    v = vestiging("21QW")
    keys = {autorisatie.generate_key(v) for _ in range(200)}
    assert len(keys) == 200 and all(len(k) == 47 and k.startswith("21QW00-") for k in keys)


def test_get_is_not_a_request(data: None) -> None:
    assert Client().get(LG_URL).status_code == 405


def test_access_log_entries_are_written_in_batches_when_configured(data: None, settings) -> None:  # type: ignore[no-untyped-def]
    from las import uwlr_service

    settings.UWLR_ACCESS_LOG_FLUSH_MS = 3_600_000  # the background thread will not fire during this test
    k, code = activate(vestiging("21QW"), "snappet")
    client = Client()
    for _ in range(3):
        assert call(client, HAAL, aut(k, code)).status_code == 200
    assert call(client, HAAL, aut(k, code + "x")).status_code == 500
    assert UwlrToegang.objects.count() == 0
    assert uwlr_service.access_log.flush() == 4
    assert list(UwlrToegang.objects.order_by("pk").values_list("uitkomst", flat=True)) == [
        "ok", "ok", "ok", "Client.AutorisatieOngeldig"]
    assert uwlr_service.access_log.flush() == 0


def test_service_desk_sees_and_lifts_lockouts_in_the_admin(data: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.UWLR_THROTTLE_FAILURES_IP = 2
    k, code = activate(vestiging("21QW"), "snappet")
    client = Client(REMOTE_ADDR="203.0.113.9")
    for i in range(2):
        call(client, HAAL, aut(k, f"{code}-fout-{i}"))
    admin_user = get_user_model().objects.create_superuser("desk", password="x")
    desk = Client()
    desk.force_login(admin_user)
    page = desk.get("/beheer/django/las/uwlrblokkade/")
    assert page.status_code == 200 and "ip:203.0.113.9" in page.content.decode()
    assert desk.get("/beheer/django/las/uwlrtoegang/").status_code == 200
    blokkade = UwlrBlokkade.objects.get(sleutel="ip:203.0.113.9")
    desk.post("/beheer/django/las/uwlrblokkade/", {"action": "opheffen", "_selected_action": [blokkade.pk]})
    blokkade.refresh_from_db()
    assert not blokkade.actief
    assert call(client, HAAL, aut(k, code)).status_code == 200


def test_fault_envelopes_validate_against_the_official_soap_schema(data: None) -> None:
    from lxml import etree

    from tests.las.uwlr_helpers import SCHEMAS
    from uwlr.schema import load_schema, validation_errors

    k, code = activate(vestiging("21QW"), "snappet")
    schema = load_schema(SCHEMAS, "SOAP_Envelope.xsd")
    for response in (call(Client(), HAAL, aut(k, code + "x")), post(Client(), b"<kapot"),
                     call(Client(), HAAL, aut(k, code, klantcode="NIEMAND"))):
        assert response.status_code == 500
        assert validation_errors(schema, etree.fromstring(response.content)) == []
