"""`koppelpunt check URL ...`: the UWLR Leerlinggegevens conformance checker (see `uwlr.conformance`).

It talks only to the endpoint under test: no database, no system checks, so it runs on any machine where the
package is installed. Exit status 0 when no check failed, 1 when one did, 2 for bad arguments.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from uwlr import soap
from uwlr.client import SchoolId
from uwlr.conformance import DEFAULT_TIMEOUT, Check, Report, Status, Target, run_checks
from uwlr.model import DEFAULT_XSD_VERSIE, XSD_VERSIES
from uwlr.transport import HttpxTransport
from uwlr.validation import valid_brincode, valid_dependancecode, valid_schooljaar

KEY_ENV = "KOPPELPUNT_CHECK_KEY"


class Command(BaseCommand):
    help = (
        "Conformance check of a UWLR Leerlinggegevens endpoint: calls every operation, validates the answers "
        "against the official XSDs and the UWLR rules, probes the fault behaviour, and prints one line per check."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="the Leerlinggegevens (alles-in-1) endpoint URL")
        parser.add_argument(
            "--key",
            help=f"autorisatiesleutel (verification code or issued key); default: the {KEY_ENV} environment "
            "variable, which keeps it out of the process list",
        )
        parser.add_argument("--klantcode", required=True)
        parser.add_argument("--klantnaam", required=True)
        parser.add_argument("--brin", help="4-character BRIN code, e.g. 21QW (or give --schoolkey)")
        parser.add_argument("--dependancecode", help="2-digit dependance (vestiging) code; 00 means none")
        parser.add_argument("--schoolkey", help="an agreed schoolkey instead of BRIN + dependancecode")
        parser.add_argument("--schooljaar", required=True, help="e.g. 2025-2026")
        parser.add_argument("--xsdversie", default=DEFAULT_XSD_VERSIE, choices=sorted(XSD_VERSIES))
        parser.add_argument("--getrapt-url", help="the getrapt binding's URL when it differs from URL")
        parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per request")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        target = self._target(options)
        as_json = bool(options["json"])
        if not as_json:
            self.stdout.write(Report(target.describe()).header())

        def show(check: Check) -> None:
            if not as_json:
                style = {Status.PASS: self.style.SUCCESS, Status.FAIL: self.style.ERROR}.get(
                    check.status, self.style.WARNING
                )
                self.stdout.write(check.line(), style_func=style)
                self.stdout.flush()

        with HttpxTransport() as transport:
            report = run_checks(target, transport, timeout=options["timeout"], on_check=show)
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(report.summary(), style_func=self.style.SUCCESS if report.ok else self.style.ERROR)
        if not report.ok:
            raise SystemExit(1)

    def _target(self, options: dict[str, Any]) -> Target:
        key = options["key"] or os.environ.get(KEY_ENV, "")
        if not key:
            raise CommandError(f"Give --key or set {KEY_ENV}.", returncode=2)
        for name in ("klantcode", "klantnaam"):
            if not 0 < len(options[name]) <= 64:
                raise CommandError(f"--{name} must be 1 to 64 characters.", returncode=2)
        if not 0 < len(key) <= 64:
            raise CommandError("The key must be 1 to 64 characters.", returncode=2)
        if not valid_schooljaar(options["schooljaar"]):
            raise CommandError("--schooljaar must look like 2025-2026 (consecutive years).", returncode=2)
        brin, dependance, schoolkey = options["brin"], options["dependancecode"], options["schoolkey"]
        if schoolkey:
            if brin or dependance:
                raise CommandError("Give --brin (+ --dependancecode) or --schoolkey, not both.", returncode=2)
            if len(schoolkey) > 256:
                raise CommandError("--schoolkey must be at most 256 characters.", returncode=2)
            school = SchoolId(schoolkey=schoolkey)
        else:
            if not brin or not valid_brincode(brin):
                raise CommandError("--brin must be a BRIN code like 21QW (two digits, two capitals).", returncode=2)
            if dependance is not None and not valid_dependancecode(dependance):
                raise CommandError("--dependancecode must be two digits.", returncode=2)
            school = SchoolId(brin, None if dependance in (None, "00") else dependance)
        return Target(
            url=options["url"],
            autorisatie=soap.Autorisatie(key, options["klantcode"], options["klantnaam"]),
            school=school,
            schooljaar=options["schooljaar"],
            xsdversie=options["xsdversie"],
            getrapt_url=options["getrapt_url"],
        )
