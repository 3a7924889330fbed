from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from las.catalogus import CATALOGUS, load_catalogue


class Command(BaseCommand):
    help = "Load the koppelingen catalogue (las/fixtures/catalogus.json); existing entries keep their admin edits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--overwrite", action="store_true", help="reset existing entries to the file's values")

    def handle(self, *args: Any, **options: Any) -> None:
        count = load_catalogue(overwrite=options["overwrite"])
        self.stdout.write(f"{count} koppelingen in the catalogue ({CATALOGUS.name})")
