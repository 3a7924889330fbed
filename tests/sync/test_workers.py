"""Real worker processes (`python -m koppelpunt.cli worker`) against a real HTTP LAS, on a database file that every
process shares: SQLite (a temporary file: pytest-django's in-memory test DB is invisible to other processes), and
PostgreSQL when DATABASE_URL points at one (a temporary database, with the job queue in it too: huey's
PostgreSQL storage). The test process never touches those databases through Django: it drives and inspects them
through the same command line an operator uses, plus `python -m sync.simulatie seed|report`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from koppelpunt.scratchdb import scratch_database
from sync.simulatie import SimLas, brin

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

BACKENDS = ["sqlite"]
if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    BACKENDS.append("postgresql")


@dataclass
class Stack:
    tmp: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "koppelpunt.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def sim(self, *args: str) -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-m", "sync.simulatie", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))

    def worker(self, *args: str) -> subprocess.Popen[bytes]:
        n = len(self.procs)
        with (self.tmp / f"worker{n}.log").open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "koppelpunt.cli", "worker", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        wait_until(lambda: b"Koppelpunt worker:" in (self.tmp / f"worker{n}.log").read_bytes(), 60, self.logs)
        return proc

    def logs(self) -> str:
        logs = "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.tmp.glob("worker*.log")))
        try:
            return logs + "\nreport: " + json.dumps(self.sim("report"))
        except AssertionError as exc:
            return logs + f"\nreport failed: {exc}"

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def wait_until(condition: Callable[[], bool], timeout: float, explain: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s\n{explain()}")
        time.sleep(0.2)


@pytest.fixture(params=BACKENDS)
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELPUNT_", "DATABASE_URL", "DJANGO_"))}
    env.update(
        KOPPELPUNT_ENV="test",
        KOPPELPUNT_DATA_DIR=str(tmp_path),
        KOPPELPUNT_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        KOPPELPUNT_LOG_LEVEL="WARNING",
        KOPPELPUNT_RETRY_BASE_SECONDS="1",
        KOPPELPUNT_RETRY_MAX_SECONDS="2",
        KOPPELPUNT_LAS_TIMEOUT="20",
        PYTHONUNBUFFERED="1",
    )
    scratch = contextlib.ExitStack()
    if request.param == "postgresql":
        url = scratch.enter_context(scratch_database(os.environ["DATABASE_URL"], "kp_sync"))
        env.update(DATABASE_URL=url, KOPPELPUNT_QUEUE_URL=url)
    else:
        env.update(DATABASE_URL=f"sqlite://{tmp_path}/db.sqlite3", KOPPELPUNT_QUEUE_URL=f"sqlite://{tmp_path}/q.db")
    s = Stack(tmp_path, env)
    try:
        result = s.cli("migrate", "--noinput", "--skip-checks")
        assert result.returncode == 0, result.stderr[-3000:]
        yield s
    finally:
        s.stop()
        scratch.close()


def test_two_workers_sync_thirty_schools_each_once(stack: Stack) -> None:
    las = SimLas(aantal=30)
    for i, school in enumerate(las.scholen.values()):
        school.vertraging = 0.05
        if i % 10 == 3:
            school.nieuw = 1  # a new pupil: waits for an admin
        if i % 10 == 5:
            school.hernoemd = 2  # linked automatically: applied
    with las:
        assert stack.sim("seed", "--schools", "30", "--las-url", las.base_url) == {"scholen": 30}
        stack.worker("--no-scheduler")
        stack.worker("--no-scheduler")
        result = stack.cli("sync", "--all", "--queue", "--timeout", "240", timeout=300)
        assert result.returncode == 0, result.stderr[-3000:] + stack.logs()
        out = result.stdout
        assert "Synchroniseren: 30 school/scholen, 30 resultatenpakket(ten)." in out
        assert "Voortgang [##############################] 60/60" in out
        rapport = stack.sim("report")
        assert rapport["runs"] == rapport["scholen_met_run"] == 30
        assert rapport["max_runs_per_school"] == 1
        assert rapport["run_states"] == {"applied": 27, "needs_person": 3}, rapport
        assert rapport["run_attempts"] == {"1": 30}
        assert rapport["uitkomsten"] == {"bijgewerkt": 3, "ongewijzigd": 24, "": 3}
        assert rapport["push_states"] == {"delivered": 30}
        assert rapport["afgeleverd"] == rapport["resultaten"] == 60
        assert len(rapport["workers"]) == 2, "both workers took part"
        # What the LAS saw: every school pulled exactly once, never two pulls of one school at once, and every
        # result key received exactly once.
        assert las.pulls == {brin(i): 1 for i in range(30)}
        assert max(las.max_in_flight.values()) == 1
        assert len(las.ontvangen) == 60 and set(las.ontvangen.values()) == {1}


def test_a_killed_worker_s_sync_is_taken_back_and_finished_by_another(stack: Stack) -> None:
    stack.env["KOPPELPUNT_SYNC_LEASE_SECONDS"] = "3"
    las = SimLas(aantal=4)
    traag = las.scholen[brin(0)]
    traag.vertraging = 30
    with las:
        stack.sim("seed", "--schools", "4", "--las-url", las.base_url)
        workers = [stack.worker("--no-scheduler"), stack.worker("--no-scheduler")]
        result = stack.cli("sync", "--all", "--queue", "--no-wait", "--no-results")
        assert result.returncode == 0, result.stderr
        wait_until(lambda: las.in_flight[brin(0)] == 1, 60, stack.logs)
        wait_until(lambda: stack.sim("report")["run_states"] == {"applied": 3, "running": 1}, 60, stack.logs)
        time.sleep(4)  # longer than the lease: the slow worker is alive, its heartbeat keeps the claim
        rapport = stack.sim("report")
        assert rapport["run_states"] == {"applied": 3, "running": 1} and rapport["run_attempts"] == {"1": 4}
        [holder] = rapport["bezig"]
        slow = next(p for p in workers if p.pid == int(holder.split(":")[1]))
        slow.send_signal(signal.SIGKILL)  # kill -9 in the middle of school 0's sync
        slow.wait(10)
        traag.vertraging = 0
        time.sleep(3.5)  # the lease runs out
        stack.worker("--no-scheduler")  # takes back the stale claim at start
        wait_until(lambda: stack.sim("report")["run_states"] == {"applied": 4}, 90, stack.logs)
        rapport = stack.sim("report")
        assert rapport["runs"] == 4 and rapport["max_runs_per_school"] == 1
        assert rapport["run_attempts"] == {"1": 3, "2": 1}
        assert las.pulls[brin(0)] == 2  # the killed pull, then the one that finished


def test_results_arrive_once_the_las_is_back_each_exactly_once(stack: Stack) -> None:
    # The LAS is not running at first (connections refused), then answers 503, then works. Retries every 1–2 s;
    # enough attempts that a slow machine does not give up before the LAS is back.
    stack.env.update(KOPPELPUNT_PUSH_MAX_ATTEMPTS="1000", KOPPELPUNT_SYNC_MAX_ATTEMPTS="1000")
    port_finder = SimLas(aantal=3)
    port = port_finder.port
    port_finder.server.server_close()
    base_url = f"http://127.0.0.1:{port}"
    stack.sim("seed", "--schools", "3", "--las-url", base_url, "--results", "4")
    worker = stack.worker()
    result = stack.cli("sync", "--all", "--queue", "--no-wait")
    assert result.returncode == 0, result.stderr

    def waiting_for_retry() -> bool:
        r = stack.sim("report")
        return r["push_states"] == {"queued": 3} and min(r["push_attempts"]) >= 1

    wait_until(waiting_for_retry, 60, stack.logs)
    # The worker is killed while the results wait for their retry: they stay queued in our tables and the queue.
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    las = SimLas(aantal=3, port=port)
    las.down = 4  # four more failures: HTTP 503
    with las:
        stack.worker()
        wait_until(lambda: stack.sim("report")["push_states"] == {"delivered": 3}, 120, stack.logs)
        rapport = stack.sim("report")
        assert rapport["afgeleverd"] == rapport["resultaten"] == 12
        assert len(las.ontvangen) == 12 and set(las.ontvangen.values()) == {1}
        assert max(rapport["push_attempts"]) >= 2
        assert las.down == 0
        wait_until(lambda: stack.sim("report")["run_states"] == {"applied": 3}, 60, stack.logs)


def test_the_scheduler_plans_the_night_without_anyone_clicking(stack: Stack) -> None:
    stack.env["KOPPELPUNT_SYNC_TIME"] = "00:00"  # tonight's sync time has passed: the scheduler catches up at once
    las = SimLas(aantal=5)
    las.scholen[brin(2)].hernoemd = 1
    with las:
        stack.sim("seed", "--schools", "5", "--las-url", las.base_url)
        stack.worker()  # with the scheduler
        stack.worker("--no-scheduler")

        def night_done() -> bool:
            r = stack.sim("report")
            return r["run_states"] == {"applied": 5} and r["push_states"] == {"delivered": 5}

        wait_until(night_done, 120, stack.logs)
        rapport = stack.sim("report")
        assert rapport["aanleidingen"] == {"nacht": 5}
        assert rapport["uitkomsten"] == {"ongewijzigd": 4, "bijgewerkt": 1}
        assert las.pulls == {brin(i): 1 for i in range(5)}
        stack.worker()  # a second scheduler (or a restarted one) plans nothing more for this night
        time.sleep(3)
        assert stack.sim("report")["runs"] == 5
        assert las.pulls == {brin(i): 1 for i in range(5)}
