"""Guessing passwords on the login page is throttled per address and per user name, and says so in Dutch."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from koppelpunt.views import login_user_key
from las.models import UwlrBlokkade

pytestmark = pytest.mark.django_db
PASSWORD = "Een-goed-wachtwoord-2026"


@pytest.fixture
def anna(settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LOGIN_THROTTLE_FAILURES_IP = 5
    settings.LOGIN_THROTTLE_FAILURES_USER = 8
    return get_user_model().objects.create_user("anna", password=PASSWORD)


def _login(ip: str, username: str, password: str) -> Any:
    return Client(REMOTE_ADDR=ip).post("/inloggen/", {"username": username, "password": password})


def test_one_address_is_locked_out_after_its_failures(anna: Any) -> None:
    for i in range(5):
        response = _login("203.0.113.5", "anna", f"fout-{i}")
        assert response.status_code == 200 and "login-blokkade" not in response.content.decode()
    locked = _login("203.0.113.5", "anna", PASSWORD)  # even the right password: nothing is checked now
    html = locked.content.decode()
    assert locked.status_code == 429 and 'id="login-blokkade"' in html and "Te veel mislukte pogingen" in html
    assert "_auth_user_id" not in Client().session
    # Another address logs in; the lockout ends by itself.
    assert _login("198.51.100.5", "anna", PASSWORD).status_code == 302
    UwlrBlokkade.objects.filter(sleutel="login-ip:203.0.113.5").update(
        geblokkeerd_tot=timezone.now() - dt.timedelta(seconds=1))
    assert _login("203.0.113.5", "anna", PASSWORD).status_code == 302


def test_guesses_at_one_user_from_many_addresses_lock_that_user_name(anna: Any) -> None:
    for i in range(8):
        _login(f"203.0.113.{i + 10}", "Anna", f"fout-{i}")  # user names are compared case-insensitively
    assert _login("198.51.100.7", "anna", PASSWORD).status_code == 429
    assert UwlrBlokkade.objects.get(sleutel=login_user_key("anna")).actief
    # A success from an address resets that address's count, never the user name's.
    get_user_model().objects.create_user("bram", password=PASSWORD)
    for i in range(4):
        _login("192.0.2.1", "bram", f"fout-{i}")
    assert _login("192.0.2.1", "bram", PASSWORD).status_code == 302
    assert UwlrBlokkade.objects.get(sleutel="login-ip:192.0.2.1").mislukt == 0
    assert UwlrBlokkade.objects.get(sleutel=login_user_key("bram")).mislukt == 4


def test_the_admin_login_goes_through_the_throttled_login(anna: Any) -> None:
    response = Client().get("/beheer/django/login/?next=/beheer/django/")
    assert response.status_code in (301, 302) and response["Location"] == "/inloggen/?next=/beheer/django/"
    for i in range(5):
        Client(REMOTE_ADDR="203.0.113.99").post("/beheer/django/login/", {"username": "anna", "password": str(i)})
    # Posting to the admin's login URL reaches no password check at all (a redirect is not a login).
    assert not UwlrBlokkade.objects.filter(sleutel="login-ip:203.0.113.99").exists()
    assert "_auth_user_id" not in Client().session
