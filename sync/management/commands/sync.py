"""`koppelpunt sync`: run the sync now, for one school, several, or all approved connections, with a progress bar.

By default the work is done in this process (it claims every job like a worker does, so it is safe next to
running workers); `--queue` hands the jobs to the workers instead and follows their progress. Without a terminal
the progress is printed as plain lines, so it reads well in a log or CI.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

STATE_LABELS = {
    "applied": "klaar",
    "needs_person": "wacht op beheerder",
    "held": "vastgehouden",
    "failed": "mislukt",
    "planned": "LAS onbereikbaar, later opnieuw",
}
PUSH_LABELS = {
    "delivered": "resultaten afgeleverd",
    "rejected": "resultaten geweigerd",
    "failed": "resultaten mislukt",
    "queued": "resultaten later opnieuw",
}


class Progress:
    """A plain-text progress bar: redrawn in place on a terminal, one line per step of 5 % otherwise."""

    def __init__(self, out: Any, total: int, label: str, tty: bool) -> None:
        self.out, self.total, self.label, self.tty = out, total, label, tty
        self.last_step = -1

    def show(self, done: int, counts: dict[str, int], force: bool = False) -> None:
        width = 30
        filled = width * done // self.total if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        detail = ", ".join(f"{STATE_LABELS.get(k, k)} {v}" for k, v in sorted(counts.items()) if v)
        line = f"{self.label} [{bar}] {done}/{self.total}" + (f"  ({detail})" if detail else "")
        if self.tty:
            self.out.write("\r" + line.ljust(100))
            if done >= self.total:
                self.out.write("\n")
            self.out.flush()
            return
        step = 20 * done // self.total if self.total else 20
        if step != self.last_step or force:
            self.last_step = step
            self.out.write(line + "\n")
            self.out.flush()


class Command(BaseCommand):
    help = "Run the nightly sync now (one school or all), with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--school", type=int, action="append", help="id of an application school (repeatable)")
        target.add_argument("--all", action="store_true", help="every approved connection")
        parser.add_argument("--queue", action="store_true", help="let the workers do it and follow their progress")
        parser.add_argument(
            "--nacht", action="store_true", help="with --all: plan tonight's sync now, as the scheduler would"
        )
        parser.add_argument("--no-wait", action="store_true", help="with --queue: return once the jobs are queued")
        parser.add_argument("--no-results", action="store_true", help="do not send new results to the LAS")
        parser.add_argument("--timeout", type=float, default=3600, help="with --queue: stop waiting after (s)")

    def handle(self, *args: Any, **options: Any) -> None:
        from koppelpunt.jobs import worker_naam
        from sync import services
        from sync.models import ResultPush, SyncRun

        school_ids = None if options["all"] else options["school"]
        if school_ids is not None:
            from ea.models import LasKoppeling

            actief = set(
                LasKoppeling.objects.filter(school_id__in=school_ids, status=LasKoppeling.GOEDGEKEURD).values_list(
                    "school_id", flat=True
                )
            )
            missing = sorted(set(school_ids) - actief)
            if missing:
                raise CommandError(f"Geen goedgekeurde koppeling voor school {', '.join(map(str, missing))}.")
        if options["nacht"]:
            if school_ids is not None or options["no_results"]:
                raise CommandError("--nacht plant de hele nacht: gebruik het met --all (en zonder --no-results).")
            run_ids, push_ids = self._nacht(enqueue=options["queue"])
        else:
            run_ids = services.plan_handmatig(school_ids, enqueue=options["queue"])
            push_ids = [] if options["no_results"] else services.plan_pushes(school_ids, enqueue=options["queue"])
        out = self.stdout
        tty = bool(getattr(sys.stdout, "isatty", lambda: False)())
        self.stdout.write(f"Synchroniseren: {len(run_ids)} school/scholen, {len(push_ids)} resultatenpakket(ten).")
        if not run_ids and not push_ids:
            return
        bar = Progress(out, len(run_ids) + len(push_ids), "Voortgang", tty)
        if options["queue"]:
            if options["no_wait"]:
                self.stdout.write("In de wachtrij gezet; de workers verwerken ze.")
                return
            self._follow(bar, run_ids, push_ids, options["timeout"])
        else:
            counts: dict[str, int] = {}
            done = 0
            bar.show(0, counts)
            worker = worker_naam() + ":cli"
            for pk in run_ids:
                state = services.execute_run(pk, worker)
                # Another worker may hold it (a nightly run in progress): wait for that one to end.
                state = state or self._wait_for(SyncRun, pk, SyncRun.ACTIVE)
                counts[state] = counts.get(state, 0) + 1
                done += 1
                bar.show(done, counts)
            for pk in push_ids:
                state = services.execute_push(pk, worker) or self._wait_for(ResultPush, pk, ResultPush.BUSY)
                label = PUSH_LABELS.get(state, f"resultaten {state}")
                counts[label] = counts.get(label, 0) + 1
                done += 1
                bar.show(done, counts)
        self._summary(run_ids, push_ids)

    def _nacht(self, enqueue: bool) -> tuple[list[int], list[int]]:
        """Tonight's plan, made now and marked as made, so the scheduler does not plan this night again."""
        from sync import services
        from sync.models import ResultPush, SyncNacht, SyncRun

        datum = services._vandaag()
        nacht, _ = SyncNacht.objects.get_or_create(datum=datum)
        services.plan_nacht(datum, enqueue=enqueue)
        SyncNacht.objects.filter(pk=nacht.pk).update(voltooid=True)
        runs = SyncRun.objects.filter(nacht=datum, aanleiding=SyncRun.NACHT)
        pushes = ResultPush.objects.filter(state__in=ResultPush.ACTIVE)
        return list(runs.values_list("pk", flat=True)), list(pushes.values_list("pk", flat=True))

    def _wait_for(self, model_cls: Any, pk: int, busy: tuple[str, ...], timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        while True:
            state = model_cls.objects.filter(pk=pk).values_list("state", flat=True).first()
            if state not in busy or time.monotonic() > deadline:
                return str(state)
            time.sleep(0.5)

    def _follow(self, bar: Progress, run_ids: list[int], push_ids: list[int], timeout: float) -> None:
        from sync.models import ResultPush, SyncRun

        deadline = time.monotonic() + timeout
        last_done, last_change, hinted = -1, time.monotonic(), False
        while True:
            runs = dict(SyncRun.objects.filter(pk__in=run_ids).values_list("pk", "state"))
            pushes = dict(ResultPush.objects.filter(pk__in=push_ids).values_list("pk", "state"))
            counts: dict[str, int] = {}
            done = 0
            for state in runs.values():
                if state not in SyncRun.ACTIVE:
                    counts[state] = counts.get(state, 0) + 1
                    done += 1
            for state in pushes.values():
                if state not in ResultPush.ACTIVE:
                    label = PUSH_LABELS.get(state, f"resultaten {state}")
                    counts[label] = counts.get(label, 0) + 1
                    done += 1
            bar.show(done, counts)
            if done >= bar.total:
                return
            if done != last_done:
                last_done, last_change = done, time.monotonic()
            elif not hinted and time.monotonic() - last_change > 60:
                hinted = True
                self.stdout.write("Nog geen voortgang: draait er een worker (koppelpunt worker)?")
            if time.monotonic() > deadline:
                raise CommandError(f"Niet klaar binnen {timeout:g} s: {bar.total - done} taak/taken lopen nog.")
            time.sleep(0.5)

    def _summary(self, run_ids: list[int], push_ids: list[int]) -> None:
        from sync.models import SyncRun

        problemen = SyncRun.objects.filter(pk__in=run_ids, state__in=[SyncRun.FAILED, SyncRun.HELD])
        for run in problemen.select_related("school"):
            self.stdout.write(f"  {run.school}: {run.get_state_display()} – {run.fout}")
        self.stdout.write("Klaar.")
