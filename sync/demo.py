"""Demo: a test of the demo application with normed scores for the demo school's pupils, and a worker that runs
inside the demo process, so a newcomer sees the results arrive in the LAS right after the first import.

In the demo the job table itself is the queue: `start_worker` runs a thread that every few seconds plans a
results push for new results, takes back stale claims and does every due job (the same claims a huey worker
makes), and plans the night at the sync time like the scheduler does. No separate process is needed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from django.db import close_old_connections, connections, transaction

log = logging.getLogger(__name__)

TOETS = {
    "code": "RW-REKENEN-M",
    "naam": "Rekenwereld toets rekenen (midden)",
    "leerjaar": "5",
    "normering": [
        {"term": "E", "van": 0, "tot": 19, "omschrijving": "ruim onder het gemiddelde"},
        {"term": "D", "van": 20, "tot": 39, "omschrijving": "onder het gemiddelde"},
        {"term": "C", "van": 40, "tot": 59, "omschrijving": "gemiddeld"},
        {"term": "B", "van": 60, "tot": 79, "omschrijving": "boven het gemiddelde"},
        {"term": "A", "van": 80, "tot": 100, "omschrijving": "ruim boven het gemiddelde"},
    ],
}


def seed(stdout: Any, base_url: str = "") -> int:
    """Results for the demo school's pupils (once). They are sent to the LAS as soon as their pupils are linked
    to it by the first import. Returns the number of results created."""
    from ea.models import Applicatie, Leerling, School
    from sync.models import Toets, ToetsResultaat

    try:
        from ea.demo import APP, BRIN
    except ImportError:
        return 0
    applicatie = Applicatie.objects.filter(naam=APP[0]).first()
    school = School.objects.filter(applicatie=applicatie, brincode=BRIN).first() if applicatie else None
    if school is None:
        return 0
    made = 0
    with transaction.atomic():
        toets, _ = Toets.objects.get_or_create(
            applicatie=applicatie, code=TOETS["code"], defaults={k: v for k, v in TOETS.items() if k != "code"}
        )
        for i, leerling in enumerate(Leerling.objects.filter(school=school).order_by("pk")):
            if ToetsResultaat.objects.filter(leerling=leerling, toets=toets).exists():
                continue
            ToetsResultaat(
                school=school,
                leerling=leerling,
                toets=toets,
                afnamedatum=dt.date.today() - dt.timedelta(days=7),
                score=(37 + 23 * i) % 101,
            ).save()
            made += 1
    total = ToetsResultaat.objects.filter(school=school).count()
    stdout.write(
        f"Nachtelijke synchronisatie: {total} toetsresultaten van {school.naam} wachten op het LAS; ze worden "
        f"verstuurd zodra de leerlingen na de eerste import gekoppeld zijn.\n"
        f"  Overzicht: {base_url}/applicatie/synchronisatie/school/{school.pk}/\n"
    )
    return made


def start_worker(stdout: Any = None, interval: float = 5.0) -> threading.Thread:
    """A worker thread inside this process that polls the job table (no queue server, no huey consumer)."""
    from ea import tasks as ea_tasks
    from koppelpunt.jobs import worker_naam
    from sync import services

    # Jobs are picked up from the table by this thread; nothing needs to go to a queue.
    services.dispatch = lambda kind, pk, delay: None
    # The import wizard's fetch from the LAS starts at once in a thread of its own (an admin is waiting for it).
    ea_tasks.dispatch = ea_tasks.in_thread
    stop = threading.Event()

    def loop() -> None:
        worker = worker_naam() + ":demo"
        while not stop.is_set():
            try:
                services.tick()
                services.plan_pushes(enqueue=False)
                services.run_due(worker)
                ea_tasks.run_due(worker)  # a fetch whose thread did not start
            except Exception:  # the demo keeps running; the next round tries again
                log.exception("demo worker round failed")
            finally:
                close_old_connections()
            stop.wait(interval)
        services.close_transport()
        connections.close_all()  # this thread's own connections (CONN_MAX_AGE keeps them open otherwise)

    thread = threading.Thread(target=loop, name="koppelpunt-demo-worker", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    if stdout is not None:
        stdout.write(f"Worker draait in dit proces (elke {interval:g} s): resultaten gaan vanzelf naar het LAS.\n")
    return thread


def wait_idle(timeout: float = 30.0) -> bool:
    """For tests: wait until no sync or push is waiting or running."""
    from sync.models import ResultPush, SyncRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (
            not SyncRun.objects.filter(state__in=SyncRun.ACTIVE).exists()
            and not ResultPush.objects.filter(state__in=ResultPush.ACTIVE).exists()
        ):
            return True
        time.sleep(0.2)
    return False
