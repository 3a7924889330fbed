from __future__ import annotations

import pytest
from django.test import Client

from tests.las.cast import Cast, make_cast


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


@pytest.fixture
def anna(cast: Cast) -> Client:
    client = Client()
    client.force_login(cast.anna_school_a)
    return client


@pytest.fixture
def bram(cast: Cast) -> Client:
    client = Client()
    client.force_login(cast.bram_school_b)
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Argon2 is right for production and slow on purpose; the cast's passwords need no protection.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
