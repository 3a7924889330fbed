from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate the database, seed a demo school (LAS) and application (EA), and serve them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-serve", action="store_true", help="seed only, do not start the server")

    def handle(self, *args: Any, **options: Any) -> None:
        base_url = f"http://{options['host']}:{options['port']}"
        settings.BASE_URL = base_url
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS(f"Koppelpunt demo on {base_url}/"))
        for app in ("las", "ea", "sync"):
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError:
                continue
            module.seed(self.stdout, base_url=base_url)
        if options["no_serve"]:
            return
        from sync.demo import start_worker

        start_worker(self.stdout)  # the demo's background worker: results reach the LAS without a second process
        call_command("runserver", f"{options['host']}:{options['port']}", use_reloader=False, use_threading=True)
