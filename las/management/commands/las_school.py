from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from las.demo import VestigingSpec, build_school
from las.models import BRIN_VALIDATOR, Leerling, School


class Command(BaseCommand):
    help = "Generate a school with plausible Dutch pupils and teachers (for demos and benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("brincode", help="4 characters, e.g. 21QW")
        parser.add_argument("--naam", default="Basisschool De Generator")
        parser.add_argument("--leerlingen", type=int, default=300, help="pupils per vestiging")
        parser.add_argument("--vestigingen", type=int, default=1, help="number of vestigingen (00, 01, ...)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        brin = options["brincode"].upper()
        try:
            BRIN_VALIDATOR(brin)
        except Exception as exc:
            raise CommandError(f"{brin!r}: a BRIN code is 2 digits followed by 2 capital letters") from exc
        if not 1 <= options["vestigingen"] <= 99 or options["leerlingen"] < 0:
            raise CommandError("--vestigingen must be 1..99 and --leerlingen 0 or more")
        if School.objects.filter(brincode=brin).exists():
            raise CommandError(f"school {brin} already exists")
        specs = [VestigingSpec(f"{i:02d}", f"{options['naam']} {i:02d}", "Utrecht", options["leerlingen"])
                 for i in range(options["vestigingen"])]
        school = build_school(brincode=brin, naam=options["naam"], bestuur=f"Bestuur {options['naam']}",
                              vestigingen=specs, seed=options["seed"])
        count = Leerling.objects.filter(vestiging__school=school).count()
        vestigingen = f"{len(specs)} vestiging" + ("en" if len(specs) != 1 else "")
        self.stdout.write(f"{school}: {vestigingen}, {count} leerlingen")
