"""A school admin sees and manages only their own vestigingen (cast: anna_school_a, bram_school_b, service_desk)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from las.models import Koppeling, KoppelingStatus
from las.permissions import is_school_user
from tests.las.cast import Cast
from tests.las.test_koppelingen import GOOD, activate


def test_is_school_user(cast: Cast) -> None:
    assert is_school_user(cast.anna_school_a)
    assert is_school_user(cast.bram_school_b)
    assert not is_school_user(cast.service_desk)
    cast.anna_school_a.is_active = False
    assert not is_school_user(cast.anna_school_a)


def test_home_sends_school_users_to_koppelingen(anna: Client, bram: Client, cast: Cast) -> None:
    assert anna.get("/").url == "/school/koppelingen/"
    # Anna has two vestigingen: a chooser; Bram has one: straight to it.
    page = anna.get("/school/koppelingen/").content.decode()
    assert "Vestiging kiezen" in page and "21QW00" in page and "21QW01" in page and "12AB00" not in page
    assert bram.get("/school/koppelingen/").url == "/school/12AB00/koppelingen/"


def test_user_without_vestiging_gets_404(cast: Cast) -> None:
    desk = Client()
    desk.force_login(cast.service_desk)
    assert desk.get("/school/koppelingen/").status_code == 404
    assert desk.get("/school/21QW00/koppelingen/").status_code == 404


def test_anonymous_is_sent_to_login(client: Client, cast: Cast) -> None:
    response = client.get("/school/21QW00/koppelingen/")
    assert response.status_code == 302 and response.url.startswith("/inloggen/")


def test_bram_cannot_see_or_change_school_a(anna: Client, bram: Client, cast: Cast) -> None:
    activate(anna)
    k = Koppeling.objects.get()
    base = f"/school/21QW00/koppelingen/{k.pk}/"
    for url in ("/school/21QW00/koppelingen/", "/school/21QW01/koppelingen/", base, base + "bewerken/",
                base + "beeindigen/", "/school/21QW00/koppelingen/activeren/basispoort/"):
        assert bram.get(url).status_code == 404, url
    assert bram.post(base + "bewerken/", {"actie": "pauzeren"}).status_code == 404
    assert bram.post(base + "beeindigen/").status_code == 404
    assert bram.post("/school/21QW00/koppelingen/activeren/basispoort/", {
        "naam": "Bram", "akkoord": "on", "startdatum": timezone.localdate().isoformat(),
        "verificatiecode": "21QW00BramProbeertHet-1"}).status_code == 404
    # Nor via his own vestiging's URL with Anna's koppeling id.
    own = f"/school/12AB00/koppelingen/{k.pk}/"
    assert bram.get(own).status_code == 404
    assert bram.post(own + "beeindigen/").status_code == 404
    k.refresh_from_db()
    assert k.status == KoppelingStatus.ACTIEF and Koppeling.objects.count() == 1
    assert "Snappet" not in bram.get("/school/12AB00/koppelingen/").content.decode().split("Beschikbare")[0]


def test_anna_cannot_use_a_koppeling_of_her_other_vestiging_via_the_wrong_url(anna: Client, cast: Cast) -> None:
    activate(anna)
    k = Koppeling.objects.get()
    assert anna.get(f"/school/21QW01/koppelingen/{k.pk}/").status_code == 404


@pytest.mark.parametrize("code6", ["21qw00", "21QW00"])
def test_code6_in_url_is_case_insensitive(anna: Client, cast: Cast, code6: str) -> None:
    assert anna.get(f"/school/{code6}/koppelingen/").status_code == 200


def test_each_vestiging_has_its_own_prefix(anna: Client, cast: Cast) -> None:
    response = activate(anna, code6="21QW01", code=GOOD)
    assert "21QW01" in response.content.decode() and not Koppeling.objects.exists()
    activate(anna, code6="21QW01", code="21QW01Ygr67BfgKl!gr8xx")
    assert Koppeling.objects.get().vestiging == cast.a01
