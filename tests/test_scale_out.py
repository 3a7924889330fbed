"""The production-like setup as real processes: gunicorn with 2 web workers (deploy/gunicorn.conf.py) and 2
`koppelpunt worker` processes sharing a job queue on Redis (skipped when no Redis answers) or on PostgreSQL (huey's
tables; only when DATABASE_URL is PostgreSQL), in production mode with explicit secrets and collected static
files. PostgreSQL when DATABASE_URL names one (a scratch database on that server), else a SQLite file.

It shows: /health through gunicorn, hashed static files with far-future caching, a partner pulling a school over
UWLR through gunicorn, and a sync job queued by the CLI, executed by one of the worker processes (which itself
calls the school side over UWLR through gunicorn).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from koppelpunt.scratchdb import is_postgres, scratch_database

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# As from the reverse proxy: HTTPS ended there (SECURE_PROXY_SSL_HEADER; gunicorn trusts 127.0.0.1's headers).
PROXY = {"X-Forwarded-Proto": "https"}
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::ResourceWarning")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_db() -> tuple[str, int]:
    try:
        import redis
    except ImportError:
        pytest.skip("the redis client is not installed")
    try:
        client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1)
        client.ping()
    except Exception:
        pytest.skip("no Redis reachable on 127.0.0.1:6379")
    # A database nobody uses right now (others' tests or a developer's queue may use db 0).
    for number in range(15, 0, -1):
        candidate = redis.Redis(host="127.0.0.1", port=6379, db=number)
        if candidate.dbsize() == 0 and candidate.set("koppelpunt-scale-out-test", "1", nx=True, ex=600):
            candidate.close()
            client.close()
            return f"redis://127.0.0.1:6379/{number}", number
        candidate.close()
    client.close()
    pytest.skip("no empty Redis database free")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str | None]:
    """A scratch PostgreSQL database when DATABASE_URL is PostgreSQL; None means SQLite in the data dir."""
    url = os.environ.get("DATABASE_URL", "")
    if not is_postgres(url):
        yield None
        return
    with scratch_database(url, "kp_scale") as scratch:
        yield scratch


class Stack:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path, self.env = tmp_path, env
        self.procs: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def run(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run([str(BIN / "koppelpunt"), *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, f"koppelpunt {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, name: str, *argv: str) -> None:
        log = self.tmp_path / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(list(argv), cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append((name, proc, log))

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{log.read_text(errors='replace')[-4000:]}" for n, _, log in self.procs)

    def alive(self) -> None:
        for name, proc, _ in self.procs:
            assert proc.poll() is None, f"{name} stopped:\n{self.logs()}"

    def stop(self) -> None:
        for _, proc, _ in self.procs:
            if proc.poll() is None:
                # SIGINT: huey finishes its current task and stops; gunicorn does a graceful shutdown.
                os.killpg(proc.pid, signal.SIGINT if proc.poll() is None else 0)
        for _, proc, _ in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.mark.parametrize("queue", ["redis", "postgres"])
def test_gunicorn_and_two_workers(queue: str, tmp_path: Path, database: str | None) -> None:
    queue_db: int | None = None
    if queue == "redis":
        queue_url, queue_db = redis_db()
    elif database:
        queue_url = database  # huey's own tables in the same PostgreSQL database
    else:
        pytest.skip("the PostgreSQL queue needs DATABASE_URL=postgres://…")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELPUNT_", "DJANGO_", "DATABASE_URL"))}
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "KOPPELPUNT_ENV": "production",
        "KOPPELPUNT_DATA_DIR": str(tmp_path / "data"),
        "KOPPELPUNT_SECRET_KEY": secrets.token_urlsafe(48),
        "KOPPELPUNT_KEY_PEPPER": secrets.token_urlsafe(48),
        "KOPPELPUNT_FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "KOPPELPUNT_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "KOPPELPUNT_BASE_URL": base,
        "KOPPELPUNT_QUEUE_URL": queue_url,
        "KOPPELPUNT_BIND": f"127.0.0.1:{port}",
        "KOPPELPUNT_WEB_WORKERS": "2",
        "KOPPELPUNT_WEB_THREADS": "2",
        "KOPPELPUNT_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONUNBUFFERED": "1",
        # TLS ends before gunicorn here and the workers call this same server over plain HTTP (BASE_URL).
        "KOPPELPUNT_SSL_REDIRECT": "false",
    })
    if database:
        env["DATABASE_URL"] = database
    stack = Stack(tmp_path, env)
    started = time.monotonic()
    try:
        stack.run("migrate", "--noinput")
        stack.run("collectstatic", "--noinput")
        # The demo seed gives a school with an active Basispoort koppeling and Rekenwereld's pending request.
        seeded = stack.run("demo", "--no-serve", "--port", str(port))
        printed = dict(re.findall(r"^(\w+): (\S+)$", seeded, re.M))
        stack.start("web", str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "koppelpunt.wsgi")
        stack.start("worker-1", str(BIN / "koppelpunt"), "worker", "--workers", "2", "--max-delay", "0.5")
        stack.start("worker-2", str(BIN / "koppelpunt"), "worker", "--no-scheduler", "--max-delay", "0.5")

        with httpx.Client(base_url=base, headers=PROXY, timeout=30) as http:
            deadline = time.monotonic() + 30
            while True:
                stack.alive()
                try:
                    health = http.get("/health")
                    if health.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"gunicorn not healthy:\n{stack.logs()}"
                time.sleep(0.3)
            assert health.json() == {"status": "ok"}
            assert "gunicorn" in stack.logs() and "Control socket listening" not in stack.logs()

            # Static files: collected, hashed names in the pages, cached for a year, served by WhiteNoise.
            login = http.get("/inloggen/")
            assert login.status_code == 200
            css = re.search(r'href="(/static/koppelpunt/site\.[0-9a-f]{12}\.css)"', login.text)
            assert css, "no hashed static URL in the login page"
            static = http.get(css.group(1))
            assert static.status_code == 200 and "text/css" in static.headers["content-type"]
            max_age = re.search(r"max-age=(\d+)", static.headers.get("cache-control", ""))
            assert max_age and int(max_age.group(1)) >= 365 * 24 * 3600, static.headers
            assert http.get("/static/koppelpunt/site.css").headers.get("cache-control", "").find("immutable") < 0

            # A partner pulls the demo school over UWLR through gunicorn.
            from uwlr import leerlinggegevens as lg
            from uwlr import soap
            from uwlr.model import Leerlinggegevens, Operation, Verzoek

            body = lg.build_request(
                Verzoek(Operation.HAAL_LEERLINGGEGEVENS, printed["schooljaar"], brincode=printed["brincode"],
                        xsdversie=printed["xsdversie"]),
                soap.Autorisatie(printed["verificatiecode"], printed["klantcode"], printed["klantnaam"]),
            )
            endpoint = urlparse(printed.get("endpoint") or printed["leerlinggegevens"]).path
            pulled = http.post(endpoint, content=body, headers={
                "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"HaalLeerlinggegevens"', **PROXY})
            assert pulled.status_code == 200, pulled.text[:2000]
            antwoord = lg.parse_response(pulled.content, Operation.HAAL_LEERLINGGEGEVENS)
            assert isinstance(antwoord, Leerlinggegevens) and len(antwoord.leerlingen) == 240

        # The service desk approves Rekenwereld's request; the sync is queued and done by a worker process.
        school_id = stack.run("shell", "-c", (
            "from django.contrib.auth import get_user_model; from ea.klantenservice import goedkeuren; "
            "from ea.models import LasKoppeling; k = LasKoppeling.objects.get(status='aangevraagd'); "
            "goedkeuren(k, get_user_model().objects.get(username='rekenwereld_ks')); print(k.school_id)"
        )).strip().splitlines()[-1]
        try:
            followed = stack.run("sync", "--school", school_id, "--queue", "--timeout", "30", timeout=60)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{stack.logs()}") from None
        assert "Klaar." in followed, followed
        run = stack.run("shell", "-c", (
            "from sync.models import SyncRun; r = SyncRun.objects.get(); "
            "print(r.state, r.worker, r.resultaat.get('leerlingen', r.resultaat))"
        )).strip().splitlines()[-1]
        state, worker = run.split()[:2]
        # The first sync finds everything new: it stages the data and waits for the admin (a finished state).
        assert state in {"needs_person", "applied"}, run
        worker_pids = {str(proc.pid) for name, proc, _ in stack.procs if name.startswith("worker")}
        assert worker.split(":")[1] in worker_pids, (worker, worker_pids)
        stack.alive()
        storage = {"redis": "RedisStorage", "postgres": "PostgresStorage"}[queue]
        started_lines = [log.read_text().splitlines()[0] for name, _, log in stack.procs if name.startswith("worker")]
        assert all(f"queue {storage}" in line for line in started_lines), started_lines
    finally:
        stack.stop()
        if queue_db is not None:
            import redis

            redis.Redis(host="127.0.0.1", port=6379, db=queue_db).flushdb()
    assert time.monotonic() - started < 90, "the scale-out test should stay quick"
