"""huey tasks. A message only says "look at job N"; whether N still has to be done is decided by its row
(`sync.services.claim`), so a message delivered twice, late, or to two workers at once does no harm, and a lost
message is sent again by the scheduler's sweep (`services.requeue_due`)."""

from __future__ import annotations

from django.db import reset_queries
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from sync import services


@db_task()
def sync_task(run_id: int) -> None:
    # Nothing is returned: huey would keep every return value in its result store, and the outcome is in our row.
    reset_queries()  # with DEBUG on, Django keeps every query of a connection: a long-lived worker must not
    services.execute_run(run_id)


@db_task()
def push_task(push_id: int) -> None:
    reset_queries()
    services.execute_push(push_id)


@db_periodic_task(crontab(minute="*"))
def scheduler_tick() -> None:
    """Every minute: plan the night once its time has come, take back stale claims, re-send lost messages."""
    reset_queries()
    services.tick()
