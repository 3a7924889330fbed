from __future__ import annotations

import io
from typing import Any

import pytest

from ea import demo
from ea.models import Klantenservice, LasKoppeling, Leerling, School, SchoolBeheerder
from ea.permissions import is_application_user

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_files_a_request_the_las_accepts(django_user_model: Any) -> None:
    from las import demo as las_demo
    from las.models import Koppeling
    from las.secrets import code_digest

    las_demo.seed(io.StringIO(), base_url="http://demo")
    out = io.StringIO()
    demo.seed(out, base_url="http://demo")
    demo.seed(io.StringIO(), base_url="http://demo")
    text = out.getvalue()
    assert f"{demo.BEHEERDER[0]} / {demo.BEHEERDER[1]}" in text and demo.KLANTENSERVICE[0] in text
    assert "wacht een koppelingsaanvraag" in text
    assert School.objects.count() == 1 and Klantenservice.objects.count() == 1 and SchoolBeheerder.objects.count() == 1
    k = LasKoppeling.objects.get()
    assert k.status == "aangevraagd" and k.autorisatiesleutel == demo.DEMO_CODE
    # The school side knows this code for Rekenwereld's klantcode.
    las_k = Koppeling.objects.get(code_hmac=code_digest(demo.DEMO_CODE))
    assert (las_k.aanbod.klantcode, las_k.aanbod.klantnaam) == (k.klantcode, k.klantnaam)
    assert Leerling.objects.count() == 3
    for username in (demo.BEHEERDER[0], demo.KLANTENSERVICE[0]):
        user = django_user_model.objects.get(username=username)
        assert is_application_user(user)
