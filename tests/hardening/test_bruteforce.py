"""Guessing keys: throttled per client address, per klantcode and per school; the lockout shows at the school.

The per-IP and per-klantcode limits are tested in tests/las/test_uwlr_autorisatie.py; here the distributed
attacker: many addresses, several real klantcodes, all guessing one school's key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from las import autorisatie
from las import leerlinggegevens as las_lg
from las.models import KoppelingAanbod, SchoolBeheerder, UwlrBlokkade, UwlrToegang
from tests.las.uwlr_helpers import activate, aut, call, fault_of, school, vestiging
from uwlr.model import Operation

pytestmark = pytest.mark.django_db
HAAL = Operation.HAAL_LEERLINGGEGEVENS


@pytest.fixture
def data(settings: Any) -> None:
    settings.UWLR_THROTTLE_FAILURES_IP = 1000  # every attacker address stays under its own limit
    settings.UWLR_THROTTLE_FAILURES_KLANT = 1000
    settings.UWLR_THROTTLE_FAILURES_VESTIGING = 12
    settings.UWLR_ACCESS_LOG_FLUSH_SECONDS = 0
    las_lg.cache.clear_local()
    school("21QW", (("00", 5), ("01", 4)))
    school("12AB", (("00", 4),), seed=2)


def _flush() -> None:
    from las import uwlr_service

    if hasattr(uwlr_service, "access_log"):
        uwlr_service.access_log.flush()


def _guess(ip: str, partner: KoppelingAanbod, i: int, **target: Any) -> tuple[str, str]:
    from uwlr import soap

    a = soap.Autorisatie(f"21QW00-guess-{i:012d}", partner.klantcode, partner.klantnaam)
    return fault_of(call(Client(REMOTE_ADDR=ip), HAAL, a, **target))


def test_distributed_guessing_locks_the_school_not_its_partners(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    # The real partner has pulled from its usual address before the attack.
    assert call(Client(REMOTE_ADDR="198.51.100.10"), HAAL, aut(k, code)).status_code == 200
    _flush()
    assert UwlrToegang.objects.filter(client_ip="198.51.100.10", uitkomst="ok").exists()
    partners = list(KoppelingAanbod.objects.exclude(klantcode="")[:4])
    for i in range(12):  # 12 addresses, 4 klantcodes, one guess each: no per-IP or per-klantcode limit is hit
        code_, _ = _guess(f"203.0.113.{i + 1}", partners[i % 4], i, v=v)
        assert code_ == "Client.AutorisatieOngeldig"
    blokkade = UwlrBlokkade.objects.get(sleutel="school:21QW00")
    assert blokkade.actief and blokkade.mislukt == 12
    # Now every new address is refused before any key look-up, even with the right key ...
    code_, detail = _guess("203.0.113.200", partners[0], 99, v=v)
    assert code_ == "Server.TijdelijkNietBeschikbaar" and "school" in detail
    assert fault_of(call(Client(REMOTE_ADDR="192.0.2.55"), HAAL, aut(k, code)))[0] == "Server.TijdelijkNietBeschikbaar"
    # ... but the partner's known address keeps working, and other schools and vestigingen are not affected.
    assert call(Client(REMOTE_ADDR="198.51.100.10"), HAAL, aut(k, code)).status_code == 200
    k01, code01 = activate(vestiging("21QW", "01"), "snappet", code="21QW01-other-vestiging-code")
    assert call(Client(REMOTE_ADDR="192.0.2.56"), HAAL, aut(k01, code01), v=k01.vestiging).status_code == 200
    # The school sees it on the koppeling's page, in Dutch.
    user = get_user_model().objects.create_user("beheer")
    SchoolBeheerder.objects.create(user=user, vestiging=v)
    page = Client()
    page.force_login(user)
    html = page.get(f"/school/{v.code6}/koppelingen/{k.pk}/").content.decode()
    assert 'id="blokkade-school"' in html and "Te veel mislukte pogingen met verkeerde sleutels" in html
    # The lockout ends by itself after the window.
    UwlrBlokkade.objects.filter(pk=blokkade.pk).update(geblokkeerd_tot=timezone.now() - dt.timedelta(seconds=1))
    assert call(Client(REMOTE_ADDR="192.0.2.55"), HAAL, aut(k, code)).status_code == 200
    assert autorisatie.school_lockout(v) is None


def test_schoolkey_requests_count_against_the_same_school(data: None) -> None:
    v = vestiging("21QW")
    k, code = activate(v, "snappet")
    partner = k.aanbod
    for i in range(6):
        _guess(f"203.0.113.{i + 1}", partner, i, v=v)
    for i in range(6, 12):
        _guess(f"203.0.113.{i + 1}", partner, i, brincode=None, schoolkey=v.key)
    assert UwlrBlokkade.objects.get(sleutel="school:21QW00").actief


def test_guesses_at_unknown_schools_create_no_counters(data: None) -> None:
    partner = KoppelingAanbod.objects.exclude(klantcode="").first()
    for i, brin in enumerate(["99ZZ", "98YY", "97XX"]):
        _guess("203.0.113.9", partner, i, brincode=brin)
    _guess("203.0.113.9", partner, 9, brincode=None, schoolkey="no-such-school")
    assert not UwlrBlokkade.objects.filter(sleutel__startswith="school:").exists()
    assert UwlrBlokkade.objects.get(sleutel="ip:203.0.113.9").mislukt == 4


def test_a_good_key_for_the_wrong_school_counts_against_the_named_school(data: None) -> None:
    k, code = activate(vestiging("12AB"), "snappet", code="12AB00-a-real-key-of-school-b")
    for i in range(12):
        code_, _ = fault_of(call(Client(REMOTE_ADDR=f"203.0.113.{i + 1}"), HAAL, aut(k, code), v=vestiging("21QW")))
        assert code_ == "Client.AutorisatieOngeldig"
    assert UwlrBlokkade.objects.get(sleutel="school:21QW00").actief
    assert not UwlrBlokkade.objects.filter(sleutel="school:12AB00").exists()


def test_behind_a_proxy_each_client_has_its_own_counter(data: None, settings: Any) -> None:
    """Behind a reverse proxy REMOTE_ADDR is the proxy: one stranger must not lock every partner out."""
    settings.UWLR_THROTTLE_FAILURES_IP = 3
    settings.UWLR_TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1"]
    v = vestiging("21QW")
    k, code = activate(v, "snappet")

    def via_proxy(forwarded: str, key: str) -> Any:
        return call(Client(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR=forwarded), HAAL, aut(k, key))

    for i in range(3):
        # The stranger also forges a left-most entry; the proxy appends the real peer on the right.
        assert fault_of(via_proxy("198.51.100.1, 203.0.113.9", f"{code}-fout-{i}"))[0] == "Client.AutorisatieOngeldig"
    assert UwlrBlokkade.objects.get(sleutel="ip:203.0.113.9").actief
    assert not UwlrBlokkade.objects.filter(sleutel__in=["ip:10.1.2.3", "ip:198.51.100.1"]).exists()
    assert fault_of(via_proxy("203.0.113.9", code))[0] == "Server.TijdelijkNietBeschikbaar"
    # The partner behind the same proxy is not affected; a chain of trusted proxies is skipped.
    assert via_proxy("192.0.2.10", code).status_code == 200
    assert via_proxy("192.0.2.10, 10.9.9.9", code).status_code == 200
    # A client that is not a trusted proxy cannot choose its address by sending the header.
    direct = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert fault_of(call(direct, HAAL, aut(k, code)))[0] == "Server.TijdelijkNietBeschikbaar"
    _flush()
    assert set(UwlrToegang.objects.exclude(client_ip=None).values_list("client_ip", flat=True)) >= {"192.0.2.10"}
