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
