"""A simulated LAS for tests, the benchmark and trying things out: a real HTTP server on 127.0.0.1 that answers
UWLR requests for many small schools with answers built by `uwlr` (built once per school, then served as bytes),
and accepts BrengLeerresultaten, storing each result key once (as a LAS that deduplicates on the key does).

It counts what it was asked, so a test can check that every school was pulled once and every result arrived
once, and it can be told to be down (refuse connections / answer 503) or to answer a fault.

    with SimLas(aantal=30) as las:               # schools 0..29
        ...  LasType URLs: las.lg_url, las.lr_url
    python -m sync.simulatie seed --schools 30 --las-url URL   (with DATABASE_URL …): the matching EA data

The EA side of the same schools (`seed`) is generated from the same numbers, so both sides agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

from uwlr import faults, model, soap
from uwlr import leerlinggegevens as lg
from uwlr import leerresultaten as lr

SCHOOLJAAR = "2025-2026"
KLANTCODE, KLANTNAAM = "SIMAPP", "Simulatie-applicatie"
AMS = ZoneInfo("Europe/Amsterdam")
GEBOREN = dt.date(2016, 9, 1)


def brin(i: int) -> str:
    """A distinct valid BRIN code per school number (2 digits, 2 capitals)."""
    return f"{i % 100:02d}{chr(65 + (i // 100) % 26)}{chr(65 + (i // 2600) % 26)}"


def sleutel(i: int) -> str:
    return f"{brin(i)}00-simulatie-{i:05d}"


def leerling_key(i: int, j: int) -> str:
    return f"{brin(i)}-L{j:03d}"


def leerkracht_key(i: int, j: int) -> str:
    return f"{brin(i)}-T{j:02d}"


def groep_key(i: int) -> str:
    return f"{brin(i)}-G5"


def achternaam(i: int, j: int) -> str:
    return f"Leerling{i:04d}x{j:03d}"


@dataclass
class SimSchool:
    nummer: int
    leerlingen: int = 20
    # Changes the LAS has compared with what `seed` put in the application:
    hernoemd: int = 0  # pupils whose roepnaam changed (link automatically)
    nieuw: int = 0  # pupils the application does not know yet (need a person)
    weg: int = 0  # pupils that left (deactivated)
    leerkrachten: int = 0  # teachers of the school's group (as `seed(leerkrachten=…)` put them in the application)
    leerkrachten_weg: int = 0  # of those, teachers that left (deactivated)
    gewijzigd_op: dt.datetime = field(default_factory=lambda: dt.datetime(2025, 9, 1, tzinfo=AMS))
    vertraging: float = 0.0  # seconds the LAS takes to answer a pull

    def data(self) -> model.Leerlinggegevens:
        i = self.nummer
        rijen = []
        for j in range(self.weg, self.leerlingen + self.nieuw):
            rijen.append(
                model.Leerling(
                    key=leerling_key(i, j),
                    achternaam=achternaam(i, j),
                    roepnaam=("Nieuwe" if j < self.weg + self.hernoemd else "Sim") + f"{j}",
                    geboortedatum=GEBOREN,
                    jaargroep="5",
                    groep=groep_key(i),
                )
            )
        leerkrachten = [
            model.Leerkracht(
                key=leerkracht_key(i, j),
                achternaam=f"Leerkracht{i:04d}x{j:02d}",
                roepnaam=f"Juf{j}",
                groepen=[model.LeerkrachtGroep(groep_key(i))],
            )
            for j in range(self.leerkrachten_weg, self.leerkrachten)
        ]
        return model.Leerlinggegevens(
            school=model.School(schooljaar=SCHOOLJAAR, brincode=brin(i)),
            groepen=[model.Groep(key=groep_key(i), naam="Groep 5", jaargroep="5")],
            leerlingen=rijen,
            leerkrachten=leerkrachten,
        )


def _naive_as_local(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=AMS)


class SimLas:
    def __init__(self, aantal: int = 0, scholen: list[SimSchool] | None = None, port: int = 0) -> None:
        self.scholen: dict[str, SimSchool] = {}
        for s in scholen if scholen is not None else [SimSchool(i) for i in range(aantal)]:
            self.scholen[brin(s.nummer)] = s
        self._answers: dict[tuple[str, dt.datetime, int], bytes] = {}
        self.lock = threading.Lock()
        self.pulls: Counter[str] = Counter()  # brin → pull requests received (with a valid key)
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.geen_wijzigingen: Counter[str] = Counter()
        self.ontvangen: Counter[str] = Counter()  # result key → times received
        self.opgeslagen: dict[str, tuple[str, str, int]] = {}  # result key → (brin, leerlingid, score), stored once
        self.lr_verzoeken = 0
        self.down = 0  # answer this many more requests with HTTP 503
        self.fault: faults.UwlrFault | None = None  # answer BrengLeerresultaten with this fault
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.lg_url = self.base_url + "/lg"
        self.lr_url = self.base_url + "/lr"
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------------------------------------- server life

    def start(self) -> SimLas:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> SimLas:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------------ answers

    def _answer(self, school: SimSchool) -> bytes:
        changes = (school.hernoemd, school.nieuw, school.weg, school.leerkrachten, school.leerkrachten_weg)
        key = (brin(school.nummer), school.gewijzigd_op, hash(changes))
        cached = self._answers.get(key)
        if cached is None:
            cached = lg.build_answer_envelope(model.Operation.HAAL_LEERLINGGEGEVENS, school.data())
            self._answers[key] = cached
        return cached

    def handle_lg(self, body: bytes) -> tuple[int, bytes]:
        envelope, verzoek = lg.parse_request_envelope(body)
        school = self.scholen.get(verzoek.brincode or "")
        aut = envelope.autorisatie
        if school is None or aut is None or aut.autorisatiesleutel != sleutel(school.nummer):
            raise faults.AutorisatieOngeldig("Onbekende school of sleutel.")
        b = brin(school.nummer)
        with self.lock:
            self.pulls[b] += 1
            self.in_flight[b] += 1
            self.max_in_flight[b] = max(self.max_in_flight[b], self.in_flight[b])
        try:
            if school.vertraging:
                time.sleep(school.vertraging)
            since = verzoek.laatstontvangengegevens
            if since is not None and _naive_as_local(since) >= school.gewijzigd_op:
                with self.lock:
                    self.geen_wijzigingen[b] += 1
                return 200, lg.build_answer_envelope(model.Operation.HAAL_LEERLINGGEGEVENS, model.GEEN_WIJZIGINGEN)
            return 200, self._answer(school)
        finally:
            with self.lock:
                self.in_flight[b] -= 1

    def handle_lr(self, body: bytes) -> tuple[int, bytes]:
        envelope, verzoek = lr.parse_request_envelope(body)
        with self.lock:
            self.lr_verzoeken += 1
        school = self.scholen.get(verzoek.school.brincode or "")
        aut = envelope.autorisatie
        if school is None or aut is None or aut.autorisatiesleutel != sleutel(school.nummer):
            raise faults.AutorisatieOngeldig("Onbekende school of sleutel.")
        if self.fault is not None:
            raise self.fault
        with self.lock:
            for afname in verzoek.toetsafnames:
                for r in afname.resultaten:
                    self.ontvangen[r.key] += 1
                    score = r.score if isinstance(r.score, int) else -1
                    self.opgeslagen.setdefault(r.key, (brin(school.nummer), afname.leerlingid, score))
        return 200, lr.build_bevestiging()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        las = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with las.lock:
                    down = las.down > 0
                    if down:
                        las.down -= 1
                if down:
                    self._send(503, b"<html><body>Service Unavailable</body></html>", "text/html")
                    return
                try:
                    if self.path == "/lg":
                        status, answer = las.handle_lg(body)
                    elif self.path == "/lr":
                        status, answer = las.handle_lr(body)
                    else:
                        status, answer = 404, b"not found"
                except faults.UwlrFault as fault:
                    status, answer = 500, soap.build_fault(fault)
                except Exception as exc:  # a bug in a request or here: answer as a LAS would
                    status, answer = 500, soap.build_fault(faults.InterneFout(type(exc).__name__))
                self._send(status, answer, soap.CONTENT_TYPE)

            def _send(self, status: int, answer: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        return Handler


# ---------------------------------------------------------------------------------------------------------------
# The application side of the same schools (needs Django)


def seed(
    aantal: int,
    las_url: str,
    *,
    leerlingen: int = 20,
    resultaten: int = 2,
    leerkrachten: int = 0,
    beheerders: bool = True,
    start: int = 0,
) -> list[int]:
    """Application data for schools start..start+aantal-1: approved connections to the simulated LAS at `las_url`,
    the pupils already imported (linked by their LAS keys) and `resultaten` test results per school to send.
    Returns the EA school ids."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from ea.models import Applicatie, Groep, LasKoppeling, LasType, Leerkracht, Leerling, School, SchoolBeheerder
    from sync.models import Toets, ToetsResultaat

    with transaction.atomic():
        app, _ = Applicatie.objects.get_or_create(
            naam="Simulatie", defaults={"klantcode": KLANTCODE, "klantnaam": KLANTNAAM}
        )
        las_type, _ = LasType.objects.update_or_create(
            naam="Simulatie-LAS",
            defaults={"leerlinggegevens_url": las_url + "/lg", "leerresultaten_url": las_url + "/lr", "getrapt": False},
        )
        toets, _ = Toets.objects.get_or_create(
            applicatie=app,
            code="SIM-REKENEN-M5",
            defaults={
                "naam": "Rekenen midden groep 5",
                "leerjaar": "5",
                "normering": [
                    {"term": "V", "van": 0, "tot": 19, "omschrijving": "zwak"},
                    {"term": "IV", "van": 20, "tot": 39},
                    {"term": "III", "van": 40, "tot": 59},
                    {"term": "II", "van": 60, "tot": 79},
                    {"term": "I", "van": 80, "tot": 200, "omschrijving": "sterk"},
                ],
            },
        )
        user_model = get_user_model()
        ids: list[int] = []
        for i in range(start, start + aantal):
            school = School.objects.create(applicatie=app, naam=f"Simulatieschool {i}", brincode=brin(i))
            ids.append(school.pk)
            koppeling = LasKoppeling(
                school=school,
                las_type=las_type,
                brincode=brin(i),
                dependancecode="",
                schooljaar=SCHOOLJAAR,
                klantcode=KLANTCODE,
                klantnaam=KLANTNAAM,
                status=LasKoppeling.GOEDGEKEURD,
            )
            koppeling.autorisatiesleutel = sleutel(i)
            koppeling.save()
            if beheerders:
                user = user_model.objects.create(username=f"sim-beheer-{i}", email=f"beheer{i}@sim.example")
                SchoolBeheerder.objects.create(user=user, school=school)
            groep = Groep.objects.create(
                school=school, naam="Groep 5", jaargroep="5", schooljaar=SCHOOLJAAR, extern_key=groep_key(i)
            )
            pupils = Leerling.objects.bulk_create(
                [
                    Leerling(
                        school=school,
                        achternaam=achternaam(i, j),
                        roepnaam=f"Sim{j}",
                        geboortedatum=GEBOREN,
                        jaargroep="5",
                        groep=groep,
                        extern_key=leerling_key(i, j),
                    )
                    for j in range(leerlingen)
                ]
            )
            for j in range(leerkrachten):
                Leerkracht.objects.create(
                    school=school,
                    achternaam=f"Leerkracht{i:04d}x{j:02d}",
                    roepnaam=f"Juf{j}",
                    extern_key=leerkracht_key(i, j),
                ).groepen.add(groep)
            for k in range(resultaten):
                ToetsResultaat(
                    school=school,
                    leerling=pupils[k % len(pupils)],
                    toets=toets,
                    afnamedatum=dt.date(2026, 1, 20),
                    score=(17 * (i + k)) % 100,
                ).save()
    return ids


