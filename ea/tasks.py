"""The start of the import wizard as a background job: fetching the school from its LAS and staging it.

A LAS call may take up to `koppelen.TIMEOUT` and a getrapt pull makes many, longer than a web request may last.
"Gegevens importeren" therefore only adds an ImportRun in state `ophalen` and sends huey the message "look at
import N"; the admin watches a page that refreshes itself. Like the sync's jobs (`sync.tasks`), whether N still
has to be fetched is decided by its row: a worker takes it with a conditional UPDATE (`worker` empty → its claim
token), keeps `heartbeat_at` fresh while the LAS answers, and writes the outcome (the staged import, or `failed`
with the user's Dutch message) only while it still holds the claim. So a message delivered twice or late does
nothing, and a fetch whose worker died (no heartbeat for `DEAD_AFTER_SECONDS`, or never claimed for `LEASE_SECONDS`)
can be given up and started again.

The same code runs in `koppelpunt worker` (huey; this module is found by its autodiscovery of `tasks`), in the
demo's worker thread (`run_due`), and in tests (`execute`, or huey in immediate mode).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, reset_queries, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from ea import importer, klantenservice
from ea import koppelen as las
from ea.models import ImportRun, LasKoppeling, School
from koppelpunt.jobs import Hartslag, claim_token

log = logging.getLogger(__name__)

# A fetch no worker has claimed for this long is dead (its message never arrived, or no worker runs). Long: in a
# busy night the queue may hold it behind the sync's jobs, and its message is sent again meanwhile (REQUEUE_SECONDS).
LEASE_SECONDS = 5 * las.TIMEOUT
# A claimed fetch beats every HEARTBEAT_SECONDS from a side thread, however long the LAS or the staging takes; four
# missed beats mean its worker is gone, and the admin can start again after two minutes instead of ten.
HEARTBEAT_SECONDS = 30.0
DEAD_AFTER_SECONDS = 4 * HEARTBEAT_SECONDS


class ClaimVerloren(Exception):
    """The fetch was given up while this worker still worked on it: its result must not be written."""


# ---------------------------------------------------------------------------------------------------------------
# Dispatch: how the id of a new fetch reaches a worker. Replaced by the demo and by tests.


@db_task()
def ophaal_task(run_id: int) -> None:
    # Nothing is returned: huey would keep it in its result store; the outcome is in the row.
    reset_queries()  # with DEBUG on a long-lived worker would keep every query of its connection
    execute(run_id)


def _huey_dispatch(run_id: int) -> None:
    ophaal_task(run_id)


def in_thread(run_id: int) -> None:
    """Fetch in a thread of this process: for the demo and browser tests, which run no queue consumer."""

    def work() -> None:
        try:
            execute(run_id)
        finally:
            connections.close_all()  # this thread's own connections

    threading.Thread(target=work, name=f"ea-ophalen-{run_id}", daemon=True).start()


dispatch: Callable[[int], None] = _huey_dispatch


def _send(run_id: int) -> None:
    try:
        dispatch(run_id)
    except Exception:
        # No queue: say so at once instead of letting the admin wait for a fetch that nobody will do.
        log.exception("could not enqueue import fetch %s", run_id)
        run = ImportRun.objects.filter(pk=run_id).first()
        with translation.override((run.taal if run else "") or settings.LANGUAGE_CODE):
            fout = _("The background processing cannot be reached at the moment. Please try again later.")
        ImportRun.objects.filter(pk=run_id, state=ImportRun.OPHALEN, worker="").update(
            state=ImportRun.FAILED, fout=fout, finished_at=timezone.now()
        )


# ---------------------------------------------------------------------------------------------------------------
# The web side: start a fetch, or show the one that runs


def lopend(school: School) -> ImportRun | None:
    """The school's fetch that has not finished (at most one: a database constraint)."""
    return ImportRun.objects.filter(school=school, state=ImportRun.OPHALEN).first()


def is_vastgelopen(run: ImportRun, now: dt.datetime | None = None) -> bool:
    """Whether a fetch has shown no sign of life for too long: its worker died (four missed heartbeats) or no worker
    ever got it (the lease)."""
    if run.state != ImportRun.OPHALEN:
        return False
    if run.heartbeat_at is not None:
        return run.heartbeat_at < (now or timezone.now()) - dt.timedelta(seconds=DEAD_AFTER_SECONDS)
    return run.created_at < (now or timezone.now()) - dt.timedelta(seconds=LEASE_SECONDS)


def opgeven(run: ImportRun) -> bool:
    """End a dead fetch as failed, so the school can start a new one. Conditional on the row being as it was seen
    (same claim, no newer heartbeat): a worker that is alive after all keeps it, one that comes back later finds its
    claim gone and writes nothing."""
    done = ImportRun.objects.filter(
        pk=run.pk, state=ImportRun.OPHALEN, worker=run.worker, heartbeat_at=run.heartbeat_at
    ).update(
        state=ImportRun.FAILED,
        finished_at=timezone.now(),
        fout=_("Fetching the data stopped unexpectedly; nothing has been imported."),
    )
    if done:
        log.warning("import fetch %s of school %s given up: no sign of life", run.pk, run.school_id)
    return done == 1


