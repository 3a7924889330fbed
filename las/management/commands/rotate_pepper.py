"""`koppelpunt rotate-pepper`: re-key every stored verification code / autorisatiesleutel under a new pepper.

Nothing is lost: each stored digest d becomes HMAC(new, d) in one transaction (see las/secrets.py), so the
school's codes keep working once the processes run with the new settings.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from las.models import Koppeling
from las.secrets import wrap_digest


class Command(BaseCommand):
    help = "Re-key stored verification codes and autorisatiesleutels under a new pepper."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new-pepper-env",
            default="KOPPELPUNT_NEW_KEY_PEPPER",
            help="environment variable holding the new pepper (required in production; generated in development)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        new = os.environ.get(options["new_pepper_env"], "")
        if not new:
            if settings.PRODUCTION:
                raise CommandError(
                    f"Set {options['new_pepper_env']} to the new pepper (e.g. the output of "
                    "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`) and run again."
                )
            new = secrets.token_urlsafe(48)
        if len(new) < 32:
            raise CommandError("The new pepper must be at least 32 characters long.")
        if new in (settings.KEY_PEPPER, *settings.KEY_PEPPER_PREVIOUS):
            raise CommandError("The new pepper must differ from every pepper used before.")

        with transaction.atomic():
            rows = list(Koppeling.objects.select_for_update().exclude(code_hmac=None).only("id", "code_hmac"))
            for row in rows:
                row.code_hmac = wrap_digest(row.code_hmac or "", new)
            Koppeling.objects.bulk_update(rows, ["code_hmac"], batch_size=500)
            previous = [*settings.KEY_PEPPER_PREVIOUS, settings.KEY_PEPPER]
            if not settings.PRODUCTION:
                # Development keeps its secrets in the data directory: switch them in the same transaction window.
                settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
                (settings.DATA_DIR / "key_pepper_previous.secret").write_text("\n".join(previous))
                (settings.DATA_DIR / "key_pepper.secret").write_text(new)
        settings.KEY_PEPPER_PREVIOUS = previous
        settings.KEY_PEPPER = new
        self.stdout.write(f"Re-keyed {len(rows)} koppeling(en) under the new pepper.")
        if settings.PRODUCTION:
            self.stdout.write(
                "Now set KOPPELPUNT_KEY_PEPPER to the new pepper and append the old one to "
                "KOPPELPUNT_KEY_PEPPER_PREVIOUS (comma-separated, oldest first), then restart web and workers."
            )
        else:
            self.stdout.write(f"Updated the development secrets in {settings.DATA_DIR}; restart the server.")
