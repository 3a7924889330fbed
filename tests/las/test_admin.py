"""Every school-side model is managed in the Django admin; the code's fingerprint is never shown there."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client

from las import demo
from las.models import Koppeling
from tests.las.cast import Cast
from tests.las.test_koppelingen import GOOD, activate

MODELS = ["bestuur", "school", "vestiging", "schooljaar", "groep", "samengesteldegroep", "leerling", "leerkracht",
          "schoolbeheerder", "koppelingtype", "koppelingaanbod", "koppeling"]


@pytest.fixture
def admin_client_las(cast: Cast) -> Client:
    demo.build_school(brincode="44GG", naam="Adminschool", bestuur="B", seed=3,
                      vestigingen=[demo.VestigingSpec("00", "Hoofd", "Ede", 30)])
    user = get_user_model().objects.create_superuser("beheer", password="x-Koppel-2026!")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_change_pages_render(admin_client_las: Client, anna: Client, model: str) -> None:
    activate(anna)
    response = admin_client_las.get(f"/beheer/django/las/{model}/")
    assert response.status_code == 200, model
    obj = apps.get_model("las", model).objects.first()
    assert obj is not None, model
    page = admin_client_las.get(f"/beheer/django/las/{model}/{obj.pk}/change/")
    assert page.status_code == 200, model
    if model == "koppeling":
        assert Koppeling.objects.get().code_hmac not in page.content.decode()
        assert GOOD not in page.content.decode()


def test_demo_output_names_logins(db: None) -> None:
    out = io.StringIO()
    demo.seed(out)
    assert "Schoolbeheerder: schoolbeheer / Vlinderboom-2026!" in out.getvalue()
    assert Client().login(username="schoolbeheer", password="Vlinderboom-2026!")
