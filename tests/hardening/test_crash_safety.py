"""kill -9 in the middle of the work: nothing half-done is left behind, and the next run finishes the work.

- Import apply: a subprocess runs `ea.importer.apply` on a staged import of a whole school (real SQLite file
  shared by the processes) and is SIGKILLed from inside its transaction, at several points (the child reports
  "MID" at the k-th SQL statement of the transaction and waits to be killed, so the kill is deterministic).
  Afterwards the database passes its integrity check, holds nothing of the import, the run is still staged; a
  new process applies it completely, once.
- Results push: real worker processes (`koppelpunt worker`) push results to a LAS that stores them and then
  holds its answer; the worker is killed while the LAS holds it. A new worker sends the batch again, the results
  are delivered, and the LAS (which deduplicates on the result key, as UWLR prescribes) has each exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

_CHILD = textwrap.dedent("""
    import json, sys, time
    import django
    django.setup()
    from django.db import connection
    from ea import importer, lastypes
    from ea.models import Applicatie, Groep, ImportRun, Leerkracht, Leerling, School, StagedLeerling
    from uwlr import model
    import datetime as dt

    mode = sys.argv[1]
    if mode == "seed":
        n = int(sys.argv[2])
        lastypes.ensure()
        app = Applicatie.objects.create(naam="Crashwereld", klantcode="CRASH", klantnaam="Crash B.V.")
        school = School.objects.create(applicatie=app, naam="OBS Crash", brincode="21QW", dependancecode="00")
        groepen = [model.Groep(key=f"G{g}", naam=f"Groep {g}", jaargroep=str(1 + g % 8)) for g in range(40)]
        leerlingen = [model.Leerling(key=f"L{i}", achternaam=f"Achternaam{i}", roepnaam=f"Roep{i}",
                                     geboortedatum=dt.date(2016, 1, 1) + dt.timedelta(days=i % 900),
                                     jaargroep=str(1 + (i % 40) % 8), groep=f"G{i % 40}") for i in range(n)]
        leerkrachten = [model.Leerkracht(key=f"T{t}", achternaam=f"Leraar{t}", roepnaam="Juf",
                                         emailadres=f"t{t}@crash.example",
                                         groepen=[model.LeerkrachtGroep(key=f"G{t}", rollen=["LRK"])])
                        for t in range(40)]
        data = model.Leerlinggegevens(school=model.School(schooljaar="2025-2026", brincode="21QW"),
                                      groepen=groepen, leerlingen=leerlingen, leerkrachten=leerkrachten)
        run = importer.stage(school, data)
        print(json.dumps({"run": run.pk, "school": school.pk}))
    elif mode == "apply":
        run_id, kill_at = int(sys.argv[2]), int(sys.argv[3])
        count = [0]

        def wrapper(execute, sql, params, many, context):
            if connection.in_atomic_block:
                count[0] += 1
                if count[0] == kill_at:
                    print("MID", flush=True)
                    time.sleep(600)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            result = importer.apply(ImportRun.objects.get(pk=run_id))
        print(json.dumps({"result": result, "statements": count[0]}))
    elif mode == "state":
        run = ImportRun.objects.get(pk=int(sys.argv[2]))
        with connection.cursor() as c:
            c.execute("PRAGMA integrity_check")
            integrity = c.fetchone()[0]
        print(json.dumps({"state": run.state, "leerlingen": Leerling.objects.filter(school=run.school).count(),
                          "groepen": Groep.objects.filter(school=run.school).count(),
                          "leerkrachten": Leerkracht.objects.filter(school=run.school).count(),
                          "staged": StagedLeerling.objects.filter(run=run).count(),
                          "keys": Leerling.objects.filter(school=run.school).values("extern_key").distinct().count(),
                          "integrity": integrity}))
