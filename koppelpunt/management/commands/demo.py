"""`koppelpunt demo`: the whole product in one process, seeded, with the logins and a short guided path.

Embedded SQLite and no queue server: the demo's worker (sync.demo.start_worker) runs as a thread in this process,
so results reach the school side without a second process. Seeding is idempotent: run it again on the same data
directory and everything you did is kept.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
from typing import Any, cast

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Migrate the database, seed a demo school (LAS) and application (EA), and serve them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-serve", action="store_true", help="seed only, do not start the server")
        parser.add_argument(
            "--worker-interval", type=float, default=5.0, help="seconds between the demo worker's rounds"
        )
        parser.add_argument("--json-logs", action="store_true", help="keep the JSON log lines (production format)")

    def handle(self, *args: Any, **options: Any) -> None:
        from koppelpunt import demo
        from koppelpunt.logging import TextFormatter

        if not options["json_logs"]:
            # A person reads this terminal: short text lines instead of JSON (same masking of secrets). Changed in
            # the settings too, because runserver's WSGI handler runs django.setup() and so the logging config again.
            formatters = cast(dict[str, dict[str, Any]], settings.LOGGING.get("formatters", {}))
            for formatter in formatters.values():
                formatter["()"] = "koppelpunt.logging.TextFormatter"
            for handler in logging.getLogger().handlers:
                handler.setFormatter(TextFormatter())
        if not options["no_serve"]:
            self._port_free(options["host"], options["port"])
        base_url = f"http://{options['host']}:{options['port']}"
        settings.BASE_URL = base_url
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS(f"Koppelpunt demo op {base_url}/  (data: {settings.DATA_DIR})"))
        # Seeding logs every koppeling it activates; that is noise on a newcomer's screen.
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.WARNING)
        try:
            for app in ("las", "ea", "sync"):
                try:
                    module = importlib.import_module(f"{app}.demo")
                except ModuleNotFoundError:
                    continue
                module.seed(self.stdout, base_url=base_url)
            school = demo.seed_guided(self.stdout, base_url=base_url)
        finally:
            root.setLevel(level)
        self.stdout.write("\nInloggen op " + base_url + "/inloggen/ (gebruiker / wachtwoord):")
        for login in demo.logins():
            self.stdout.write(f"  {login.role:<34} {login.username} / {login.password}")
        self.stdout.write(demo.guided_path(base_url, school.pk if school else None))
        if options["no_serve"]:
            return
        from sync.demo import start_worker

        start_worker(self.stdout, interval=options["worker_interval"])
        self.stdout.write(self.style.SUCCESS(
            f"Klaar: open {base_url}/  (stoppen: Ctrl-C; productie draait op gunicorn, zie docs/deployment.md)"
        ))
        self.stdout.flush()
        # The demo is the development server on purpose; production runs gunicorn (docs/deployment.md).
        os.environ.setdefault("DJANGO_RUNSERVER_HIDE_WARNING", "true")
        call_command(
            "runserver", f"{options['host']}:{options['port']}", use_reloader=False, use_threading=True,
            skip_checks=True,
        )

    def _port_free(self, host: str, port: int) -> None:
        """Say so before seeding, not after: the most common stumble of a second `./dev demo`."""
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver binds it
            try:
                probe.bind((host, port))
            except OSError:
                raise CommandError(
                    f"Poort {port} op {host} is al in gebruik (draait de demo al?). Kies een andere: "
                    f"./dev demo --port {port + 1}"
                ) from None
