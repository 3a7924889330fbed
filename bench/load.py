"""Load: N concurrent UWLR partners pulling a whole school from a production-like server on loopback.

`python -m bench load [--seconds 60] [--concurrency 50] [--pupils 1000] [--workers N] [--database-url URL]`

Sets up what a deployment runs: a fresh database (a temporary SQLite file, or DATABASE_URL's PostgreSQL),
`koppelpunt migrate`, a school of `--pupils` pupils with an active koppeling, and gunicorn with
deploy/gunicorn.conf.py under KOPPELPUNT_ENV=production (requests carry X-Forwarded-Proto: https, as the
TLS proxy in front of it would add). Then `--concurrency` threads each send HaalLeerlinggegevens (alles-in-1)
with the partner's real key, back to back, for `--seconds`. Every answer must be HTTP 200 with the whole school
(the first answer of every thread is parsed completely; the rest are checked for their size and end tag).

Prints requests/s, p50/p90/p99/max latency and the error count; exit status 0 only with 0 errors.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CODE = "21QW00-bench-load-0123456789abcdef"

_SEED = textwrap.dedent("""
    import json, sys
    import django
    django.setup()
    from django.utils import timezone
    from las import services
    from las.catalogus import load_catalogue
    from las.demo import VestigingSpec, build_school
    from las.models import KoppelingAanbod, Koppeling, Schooljaar
    from uwlr import leerlinggegevens as lg, soap
    from uwlr.model import Operation, Verzoek

    pupils, code = int(sys.argv[1]), sys.argv[2]
    load_catalogue()
    school = build_school(brincode="21QW", naam="OBS Belasting", bestuur="Stichting Bench",
                          vestigingen=[VestigingSpec("00", "Hoofdlocatie", "Tiel", pupils)], seed=7)
    v = school.vestigingen.get(dependancecode="00")
    aanbod = KoppelingAanbod.objects.get(slug="snappet")
    k = Koppeling.objects.filter(vestiging=v, aanbod=aanbod).first()
    if k is None:
        k = services.activate(vestiging=v, aanbod=aanbod, user=None, naam="Bench", code=code,
                              startdatum=timezone.localdate())
        if k.status != "actief":
            services.confirm(k, wie="bench")
    a = soap.Autorisatie(code, aanbod.klantcode, aanbod.klantnaam)
    verzoek = Verzoek(Operation.HAAL_LEERLINGGEGEVENS, Schooljaar.voor_datum().naam, brincode="21QW")
    print(json.dumps({"request": lg.build_request(verzoek, a).decode(), "klantcode": aanbod.klantcode,
                      "klantnaam": aanbod.klantnaam, "pupils": v.leerlingen.count()}))
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def production_env(data_dir: Path, port: int, database_url: str | None, workers: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELPUNT_", "DATABASE_URL"))}
    env.update({
        "KOPPELPUNT_ENV": "production",
        "KOPPELPUNT_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "KOPPELPUNT_SECRET_KEY": "bench-" + "s" * 60,
        "KOPPELPUNT_KEY_PEPPER": "bench-pepper-" + "p" * 40,
        "KOPPELPUNT_FIELD_ENCRYPTION_KEY": "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=",  # Fernet: 32 bytes
        "KOPPELPUNT_DATA_DIR": str(data_dir),
        "KOPPELPUNT_BIND": f"127.0.0.1:{port}",
        "KOPPELPUNT_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "koppelpunt.settings",
        "PYTHONPATH": str(ROOT),
    })
    if database_url:
        env["DATABASE_URL"] = database_url
    if workers:
        env["KOPPELPUNT_WEB_WORKERS"] = str(workers)
    return env


@contextlib.contextmanager
def production_server(pupils: int, *, database_url: str | None = None, workers: int | None = None,
                      extra_env: dict[str, str] | None = None) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (base URL, seed info) of a gunicorn server on a fresh database with one seeded school."""
    import json

    with tempfile.TemporaryDirectory(prefix="koppelpunt-bench-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = production_env(data_dir, port, database_url, workers)
        env.update(extra_env or {})
        run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "check": False}
        migrate = subprocess.run([sys.executable, "-m", "koppelpunt.cli", "migrate", "--no-input"], **run)
        if migrate.returncode:
            raise SystemExit(f"migrate failed:\n{migrate.stderr[-3000:]}")
        seeded = subprocess.run([sys.executable, "-c", _SEED, str(pupils), CODE], **run)
        if seeded.returncode:
            raise SystemExit(f"seeding failed:\n{seeded.stderr[-3000:]}")
        info = json.loads(seeded.stdout.strip().splitlines()[-1])
        log = open(data_dir / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "koppelpunt.wsgi"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/health", headers={"X-Forwarded-Proto": "https"}, timeout=2).status_code:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise SystemExit("gunicorn did not start:\n" + (data_dir / "gunicorn.log").read_text()[-3000:])
                time.sleep(0.2)
            yield base, info
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _check_full(content: bytes, pupils: int) -> str | None:
    from uwlr import leerlinggegevens as lg
    from uwlr.model import Leerlinggegevens, Operation

    antwoord = lg.parse_response(content, Operation.HAAL_LEERLINGGEGEVENS)
    if not isinstance(antwoord, Leerlinggegevens) or len(antwoord.leerlingen) != pupils:
        return f"answer holds {getattr(antwoord, 'leerlingen', None) and len(antwoord.leerlingen)} pupils"
    return None


def _partner(base: str, body: bytes, pupils: int, stop: float, tally: Tally) -> None:
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"HaalLeerlinggegevens"',
               "X-Forwarded-Proto": "https"}
    expected_size = None
    with httpx.Client(base_url=base, timeout=httpx.Timeout(60.0), headers=headers) as http:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                response = http.post("/school/uwlr/leerlinggegevens", content=body)
                elapsed = time.perf_counter() - started
                problem = None
                if response.status_code != 200:
                    problem = f"HTTP {response.status_code}: {response.content[:300]!r}"
                elif expected_size is None:
                    problem = _check_full(response.content, pupils)
                    expected_size = len(response.content)
                elif len(response.content) != expected_size or not response.content.rstrip().endswith(
                        b"</soap:Envelope>"):
                    problem = f"answer of {len(response.content)} bytes, expected {expected_size}"
            except httpx.HTTPError as exc:
                elapsed, problem = time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
            with tally.lock:
                tally.latencies.append(elapsed)
                if problem:
                    tally.errors.append(problem)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench load", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--pupils", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: its config, 2×cores)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="an empty PostgreSQL database (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koppelpunt.settings")
    print(f"load: {args.concurrency} partners × HaalLeerlinggegevens of a {args.pupils}-pupil school for "
          f"{args.seconds:g} s, gunicorn (deploy/gunicorn.conf.py), KOPPELPUNT_ENV=production, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}")
    with production_server(args.pupils, database_url=args.database_url, workers=args.workers) as (base, info):
        body = info["request"].encode()
        tally = Tally()
        # One warm-up request fills the answer cache, as the first partner of the night would.
        httpx.post(base + "/school/uwlr/leerlinggegevens", content=body, timeout=120,
                   headers={"Content-Type": "text/xml", "X-Forwarded-Proto": "https"})
        started = time.monotonic()
        stop = started + args.seconds
        threads = [threading.Thread(target=_partner, args=(base, body, info["pupils"], stop, tally), daemon=True)
                   for _ in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.seconds + 120)
        wall = time.monotonic() - started
    n = len(tally.latencies)
    if not n:
        print("no requests completed")
        return 1
    ms = [x * 1000 for x in tally.latencies]
    print(f"requests: {n} in {wall:.1f} s = {n / wall:.1f} requests/s; answer {info['pupils']} pupils")
    print(f"latency ms: p50 {pct(ms, 50):.0f}  p90 {pct(ms, 90):.0f}  p99 {pct(ms, 99):.0f}  "
          f"max {max(ms):.0f}  mean {statistics.fmean(ms):.0f}")
    print(f"errors: {len(tally.errors)}")
    for problem in sorted(set(tally.errors))[:10]:
        print(f"  {tally.errors.count(problem)}× {problem}")
    return 0 if not tally.errors else 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
