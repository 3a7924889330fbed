"""GET /health: 200 when the database and the job queue answer, 503 naming the component that does not."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[1]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


@pytest.mark.django_db
def test_health_ok_needs_no_login_and_is_not_cached(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_reports_an_unreachable_queue(client: Client, monkeypatch: Any) -> None:
    from huey.contrib.djhuey import HUEY
    from huey.storage import RedisStorage

    # A real Redis client against a port where nothing listens: the queue backend is down.
    monkeypatch.setattr(HUEY, "storage", RedisStorage("koppelpunt", url=f"redis://127.0.0.1:{closed_port()}/0"))
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "component": "queue"}


def _health_in_subprocess(env_extra: dict[str, str], tmp_path: Path) -> str:
    code = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/health'); print(r.status_code, json.dumps(r.json()))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELPUNT_", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "koppelpunt.settings", "KOPPELPUNT_DATA_DIR": str(tmp_path), **env_extra})
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_health_reports_an_unreachable_database(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    port = closed_port()
    line = _health_in_subprocess({"DATABASE_URL": f"postgres://nobody:pw@127.0.0.1:{port}/nothing"}, tmp_path)
    assert line == '503 {"status": "error", "component": "database"}'


def test_health_with_the_redis_queue(tmp_path: Path) -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    line = _health_in_subprocess({"KOPPELPUNT_QUEUE_URL": "redis://127.0.0.1:6379/15"}, tmp_path)
    assert line == '200 {"status": "ok"}'