def start(school: School, koppeling: LasKoppeling, user: Any = None) -> ImportRun:
    """Start fetching the school from its LAS, unless a fetch for it is already running: then that one is returned.
    A dead fetch is given up and replaced."""
    bezig = lopend(school)
    if bezig is not None:
        if not is_vastgelopen(bezig):
            return bezig
        opgeven(bezig)
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(
                school=school,
                koppeling=koppeling,
                schooljaar=koppeling.schooljaar,
                created_by=user,
                state=ImportRun.OPHALEN,
                taal=translation.get_language() or "",
            )
    except IntegrityError:
        # Another request started the school's fetch at the same moment: that one is the fetch.
        bezig = lopend(school)
        if bezig is None:
            raise
        return bezig
    transaction.on_commit(lambda: _send(run.pk))
    log.info("import fetch %s of school %s planned", run.pk, school.pk)
    return run


# ---------------------------------------------------------------------------------------------------------------
# The worker side


def claim(run_id: int, worker: str | None = None) -> str | None:
    """Take fetch `run_id` if it waits for a worker: the claim token, or None when another worker has it or it
    has finished (a duplicate or late message)."""
    token = claim_token(worker)
    now = timezone.now()
    taken = ImportRun.objects.filter(pk=run_id, state=ImportRun.OPHALEN, worker="").update(
        worker=token, claimed_at=now, heartbeat_at=now
    )
    return token if taken == 1 else None


def execute(run_id: int, worker: str | None = None) -> str | None:
    """Claim and do one fetch: the run ends staged (the wizard's tabs) or failed with the admin's Dutch message.
    Returns the end state, or None when this worker did not get it or lost it. Never raises for a LAS problem."""
    token = claim(run_id, worker)
    if token is None:
        return None
    run = ImportRun.objects.select_related("school", "created_by").get(pk=run_id)
    with translation.override(run.taal or settings.LANGUAGE_CODE):
        try:
            beat = ImportRun.objects.filter(pk=run.pk, state=ImportRun.OPHALEN, worker=token)
            # So that only a fetch whose worker really stopped looks dead, however long the LAS takes.
            with Hartslag(
                lambda: beat.update(heartbeat_at=timezone.now()) == 1, HEARTBEAT_SECONDS, f"heartbeat of fetch {run.pk}"
            ):
                _fetch_and_stage(run, token)
        except ClaimVerloren:
            log.warning("import fetch %s: claim lost, the data are discarded", run_id)
            return None
        except (las.LasFout, importer.ImportFout) as exc:
            fout = getattr(exc, "melding", None) or str(exc)
        except Exception:
            log.exception("import fetch %s of school %s failed", run_id, run.school_id)
            fout = _("Something went wrong while fetching the data (internal error); nothing has been imported.")
        else:
            log.info("import fetch %s of school %s staged", run_id, run.school_id)
            return ImportRun.STAGED
    ended = ImportRun.objects.filter(pk=run_id, state=ImportRun.OPHALEN, worker=token).update(
        state=ImportRun.FAILED, fout=fout, finished_at=timezone.now()
    )
    log.info("import fetch %s of school %s failed", run_id, run.school_id)
    return ImportRun.FAILED if ended else None


def _fetch_and_stage(run: ImportRun, token: str) -> None:
    # The school's connection now (it may have been renewed since the click).
    koppeling = klantenservice.actieve_koppeling(run.school)
    if koppeling is None:
        raise las.LasFout(_("There is no approved connection with a LAS yet."))
    data = las.haal_school(koppeling)
    with transaction.atomic():
        # Staged only while this worker still holds the fetch; stage's transaction nests in this one.
        mine = ImportRun.objects.select_for_update().filter(pk=run.pk, state=ImportRun.OPHALEN, worker=token)
        if not list(mine.values_list("pk", flat=True)):
            raise ClaimVerloren(str(run.pk))
        importer.stage(run.school, data, koppeling=koppeling, user=run.created_by, run=run)


# A fetch nobody claimed this long after the click most likely lost its queue message (a worker died holding it,
# or the queue was restarted): the admin is watching a waiting page, so it is sent again well before the lease.
REQUEUE_SECONDS = 60


def requeue_waiting(now: dt.datetime | None = None, *, alle: bool = False) -> int:
    """Send the ids of fetches that still wait for a worker to the queue again (the sync scheduler's minute tick;
    with `alle`, a worker starting: every waiting one). A duplicate message costs one failed claim."""
    qs = ImportRun.objects.filter(state=ImportRun.OPHALEN, worker="")
    if not alle:
        qs = qs.filter(created_at__lt=(now or timezone.now()) - dt.timedelta(seconds=REQUEUE_SECONDS))
    ids = list(qs.order_by("pk").values_list("pk", flat=True)[:1000])
    for pk in ids:
        _send(pk)
    return len(ids)


def run_due(worker: str | None = None, limit: int = 100) -> int:
    """Do every fetch that waits for a worker now, in this process (the demo's worker thread). Returns how many."""
    done = 0
    ids = ImportRun.objects.filter(state=ImportRun.OPHALEN, worker="").order_by("pk").values_list("pk", flat=True)
    for pk in list(ids[:limit]):
        done += execute(pk, worker) is not None
    return done