def report() -> dict[str, Any]:
    """What the application's tables say: runs and pushes per school and their states."""
    from django.db.models import Count

    from sync.models import ResultPush, SyncRun, ToetsResultaat

    runs_per_school = Counter(dict(SyncRun.objects.values_list("school_id").annotate(n=Count("id"))))
    return {
        "runs": SyncRun.objects.count(),
        "run_states": dict(Counter(SyncRun.objects.values_list("state", flat=True))),
        "run_attempts": dict(Counter(SyncRun.objects.values_list("attempts", flat=True))),
        "aanleidingen": dict(Counter(SyncRun.objects.values_list("aanleiding", flat=True))),
        "uitkomsten": dict(Counter(SyncRun.objects.values_list("uitkomst", flat=True))),
        "max_runs_per_school": max(runs_per_school.values(), default=0),
        "scholen_met_run": len(runs_per_school),
        "push_states": dict(Counter(ResultPush.objects.values_list("state", flat=True))),
        "push_attempts": sorted(ResultPush.objects.values_list("attempts", flat=True)),
        "resultaten": ToetsResultaat.objects.count(),
        "afgeleverd": ToetsResultaat.objects.filter(afgeleverd_op__isnull=False).count(),
        "workers": sorted({":".join(w.split(":")[:2]) for w in SyncRun.objects.values_list("worker", flat=True) if w}),
        "bezig": sorted(
            ":".join(w.split(":")[:2])
            for w in SyncRun.objects.filter(state__in=SyncRun.BUSY).values_list("worker", flat=True)
        ),
        "fouten": sorted({f for f in SyncRun.objects.values_list("fout", flat=True) if f})[:5],
        "push_fouten": sorted({f for f in ResultPush.objects.values_list("fout", flat=True) if f})[:5],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sync.simulatie")
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed", help="application data for simulated schools")
    s.add_argument("--schools", type=int, required=True)
    s.add_argument("--las-url", required=True)
    s.add_argument("--pupils", type=int, default=20)
    s.add_argument("--results", type=int, default=2)
    s.add_argument("--start", type=int, default=0)
    sub.add_parser("report", help="states of runs and pushes as JSON")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koppelpunt.settings")
    import django

    django.setup()
    if args.cmd == "seed":
        ids = seed(args.schools, args.las_url, leerlingen=args.pupils, resultaten=args.results, start=args.start)
        print(json.dumps({"scholen": len(ids)}))
    else:
        print(json.dumps(report()))
    return 0


def iter_rss(pids: list[int]) -> Iterator[tuple[int, int]]:
    """(pid, resident set size in bytes) of each live process (Linux /proc)."""
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        yield pid, int(line.split()[1]) * 1024
                        break
        except OSError:
            continue


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
