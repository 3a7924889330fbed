"""`koppelpunt worker`: a background worker (a huey consumer) for the nightly sync and the results pushes.

Run as many as you like; exactly one should run the scheduler (the others get `--no-scheduler`). Running two
schedulers does no harm (planning is idempotent), it only costs queries.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import autodiscover_modules
from huey.consumer_options import ConsumerConfig


class Command(BaseCommand):
    help = "Run a background worker (nightly sync, results to the LAS, the import wizard's fetches)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-scheduler", action="store_true", help="do not plan the nightly sync here")
        parser.add_argument("--workers", type=int, default=1, help="worker threads in this process (default 1)")
        parser.add_argument(
            "--max-delay", type=float, default=2.0, help="longest wait between looks at an empty queue (seconds)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from huey.contrib.djhuey import HUEY

        from ea import tasks as ea_tasks
        from sync import services

        if options["workers"] < 1:
            self.stderr.write("--workers must be at least 1")
            raise SystemExit(2)
        autodiscover_modules("tasks")
        # Work left behind by a worker that died is taken back (after its lease) and sent to the queue again.
        services.reclaim_stale()
        services.requeue_due(alle=True)
        ea_tasks.requeue_waiting(alle=True)
        config = ConsumerConfig(
            workers=options["workers"],
            worker_type="thread",
            periodic=not options["no_scheduler"],
            max_delay=options["max_delay"],
            initial_delay=0.05,
            backoff=1.3,
            check_worker_health=True,
        )
        config.validate()
        logger = logging.getLogger("huey")
        if not logger.handlers and not logging.getLogger().handlers:
            config.setup_logger(logger)
        self.stdout.write(
            f"Koppelpunt worker: {options['workers']} thread(s), scheduler "
            f"{'off' if options['no_scheduler'] else 'on'}, queue {type(HUEY.storage).__name__}"
        )
        self.stdout.flush()
        HUEY.create_consumer(**config.values).run()
