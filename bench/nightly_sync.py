"""Nightly sync of many simulated schools with real worker processes.

    python -m bench nightly_sync [--schools 1000] [--workers 2] [--pupils 20] [--database-url postgres://…]

Sets up a fresh database (a temporary SQLite file, or a temporary database on the PostgreSQL server given by
--database-url / DATABASE_URL with the job queue in it too), a simulated LAS serving small canned uwlr-built
answers on 127.0.0.1 (`sync.simulatie.SimLas`), and the application data of every school (pupils already
imported, two results each to send). Then starts N `koppelpunt worker` processes and runs
`koppelpunt sync --all --nacht --queue`, which plans the night as the scheduler does (a sync and a results push per
school) and follows the workers until every job has ended.

Reports the total time, the throughput, and the resident memory of each worker process over the run (sampled,
plus the kernel's high-water mark), and checks that every school was pulled once and every result arrived once.
Targets: the whole night under 10 minutes, and flat memory (a worker's RSS grows by less than 30 MB between the
first quarter of the run and the end).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from koppelpunt.scratchdb import scratch_database

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 600
TARGET_GROWTH_MB = 30


def _status(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench nightly_sync", description=__doc__.split("\n")[0])
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--pupils", type=int, default=20, help="pupils per school")
    pg = os.environ.get("DATABASE_URL", "")
    parser.add_argument(
        "--database-url",
        default=pg if pg.startswith(("postgres://", "postgresql://")) else "",
        help="PostgreSQL server to use (default: DATABASE_URL when it is PostgreSQL, else a SQLite file)",
    )
    args = parser.parse_args(argv)

    from sync.simulatie import SimLas, brin

    tmp = Path(tempfile.mkdtemp(prefix="kp-bench-sync-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELPUNT_", "DATABASE_URL", "DJANGO_"))}
    env.update(
        KOPPELPUNT_ENV="test",
        KOPPELPUNT_DATA_DIR=str(tmp),
        KOPPELPUNT_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        KOPPELPUNT_LOG_LEVEL="WARNING",
        KOPPELPUNT_DEBUG="false",
        PYTHONUNBUFFERED="1",
    )
    scratch = contextlib.ExitStack()
    if args.database_url:
        url = scratch.enter_context(scratch_database(args.database_url, "kp_bench"))
        env.update(DATABASE_URL=url, KOPPELPUNT_QUEUE_URL=url)
        backend = "PostgreSQL (queue: huey PostgresHuey)"
    else:
        # The default single-machine set-up: SQLite (WAL) and huey's SQLite queue in the data directory.
        backend = "SQLite file in WAL mode (queue: huey SqliteHuey)"

    def cli(*a: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *a], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    workers: list[subprocess.Popen[bytes]] = []
    las = SimLas(aantal=args.schools)
    # A realistic night: most schools unchanged, some with a renamed pupil (applied automatically), some with a
    # new pupil (waits for an admin), a few where pupils left (deactivated).
    for i, school in enumerate(las.scholen.values()):
        school.leerlingen = args.pupils
        if i % 10 == 3:
            school.nieuw = 1
        elif i % 10 == 5:
            school.hernoemd = 1
        elif i % 50 == 7:
            school.weg = 1
    try:
        las.start()
        print(f"nightly sync: {args.schools} schools × {args.pupils} pupils, {args.workers} workers, {backend}")
        t = time.perf_counter()
        r = cli("-m", "koppelpunt.cli", "migrate", "--noinput", "--skip-checks")
        assert r.returncode == 0, r.stderr[-2000:]
        r = cli(
            "-m",
            "sync.simulatie",
            "seed",
            "--schools",
            str(args.schools),
            "--las-url",
            las.base_url,
            "--pupils",
            str(args.pupils),
        )
        assert r.returncode == 0, r.stderr[-2000:]
        print(f"  setup (migrate + seed): {time.perf_counter() - t:.1f} s")

        for n in range(args.workers):
            log = (tmp / f"worker{n}.log").open("wb")
            extra = [] if n == 0 else ["--no-scheduler"]
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "koppelpunt.cli", "worker", *extra],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
        deadline = time.monotonic() + 60
        while not all(b"Koppelpunt worker:" in (tmp / f"worker{n}.log").read_bytes() for n in range(args.workers)):
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start:\n" + (tmp / "worker0.log").read_text()[-2000:])
            time.sleep(0.1)

        samples: list[tuple[float, list[int]]] = []
        stop = threading.Event()
        start = time.perf_counter()

        def sample() -> None:
            while not stop.is_set():
                rss = [_status(p.pid, "VmRSS") or 0 for p in workers]
                samples.append((time.perf_counter() - start, rss))
                stop.wait(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        r = cli("-m", "koppelpunt.cli", "sync", "--all", "--nacht", "--queue", "--timeout", "1500")
        total = time.perf_counter() - start
        stop.set()
        sampler.join()
        if r.returncode != 0:
            print(r.stdout[-2000:], r.stderr[-2000:])
            print((tmp / "worker0.log").read_text()[-3000:])
            return 1
        peaks = [_status(p.pid, "VmHWM") or 0 for p in workers]
        rapport = json.loads(cli("-m", "sync.simulatie", "report").stdout.strip().splitlines()[-1])
    finally:
        for p in workers:
            p.terminate()
        for p in workers:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        las.stop()
        scratch.close()

    mb = 1024 * 1024
    print(
        f"  total: {total:.1f} s for {args.schools} syncs + {rapport['push_states'].get('delivered', 0)} results "
        f"pushes ({1000 * total / args.schools:.1f} ms per school, {args.schools / total:.1f} schools/s)"
    )
    print(f"  run states: {rapport['run_states']}; outcomes: {rapport['uitkomsten']}")
    print(f"  results: {rapport['afgeleverd']}/{rapport['resultaten']} delivered; pushes {rapport['push_states']}")
    quarter = [s for s in samples if s[0] >= total / 4] or samples
    growth = []
    for w in range(len(workers)):
        series = [s[1][w] for s in samples if s[1][w]]
        at_quarter = next((s[1][w] for s in quarter if s[1][w]), 0)
        end = series[-1] if series else 0
        growth.append((end - at_quarter) / mb)
        marks = [series[int(f * (len(series) - 1))] / mb for f in (0.1, 0.25, 0.5, 0.75, 1.0)] if series else []
        print(
            f"  worker {w}: RSS at 10/25/50/75/100 % of the run: "
            + " / ".join(f"{m:.0f}" for m in marks)
            + f" MB; peak (VmHWM) {peaks[w] / mb:.0f} MB; growth after the first quarter {growth[-1]:+.1f} MB"
        )
    pulled_once = las.pulls == {brin(i): 1 for i in range(args.schools)}
    each_result_once = len(las.ontvangen) == rapport["resultaten"] and set(las.ontvangen.values()) == {1}
    print(f"  every school pulled exactly once: {pulled_once}; every result received exactly once: {each_result_once}")
    ok_time = total < TARGET_SECONDS
    ok_memory = max(growth, default=0) < TARGET_GROWTH_MB
    print(
        f"  target: under {TARGET_SECONDS} s → {'met' if ok_time else 'MISSED'}; "
        f"flat memory (growth < {TARGET_GROWTH_MB} MB) → {'met' if ok_memory else 'MISSED'}"
    )
    return 0 if ok_time and ok_memory and pulled_once and each_result_once else 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
