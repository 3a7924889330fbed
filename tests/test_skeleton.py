from __future__ import annotations

import subprocess
import sys

import pytest
from django.test import Client


def test_uwlr_has_no_django_import() -> None:
    code = "import sys, uwlr; assert not any(m.startswith('django') for m in sys.modules), 'django'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.django_db
def test_health_endpoint_reports_database(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_login_page_is_dutch_and_sets_csp(client: Client) -> None:
    response = client.get("/inloggen/")
    assert response.status_code == 200
    assert "Inloggen" in response.content.decode()
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_cli_help_lists_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "koppelpunt.cli", "--help"], check=True, capture_output=True, text=True
    ).stdout
    for command in ("demo", "check", "sync", "worker"):
        assert command in out