""")


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELPUNT_", "DATABASE_URL", "DJANGO_"))}
    env.update(KOPPELPUNT_ENV="test", KOPPELPUNT_DATA_DIR=str(tmp), DATABASE_URL=f"sqlite://{tmp}/db.sqlite3",
               KOPPELPUNT_LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="koppelpunt.settings", PYTHONPATH=str(ROOT))
    return env


def _child(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _kill_apply_at(env: dict[str, str], run: int, k: int) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, "apply", str(run), str(k)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the child is inside the transaction
        assert line.strip() == "MID", line + (proc.stderr.read() if proc.stderr else "")
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)  # reaps the child and closes its pipes


def test_import_apply_killed_mid_transaction_leaves_nothing_and_completes_next_time(tmp_path: Path) -> None:
    pupils = 1500
    calibration, real = tmp_path / "calibration", tmp_path / "real"
    for folder in (calibration, real):
        folder.mkdir()
        migrate = subprocess.run([sys.executable, "-m", "koppelpunt.cli", "migrate", "--noinput", "--skip-checks"],
                                 cwd=ROOT, env=_env(folder), capture_output=True, text=True, timeout=300)
        assert migrate.returncode == 0, migrate.stderr[-3000:]
    # How many statements the transaction has: apply once, untouched, on an identical database.
    seeded = _child(_env(calibration), "seed", str(pupils))
    full = _child(_env(calibration), "apply", str(seeded["run"]), "0")
    statements = full["statements"]
    assert full["result"]["leerlingen_nieuw"] == pupils and statements >= 6
    env = _env(real)
    run = _child(env, "seed", str(pupils))["run"]
    # Killed after the first statement, in the middle, and at the last statement before COMMIT.
    for k in sorted({2, statements // 3, statements // 2, statements - 1}):
        _kill_apply_at(env, run, k)
        state = _child(env, "state", str(run))
        assert state == {"state": "staged", "leerlingen": 0, "groepen": 0, "leerkrachten": 0, "staged": pupils,
                         "keys": 0, "integrity": "ok"}, (k, state)
    done = _child(env, "apply", str(run), "0")
    assert done["result"] == full["result"]
    state = _child(env, "state", str(run))
    assert state == {"state": "applied", "leerlingen": pupils, "groepen": 40, "leerkrachten": 40, "staged": 0,
                     "keys": pupils, "integrity": "ok"}, state


# --------------------------------------------------------------------------------------------------------------
# Results push with real worker processes


def _stack_fixture() -> Any:
    try:
        from tests.sync import test_workers
    except ImportError:  # pragma: no cover - the nightly jobs are not in this checkout
        return None
    return test_workers


_workers = _stack_fixture()
if _workers is not None:
    stack = _workers.stack  # the real-worker stack of tests/sync/test_workers.py (SQLite, and PostgreSQL in CI)


@pytest.mark.skipif(_workers is None, reason="sync/ has no worker stack in this checkout")
def test_results_push_killed_mid_request_is_resent_and_stored_once(stack: Any) -> None:
    from sync.simulatie import SimLas

    class HoldingLas(SimLas):
        """Stores the first batch it receives, then holds its answer until told to let go."""

        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            self.holding = threading.Event()
            self.release = threading.Event()
            self.held_keys: set[str] = set()

        def handle_lr(self, body: bytes) -> tuple[int, bytes]:
            answer = super().handle_lr(body)
            with self.lock:
                first = not self.holding.is_set()
                if first:
                    from uwlr import leerresultaten as lr

                    _env, verzoek = lr.parse_request_envelope(body)
                    self.held_keys = {r.key for a in verzoek.toetsafnames for r in a.resultaten}
                    self.holding.set()
            if first:
                self.release.wait(60)
            return answer

    stack.env["KOPPELPUNT_SYNC_LEASE_SECONDS"] = "3"
    las = HoldingLas(aantal=2)
    with las:
        stack.sim("seed", "--schools", "2", "--las-url", las.base_url, "--results", "3")
        worker = stack.worker("--no-scheduler")
        result = stack.cli("sync", "--all", "--queue", "--no-wait")
        assert result.returncode == 0, result.stderr
        _workers.wait_until(las.holding.is_set, 90, stack.logs)
        worker.send_signal(signal.SIGKILL)  # the LAS has stored the batch; the worker dies before the answer
        worker.wait(10)
        las.release.set()
        assert stack.sim("report")["push_states"] != {"delivered": 2}
        time.sleep(3.5)  # the killed worker's lease runs out
        stack.worker("--no-scheduler")
        _workers.wait_until(lambda: stack.sim("report")["push_states"] == {"delivered": 2}, 120, stack.logs)
        rapport = stack.sim("report")
        assert rapport["afgeleverd"] == rapport["resultaten"] == 6
        # The held batch was sent twice (the LAS cannot tell it was answered into the void), the other once;
        # the LAS stored every result key once.
        assert las.held_keys and all(las.ontvangen[k] == 2 for k in las.held_keys)
        assert all(n == 1 for k, n in las.ontvangen.items() if k not in las.held_keys)
        assert len(las.opgeslagen) == 6
